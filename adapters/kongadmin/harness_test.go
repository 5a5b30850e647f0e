package kongadmin

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/status"
)

var _ = golden.Update // accept go test ./... -update

const inputName = "kong_audit"

// memSink is an EventSink in memory. Like the journal, it refuses an
// Append whose context already ended.
type memSink struct {
	mu       sync.Mutex
	got      map[string]int
	events   []auditrelay.Event
	appends  int
	onAppend func(n int) error // before storing; an error fails the Append
}

func newSink() *memSink { return &memSink{got: map[string]int{}} }

func (m *memSink) Append(ctx context.Context, events []auditrelay.Event) (int, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	if m.onAppend != nil {
		if err := m.onAppend(m.appends); err != nil {
			return 0, 0, err
		}
	}
	for _, e := range events {
		m.got[e.ID]++
	}
	m.events = append(m.events, events...)
	return len(events), 0, nil
}

func (m *memSink) distinct() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.got)
}

// exactly fails unless the sink holds every id of want once and nothing
// else.
func (m *memSink) exactly(t *testing.T, want map[string]bool) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	exactlyOnce(t, m.got, want)
}

func exactlyOnce(t *testing.T, got map[string]int, want map[string]bool) {
	t.Helper()
	missing, extra, dups := 0, 0, 0
	for id := range want {
		switch n := got[id]; {
		case n == 0:
			missing++
			if missing <= 3 {
				t.Errorf("missing %s", id)
			}
		case n > 1:
			dups++
			if dups <= 3 {
				t.Errorf("%s delivered %d times", id, n)
			}
		}
	}
	for id := range got {
		if !want[id] {
			extra++
			if extra <= 3 {
				t.Errorf("unexpected %s", id)
			}
		}
	}
	if missing+extra+dups > 0 {
		t.Fatalf("want %d events exactly once: %d missing, %d duplicated, %d unexpected", len(want), missing, dups, extra)
	}
}

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is the runtime around a poller: state dir, sink, status, logs.
type harness struct {
	dir    string
	sink   auditrelay.EventSink
	status *status.Registry
	logs   *syncBuffer
	now    func() time.Time
}

func newHarness(t testing.TB, sink auditrelay.EventSink) *harness {
	return &harness{dir: t.TempDir(), sink: sink, status: status.New(nil), logs: &syncBuffer{}, now: time.Now}
}

func (h *harness) settings() auditrelay.PullSettings {
	st := h.status.PullInput(inputName)
	return auditrelay.PullSettings{
		Name: inputName, Sink: h.sink, StateDir: h.dir,
		Logger:  slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observe: st.Observe, Count: st.Count, Now: h.now,
	}
}

func (h *harness) snapshot() status.InputSnapshot {
	return h.status.PullInput(inputName).Snapshot()
}

func (h *harness) poller(t testing.TB, c Config) *Poller {
	t.Helper()
	p, err := New(c, h.settings())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig polls f fast, from the earliest record, with short retries.
func testConfig(f *fakeKong) Config {
	c := DefaultConfig()
	c.URL, c.AllowHTTP = f.srv.URL, true
	c.Timeout = auditrelay.Duration(5 * time.Second)
	c.Interval = auditrelay.Duration(10 * time.Millisecond)
	c.Retry = auditrelay.RetryPolicy{MaxRetries: 1, WaitMin: auditrelay.Duration(2 * time.Millisecond), WaitMax: auditrelay.Duration(10 * time.Millisecond)}
	c.StartFrom = StartEarliest
	c.Lookback = auditrelay.Duration(5 * time.Second)
	return c
}

// running is one poller's Run in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func start(p *Poller) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	return r
}

// stop cancels the run and waits for Run to return nil.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	r.wait(t)
}

// wait waits for Run to return (after its context ends).
func (r *running) wait(t testing.TB) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// eventually waits up to d for cond, checking every few milliseconds.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// pollUntil runs p until the sink holds n distinct events, then lets it
// poll a few more cycles (so a late duplicate would show) and stops it.
func pollUntil(t *testing.T, p *Poller, sink *memSink, f *fakeKong, n int) {
	t.Helper()
	r := start(p)
	eventually(t, 5*time.Second, "all events delivered", func() bool { return sink.distinct() >= n })
	settle(t, f, 4)
	r.stop(t)
}

// settle waits until the fake answered k more pages.
func settle(t testing.TB, f *fakeKong, k int64) {
	t.Helper()
	base := f.pages.Load()
	eventually(t, 5*time.Second, "more polls", func() bool { return f.pages.Load() >= base+k })
}
