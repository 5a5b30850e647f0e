package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recycleOptions makes 2 KiB segments, so that a few hundred bytes of
// records roll over and a delivered segment becomes the spare.
func recycleOptions(o *Options) { o.SegmentBytes = 2 << 10; o.MaxBytes = 1 << 20 }

// deliverAll reads every record up to want and commits past the last.
func deliverAll(t *testing.T, r *Reader, want []uint64) {
	t.Helper()
	recs := readN(t, r, len(want))
	if got := numbers(t, recs); !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	if err := r.Commit(recs[len(recs)-1].Pos); err != nil {
		t.Fatal(err)
	}
}

func statSpare(t *testing.T, dir string) os.FileInfo {
	t.Helper()
	info, err := os.Stat(filepath.Join(dir, spareName))
	if err != nil {
		t.Fatalf("no spare segment file: %v", err)
	}
	return info
}

// firstGeneration writes records [0, 30) in 200-byte records, nine to a
// 2 KiB segment, and delivers them: the oldest delivered segment becomes the
// spare, the others are deleted.
func firstGeneration(t *testing.T, dir string, s *Spool) (*Reader, os.FileInfo) {
	t.Helper()
	r, err := s.Reader("out")
	if err != nil {
		t.Fatal(err)
	}
	for n := uint64(0); n < 30; n++ {
		appendRange(t, s, n, n+1, 200)
	}
	deliverAll(t, r, seqRange(0, 30))
	return r, statSpare(t, dir)
}

// untilRecycled appends one record at a time from n on until the writer
// has taken the spare for its new segment, and returns the next number.
func untilRecycled(t *testing.T, dir string, s *Spool, n uint64) uint64 {
	t.Helper()
	for limit := n + 20; n < limit; n++ {
		appendRange(t, s, n, n+1, 200)
		if _, err := os.Stat(filepath.Join(dir, spareName)); errors.Is(err, os.ErrNotExist) {
			return n + 1
		}
	}
	t.Fatal("the writer never took the spare")
	return 0
}

// activeSegment is the newest segment file.
func activeSegment(t *testing.T, dir string) string {
	t.Helper()
	segs := segmentFiles(t, dir)
	return segs[len(segs)-1]
}

func TestSpareSegmentIsRecycled(t *testing.T) {
	dir := t.TempDir()
	s, logs := openSpool(t, dir, recycleOptions)
	r, spare := firstGeneration(t, dir, s)
	if spare.Size() < s.opts.SegmentBytes/2 {
		t.Fatalf("spare of %d bytes; segments are %d", spare.Size(), s.opts.SegmentBytes)
	}
	if s.Size() != diskSize(t, dir) {
		t.Fatalf("size %d, disk %d: the spare must be counted", s.Size(), diskSize(t, dir))
	}
	n := untilRecycled(t, dir, s, 30)
	info, err := os.Stat(activeSegment(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(spare, info) {
		t.Fatalf("the new segment %s is a new file, not the spare", activeSegment(t, dir))
	}
	appendRange(t, s, n, n+5, 200)
	deliverAll(t, r, seqRange(30, n+5))
	expectEmpty(t, r)
	if s.Size() != diskSize(t, dir) || s.Size() > s.opts.MaxBytes {
		t.Fatalf("size %d, disk %d, max %d", s.Size(), diskSize(t, dir), s.opts.MaxBytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, logs2 := openSpool(t, dir, recycleOptions)
	if strings.Contains(logs2.String(), "torn tail") {
		t.Fatalf("a clean close left old records past the last one:\n%s", logs2)
	}
	r2, err := s2.Reader("out")
	if err != nil {
		t.Fatal(err)
	}
	expectEmpty(t, r2)
	appendRange(t, s2, n+5, n+6, 200)
	deliverAll(t, r2, []uint64{n + 5})
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", logs)
	}
}

// A crash while the active segment is a recycled file leaves its old
// records past the new ones; recovery must stop at the first of them
// (their sequence numbers are older) and lose nothing acknowledged.
func TestRecycledSegmentAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, recycleOptions)
	r, _ := firstGeneration(t, dir, s)
	n := untilRecycled(t, dir, s, 30)
	deliverAll(t, r, seqRange(30, n))
	active := activeSegment(t, dir)
	appendRange(t, s, n, n+3, 200) // acknowledged, not delivered
	crash := t.TempDir()
	copyDir(t, dir, crash) // what a kill -9 leaves: every acknowledged write is in the files
	before, err := os.Stat(filepath.Join(crash, filepath.Base(active)))
	if err != nil {
		t.Fatal(err)
	}
	s2, logs := openSpool(t, crash, recycleOptions)
	r2, err := s2.Reader("out")
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, readN(t, r2, 3)); !slices.Equal(got, seqRange(n, n+3)) {
		t.Fatalf("after the crash read %v, want %v", got, seqRange(n, n+3))
	}
	expectEmpty(t, r2)
	after, err := os.Stat(filepath.Join(crash, filepath.Base(active)))
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() >= before.Size() || !strings.Contains(logs.String(), "torn tail") {
		t.Fatalf("old records not cut off: %d → %d bytes\n%s", before.Size(), after.Size(), logs)
	}
	if s2.Size() != diskSize(t, crash) {
		t.Fatalf("size %d, disk %d", s2.Size(), diskSize(t, crash))
	}
}

// The spare gives its room back when an append needs it: a full spool
// whose oldest segment was just delivered takes the next append.
func TestSpareDeletedWhenFull(t *testing.T) {
	dir := t.TempDir()
	const maxBytes = 16 << 10
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10; o.MaxBytes = maxBytes })
	r, err := s.Reader("out")
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for ; ; n++ {
		err := s.Append(context.Background(), [][]byte{payload(n, 200)})
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil || n > 1000 {
			t.Fatalf("record %d: %v", n, err)
		}
	}
	deliverAll(t, r, seqRange(0, 9)) // the first segment holds nine
	statSpare(t, dir)
	if err := s.Append(context.Background(), [][]byte{payload(n, 200)}); err != nil {
		t.Fatalf("append after the oldest segment was delivered: %v", err)
	}
	if s.Size() > maxBytes || s.Size() != diskSize(t, dir) {
		t.Fatalf("size %d, disk %d, max %d", s.Size(), diskSize(t, dir), maxBytes)
	}
	deliverAll(t, r, seqRange(9, n+1))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == lockName {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}
