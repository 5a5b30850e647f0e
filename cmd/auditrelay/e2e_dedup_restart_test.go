package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDedupWindowSurvivesRestartAfterReclaim: a batch whose spool segment
// was delivered and deleted before a restart is still a duplicate after it,
// within dedup_window (the window is rebuilt from data_dir/dedup, not only
// from the spool). DESIGN.md: "Duplicates (same id) within dedup_window are
// accepted once and counted."
func TestDedupWindowSurvivesRestartAfterReclaim(t *testing.T) {
	h := newHECSink(t)
	addr := freeAddr(t)
	dataDir := t.TempDir()
	cfg := writeConfig(t, addr, dataDir, h.url(), "")
	setRelayKeys(t, cfg, "spool_max_bytes = \"1MiB\"\n") // 256KiB segments
	p := start(t, addr, "run", "-c", cfg)
	c := &http.Client{Timeout: 5 * time.Second}
	long := strings.Repeat("x", 160)
	first := batch("first-"+long, 100)
	if code, _, ans, err := tryPost(c, addr, first); err != nil || code != 200 || ans["accepted"] != 100.0 {
		t.Fatalf("first post: %d %v %v", code, ans, err)
	}
	for i := range 8 { // past one 256KiB segment, so the first one is deleted once delivered
		body := batch(fmt.Sprintf("more-%s-%d", long, i), 100)
		if code, _, ans, err := tryPost(c, addr, body); err != nil || code != 200 {
			t.Fatalf("post %d: %d %v %v", i, code, ans, err)
		}
	}
	waitDrained(t, addr, 10*time.Second)
	p.stop(t)
	p = start(t, addr, "run", "-c", cfg)
	code, _, ans, err := tryPost(c, addr, first)
	waitDrained(t, addr, 10*time.Second)
	p.stop(t)
	if err != nil || code != 200 || ans["duplicates"] != 100.0 {
		t.Errorf("the first batch resent after a restart, well within dedup_window (10m): %d %v %v; want 100 duplicates", code, ans, err)
	}
	twice := 0
	for _, id := range batchIDs(t, first) {
		if h.ids()[id] > 1 {
			twice++
		}
	}
	if twice > 0 {
		t.Errorf("%d events of the first batch reached the sink twice", twice)
	}
}
