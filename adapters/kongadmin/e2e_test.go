package kongadmin

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/internal/dedup"
	"github.com/auditrelay/auditrelay/internal/journal"
	"github.com/auditrelay/auditrelay/internal/spool"
	"github.com/auditrelay/auditrelay/internal/status"
	"github.com/auditrelay/auditrelay/outputs/file"
)

// scenario is the "must show": a growing Kong audit trail polled
// into the real journal and spool across three restarts in the middle of
// paging and an outage of the Admin API, then delivered to a file output.
type scenario struct {
	total     int           // records the fake ends up holding
	burst     int           // records per second (one burst)
	late      int           // of each burst, written one burst late
	preload   int           // bursts present before the first start
	growEvery time.Duration // one more burst every
	outage    time.Duration
	config    func(c *Config)
}

// generator grows the fake a burst at a time, like a busy Kong: every
// burst shares one second, and some of its rows are written late, with
// the burst lateBy seconds newer (Kong's audit writes are asynchronous).
type generator struct {
	f      *fakeKong
	sc     scenario
	bursts int
	added  int
}

func (g *generator) next() bool {
	if g.added >= g.sc.total {
		return false
	}
	ts := int64(1_700_000_000 + g.bursts)
	now := min(g.sc.burst-g.sc.late, g.sc.total-g.added)
	g.f.add(endpointOf(g.bursts), ts, now)
	g.added += now
	if late := min(g.sc.late, g.sc.total-g.added); late > 0 && g.bursts >= lateBy {
		// An earlier burst's late rows: a poll has already read past
		// their second, so only the lookback finds them.
		g.f.add(endpointOf(g.bursts-lateBy), ts-lateBy, late)
		g.added += late
	}
	g.bursts++
	return true
}

// lateBy is how many seconds (bursts) late the late rows come.
const lateBy = 3

// endpointOf spreads the bursts over the endpoints: every fourth one is
// object records.
func endpointOf(burst int) string {
	if burst%4 == 3 {
		return EndpointObjects
	}
	return EndpointRequests
}

// journalSink is the relay's sink: the real journal (dedup off, so only
// the poller stands between Kong and a duplicate), remembering what it
// stored.
type journalSink struct {
	j        *journal.Journal
	mu       sync.Mutex
	stored   map[string]int
	onAppend func()
}

func (s *journalSink) Append(ctx context.Context, events []auditrelay.Event) (int, int, error) {
	a, d, err := s.j.Append(ctx, events)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		for _, e := range events {
			s.stored[e.ID]++
		}
		if s.onAppend != nil {
			s.onAppend()
		}
	}
	return a, d, err
}

func (s *journalSink) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored)
}

func runScenario(t *testing.T, sc scenario) {
	f := newFake(t)
	dataDir := t.TempDir()
	stateDir := filepath.Join(dataDir, "inputs", inputName)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	reg := status.New(nil)
	st := reg.PullInput(inputName)
	sink := &journalSink{stored: map[string]int{}}
	c := testConfig(f)
	c.Interval = auditrelay.Duration(50 * time.Millisecond)
	c.PageSize = 100 // many pages per pass, so restarts land in the middle of paging
	c.Retry = auditrelay.RetryPolicy{MaxRetries: 4, WaitMin: auditrelay.Duration(10 * time.Millisecond), WaitMax: auditrelay.Duration(100 * time.Millisecond)}
	if sc.config != nil {
		sc.config(&c)
	}

	gen := &generator{f: f, sc: sc}
	for range sc.preload {
		gen.next()
	}
	genDone := make(chan struct{})
	stopGen := make(chan struct{})
	go func() {
		defer close(genDone)
		tick := time.NewTicker(sc.growEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopGen:
				return
			case <-tick.C:
				if !gen.next() {
					return
				}
			}
		}
	}()
	defer func() { close(stopGen); <-genDone }()

	// One relay run: open the spool, build the journal and the poller,
	// poll until stop is called (SIGTERM), close the spool.
	var cancel atomic.Pointer[context.CancelFunc]
	stop := func() {
		if c := cancel.Load(); c != nil {
			(*c)()
		}
	}
	type relayRun struct{ done chan struct{} }
	startRun := func() relayRun {
		sp, err := spool.Open(spool.Options{Dir: filepath.Join(dataDir, "spool"), MaxBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		sink.j = journal.New(sp, dedup.New(0, 0), nil)
		p, err := New(c, auditrelay.PullSettings{
			Name: inputName, Sink: sink, StateDir: stateDir, Logger: slog.New(slog.DiscardHandler),
			Observe: st.Observe, Count: st.Count, Now: time.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		p.chunk = 300
		ctx, cf := context.WithCancel(context.Background())
		cancel.Store(&cf)
		r := relayRun{done: make(chan struct{})}
		go func() {
			defer close(r.done)
			if err := p.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := sp.Close(); err != nil {
				t.Errorf("close spool: %v", err)
			}
		}()
		return r
	}
	wait := func(r relayRun) {
		select {
		case <-r.done:
		case <-time.After(sc.outage + 60*time.Second):
			t.Fatal("a run did not stop")
		}
	}
	// stopAtPage stops the run at the first request for a page after the
	// first (one carrying an offset) from the nth request on, before it is
	// answered: in the middle of paging, as a SIGTERM would.
	var restarts atomic.Int32
	stopAtPage := func(n int64) {
		var once sync.Once
		f.set(func(f *fakeKong) {
			f.onPage = func(got int64, r *http.Request) {
				if got >= n && r.URL.Query().Get("offset") != "" {
					once.Do(func() { restarts.Add(1); stop() })
				}
			}
		})
	}

	// Restart 1: in the first pass, nothing stored yet.
	stopAtPage(f.pages.Load() + 4)
	wait(startRun())
	if sink.distinct() != 0 {
		t.Fatalf("run 1 stored %d events", sink.distinct())
	}

	// Restart 2: in the middle of paging a later pass.
	f.set(func(f *fakeKong) { f.onPage = nil })
	var armed atomic.Bool
	sink.onAppend = func() {
		if armed.CompareAndSwap(false, true) {
			stopAtPage(f.pages.Load() + 2)
		}
	}
	wait(startRun())
	sink.onAppend = nil
	t.Logf("after restart 2: %d stored, fake holds %d", sink.distinct(), f.count())

	// Run 3: an outage of the Admin API, then restart 3 while catching up.
	f.set(func(f *fakeKong) { f.onPage = nil })
	r3 := startRun()
	settle(t, f, 3)
	f.set(func(f *fakeKong) { f.down = true })
	eventually(t, 10*time.Second, "inactive during the outage", func() bool { return st.Snapshot().Status == status.Inactive })
	outageEnds := time.Now().Add(sc.outage)
	for time.Now().Before(outageEnds) {
		if s := st.Snapshot(); s.Status != status.Inactive || (s.LastResponseCode != 503 && s.LastResponseCode != 0) || s.LastAttemptAt == "" {
			t.Fatalf("during the outage: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("outage over: %d stored, fake holds %d, status %+v", sink.distinct(), f.count(), st.Snapshot())
	f.set(func(f *fakeKong) { f.down = false })
	stopAtPage(f.pages.Load() + 3)
	wait(r3)

	// Run 4: to the end.
	f.set(func(f *fakeKong) { f.onPage = nil })
	if n := restarts.Load(); n != 3 {
		t.Fatalf("%d restarts in the middle of paging, want 3", n)
	}
	r4 := startRun()
	eventually(t, sc.outage+60*time.Second, "every record stored", func() bool {
		select {
		case <-genDone:
			return sink.distinct() >= f.count()
		default:
			return false
		}
	})
	settle(t, f, 6)
	if s := st.Snapshot(); s.Status != status.Active || s.LastResponseCode != 200 {
		t.Fatalf("after the outage: %+v", s)
	}
	stop()
	wait(r4)
	if f.count() != sc.total {
		t.Fatalf("the fake holds %d records, want %d", f.count(), sc.total)
	}

	got := deliverToFile(t, dataDir)
	exactlyOnce(t, got, f.all())
	t.Logf("%d records delivered exactly once to the file output; %d requests to the fake", len(got), f.pages.Load())
}

// deliverToFile reads the spool the runs left and writes every event to
// a file output, then returns the ids of the file's lines with counts.
func deliverToFile(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dataDir, "spool"), MaxBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	q, err := sp.Reader("file")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, "events.ndjson")
	out, err := file.New(file.Config{Path: path}, auditrelay.OutputSettings{Name: "file", Format: jsonformat.New(), FormatName: "json"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; ; i++ {
		if n, _ := q.Lag(); n == 0 || i > 1_000_000 {
			break
		}
		recs, err := q.Next(ctx, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		events := make([]auditrelay.Event, len(recs))
		for k, r := range recs {
			if _, err := journal.Decode(r.Data, &events[k]); err != nil {
				t.Fatal(err)
			}
		}
		if err := out.Write(ctx, events); err != nil {
			t.Fatal(err)
		}
		if err := q.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	got := map[string]int{}
	lines := bufio.NewScanner(fh)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var e struct {
			ID     string `json:"id"`
			Source struct {
				Kind  string `json:"kind"`
				Input string `json:"input"`
			} `json:"source"`
		}
		if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
			t.Fatalf("file line: %v", err)
		}
		if e.Source.Kind != Kind || e.Source.Input != inputName {
			t.Fatalf("source %+v", e.Source)
		}
		got[e.ID]++
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRestartsAndOutageExactlyOnce(t *testing.T) {
	runScenario(t, scenario{
		total: 2000, burst: 50, late: 5, preload: 20,
		growEvery: 40 * time.Millisecond, outage: 1500 * time.Millisecond,
	})
}
