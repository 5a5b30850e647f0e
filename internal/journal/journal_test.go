package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/dedup"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/spool"
)

var _ = golden.Update // accept go test ./... -update

func open(t *testing.T, dir string) (*spool.Spool, *Journal) {
	t.Helper()
	sp, err := spool.Open(spool.Options{Dir: dir, MaxBytes: 8 << 20, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := OpenIDLog(filepath.Join(dir, "..", filepath.Base(dir)+"-ids"), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ids.Close() })
	return sp, New(sp, dedup.New(1000, time.Hour), ids)
}

func events(input string, ids ...string) []auditrelay.Event {
	out := make([]auditrelay.Event, len(ids))
	for i, id := range ids {
		out[i] = auditrelay.Event{ID: id, ReceivedAt: time.Now(), Source: auditrelay.Source{Input: input}, Severity: i}
	}
	return out
}

// read returns every record's id and target, through a fresh reader.
func read(t *testing.T, sp *spool.Spool) []string {
	t.Helper()
	r, err := sp.Reader(fmt.Sprint("t-", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var got []string
	for {
		recs, err := r.Next(ctx, 100, 1<<20)
		if err != nil {
			return got
		}
		for _, rec := range recs {
			var e auditrelay.Event
			target, err := Decode(rec.Data, &e)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, target+"/"+e.ID)
		}
	}
}

func TestAppendDedupsAndRoutes(t *testing.T) {
	sp, j := open(t, t.TempDir())
	defer sp.Close()
	ctx := context.Background()
	if acc, dup, err := j.Append(ctx, events("in", "a", "b", "a")); err != nil || acc != 2 || dup != 1 {
		t.Fatalf("first: %d %d %v", acc, dup, err)
	}
	if acc, dup, err := j.Append(ctx, events("in", "b", "c")); err != nil || acc != 1 || dup != 1 {
		t.Fatalf("second: %d %d %v", acc, dup, err)
	}
	if err := j.AppendFor(ctx, "splunk", events("in", "a")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(read(t, sp)); got != "[/a /b /c splunk/a]" {
		t.Fatalf("spool holds %s", got)
	}
}

func TestConcurrentIdenticalBatchesStoredOnce(t *testing.T) {
	sp, j := open(t, t.TempDir())
	defer sp.Close()
	batch := events("in", "x1", "x2", "x3")
	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			acc, _, err := j.Append(context.Background(), batch)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			accepted += acc
			mu.Unlock()
		})
	}
	wg.Wait()
	if accepted != 3 || len(read(t, sp)) != 3 {
		t.Fatalf("accepted %d, spool holds %v", accepted, read(t, sp))
	}
}

func TestFailedAppendForgetsIDs(t *testing.T) {
	dir := t.TempDir()
	sp, j := open(t, dir)
	sp.Close()
	if _, _, err := j.Append(context.Background(), events("in", "a")); !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("append to a closed spool: %v", err)
	}
	sp2, err := spool.Open(spool.Options{Dir: dir, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.Close()
	j.spool = sp2
	if acc, _, err := j.Append(context.Background(), events("in", "a")); err != nil || acc != 1 {
		t.Fatalf("retry after a failed append: accepted %d, %v", acc, err)
	}
}

func TestRebuildAfterRestart(t *testing.T) {
	dir := t.TempDir()
	sp, j := open(t, dir)
	if _, _, err := j.Append(context.Background(), events("in", "a", "b")); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendFor(context.Background(), "out", events("in", "c")); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	sp, j = open(t, dir)
	defer sp.Close()
	if n, err := j.Rebuild(time.Now()); err != nil || n != 3 {
		t.Fatalf("rebuild: %d distinct ids restored, %v; want 3 (a and b are in the id log and the spool)", n, err)
	}
	if acc, dup, _ := j.Append(context.Background(), events("in", "a", "b", "d")); acc != 1 || dup != 2 {
		t.Fatalf("after restart: accepted %d duplicates %d", acc, dup)
	}
}

// TestRebuildOutlivesTheSpool: ids whose records the spool already
// deleted (delivered) are still restored from the id log.
func TestRebuildOutlivesTheSpool(t *testing.T) {
	dir := t.TempDir()
	sp, j := open(t, dir)
	if _, _, err := j.Append(context.Background(), events("in", "old-1", "old-2")); err != nil {
		t.Fatal(err)
	}
	sp.Close()
	if err := os.RemoveAll(dir); err != nil { // as if every segment had been delivered and deleted
		t.Fatal(err)
	}
	sp, j = open(t, dir)
	defer sp.Close()
	if n, err := j.Rebuild(time.Now()); err != nil || n != 2 {
		t.Fatalf("rebuild from the id log: %d %v", n, err)
	}
	if acc, dup, _ := j.Append(context.Background(), events("in", "old-1", "old-2")); acc != 0 || dup != 2 {
		t.Fatalf("resent after the spool forgot them: accepted %d duplicates %d", acc, dup)
	}
}

// TestIDLogKeepsTwoFiles: the log rotates every perFile ids and keeps the
// two newest files, and a torn tail is skipped.
func TestIDLogKeepsTwoFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenIDLog(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 10 {
		if err := l.Record([]string{fmt.Sprint("id-", i)}, []time.Time{now}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "ids-*.log"))
	if len(files) != 2 {
		t.Fatalf("%d files, want 2", len(files))
	}
	f, _ := os.OpenFile(files[1], os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.Write([]byte{0x02, 0x09, 'x'}) // a torn record
	f.Close()
	var got []string
	l2, _ := OpenIDLog(dir, 3)
	defer l2.Close()
	if err := l2.Each(func(id string, _ time.Time) { got = append(got, id) }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[id-9]" && fmt.Sprint(got) != "[id-6 id-7 id-8 id-9]" {
		t.Fatalf("ids kept: %v", got)
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	var e auditrelay.Event
	for _, b := range [][]byte{nil, {7}, {kindTargeted, 200}, {kindTargeted, 3, 'a'}} {
		if _, err := Decode(b, &e); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%v) = %v", b, err)
		}
	}
}

func BenchmarkAppend100(b *testing.B) {
	sp, err := spool.Open(spool.Options{Dir: b.TempDir(), MaxBytes: 1 << 40, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	j := New(sp, dedup.New(1_000_000, time.Minute), nil)
	batch := events("bench", make([]string, 100)...)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i].ID = fmt.Sprint("id-", n)
			n++
		}
		if _, _, err := j.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
