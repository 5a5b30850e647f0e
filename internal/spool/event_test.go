package spool

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
)

func fullEvent() auditrelay.Event {
	return auditrelay.Event{
		ID:         "sha256:0123456789abcdef0123456789abcdef",
		Time:       time.Date(2025, 6, 18, 21, 2, 36, 123456789, time.UTC),
		ReceivedAt: time.Date(2025, 6, 18, 21, 2, 37, 1, time.UTC),
		Source:     auditrelay.Source{Kind: "konnect", Input: "konnect-eu", DeliveryID: "d-1"},
		Actor: auditrelay.Actor{ID: "u-1", Name: "Ada", Username: "ada", Issuer: "https://idp.example.com",
			FederatedIssuer: "https://fed.example.com", Roles: []string{"admin", "", "viewer"}, Type: auditrelay.ActorUser},
		Action:   auditrelay.Action{Name: "Namespace:List", All: []string{"Namespace:List", "Function:List"}, Verb: auditrelay.VerbRead},
		Resource: auditrelay.Resource{Type: "function", ID: "f-1", Name: "echo", Namespace: "openfaas-fn"},
		Request: auditrelay.Request{ID: "9007199254740993", Method: "GET", Path: "/system/functions?x=ü",
			ClientIP: "2001:db8::1", UserAgent: "curl/8.0", Interface: auditrelay.InterfaceAPI},
		Outcome:  auditrelay.Outcome{Result: auditrelay.ResultFailure, StatusCode: 403, Reason: "access to resource denied"},
		Severity: 7,
		Raw:      json.RawMessage(`{"event":"api_access","actor":{"sub":"ada"}}`),
	}
}

func TestEventRoundTrip(t *testing.T) {
	cases := map[string]auditrelay.Event{
		"full":     fullEvent(),
		"empty":    {},
		"id only":  {ID: "x"},
		"negative": {Time: time.Date(1601, 1, 1, 0, 0, 0, 5, time.UTC), Severity: -1, Outcome: auditrelay.Outcome{StatusCode: -3}},
		"far":      {Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			b := AppendEvent([]byte("prefix"), &e)
			if string(b[:6]) != "prefix" {
				t.Fatal("AppendEvent clobbered dst")
			}
			var got auditrelay.Event
			if err := DecodeEvent(b[6:], &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, e)
			}
			id, at, err := EventKey(b[6:])
			if err != nil || id != e.ID || !at.Equal(e.ReceivedAt) {
				t.Fatalf("EventKey = %q %v %v", id, at, err)
			}
			if id, err := EventID(b[6:]); err != nil || id != e.ID {
				t.Fatalf("EventID = %q %v", id, err)
			}
		})
	}
}

func TestEventDecodeLocalTimeAsUTC(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	e := auditrelay.Event{Time: time.Date(2025, 1, 1, 1, 0, 0, 0, loc)}
	var got auditrelay.Event
	if err := DecodeEvent(AppendEvent(nil, &e), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(e.Time) || got.Time.Location() != time.UTC {
		t.Fatalf("got %v", got.Time)
	}
}

func TestEventDecodeDamaged(t *testing.T) {
	e := fullEvent()
	b := AppendEvent(nil, &e)
	for i := range b { // every truncation is an error
		var got auditrelay.Event
		if err := DecodeEvent(b[:i], &got); err == nil {
			t.Fatalf("truncated at %d of %d decoded without error", i, len(b))
		}
	}
	extra := append(append([]byte(nil), b...), 0)
	if err := DecodeEvent(extra, &auditrelay.Event{}); err == nil || !strings.Contains(err.Error(), "left over") {
		t.Fatalf("trailing byte: %v", err)
	}
	bad := append([]byte(nil), b...)
	bad[0] = 9
	if err := DecodeEvent(bad, &auditrelay.Event{}); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Fatalf("version: %v", err)
	}
	huge := []byte{EventVersion, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if err := DecodeEvent(huge, &auditrelay.Event{}); err == nil || !strings.Contains(err.Error(), "unknown fields") {
		t.Fatalf("unknown mask bits: %v", err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	e := fullEvent()
	f.Add(AppendEvent(nil, &e))
	f.Add(AppendEvent(nil, &auditrelay.Event{}))
	f.Add(AppendEvent(nil, &auditrelay.Event{ID: "a", Severity: 3}))
	f.Add([]byte{EventVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got auditrelay.Event
		if err := DecodeEvent(b, &got); err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again := AppendEvent(nil, &got)
		var got2 auditrelay.Event
		if err := DecodeEvent(again, &got2); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !sameEvent(got, got2) {
			t.Fatalf("round trip changed the event:\n%#v\n%#v", got, got2)
		}
	})
}

// FuzzEventRoundTrip builds events from fuzzed strings and checks they
// survive encoding unchanged.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("id", "kind", "GET", "/p", int64(1700000000123456789), 200, 3, []byte(`{}`))
	f.Add("", "", "", "", int64(0), 0, 0, []byte(nil))
	f.Fuzz(func(t *testing.T, id, kind, method, path string, nanos int64, status, sev int, raw []byte) {
		e := auditrelay.Event{ID: id, Source: auditrelay.Source{Kind: kind}, Request: auditrelay.Request{Method: method, Path: path},
			Outcome: auditrelay.Outcome{StatusCode: status}, Severity: sev, Actor: auditrelay.Actor{Roles: []string{kind, path}}}
		if nanos != 0 {
			e.Time = time.Unix(0, nanos).UTC()
		}
		if len(raw) > 0 {
			e.Raw = raw
		}
		var got auditrelay.Event
		if err := DecodeEvent(AppendEvent(nil, &e), &got); err != nil {
			t.Fatal(err)
		}
		if !sameEvent(e, got) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, e)
		}
	})
}

func sameEvent(a, b auditrelay.Event) bool {
	if !a.Time.Equal(b.Time) || !a.ReceivedAt.Equal(b.ReceivedAt) {
		return false
	}
	a.Time, b.Time, a.ReceivedAt, b.ReceivedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func BenchmarkEventEncode(b *testing.B) {
	e := fullEvent()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEvent(buf[:0], &e)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(buf)), "bytes/event")
}

func BenchmarkEventDecode(b *testing.B) {
	e := fullEvent()
	buf := AppendEvent(nil, &e)
	var got auditrelay.Event
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeEvent(buf, &got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkEventEncodeJSON(b *testing.B) {
	e := fullEvent()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		buf, err := json.Marshal(&e)
		if err != nil {
			b.Fatal(err)
		}
		n = len(buf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n), "bytes/event")
}

func BenchmarkEventDecodeJSON(b *testing.B) {
	e := fullEvent()
	buf, _ := json.Marshal(&e)
	b.ReportAllocs()
	for b.Loop() {
		var got auditrelay.Event
		if err := json.Unmarshal(buf, &got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
