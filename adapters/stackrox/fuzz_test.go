package stackrox

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// FuzzParse checks that Parse never panics, that an error comes alone, that
// every event is complete, and that nothing invalid as JSON is accepted.
func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	f.Add([]byte(benchMessage))
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz", IncludeRaw: true})
		if err != nil {
			if len(p.Events) > 0 || p.Ignored > 0 {
				t.Fatalf("error %v with %d events, %d ignored", err, len(p.Events), p.Ignored)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, e := range p.Events {
			if !strings.HasPrefix(e.ID, "sha256:") || e.Source.Kind != Kind || e.Actor.Type == "" || e.Action.Verb == "" || e.Outcome.Result == "" {
				t.Fatalf("incomplete event %+v", e)
			}
			if e.ID != auditrelay.ContentID(Kind, e.Raw) || !json.Valid(e.Raw) {
				t.Fatalf("id %s is not over the compact audit object %s", e.ID, e.Raw)
			}
		}
	})
}
