//go:build soak

package spool

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssBytes is this process's resident set size, from /proc (Linux).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestSoakMillionRecordsBoundedMemory appends 1,000,000 ~500-byte records
// (fsync'd in batches of 1000), then drains them, and checks that memory
// stays bounded: the backlog lives on disk, not in an index in memory.
func TestSoakMillionRecordsBoundedMemory(t *testing.T) {
	const total, batchSize = 1_000_000, 1000
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.NoSync = false; o.MaxBytes = 1 << 30 })
	r, _ := s.Reader("soak")
	runtime.GC()
	base := rssBytes(t)
	peak := base
	sample := func() {
		peak = max(peak, rssBytes(t))
	}
	batch := make([][]byte, batchSize)
	for n := 0; n < total; n += batchSize {
		for i := range batch {
			batch[i] = payload(uint64(n+i), benchRecordBytes)
		}
		if err := s.Append(context.Background(), batch); err != nil {
			t.Fatalf("append at %d: %v", n, err)
		}
		if n%50_000 == 0 {
			sample()
		}
	}
	t.Logf("after append: depth %d, size %d MiB, rss %d MiB (base %d MiB)", s.Depth(), s.Size()>>20, rssBytes(t)>>20, base>>20)
	ctx := context.Background()
	next := uint64(0)
	for next < total {
		recs, err := r.Next(ctx, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if got := number(t, rec.Data); got != next {
				t.Fatalf("read %d, want %d", got, next)
			}
			next++
		}
		if err := r.Commit(recs[len(recs)-1].Pos); err != nil {
			t.Fatal(err)
		}
		if next%50_000 == 0 {
			sample()
		}
	}
	t.Logf("after drain: depth %d, size %d KiB, peak rss %d MiB (base %d MiB)", s.Depth(), s.Size()>>10, peak>>20, base>>20)
	if s.Depth() != 0 || s.Size() > DefaultSegmentBytes {
		t.Fatalf("not drained: depth %d size %d", s.Depth(), s.Size())
	}
	// 1M records are ~516 MB on disk; memory must not follow them.
	if grow := peak - base; grow > 64<<20 {
		t.Fatalf("rss grew %d MiB while 1M records went through the spool", grow>>20)
	}
}
