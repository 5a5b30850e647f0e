package rejected

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

func TestKeepAndTrimOldestFirst(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(dir, 100, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"first-body-xxxxxxxxxxxx", "second-body-xxxxxxxxxxx", "third-body-xxxxxxxxxxxx"} {
		if err := s.Keep("open/faas", []byte(body), "event 1: time: bad", i); err != nil {
			t.Fatal(err)
		}
	}
	bodies, _ := filepath.Glob(filepath.Join(dir, "*.body"))
	if len(bodies) == 0 || len(bodies) == 3 {
		t.Fatalf("store of 100 bytes holds %d bodies of ~100 bytes each (with reasons); want the oldest dropped", len(bodies))
	}
	last, _ := os.ReadFile(bodies[len(bodies)-1])
	if string(last) != "third-body-xxxxxxxxxxxx" {
		t.Errorf("newest body = %q", last)
	}
	if stampOf(bodies[0]) >= stampOf(bodies[len(bodies)-1]) && len(bodies) > 1 {
		t.Errorf("names not ordered: %v", bodies)
	}
	if !strings.Contains(logs.String(), "dropped the oldest") {
		t.Errorf("drop not logged: %s", logs.String())
	}
	var m meta
	b, _ := os.ReadFile(strings.TrimSuffix(bodies[len(bodies)-1], ".body") + ".json")
	if err := json.Unmarshal(b, &m); err != nil || m.Input != "open/faas" || m.Reason != "event 1: time: bad" || m.Line != 2 {
		t.Errorf("meta = %+v, %v", m, err)
	}
	if strings.Contains(bodies[0], "open/faas") {
		t.Errorf("unsafe input name used in a file name: %s", bodies[0])
	}
}

func TestReopenCountsWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Unix(1, 0) }
	s, _ := Open(dir, 1<<20, slog.Default(), now)
	_ = s.Keep("a", []byte("body"), "r", 0)
	_ = s.Keep("a", []byte("body"), "r", 0)
	s2, err := Open(dir, 1<<20, slog.Default(), now)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Count() != 2 || s2.Size() != s.Size() {
		t.Fatalf("reopened: %d files %d bytes; before: %d bytes", s2.Count(), s2.Size(), s.Size())
	}
}
