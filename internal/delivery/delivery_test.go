package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/dedup"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/journal"
	"github.com/auditrelay/auditrelay/internal/spool"
	"github.com/auditrelay/auditrelay/internal/status"
)

var _ = golden.Update // accept go test ./... -update

// scripted is an Output that answers each Write with the next scripted
// error (nil once the script is used up) and records what it was given.
type scripted struct {
	mu      sync.Mutex
	script  []error
	calls   [][]string
	written []string
}

func (s *scripted) Write(_ context.Context, events []auditrelay.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	s.calls = append(s.calls, ids)
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	de := auditrelay.AsDeliveryError(err)
	switch {
	case err == nil:
		s.written = append(s.written, ids...)
	case de.Delivered > 0:
		s.written = append(s.written, ids[:de.Delivered]...)
	}
	return err
}

func (s *scripted) Close() error { return nil }

func (s *scripted) snapshot() ([][]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.calls...), append([]string(nil), s.written...)
}

type harness struct {
	spool   *spool.Spool
	journal *journal.Journal
	dl      *DeadLetter
	status  *status.Registry
	dir     string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: dir + "/spool", MaxBytes: 64 << 20, SegmentBytes: 1 << 20, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	dl, err := OpenDeadLetter(dir+"/deadletter", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{spool: sp, journal: journal.New(sp, dedup.New(1000, time.Minute), nil), dl: dl, status: status.New(time.Now), dir: dir}
}

func (h *harness) append(t *testing.T, input string, ids ...string) {
	t.Helper()
	events := make([]auditrelay.Event, len(ids))
	for i, id := range ids {
		events[i] = auditrelay.Event{ID: id, Source: auditrelay.Source{Input: input}}
	}
	if _, _, err := h.journal.Append(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

// run starts a loop for out and returns a stop function.
func (h *harness) run(t *testing.T, name string, out auditrelay.Output, takes func(string) bool) (*spool.Reader, func()) {
	t.Helper()
	r, err := h.spool.Reader(name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l := New(Options{
		Name: name, Output: out, Queue: r, Takes: takes,
		BatchMaxEvents: 3, BatchMaxBytes: 1 << 20, FlushInterval: 20 * time.Millisecond,
		RoundWait: 30 * time.Millisecond, DeadLetter: h.dl, Status: h.status.Output(name),
		Logger: slog.New(slog.DiscardHandler),
	})
	go func() { done <- l.Run(ctx) }()
	return r, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func all(string) bool { return true }

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDeliversEverythingInOrderAndCommits(t *testing.T) {
	h := newHarness(t)
	out := &scripted{}
	h.append(t, "in", "a", "b", "c", "d", "e")
	r, stop := h.run(t, "out", out, all)
	eventually(t, "5 events written", func() bool { _, w := out.snapshot(); return len(w) == 5 })
	eventually(t, "cursor committed", func() bool { n, _ := r.Lag(); return n == 0 })
	stop()
	calls, written := out.snapshot()
	if strings.Join(written, "") != "abcde" || len(calls[0]) != 3 {
		t.Fatalf("written %v in calls %v", written, calls)
	}
	if s := h.status.Output("out").Snapshot(); s.Delivered != 5 || s.Status != "active" {
		t.Fatalf("status %+v", s)
	}
}

func TestRetryRoundKeepsBatchAndTurnsInactiveThenActive(t *testing.T) {
	h := newHarness(t)
	fail := &auditrelay.DeliveryError{StatusCode: 503, Err: errors.New("service unavailable")}
	out := &scripted{script: []error{fail, fail}}
	h.append(t, "in", "a", "b")
	st := h.status.Output("out")
	_, stop := h.run(t, "out", out, all)
	eventually(t, "inactive", func() bool { return st.Snapshot().Status == "inactive" })
	eventually(t, "delivered after the outage", func() bool { _, w := out.snapshot(); return len(w) == 2 })
	stop()
	calls, _ := out.snapshot()
	if len(calls) != 3 || strings.Join(calls[2], "") != "ab" {
		t.Fatalf("calls %v; want the same batch three times", calls)
	}
	if s := st.Snapshot(); s.Status != "active" || s.Delivered != 2 || s.LastResponseCode != 0 && s.LastResponseCode != 503 {
		t.Fatalf("status after recovery %+v", s)
	}
}

func TestPartialAndPermanentGoToDeadLetter(t *testing.T) {
	h := newHarness(t)
	// HEC-like: events before index 1 indexed, event 1 invalid.
	out := &scripted{script: []error{&auditrelay.DeliveryError{Delivered: 1, Permanent: true, StatusCode: 400, Response: `{"text":"Invalid data format","code":6,"invalid-event-number":1}`}}}
	h.append(t, "in", "a", "b", "c")
	r, stop := h.run(t, "out", out, all)
	eventually(t, "rest delivered", func() bool { _, w := out.snapshot(); return len(w) == 2 })
	eventually(t, "committed", func() bool { n, _ := r.Lag(); return n == 0 })
	stop()
	calls, written := out.snapshot()
	if strings.Join(written, ",") != "a,c" || strings.Join(calls[1], "") != "c" {
		t.Fatalf("calls %v written %v; want a, then c alone (b dead-lettered, a never resent)", calls, written)
	}
	data, err := os.ReadFile(h.dl.Path("out"))
	if err != nil || strings.Count(string(data), "\n") != 1 || !strings.Contains(string(data), `"id":"b"`) || !strings.Contains(string(data), "Invalid data format") {
		t.Fatalf("dead letter: %s %v", data, err)
	}
	if s := h.status.Output("out").Snapshot(); s.DeadLettered != 1 || s.Delivered != 2 {
		t.Fatalf("status %+v", s)
	}
	events, done, err := h.dl.Take("out")
	if err != nil || len(events) != 1 || events[0].ID != "b" {
		t.Fatalf("take: %v %+v", err, events)
	}
	if err := done(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.dl.Path("out")); !os.IsNotExist(err) {
		t.Fatal("dead letter file still there after a replay")
	}
}

func TestRoutingByInputAndTarget(t *testing.T) {
	h := newHarness(t)
	a, b := &scripted{}, &scripted{}
	h.append(t, "openfaas", "1", "2")
	h.append(t, "stackrox", "3")
	if err := h.journal.AppendFor(context.Background(), "b", []auditrelay.Event{{ID: "replayed", Source: auditrelay.Source{Input: "openfaas"}}}); err != nil {
		t.Fatal(err)
	}
	ra, stopA := h.run(t, "a", a, func(in string) bool { return in == "openfaas" })
	rb, stopB := h.run(t, "b", b, all)
	eventually(t, "both drained", func() bool {
		na, _ := ra.Lag()
		nb, _ := rb.Lag()
		return na == 0 && nb == 0
	})
	stopA()
	stopB()
	_, wa := a.snapshot()
	_, wb := b.snapshot()
	if fmt.Sprint(wa) != "[1 2]" || fmt.Sprint(wb) != "[1 2 3 replayed]" {
		t.Fatalf("a got %v, b got %v", wa, wb)
	}
}
