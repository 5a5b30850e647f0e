package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	httpoutput "github.com/auditrelay/auditrelay/outputs/http"
)

func TestClassify(t *testing.T) {
	for code, want := range map[int]httpoutput.Verdict{
		200: httpoutput.Success, 202: httpoutput.Success, 204: httpoutput.Success,
		429: httpoutput.Retry, 500: httpoutput.Retry, 502: httpoutput.Retry, 503: httpoutput.Retry, 504: httpoutput.Retry,
		301: httpoutput.Pause, 307: httpoutput.Pause, 401: httpoutput.Pause, 403: httpoutput.Pause, 404: httpoutput.Pause, 407: httpoutput.Pause,
		400: httpoutput.Reject, 408: httpoutput.Reject, 413: httpoutput.Reject, 422: httpoutput.Reject,
	} {
		got, reason := httpoutput.Classify(code)
		if got != want {
			t.Errorf("%d: %v, want %v", code, got, want)
		}
		if got != httpoutput.Success && !strings.Contains(reason, "answered") && !strings.Contains(reason, "refused") {
			t.Errorf("%d: reason %q", code, reason)
		}
	}
}

// FuzzFrame checks that for any batch size and limit the framed requests
// carry every event once, in order, each body valid and within the limit
// unless it holds a single event.
func FuzzFrame(f *testing.F) {
	f.Add(uint8(10), uint16(900), true)
	f.Add(uint8(1), uint16(1), false)
	f.Add(uint8(0), uint16(0), true)
	f.Fuzz(func(t *testing.T, n uint8, limit uint16, array bool) {
		framing := httpoutput.FramingNDJSON
		if array {
			framing = httpoutput.FramingArray
		}
		enc := httpoutput.Encoder{Format: jsonformat.New(), Framing: framing}
		evs := events(int(n) % 64)
		for i := range evs {
			evs[i].Actor.Name = strings.Repeat("a", i*7%50)
		}
		items, ends := enc.Items(nil, evs)
		first := 0
		var got []string
		for _, cut := range enc.Split(ends, int(limit)) {
			if cut <= first {
				t.Fatalf("cut %d after %d", cut, first)
			}
			body := enc.Frame(items, ends, first, cut)
			if limit > 0 && len(body) > int(limit) && cut-first > 1 {
				t.Fatalf("body of %d events is %d bytes > %d", cut-first, len(body), limit)
			}
			if array {
				var arr []auditrelay.Event
				if err := json.Unmarshal(body, &arr); err != nil {
					t.Fatalf("array body: %v", err)
				}
				for _, e := range arr {
					got = append(got, e.ID)
				}
			} else {
				for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
					var e auditrelay.Event
					if err := json.Unmarshal([]byte(line), &e); err != nil {
						t.Fatalf("line: %v", err)
					}
					got = append(got, e.ID)
				}
			}
			first = cut
		}
		if len(got) != len(evs) {
			t.Fatalf("%d of %d events framed", len(got), len(evs))
		}
		for i := range evs {
			if got[i] != evs[i].ID {
				t.Fatalf("event %d is %s", i, got[i])
			}
		}
	})
}
