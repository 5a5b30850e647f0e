package dedup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/spool"
)

var _ = golden.Update // accept go test ./... -update

func TestClaimAndRelease(t *testing.T) {
	w := New(100, time.Minute)
	ids := []string{"a", "b", "a", "", "c", ""}
	fresh := w.Claim(ids, nil)
	if want := []bool{true, true, false, true, true, true}; !slices.Equal(fresh, want) {
		t.Fatalf("first batch: %v, want %v", fresh, want)
	}
	if !w.Seen("a") || !w.Seen("c") || w.Seen("") {
		t.Fatal("Claim did not remember the new ids")
	}
	fresh = w.Claim([]string{"c", "d", "a", "d"}, fresh)
	if want := []bool{false, true, false, false}; !slices.Equal(fresh, want) {
		t.Fatalf("second batch: %v, want %v", fresh, want)
	}
	// A failed append releases what its batch claimed: the retry is new.
	w.Release([]string{"c", "d", "a", "d"}, fresh)
	if w.Seen("d") || !w.Seen("c") {
		t.Fatal("Release forgot the wrong ids")
	}
	if fresh := w.Claim([]string{"d"}, nil); !fresh[0] {
		t.Fatal("released id not new again")
	}
}

// TestConcurrentClaimsAcceptOnce: the same batch sent by several senders
// at once is accepted exactly once.
func TestConcurrentClaimsAcceptOnce(t *testing.T) {
	w := New(10000, time.Minute)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			fresh := w.Claim(ids, nil)
			mu.Lock()
			defer mu.Unlock()
			for i, ok := range fresh {
				if ok {
					claimed[ids[i]]++
				}
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if claimed[id] != 1 {
			t.Fatalf("%s claimed %d times", id, claimed[id])
		}
	}
}

func TestExpiry(t *testing.T) {
	w := New(100, 30*time.Millisecond)
	w.Add("x")
	if !w.Seen("x") {
		t.Fatal("not seen right after Add")
	}
	deadline := time.Now().Add(2 * time.Second)
	for w.Seen("x") {
		if time.Now().After(deadline) {
			t.Fatal("id never expired")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if fresh := w.Claim([]string{"x"}, nil); !fresh[0] {
		t.Fatal("expired id still filtered")
	}
}

func TestBoundedEntries(t *testing.T) {
	w := New(10, time.Hour)
	for i := range 25 {
		w.Add(fmt.Sprint(i))
	}
	if w.Len() != 10 {
		t.Fatalf("len %d", w.Len())
	}
	if w.Seen("0") || !w.Seen("24") {
		t.Fatal("oldest id should be forgotten first")
	}
}

func TestRestore(t *testing.T) {
	w := New(100, 10*time.Minute)
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if !w.Restore("recent", now.Add(-time.Minute), now) {
		t.Fatal("recent id not restored")
	}
	if w.Restore("old", now.Add(-11*time.Minute), now) {
		t.Fatal("id older than the window restored")
	}
	if !w.Seen("recent") || w.Seen("old") {
		t.Fatal("restore state wrong")
	}
}

func TestDisabled(t *testing.T) {
	w := New(0, 0)
	w.Add("a")
	if w.Seen("a") || w.Len() != 0 {
		t.Fatal("a zero window must remember nothing")
	}
	if got := w.Claim([]string{"a", "a"}, nil); !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("a disabled window deduplicates nothing, not even within a batch: %v", got)
	}
}

func TestConcurrent(t *testing.T) {
	w := New(10_000, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ids := []string{fmt.Sprint(g, "-", i), fmt.Sprint("shared-", i%10)}
				if fresh := w.Claim(ids, nil); !fresh[0] {
					t.Errorf("unique id %s taken for a duplicate", ids[0])
				}
			}
		})
	}
	wg.Wait()
	if !w.Seen("shared-3") || !w.Seen("7-199") {
		t.Fatal("ids lost")
	}
}

// BenchmarkClaim claims batches of 100 new ids in a full window, as ingest
// does at steady state.
func BenchmarkClaim(b *testing.B) {
	w := New(DefaultMaxEntries, 10*time.Minute)
	ids := make([]string, 100)
	var fresh []bool
	n := 0
	batch := func() {
		for i := range ids {
			ids[i] = "id-" + strconv.Itoa(n)
			n++
		}
		fresh = w.Claim(ids, fresh)
	}
	for n < DefaultMaxEntries {
		batch()
	}
	start := n
	b.ReportAllocs()
	for b.Loop() {
		batch()
	}
	b.ReportMetric(float64(n-start)/b.Elapsed().Seconds(), "events/s")
}

// TestRebuildFromSpool rebuilds a window from a real spool's records, as the
// relay does at start-up.
func TestRebuildFromSpool(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	var records [][]byte
	for i, age := range []time.Duration{time.Minute, 20 * time.Minute, 0} {
		e := auditrelay.Event{ID: fmt.Sprint("id-", i), ReceivedAt: now.Add(-age)}
		records = append(records, spool.AppendEvent(nil, &e))
	}
	records = append(records, []byte("not an event"))
	if err := sp.Append(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	w := New(100, 10*time.Minute)
	n, err := w.Rebuild(sp.Scan, spool.EventKey, now)
	if err != nil || n != 2 {
		t.Fatalf("rebuild = %d, %v; want 2 restored", n, err)
	}
	if !w.Seen("id-0") || w.Seen("id-1") || !w.Seen("id-2") {
		t.Fatal("wrong ids restored")
	}
}

// TestMatchesModel drives a small window (so that probe runs are long and
// eviction frequent) with random Claims, Adds and Releases and checks every
// id against a plain model of the ring after each step.
func TestMatchesModel(t *testing.T) {
	const capacity, ids = 40, 120
	w := New(capacity, time.Hour)
	type entry struct {
		id   string
		gone bool
	}
	var model []entry
	holds := func(id string) bool {
		for _, e := range model {
			if e.id == id && !e.gone {
				return true
			}
		}
		return false
	}
	add := func(id string) {
		for i := range model {
			if model[i].id == id {
				model[i].gone = true
			}
		}
		for len(model) > 0 && (len(model) == capacity || model[0].gone) {
			model = model[1:]
		}
		model = append(model, entry{id: id})
	}
	rnd := uint64(1)
	next := func(n int) int {
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		return int(rnd % uint64(n))
	}
	for step := range 5000 {
		id := fmt.Sprint("id-", next(ids))
		switch next(3) {
		case 0:
			fresh := w.Claim([]string{id}, nil)
			if fresh[0] == holds(id) {
				t.Fatalf("step %d: Claim(%s) fresh=%v, model holds=%v", step, id, fresh[0], holds(id))
			}
			if fresh[0] {
				add(id)
			}
		case 1:
			w.Add(id)
			add(id)
		case 2:
			w.Release([]string{id}, []bool{true})
			for i := range model {
				if model[i].id == id {
					model[i].gone = true
				}
			}
		}
		live := 0
		for i := range ids {
			id := fmt.Sprint("id-", i)
			if w.Seen(id) != holds(id) {
				t.Fatalf("step %d: Seen(%s) = %v, model %v", step, id, w.Seen(id), holds(id))
			}
			if holds(id) {
				live++
			}
		}
		if w.Len() != live {
			t.Fatalf("step %d: Len %d, model %d", step, w.Len(), live)
		}
	}
}

// TestSameTagDifferentKey holds keys whose tags (the table's copy of their
// top 32 bits) are equal: only the full key may match.
func TestSameTagDifferentKey(t *testing.T) {
	w := New(8, time.Hour)
	now := time.Now().UnixNano()
	a := key{a: 0xfeed<<32 | 1, b: 1}
	b := key{a: 0xfeed<<32 | 2, b: 1}
	c := key{a: 0xfeed<<32 | 1, b: 2}
	w.add(a, now)
	if _, ok := w.lookup(b, now); ok {
		t.Fatal("a key with the same tag but other bits was taken as held")
	}
	if _, ok := w.lookup(c, now); ok {
		t.Fatal("a key differing only in its second half was taken as held")
	}
	w.add(b, now)
	w.remove(w.find(a))
	if _, ok := w.lookup(b, now); !ok {
		t.Fatal("removing a key lost another key with the same tag")
	}
}
