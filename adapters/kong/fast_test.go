package kong

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// quirks are bodies on which encoding/json's struct decoding behaves in
// ways Parse must reproduce, or which the one-pass path must hand over.
var quirks = []string{
	`{"request_id":"r","method":"GET","path":"/a","path":null}`, `{"request_id":"r","Method":"GET"}`, `{"request_ıd":"r","method":"GET"}`,
	`{"request_id":"r","method":"GET","status":200.0}`, `{"request_id":"r","method":"GET","status":1e2}`, `{"request_id":"r","method":"GET","status":-0}`,
	`{"request_id":"r","method":"GET","status":99999999999999999999}`, `{"request_id":"r","method":"GET","status":-9223372036854775808}`,
	`{"request_id":"r","method":"GET","status":"200"}`, `{"request_id":"r","method":"GET","request_timestamp":"1"}`, `{"request_id":"r","request_timestamp":null,"path":"/x"}`,
	`{"req\u0075est_id":"r","method":"GET"}`, `{"request_id":"\ud800\u00e9` + "\xff" + `","method":"GET"}`, `{"method":"GET","path":"/routes"}`,
	`{"id":"o","dao_name":"routes","operation":"update","entity":"{\"id\":\"e\",\"name\":5,\"username\":\"u\",\"updated_at\":1700000000.25,\"ws_id\":\"w\"}"}`,
	`{"id":"o","dao_name":"routes","operation":"create","entity":"{\"id\":\"e\",\"id\":null,\"name\":\"\",\"username\":\"u\",\"created_at\":1542131418000}"}`,
	`{"id":"o","dao_name":"routes","operation":"create","entity":"{\"ID\":\"e\",\"Name\":\"n\"}"}`, `{"id":"o","dao_name":"x","operation":"create","entity":"{\"uſername\":\"n\"}"}`,
	`{"id":"o","dao_name":"x","operation":"create","entity":"[1]"}`, `{"id":"o","dao_name":"x","operation":"create","entity":"null"}`,
	`{"id":"o","dao_name":"x","operation":"create","entity":"{\"name\":\"n\"} x"}`, `{"id":"o","dao_name":"x","operation":"create","entity":" {\"name\":\"n\\u0000\"}\n"}`,
	`{"id":"o","dao_name":"x","operation":"delete","entity":"{\"n\\u0061me\":\"n\"}","entity_key":""}`, `{"id":"o","operation":"create","entity":"{\"name\":{\"a\":1}}"}`,
	`{"request_id":"r","method":"POST","path":"/consumers","payload":"{\"username\":\"bob\"}"}`, `{"request_id":"r","method":"POST","path":"/consumers","payload":"\u00a0{\"username\":\"bob\"}"}`,
	`{"request_id":"r","method":"POST","path":"/consumers","payload":"username=bob&name=b%20c"}`, `{"request_id":"r","method":"POST","path":"/consumers","payload":"{\"name\":\"a\",\"name\":null}"}`,
	`{"request_id":"r","method":"POST","path":"/consumers","payload":"{\"Name\":\"a\"}"}`, `{"request_id":"r","method":"POST","path":"/consumers","payload":"{bad"}`,
	`{"data":[{"request_id":"a","method":"GET"}],"next":"/x","offset":"o","total":1}`, `{"data":[],"next":null}`, `{"data":{},"total":0}`, `{"data":null}`,
	`{"DATA":[{"request_id":"a","method":"GET"}]}`, `{"data":[{"request_id":"a","method":"GET"}],"next":5}`, `{"data":[1]}`, `{"data":[{"request_id":"a"}],"data":[]}`,
	`{"request_id":"x","method":"data","next":5}`, `{"Data":null,"request_id":"x","method":"data"}`, `[]`, `[{"request_id":"a","method":"GET"},{}]`,
	"[ {\n\"method\" : \"GET\", \"path\":\"/routes\",\"status\":200} ]", "\u00a0[{\"method\":\"GET\"}]\u2028", `[{"method":"GET"}] x`, `[{"method":"GET"},]`, `5`, ``,
}

// FuzzParseMatchesReference compares Parse with the implementation it
// replaced (reference_test.go): the same events and errors, with and
// without include_raw.
func FuzzParseMatchesReference(f *testing.F) {
	golden.Seeds(f, fixtures)
	f.Add(benchBody(4))
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
		want, werr := a.refParseEach(body, meta)
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
	for _, c := range golden.Cases(t, fixtures) {
		compareWithReference(t, a, c.Input)
	}
	compareWithReference(t, a, benchBody(100))
}

func TestParseAllocations(t *testing.T) {
	a, _ := New(DefaultConfig())
	body := benchBody(100)
	for _, meta := range []auditrelay.Meta{{Input: "bench"}, {Input: "bench", IncludeRaw: true}} {
		if _, ok := a.parseFast(body, meta); !ok {
			t.Fatalf("the benchmark page (include_raw %v) took the record-by-record path", meta.IncludeRaw)
		}
		limit := 3.0
		if meta.IncludeRaw {
			limit++
		}
		if n := testing.AllocsPerRun(20, func() { _, _ = a.Parse(body, meta) }) / 100; n > limit {
			t.Errorf("include_raw %v: %.2f allocations per event, want at most %v", meta.IncludeRaw, n, limit)
		}
	}
}

// BenchmarkParseReference measures the reference, the record-by-record
// path (the old Parse read such a page with json.Unmarshal into []record
// instead, about three times as fast), on BenchmarkParse's page.
func BenchmarkParseReference(b *testing.B) {
	const n = 100
	a, _ := New(DefaultConfig())
	body := benchBody(n)
	meta := auditrelay.Meta{Input: "bench"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.refParseEach(body, meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
