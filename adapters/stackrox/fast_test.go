package stackrox

import (
	"reflect"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// fastQuirks are bodies the one-pass path must either map as the general
// path does or hand over to it.
var fastQuirks = []string{
	`{"audit":{"time":"2025-01-01T00:00:00Z","time":"2025-01-02T00:00:00Z"}}`,
	`{"audit":{"Time":"2025-01-01T00:00:00Z","status":1,"method":-1,"interaction":"\u0043REATE"}}`,
	`{"audit":{"user":{"username":"a","roles":[{"name":"x"},null,{"name":""},{"name":"y"}]},"request":{"sourceHeaders":{"xForwardedFor":[""," ,x","10.0.0.1"]}}}}`,
	`{"audit":{"user":{"role":{"name":"r"},"roles":[]},"request":{"payload":{"@type":5,"id":"i","name":null,"namespace":"n"}}}}`,
	`{"audit":{"user":null,"request":null,"status":null,"time":null}}`,
	`{"audit":{"time":""}}`, `{"audit":{"status":1.5}}`, `{"audit":{"status":true}}`, `{"audit":{"request":{"sourceIp":"[::ffff:10.0.0.1]:1"}}}`,
	`{"a":"b","audit":{}, "x": [1,{"y":null}]}`, `{"AUDIT":{}}`, `{"audit":{},"audit":{}}`, `{"audit":{},"alert":{}}`, `{"data":{"audit":{}}}`,
	`[{"audit":{}},{"audit":{"interaction":3}}]`, `[]`, `[{"audit":{}},1]`, "{\"audit\": {\n \"time\" : \"2025-01-01T00:00:00.5+01:00\" }\n}",
	"{\"audit\":{\"request\":{\"payload\":{\"generic\": { \"x\" : [ 1 , \"y\" , {\"z\":null} ] },\"id\":\"i\"}}}}",
	`{"audit":{"user":{"permissions":{"a":[1,]},"username":"u"}}}`, `{"audit":{"user":{"permissions":{"a":"\x"}}}}`,
	`{"audit":{"request":{"payload":{"@type":"t","generic":[[[[]]]],"id":"i"}}},"notifier":{"a":[{"b":true,"c":-1.5e3}]}}`,
	"{\"audit\":{}\u00a0}", "\u00a0{\"audit\":{}}", `{"audit":{"user":{"ſername":"x"}}}`, `{"audit":{"request":{"sourceHeaders":{"xForwardedFor":[1]}}}}`,
}

// FuzzFastMatchesGeneral compares the one-pass path with the general
// path wherever it takes a body.
func FuzzFastMatchesGeneral(f *testing.F) {
	golden.Seeds(f, fixtures)
	f.Add([]byte(benchMessage))
	for _, q := range fastQuirks {
		f.Add([]byte(q))
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareFast(t, body) })
}

func compareFast(t *testing.T, body []byte) bool {
	t.Helper()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	taken := false
	for _, meta := range []auditrelay.Meta{{Input: "fuzz", DeliveryID: "d", ReceivedAt: at}, {IncludeRaw: true}} {
		got, ok := parseFast(body, meta)
		want, err := parseGeneral(body, meta)
		if !ok {
			continue
		}
		taken = true
		if err != nil {
			t.Fatalf("%q: fast path took a body the general path refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	}
	return taken
}

func TestFastMatchesGeneral(t *testing.T) {
	for _, q := range fastQuirks {
		compareFast(t, []byte(q))
	}
	taken := 0
	cases := golden.Cases(t, fixtures)
	for _, c := range cases {
		if compareFast(t, c.Input) {
			taken++
		}
	}
	if !compareFast(t, []byte(benchMessage)) {
		t.Error("the benchmark message took the general path")
	}
	t.Logf("%d of %d fixtures take the one-pass path", taken, len(cases))
	if taken < len(cases)/2 {
		t.Errorf("only %d of %d fixtures take the one-pass path", taken, len(cases))
	}
}

func BenchmarkParseGeneral(b *testing.B) {
	body := []byte(benchMessage)
	meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseGeneral(body, meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// timeQuirks are times parseUTC must read as time.Parse does, or leave to it.
var timeQuirks = []string{
	"2025-03-04T09:12:44.123456789Z", "2025-03-04T09:12:44Z", "2025-03-04T09:12:44.5Z", "2025-03-04T09:12:44.Z",
	"2025-03-04T09:12:44.1234567890Z", "2024-02-29T00:00:00Z", "2025-02-29T00:00:00Z", "2000-02-29T23:59:59Z",
	"1900-02-29T00:00:00Z", "0000-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-12-31T24:00:00Z", "2025-13-01T00:00:00Z",
	"2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z", "2025-01-01t00:00:00Z",
	"2025-01-01T00:00:00z", "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00.5+01:00", "+025-01-01T00:00:00Z",
	"2025-01-01T00:00:00.-5Z", "2025-01-01T00:00:00,5Z", "2025-1-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
}

// FuzzParseUTC compares parseUTC with time.Parse wherever it takes a time.
func FuzzParseUTC(f *testing.F) {
	for _, q := range timeQuirks {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, s string) { compareTime(t, s) })
}

func compareTime(t *testing.T, s string) {
	t.Helper()
	got, ok := parseUTC(s)
	if !ok {
		return
	}
	want, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%q: parseUTC took a time time.Parse refuses: %v", s, err)
	}
	if want = want.UTC(); got != want {
		t.Fatalf("%q: parseUTC read %v, time.Parse %v", s, got, want)
	}
}

func TestParseUTC(t *testing.T) {
	taken := 0
	for _, q := range timeQuirks {
		compareTime(t, q)
		if _, ok := parseUTC(q); ok {
			taken++
		}
	}
	if taken < 6 {
		t.Errorf("parseUTC took only %d of the times", taken)
	}
}
