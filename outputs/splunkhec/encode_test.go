package splunkhec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/outputs/splunkhec"
)

var _ = golden.Update // accept go test ./... -update

// lineFormat stands in for formats/cef: a text line with characters that
// need JSON escaping.
type lineFormat struct{}

func (lineFormat) Append(dst []byte, e *auditrelay.Event) []byte {
	dst = append(dst, `CEF:0|Kong|Konnect|1.0|`...)
	dst = append(dst, e.Action.Name...)
	dst = append(dst, `|"q" \ tab	|3|externalId=`...)
	return append(dst, e.ID...)
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 123456789, time.UTC)

func event(i int) auditrelay.Event {
	return auditrelay.Event{
		ID:         fmt.Sprintf("req-%03d", i),
		Time:       t0.Add(time.Duration(i) * time.Second),
		ReceivedAt: t0.Add(time.Minute),
		Source:     auditrelay.Source{Kind: "kong", Input: "kong"},
		Actor:      auditrelay.Actor{ID: "u1", Name: "alice", Type: auditrelay.ActorUser},
		Action:     auditrelay.Action{Name: "create", Verb: auditrelay.VerbCreate},
		Resource:   auditrelay.Resource{Type: "services", ID: "svc-1"},
		Request:    auditrelay.Request{Method: "POST", Path: "/services", ClientIP: "10.0.0.1"},
		Outcome:    auditrelay.Outcome{Result: auditrelay.ResultSuccess, StatusCode: 201},
		Severity:   3,
	}
}

func events(n int) []auditrelay.Event {
	out := make([]auditrelay.Event, n)
	for i := range out {
		out[i] = event(i)
	}
	return out
}

// hecObject is one decoded HEC event object.
type hecObject struct {
	Time       json.Number     `json:"time"`
	Host       string          `json:"host"`
	Source     string          `json:"source"`
	Sourcetype string          `json:"sourcetype"`
	Index      string          `json:"index"`
	Event      json.RawMessage `json:"event"`
}

func decodeObjects(t testing.TB, body []byte) []hecObject {
	t.Helper()
	objs, err := parseObjects(body)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// parseObjects reads concatenated HEC event objects; it is safe off the
// test goroutine.
func parseObjects(body []byte) ([]hecObject, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var out []hecObject
	for dec.More() {
		var o hecObject
		if err := dec.Decode(&o); err != nil {
			return out, fmt.Errorf("decode object %d: %w\n%s", len(out), err, body)
		}
		out = append(out, o)
	}
	return out, nil
}

func TestEncodeJSON(t *testing.T) {
	enc := splunkhec.NewEncoder(splunkhec.Envelope{Host: "relay-1", Sourcetype: "auditrelay:json", Index: "audit"}, jsonformat.New(), false)
	e := event(7)
	got := string(enc.Append(nil, &e))
	want := `{"time":1735689607.123,"host":"relay-1","sourcetype":"auditrelay:json","index":"audit","event":` +
		string(jsonformat.New().Append(nil, &e)) + `}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var back struct {
		Event auditrelay.Event `json:"event"`
	}
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Event, e) {
		t.Errorf("event does not round-trip:\n%+v\n%+v", back.Event, e)
	}
}

func TestEncodeCEF(t *testing.T) {
	enc := splunkhec.NewEncoder(splunkhec.Envelope{Source: "auditrelay"}, lineFormat{}, true)
	e := event(1)
	e.Time = time.Time{} // falls back to received_at
	got := string(enc.Append([]byte("prefix"), &e))
	want := `prefix{"time":1735689660.123,"source":"auditrelay","event":"CEF:0|Kong|Konnect|1.0|create|\"q\" \\ tab\t|3|externalId=req-001"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var back struct{ Event string }
	if err := json.Unmarshal([]byte(got[len("prefix"):]), &back); err != nil {
		t.Fatal(err)
	}
	if line := string(lineFormat{}.Append(nil, &e)); back.Event != line {
		t.Errorf("cef line does not round-trip: %q", back.Event)
	}
}

func TestAppendEpoch(t *testing.T) {
	for ms, want := range map[int64]string{0: "0.000", 1: "0.001", 1735689600123: "1735689600.123", 1735689600050: "1735689600.050", -1500: "-1.500"} {
		if got := string(splunkhec.AppendEpoch(nil, ms)); got != want {
			t.Errorf("AppendEpoch(%d) = %s, want %s", ms, got, want)
		}
	}
}

// TestAppendEpochFastRange: the ten-digit fast path writes what the
// general one does, at its edges and across it.
func TestAppendEpochFastRange(t *testing.T) {
	ms := []int64{999_999_999_999, 1_000_000_000_000, 1_000_000_000_001, 9_999_999_999_999, 10_000_000_000_000, 1735689600000, 1735689600999}
	for i := range int64(1000) {
		ms = append(ms, 1_000_000_000_000+i*8_999_999_999_989/1000+i%1000)
	}
	for _, m := range ms {
		want := fmt.Sprintf("%d.%03d", m/1000, m%1000)
		if got := string(splunkhec.AppendEpoch([]byte("x"), m)); got != "x"+want {
			t.Fatalf("AppendEpoch(%d) = %s, want x%s", m, got, want)
		}
	}
}

// TestEncodeAllocatesNothing: with room in dst, encoding an event (a JSON
// object or a CEF line escaped into a JSON string) allocates nothing.
func TestEncodeAllocatesNothing(t *testing.T) {
	e := event(3)
	for name, enc := range map[string]*splunkhec.Encoder{
		"json": splunkhec.NewEncoder(splunkhec.Envelope{Host: "h"}, jsonformat.New(), false),
		"cef":  splunkhec.NewEncoder(splunkhec.Envelope{Host: "h"}, lineFormat{}, true),
	} {
		buf := make([]byte, 0, 64<<10)
		if n := testing.AllocsPerRun(100, func() { buf = enc.Append(buf[:0], &e) }); n != 0 {
			t.Errorf("%s: %v allocations per event", name, n)
		}
		if want := string(enc.Append(nil, &e)); string(buf) != want {
			t.Errorf("%s: with room in dst\n got %s\nwant %s", name, buf, want)
		}
	}
}

func TestSplit(t *testing.T) {
	ends := []int{10, 20, 30, 40, 100, 110}
	for _, tc := range []struct {
		limit int
		want  []int
	}{
		{0, []int{6}},
		{1000, []int{6}},
		{20, []int{2, 4, 5, 6}}, // [0,2) 20B, [2,4) 20B, [4] 60B alone, [5] 10B
		{25, []int{2, 4, 5, 6}},
		{30, []int{3, 4, 5, 6}}, // [0,3) 30B, [3] 10B (next would be 70), [4] 60B, [5]
		{5, []int{1, 2, 3, 4, 5, 6}},
	} {
		if got := splunkhec.Split(ends, tc.limit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(limit %d) = %v, want %v", tc.limit, got, tc.want)
		}
	}
	if got := splunkhec.Split(nil, 10); got != nil {
		t.Errorf("Split(nil) = %v", got)
	}
}

// viaJSON is s after encoding/json's round trip: each invalid byte
// becomes U+FFFD, as AppendString does.
func viaJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func FuzzEncodeCEF(f *testing.F) {
	f.Add("create", "req-1", int64(1735689600123), "host", "idx")
	f.Add("a|b\\c\n", "\xff", int64(-5), "", "")
	f.Fuzz(func(t *testing.T, action, id string, ms int64, host, index string) {
		enc := splunkhec.NewEncoder(splunkhec.Envelope{Host: host, Index: index}, lineFormat{}, true)
		evs := []auditrelay.Event{{ID: id, Action: auditrelay.Action{Name: action}, Time: time.UnixMilli(ms)}, {ID: "b"}}
		body, ends := enc.Encode(nil, evs)
		if len(ends) != 2 || ends[1] != len(body) {
			t.Fatalf("ends %v for body of %d", ends, len(body))
		}
		objs := decodeObjects(t, body)
		if len(objs) != 2 {
			t.Fatalf("%d objects", len(objs))
		}
		var line string
		if err := json.Unmarshal(objs[0].Event, &line); err != nil {
			t.Fatal(err)
		}
		if want := viaJSON(t, string(lineFormat{}.Append(nil, &evs[0]))); line != want {
			t.Fatalf("line %q, want %q", line, want)
		}
	})
}

func BenchmarkEncodeJSON(b *testing.B) {
	enc := splunkhec.NewEncoder(splunkhec.Envelope{Host: "relay-1", Sourcetype: "auditrelay:json", Index: "audit"}, jsonformat.New(), false)
	evs := loadEvents(1000)
	var buf []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf, _ = enc.Encode(buf[:0], evs)
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(buf))/float64(len(evs)), "bytes/event")
}

func BenchmarkEncodeCEF(b *testing.B) {
	enc := splunkhec.NewEncoder(splunkhec.Envelope{Sourcetype: "auditrelay:cef"}, lineFormat{}, true)
	evs := events(1000)
	var buf []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf, _ = enc.Encode(buf[:0], evs)
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(buf))/float64(len(evs)), "bytes/event")
}
