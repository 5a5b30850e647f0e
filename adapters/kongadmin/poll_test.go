package kongadmin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/status"
)

func TestManyRecordsPerSecond(t *testing.T) {
	f := newFake(t)
	for ts := int64(1000); ts < 1003; ts++ {
		f.add(EndpointRequests, ts, 700)
		f.add(EndpointObjects, ts, 120)
	}
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.PageSize = 100
	pollUntil(t, h.poller(t, c), sink, f, f.count())
	sink.exactly(t, f.all())

	// More rows in the boundary second, and newer ones: each once.
	f.add(EndpointRequests, 1002, 333)
	f.add(EndpointRequests, 1003, 5)
	pollUntil(t, h.poller(t, c), sink, f, f.count())
	sink.exactly(t, f.all())
	if f.refused.Load() != 0 {
		t.Errorf("Kong refused %d requests", f.refused.Load())
	}
	// Oldest first, and in Kong's write order within a second.
	var last string
	for _, e := range sink.events {
		if e.Source.Kind != Kind || e.Source.Input != inputName {
			t.Fatalf("source %+v", e.Source)
		}
		if strings.HasPrefix(e.ID, "req") {
			if e.ID < last {
				t.Fatalf("%s delivered after %s", e.ID, last)
			}
			last = e.ID
		}
	}
}

func TestRecordsAddedWhilePaging(t *testing.T) {
	f := newFake(t)
	f.add(EndpointRequests, 500, 400)
	f.add(EndpointRequests, 501, 400)
	var added atomic.Int64
	f.onPage = func(n int64, _ *http.Request) {
		if n > 60 {
			return
		}
		// Newer rows (which shift every newest-first page under the
		// reader), rows in the second being paged, and late rows.
		f.add(EndpointRequests, 502+n/10, 7)
		f.add(EndpointRequests, 501, 3)
		f.add(EndpointRequests, 499+n/10, 2)
		added.Add(12)
	}
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.PageSize = 50
	c.Endpoints = []string{EndpointRequests}
	r := start(h.poller(t, c))
	eventually(t, 5*time.Second, "pages while inserting", func() bool { return f.pages.Load() > 60 })
	eventually(t, 5*time.Second, "all delivered", func() bool { return sink.distinct() >= f.count() })
	settle(t, f, 4)
	r.stop(t)
	sink.exactly(t, f.all())
	if added.Load() < 600 {
		t.Fatalf("only %d rows added during paging", added.Load())
	}
}

func TestRestartMidPass(t *testing.T) {
	f := newFake(t)
	for ts := int64(2000); ts < 2030; ts++ {
		f.add(EndpointRequests, ts, 90)
		f.add(EndpointObjects, ts, 10)
	}
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.PageSize = 100
	build := func() *Poller {
		p := h.poller(t, c)
		p.chunk, p.maxPass = 250, 1000
		return p
	}

	// Run 1: stopped between two pages of its first pass.
	var cur atomic.Pointer[running]
	f.set(func(f *fakeKong) {
		f.onPage = func(n int64, _ *http.Request) {
			f.add(EndpointRequests, 2029+n/20, 3) // still growing
			if n == 6 {
				cur.Load().cancel()
			}
		}
	})
	p := build()
	cur.Store(start(p))
	cur.Load().wait(t)
	if got := sink.distinct(); got != 0 {
		t.Fatalf("run 1 stored %d events before its pass ended", got)
	}

	// Run 2: stopped after two stored chunks, in the middle of delivering.
	sink.mu.Lock()
	sink.onAppend = func(n int) error {
		if n == 2 {
			cur.Load().cancel()
		}
		return nil
	}
	sink.mu.Unlock()
	cur.Store(start(build()))
	cur.Load().wait(t)
	if got := sink.distinct(); got != 500 {
		t.Fatalf("run 2 stored %d events, want 2 chunks of 250", got)
	}

	// Run 3: a stored chunk whose cursor was saved, then a failed Append.
	sink.mu.Lock()
	sink.onAppend = func(n int) error {
		if n == 4 {
			return errors.New("disk full")
		}
		if n == 5 {
			cur.Load().cancel()
		}
		return nil
	}
	sink.mu.Unlock()
	cur.Store(start(build()))
	cur.Load().wait(t)

	// Run 4: to the end.
	sink.mu.Lock()
	sink.onAppend = nil
	sink.mu.Unlock()
	f.set(func(f *fakeKong) { f.onPage = nil })
	pollUntil(t, build(), sink, f, f.count())
	sink.exactly(t, f.all())
}

func TestOutageThenCatchUp(t *testing.T) {
	f := newFake(t)
	f.add(EndpointRequests, 3000, 50)
	sink := newSink()
	h := newHarness(t, sink)
	r := start(h.poller(t, testConfig(f)))
	eventually(t, 5*time.Second, "first records", func() bool { return sink.distinct() == 50 })
	if s := h.snapshot(); s.Status != status.Active || s.LastResponseCode != 200 {
		t.Fatalf("before the outage: %+v", s)
	}

	f.set(func(f *fakeKong) { f.down = true })
	eventually(t, 5*time.Second, "inactive during the outage", func() bool { return h.snapshot().Status == status.Inactive })
	s := h.snapshot()
	if s.LastResponseCode != 503 || s.LastAttemptAt == "" {
		t.Fatalf("during the outage: %+v", s)
	}
	f.add(EndpointRequests, 3000, 20) // late, in the boundary second
	f.add(EndpointRequests, 3001, 80)
	f.add(EndpointObjects, 3001, 30)
	settle(t, f, 10)
	if sink.distinct() != 50 || h.snapshot().Status != status.Inactive {
		t.Fatalf("delivered %d during the outage, status %s", sink.distinct(), h.snapshot().Status)
	}

	f.set(func(f *fakeKong) { f.down = false })
	eventually(t, 5*time.Second, "caught up", func() bool { return sink.distinct() == f.count() })
	settle(t, f, 4)
	r.stop(t)
	if s := h.snapshot(); s.Status != status.Active || s.LastResponseCode != 200 || s.Accepted != int64(f.count()) {
		t.Fatalf("after the outage: %+v", s)
	}
	sink.exactly(t, f.all())
	if strings.Count(h.logs.String(), "a poll failed") != 1 {
		t.Errorf("the outage should be logged once:\n%s", h.logs)
	}
}

func TestUnauthorizedIsNotHammered(t *testing.T) {
	f := newFake(t)
	f.token = "right-token-value"
	f.add(EndpointRequests, 4000, 5)
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.AdminToken = auditrelay.NewSecret("wrong-token-value")
	c.Retry.WaitMax = auditrelay.Duration(150 * time.Millisecond) // the pace after a 401
	r := start(h.poller(t, c))
	time.Sleep(520 * time.Millisecond)
	// At 150 ms a try: 4 or 5 requests; at the 10 ms interval it would be ~50.
	if n := f.pages.Load(); n < 2 || n > 5 {
		t.Fatalf("%d requests in 520ms after a 401", n)
	}
	s := h.snapshot()
	if s.Status != status.Inactive || s.LastResponseCode != 401 {
		t.Fatalf("status %+v", s)
	}
	logs := h.logs.String()
	if strings.Count(logs, "refused the credentials") != 1 || strings.Contains(logs, "wrong-token-value") {
		t.Fatalf("want one clear log line and no token:\n%s", logs)
	}

	f.set(func(f *fakeKong) { f.token = "wrong-token-value" }) // the token is fixed on Kong's side
	eventually(t, 3*time.Second, "delivered once the token works", func() bool { return sink.distinct() == 5 })
	r.stop(t)
	if h.snapshot().Status != status.Active {
		t.Fatalf("status %+v", h.snapshot())
	}
	sink.exactly(t, f.all())
}

func TestLateRecords(t *testing.T) {
	f := newFake(t)
	for ts := int64(100); ts <= 110; ts++ {
		f.add(EndpointRequests, ts, 3)
	}
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f) // lookback 5s
	pollUntil(t, h.poller(t, c), sink, f, f.count())

	want := f.all()
	for id := range f.all() {
		want[id] = true
	}
	for _, id := range f.add(EndpointRequests, 107, 2) { // within the lookback
		want[id] = true
	}
	for _, id := range f.add(EndpointRequests, 110, 2) { // the boundary second
		want[id] = true
	}
	lost := f.add(EndpointRequests, 104, 1) // more than lookback behind 110
	pollUntil(t, h.poller(t, c), sink, f, len(want))
	sink.exactly(t, want)
	if sink.got[lost[0]] != 0 {
		t.Fatal("a record older than the lookback was delivered")
	}
}

func TestStartFrom(t *testing.T) {
	now := time.Unix(5000, 0)
	for _, tc := range []struct {
		from  string
		first int64
	}{
		{StartNow, 5000},
		{StartEarliest, 4990},
		{"1970-01-01T01:23:25Z", 5005},
		{"5003", 5003},
	} {
		t.Run(tc.from, func(t *testing.T) {
			f := newFake(t)
			want := map[string]bool{}
			for ts := int64(4990); ts < 5010; ts++ {
				for _, id := range f.add(EndpointRequests, ts, 2) {
					want[id] = ts >= tc.first
				}
			}
			sink := newSink()
			h := newHarness(t, sink)
			h.now = func() time.Time { return now }
			c := testConfig(f)
			c.StartFrom = tc.from
			h.poller(t, c) // saves the cursor: a restart keeps the start
			h.now = func() time.Time { return now.Add(time.Hour) }
			for id, ok := range want {
				if !ok {
					delete(want, id)
				}
			}
			pollUntil(t, h.poller(t, c), sink, f, len(want))
			sink.exactly(t, want)
		})
	}
}

func TestWorkspaceBasePathAndNextLinks(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f := newFake(t)
		f.prefix = "/admin/team-a"
		f.keepFilters = keep
		for ts := int64(7000); ts < 7005; ts++ {
			f.add(EndpointRequests, ts, 30)
		}
		sink := newSink()
		h := newHarness(t, sink)
		c := testConfig(f)
		c.URL += "/admin/"
		c.Workspace = "team-a"
		c.PageSize = 7
		c.Endpoints = []string{EndpointRequests}
		pollUntil(t, h.poller(t, c), sink, f, f.count())
		sink.exactly(t, f.all())
	}
}

func TestNextPosition(t *testing.T) {
	p := &Poller{}
	p.base, _ = url.Parse("https://kong.example:8444/admin")
	p.cfg.Workspace = "ws"
	cases := []struct {
		next, offset string
		want         string
		err          bool
	}{
		{"/audit/requests?offset=abc&size=5", "abc", "https://kong.example:8444/admin/ws/audit/requests?after=7&offset=abc&size=9", false},
		{"/ws/audit/requests?offset=abc&size=5", "", "https://kong.example:8444/admin/ws/audit/requests?after=7&offset=abc&size=9", false},
		{"/ws/audit/requests?page=3", "", "https://kong.example:8444/admin/ws/audit/requests?after=7&page=3&size=9", false},
		{"/admin/ws/audit/requests?page=3&after=6", "", "https://kong.example:8444/admin/ws/audit/requests?after=6&page=3&size=9", false},
		{"https://evil.example/audit/requests?page=3", "", "", true},
		{"http://kong.example:8444/audit/requests?page=3", "", "", true},
	}
	for _, c := range cases {
		pos, err := p.nextPosition(c.next, c.offset)
		if (err != nil) != c.err {
			t.Fatalf("%s: err %v", c.next, err)
		}
		if err != nil {
			continue
		}
		if got := p.pageURL(EndpointRequests, 7, pos, 9); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.next, got, c.want)
		}
	}
}

func TestLargeRecordsShrinkPages(t *testing.T) {
	f := newFake(t)
	f.padding = 20_000 // three records fill what the client reads
	f.add(EndpointRequests, 8000, 25)
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.Endpoints = []string{EndpointRequests}
	pollUntil(t, h.poller(t, c), sink, f, f.count())
	sink.exactly(t, f.all())
}

func TestPassMemoryBound(t *testing.T) {
	f := newFake(t)
	for ts := int64(9000); ts < 9040; ts++ {
		f.add(EndpointRequests, ts, 25)
	}
	f.add(EndpointRequests, 9040, 450) // one second over the bound
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.PageSize = 60
	p := h.poller(t, c)
	p.maxPass, p.chunk = 100, 40
	pollUntil(t, p, sink, f, f.count())
	sink.exactly(t, f.all())
	if cur := p.cursors[EndpointRequests]; cur.Since != 9040 {
		t.Fatalf("cursor at %d", cur.Since)
	}
}

func TestCollectionBound(t *testing.T) {
	f := newFake(t)
	coll := &collection{cur: newCursor(EndpointRequests, "", "", 0), limit: 100, shrinkAt: 200, cutoff: math.MaxInt64, ids: map[string]struct{}{}}
	held := 0
	// Newest first, as Kong pages: seconds 60..1, 17 records each.
	for ts := int64(60); ts >= 1; ts-- {
		for i := range 17 {
			coll.add(f.record(EndpointRequests, fakeRec{id: fmt.Sprintf("r%d-%d", ts, i), ts: ts}))
			held = max(held, len(coll.recs))
		}
	}
	recs := coll.sorted()
	if !coll.overflowed || held > 2*100+17+1 || len(recs) < 100 {
		t.Fatalf("overflowed %v, held at most %d, kept %d", coll.overflowed, held, len(recs))
	}
	// Kept: every record of the oldest whole seconds, nothing else.
	last := recs[len(recs)-1].ts
	if len(recs) != int(last)*17 || coll.cutoff != last+1 {
		t.Fatalf("kept %d records up to second %d, cutoff %d", len(recs), last, coll.cutoff)
	}
}

func TestCursorFile(t *testing.T) {
	f := newFake(t)
	for ts := int64(100); ts < 120; ts++ {
		f.add(EndpointRequests, ts, 2)
	}
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.Endpoints = []string{EndpointRequests}
	pollUntil(t, h.poller(t, c), sink, f, f.count())

	path := filepath.Join(h.dir, "cursor-requests.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Version  int                 `json:"version"`
		Endpoint string              `json:"endpoint"`
		URL      string              `json:"url"`
		Floor    int64               `json:"floor"`
		Since    int64               `json:"since"`
		Seen     map[string][]string `json:"seen"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if file.Version != 1 || file.Endpoint != "requests" || file.URL != f.srv.URL || file.Floor != 0 || file.Since != 119 || len(file.Seen) != 6 {
		t.Fatalf("cursor file:\n%s", b)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}

	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c, h.settings()); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("damaged cursor: %v", err)
	}
}

func TestRejectedRecordIsSkippedOnce(t *testing.T) {
	f := newFake(t)
	f.add(EndpointRequests, 100, 3)
	sink := newSink()
	h := newHarness(t, sink)
	c := testConfig(f)
	c.Endpoints = []string{EndpointRequests}
	p := h.poller(t, c)
	bad := json.RawMessage(`{"request_id":"bad","request_timestamp":100,"method":"GET","path":"/","status":"200"}`)
	events, rejected := p.convert(EndpointRequests, []pending{{id: "bad", ts: 100, raw: bad}, {id: "x", ts: 100, raw: f.record(EndpointRequests, fakeRec{id: "good", ts: 100})}})
	if rejected != 1 || len(events) != 1 || events[0].ID != "good" {
		t.Fatalf("rejected %d, events %+v", rejected, events)
	}
	if !strings.Contains(h.logs.String(), "record=bad") {
		t.Fatalf("the rejected record is not named:\n%s", h.logs)
	}
}

func TestRunEndsWithContext(t *testing.T) {
	f := newFake(t)
	f.set(func(f *fakeKong) { f.down = true })
	h := newHarness(t, newSink())
	c := testConfig(f)
	c.Retry.WaitMin, c.Retry.WaitMax = auditrelay.Duration(time.Second), auditrelay.Duration(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := h.poller(t, c).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 500*time.Millisecond {
		t.Fatalf("Run took %s to notice its context ended in a retry wait", d)
	}
}
