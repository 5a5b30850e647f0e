package konghooks

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// quirks are deliveries on which encoding/json's struct decoding (and
// entity.UnmarshalJSON) behave in ways Parse must reproduce, or which the
// one-pass path must hand over.
var quirks = []string{
	`{"source":"crud","event":"consumers","operation":"create","entity":{"id":"a","id":5,"name":"","username":"u","ws_id":"w","created_at":1.5}}`,
	`{"source":"crud","event":"consumers","entity":{"id":"a"},"entity":{"name":"n"}}`, `{"source":"crud","entity":{"id":"a"},"entity":null}`,
	`{"source":"crud","entity":5}`, `{"source":"crud","old_entity":[]}`, `{"source":"crud","entity":{"ID":"a"}}`, `{"source":"crud","entity":{"uſername":"a"}}`,
	`{"Source":"crud","event":"x"}`, `{"s\u006furce":"crud","event":"x"}`, `{"source":"crud","event":"x","source":"balancer"}`, `{"source":null,"event":"e"}`,
	`{"source":"balancer","event":"health","ip":"10.0.0.1","port":8000,"hostname":"h","health":"healthy"}`, `{"source":"balancer","port":8000.0}`,
	`{"source":"balancer","port":"8000"}`, `{"source":"balancer","port":-1,"ip":"::1"}`, `{"source":"balancer","port":99999999999999999999}`,
	`{"source":"rate-limiting-advanced","event":"rate-limit-exceeded","consumer":{"id":"c","custom_id":"\u00e9\ud800"},"service":{},"rate":"5","limit":null,"window":60}`,
	`{"source":"rate-limiting-advanced","consumer":{"username":5},"service":{"name":"s","ws_id":"w"},"rate":{"a":1},"window":"minute"}`,
	`{"source":"kong:event_hooks","event":"ping"}`, `{"source":"kong:event_hooks","entity":3}`, `{}`, `{"x":1}`, `{"event":"e","schema":"s"}`,
	"{ \"source\" : \"crud\" ,\n\"event\":\"routes:delete\", \"entity\" : { \"id\" : \"r\" } }", "{\"source\":\"crud\",\"entity\":{\"id\":\"\xff\"}}",
	`{"source":"crud","event":"x"} x`, `{"source":"crud","event":"x",}`, `{"source":"dao:crud","event":"update","entity":{"updated_at":1717000000,"created_at":1}}`,
}

// FuzzParseMatchesReference compares Parse with the implementation it
// replaced (reference_test.go): the same events, ignored counts and
// errors, with and without include_raw.
func FuzzParseMatchesReference(f *testing.F) {
	golden.Seeds(f, fixtures)
	for _, q := range quirks {
		f.Add([]byte(q))
	}
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) { compareWithReference(t, a, body) })
}

func compareWithReference(t *testing.T, a *Adapter, body []byte) {
	t.Helper()
	for _, meta := range []auditrelay.Meta{
		{Input: "fuzz", DeliveryID: "d", ReceivedAt: golden.ReceivedAt},
		{Input: "fuzz", IncludeRaw: true},
	} {
		got, err := a.Parse(body, meta)
		want, werr := a.refParse(body, meta)
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("%q: error %v, reference %v", body, err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q (include_raw %v):\n got %+v\nwant %+v", body, meta.IncludeRaw, got, want)
		}
	}
}

func TestQuirksMatchReference(t *testing.T) {
	a, _ := New(DefaultConfig())
	for _, q := range quirks {
		compareWithReference(t, a, []byte(q))
	}
	taken := 0
	cases := golden.Cases(t, fixtures)
	for _, c := range cases {
		compareWithReference(t, a, c.Input)
		if len(c.Input) > 0 && c.Input[0] == '{' {
			if _, ok := parseFast(c.Input, auditrelay.Meta{}); ok {
				taken++
			}
		}
	}
	if taken < len(cases)/2 {
		t.Errorf("only %d of %d fixtures took the one-pass path", taken, len(cases))
	}
}

func TestParseAllocations(t *testing.T) {
	a, _ := New(DefaultConfig())
	body := []byte(benchDelivery(7))
	meta := auditrelay.Meta{Input: "bench"}
	if _, ok := parseFast(body, meta); !ok {
		t.Fatal("the benchmark delivery took the general path")
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = a.Parse(body, meta) }); n > 4 {
		t.Errorf("%.0f allocations per event, want at most 4", n)
	}
}

// BenchmarkParseReference measures the implementation Parse replaced, on
// BenchmarkParse's deliveries.
func BenchmarkParseReference(b *testing.B) {
	a, _ := New(DefaultConfig())
	body := []byte(benchDelivery(7))
	meta := auditrelay.Meta{Input: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.refParse(body, meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
