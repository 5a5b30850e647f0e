package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

// logBuf collects log output so tests can assert on recovery reports.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func openSpool(t testing.TB, dir string, tweak func(*Options)) (*Spool, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	opts := Options{Dir: dir, NoSync: true, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if tweak != nil {
		tweak(&opts)
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// payload is a ~size-byte record that starts with its 8-byte number.
func payload(n uint64, size int) []byte {
	b := binary.BigEndian.AppendUint64(nil, n)
	for len(b) < size {
		b = append(b, byte('a'+len(b)%26))
	}
	return b
}

func number(t testing.TB, data []byte) uint64 {
	t.Helper()
	if len(data) < 8 {
		t.Fatalf("record of %d bytes has no number", len(data))
	}
	return binary.BigEndian.Uint64(data)
}

func appendRange(t testing.TB, s *Spool, from, to uint64, size int) {
	t.Helper()
	var batch [][]byte
	for n := from; n < to; n++ {
		batch = append(batch, payload(n, size))
	}
	if err := s.Append(context.Background(), batch); err != nil {
		t.Fatalf("append %d..%d: %v", from, to, err)
	}
}

// readN reads exactly n records, failing after a short timeout.
func readN(t testing.TB, r *Reader, n int) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []Record
	for len(out) < n {
		recs, err := r.Next(ctx, n-len(out), 0)
		if err != nil {
			t.Fatalf("next after %d of %d records: %v", len(out), n, err)
		}
		out = append(out, recs...)
	}
	return out
}

// expectEmpty asserts that the reader has nothing more to read.
func expectEmpty(t testing.TB, r *Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	recs, err := r.Next(ctx, 10, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected no more records, got %d records, err %v", len(recs), err)
	}
}

func numbers(t testing.TB, recs []Record) []uint64 {
	t.Helper()
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = number(t, r.Data)
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for n := from; n < to; n++ {
		out = append(out, n)
	}
	return out
}

func TestAppendReadCommitReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, nil)
	appendRange(t, s, 0, 10, 100)
	appendRange(t, s, 10, 25, 100)
	r, err := s.Reader("splunk")
	if err != nil {
		t.Fatal(err)
	}
	recs := readN(t, r, 25)
	if got := numbers(t, recs); !slices.Equal(got, seqRange(0, 25)) {
		t.Fatalf("read %v", got)
	}
	for i := 1; i < len(recs); i++ {
		if !recs[i-1].Pos.Less(recs[i].Pos) {
			t.Fatalf("positions not increasing: %v then %v", recs[i-1].Pos, recs[i].Pos)
		}
	}
	expectEmpty(t, r)
	if err := r.Commit(recs[9].Pos); err != nil {
		t.Fatal(err)
	}
	if n, b := r.Lag(); n != 15 || b != 15*(recordHeaderSize+100) {
		t.Fatalf("lag = %d records, %d bytes; want 15, %d", n, b, 15*(recordHeaderSize+100))
	}
	if got := s.Depth(); got != 15 {
		t.Fatalf("depth = %d", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), [][]byte{payload(99, 10)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	s2, _ := openSpool(t, dir, nil)
	r2, err := s2.Reader("splunk")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r2.Lag(); n != 15 {
		t.Fatalf("lag after reopen = %d, want 15", n)
	}
	if got := numbers(t, readN(t, r2, 15)); !slices.Equal(got, seqRange(10, 25)) {
		t.Fatalf("after reopen read %v", got)
	}
	appendRange(t, s2, 25, 30, 100)
	if got := numbers(t, readN(t, r2, 5)); !slices.Equal(got, seqRange(25, 30)) {
		t.Fatalf("after append read %v", got)
	}
	if got := s2.Readers(); !slices.Equal(got, []string{"splunk"}) {
		t.Fatalf("readers = %v", got)
	}
}

func TestRecordDataStaysValid(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 3, 50)
	first := readN(t, r, 3)
	want := slices.Clone(first[0].Data)
	r.Rewind()
	readN(t, r, 3)
	if !bytes.Equal(first[0].Data, want) {
		t.Fatal("a later Next changed the Data of an earlier record")
	}
}

// TestReuseBuffers: after ReuseBuffers every Next returns the right
// records, out of one buffer that the next Next overwrites.
func TestReuseBuffers(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	r.ReuseBuffers()
	appendRange(t, s, 0, 10, 50)
	ctx := context.Background()
	first, err := r.Next(ctx, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, first); !slices.Equal(got, seqRange(0, 5)) {
		t.Fatalf("first read %v", got)
	}
	data := first[0].Data
	second, err := r.Next(ctx, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, second); !slices.Equal(got, seqRange(5, 10)) {
		t.Fatalf("second read %v", got)
	}
	if &data[0] != &second[0].Data[0] {
		t.Fatal("second read did not reuse the first read's buffer")
	}
	if err := r.Commit(second[len(second)-1].Pos); err != nil {
		t.Fatal(err)
	}
	expectEmpty(t, r)
}

func TestTornTail(t *testing.T) {
	cases := []struct {
		name string
		// damage edits the newest segment file, of which last is the start
		// of the last record.
		damage func(t *testing.T, path string, last int64)
		keep   int
	}{
		{"truncated mid payload", func(t *testing.T, path string, last int64) {
			truncateTo(t, path, last+recordHeaderSize+10)
		}, 9},
		{"truncated mid header", func(t *testing.T, path string, last int64) {
			truncateTo(t, path, last+5)
		}, 9},
		{"flipped payload byte", func(t *testing.T, path string, last int64) {
			flipByte(t, path, last+recordHeaderSize+30)
		}, 9},
		{"flipped length byte", func(t *testing.T, path string, last int64) {
			flipByte(t, path, last+4)
		}, 9},
		{"zeros after the last record", func(t *testing.T, path string, _ int64) {
			appendBytes(t, path, make([]byte, 100))
		}, 10},
		{"header-sized garbage", func(t *testing.T, path string, _ int64) {
			appendBytes(t, path, bytes.Repeat([]byte{0xff}, recordHeaderSize))
		}, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := openSpool(t, dir, nil)
			for i := uint64(0); i < 10; i++ {
				appendRange(t, s, i, i+1, 80)
			}
			r, _ := s.Reader("out")
			recs := readN(t, r, 10)
			last := recs[9].Pos
			s.Close()

			tc.damage(t, filepath.Join(dir, segmentName(last.Segment)), last.Offset)

			s2, logs := openSpool(t, dir, nil)
			if tc.keep < 10 && !strings.Contains(logs.String(), "torn tail") {
				t.Errorf("recovery did not log the torn tail: %s", logs)
			}
			r2, _ := s2.Reader("out")
			if got := numbers(t, readN(t, r2, tc.keep)); !slices.Equal(got, seqRange(0, uint64(tc.keep))) {
				t.Fatalf("kept %v", got)
			}
			expectEmpty(t, r2)
			// The spool goes on appending after the repaired tail.
			appendRange(t, s2, 100, 102, 80)
			if got := numbers(t, readN(t, r2, 2)); !slices.Equal(got, []uint64{100, 101}) {
				t.Fatalf("after repair read %v", got)
			}
			s2.Close()
			s3, _ := openSpool(t, dir, nil)
			if got := s3.Depth(); got != int64(tc.keep+2) {
				t.Fatalf("depth after second reopen = %d, want %d", got, tc.keep+2)
			}
		})
	}
}

func truncateTo(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, segmentPrefix+"*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diskSize is the size of every file Size counts: the segments and the
// spare.
func diskSize(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	if info, err := os.Stat(filepath.Join(dir, spareName)); err == nil {
		total += info.Size()
	}
	for _, p := range segmentFiles(t, dir) {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	return total
}

func TestFullThenReclaimed(t *testing.T) {
	dir := t.TempDir()
	const maxBytes = 64 << 10
	s, _ := openSpool(t, dir, func(o *Options) { o.MaxBytes = maxBytes; o.SegmentBytes = 8 << 10 })
	r, _ := s.Reader("out")
	var n uint64
	var fullErr error
	for range 1000 {
		fullErr = s.Append(context.Background(), [][]byte{payload(n, 500), payload(n+1, 500)})
		if fullErr != nil {
			break
		}
		n += 2
	}
	if !errors.Is(fullErr, ErrFull) {
		t.Fatalf("expected ErrFull, got %v", fullErr)
	}
	if !strings.Contains(fullErr.Error(), "spool_max_bytes") {
		t.Errorf("ErrFull does not tell the user what to do: %v", fullErr)
	}
	if s.Size() > maxBytes || s.Size() != diskSize(t, dir) {
		t.Fatalf("size = %d (disk %d), max %d", s.Size(), diskSize(t, dir), maxBytes)
	}
	if got := s.Depth(); got != int64(n) {
		t.Fatalf("depth = %d after %d acknowledged records: the refused batch was partly written", got, n)
	}
	segsBefore := len(segmentFiles(t, dir))
	recs := readN(t, r, int(n))
	if err := r.Commit(recs[len(recs)-1].Pos); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dir)); got != 1 {
		t.Fatalf("%d segment files after committing everything (had %d), want 1", got, segsBefore)
	}
	if s.Size() != diskSize(t, dir) || s.Size() > 2*(8<<10) {
		t.Fatalf("size after reclaim = %d, disk %d; want at most the active segment and one spare", s.Size(), diskSize(t, dir))
	}
	if err := s.Append(context.Background(), [][]byte{payload(n, 500)}); err != nil {
		t.Fatalf("append after reclaim: %v", err)
	}
	if got := numbers(t, readN(t, r, 1)); got[0] != n {
		t.Fatalf("read %v", got)
	}
}

func TestBatchLargerThanSpool(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.MaxBytes = 16 << 10 })
	err := s.Append(context.Background(), [][]byte{make([]byte, 20<<10)})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	if s.Depth() != 0 {
		t.Fatal("refused record was written")
	}
}

func TestConcurrentAppendsReadOnceInOrder(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 32 << 10 })
	const writers, batches = 8, 40
	readers := []*Reader{}
	for _, name := range []string{"a", "b"} {
		r, err := s.Reader(name)
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
	}
	var wg sync.WaitGroup
	total := 0
	for w := range writers {
		for b := range batches {
			total += 1 + (w+b)%7
		}
		wg.Go(func() {
			seq := uint64(0)
			for b := range batches {
				var batch [][]byte
				for range 1 + (w+b)%7 {
					batch = append(batch, payload(uint64(w)<<32|seq, 60+int(seq%200)))
					seq++
				}
				if err := s.Append(context.Background(), batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	results := make([][]Record, len(readers))
	var rg sync.WaitGroup
	for i, r := range readers {
		rg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for len(results[i]) < total {
				recs, err := r.Next(ctx, 50, 4<<10)
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				results[i] = append(results[i], recs...)
				if i == 0 { // one reader commits as it goes, the other never
					if err := r.Commit(recs[len(recs)-1].Pos); err != nil {
						t.Errorf("commit: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	rg.Wait()
	for i, recs := range results {
		if len(recs) != total {
			t.Fatalf("reader %d read %d of %d", i, len(recs), total)
		}
		next := make(map[uint64]uint64)
		for _, rec := range recs {
			n := number(t, rec.Data)
			w, seq := n>>32, n&0xffffffff
			if seq != next[w] {
				t.Fatalf("reader %d: writer %d record %d, want %d (lost, repeated or out of order)", i, w, seq, next[w])
			}
			next[w]++
		}
	}
	if s.Rounds() > int64(writers*batches) {
		t.Errorf("rounds %d above appends %d", s.Rounds(), writers*batches)
	}
	if s.Size() != diskSize(t, dir) {
		t.Fatalf("size %d, on disk %d", s.Size(), diskSize(t, dir))
	}
}

func TestGroupCommitSharesFsync(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.NoSync = false })
	const goroutines, each = 8, 10
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for i := range each {
				if err := s.Append(context.Background(), [][]byte{payload(uint64(g*each+i), 200)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if s.Depth() != goroutines*each {
		t.Fatalf("depth %d", s.Depth())
	}
	// Eight goroutines racing for the writer: unless every fsync finished
	// before the next Append arrived, some rounds carried several Appends.
	if s.Rounds() >= goroutines*each {
		t.Fatalf("%d fsync rounds for %d appends: no group commit", s.Rounds(), goroutines*each)
	}
	t.Logf("%d appends in %d fsync rounds", goroutines*each, s.Rounds())
}

func TestTwoReadersIndependent(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	a, _ := s.Reader("a")
	b, _ := s.Reader("b")
	appendRange(t, s, 0, 60, 200)
	ra := readN(t, a, 60)
	if err := a.Commit(ra[59].Pos); err != nil {
		t.Fatal(err)
	}
	segs := len(segmentFiles(t, dir))
	if segs < 5 {
		t.Fatalf("only %d segments; the test needs rollovers", segs)
	}
	rb := readN(t, b, 30)
	if got := numbers(t, rb); !slices.Equal(got, seqRange(0, 30)) {
		t.Fatalf("b read %v", got)
	}
	if got := len(segmentFiles(t, dir)); got != segs {
		t.Fatalf("segments deleted while b had not passed them: %d -> %d", segs, got)
	}
	if err := b.Commit(rb[29].Pos); err != nil {
		t.Fatal(err)
	}
	mid := len(segmentFiles(t, dir))
	if mid >= segs {
		t.Fatalf("no segment deleted after both passed half: %d", mid)
	}
	if n, _ := a.Lag(); n != 0 {
		t.Fatalf("a lag %d", n)
	}
	if n, _ := b.Lag(); n != 30 {
		t.Fatalf("b lag %d", n)
	}
	rb = readN(t, b, 30)
	if got := numbers(t, rb); !slices.Equal(got, seqRange(30, 60)) {
		t.Fatalf("b read %v", got)
	}
}

func TestRewind(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 10, 40)
	first := readN(t, r, 5)
	r.Rewind()
	if got := numbers(t, readN(t, r, 5)); !slices.Equal(got, seqRange(0, 5)) {
		t.Fatalf("after rewind read %v", got)
	}
	if err := r.Commit(first[2].Pos); err != nil {
		t.Fatal(err)
	}
	readN(t, r, 5)
	r.Rewind()
	if got := numbers(t, readN(t, r, 7)); !slices.Equal(got, seqRange(3, 10)) {
		t.Fatalf("after commit+rewind read %v", got)
	}
	// Committing an older record again is harmless; a position never read
	// is refused.
	if err := r.Commit(first[0].Pos); err != nil {
		t.Fatalf("recommit: %v", err)
	}
	r.Rewind()
	if err := r.Commit(Position{first[0].Pos.Segment, first[4].Pos.Offset}); err == nil {
		t.Fatal("commit of a record not yet read was accepted")
	}
}

func TestCommitNonRecordPosition(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 10, 40)
	recs := readN(t, r, 10)
	bad := Position{recs[4].Pos.Segment, recs[4].Pos.Offset + 3}
	if err := r.Commit(bad); err == nil {
		t.Fatal("commit inside a record was accepted")
	}
	if err := r.Commit(recs[4].Pos); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Lag(); n != 5 {
		t.Fatalf("lag %d", n)
	}
}

func TestReaderRegisteredLaterStartsAtOldest(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	a, _ := s.Reader("a")
	appendRange(t, s, 0, 40, 200)
	recs := readN(t, a, 20)
	if err := a.Commit(recs[19].Pos); err != nil {
		t.Fatal(err)
	}
	oldest := s.segs[0].firstSeq
	if oldest == 0 {
		t.Fatal("nothing was deleted; the test needs a reclaimed segment")
	}
	late, _ := s.Reader("late")
	if got := numbers(t, readN(t, late, int(40-oldest))); !slices.Equal(got, seqRange(oldest, 40)) {
		t.Fatalf("late reader read %v", got)
	}
	if _, err := s.Reader("late"); err == nil {
		t.Fatal("second open of one reader accepted")
	}
}

func TestRemoveReaderUnpinsSegments(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	a, _ := s.Reader("a")
	gone, _ := s.Reader("removed/output name")
	appendRange(t, s, 0, 40, 200)
	recs := readN(t, a, 40)
	if err := a.Commit(recs[39].Pos); err != nil {
		t.Fatal(err)
	}
	if len(segmentFiles(t, dir)) < 3 {
		t.Fatal("segments were deleted though a registered reader had not passed them")
	}
	s.Close()
	s2, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	if got := s2.Readers(); !slices.Equal(got, []string{"a", "removed/output name"}) {
		t.Fatalf("readers = %q", got)
	}
	if err := s2.RemoveReader("removed/output name"); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dir)); got != 1 {
		t.Fatalf("%d segments after removing the lagging reader", got)
	}
	if _, err := gone.Next(context.Background(), 1, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("old reader: %v", err)
	}
	if got := s2.Readers(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("readers = %q", got)
	}
}

func TestNoReaderKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	appendRange(t, s, 0, 40, 200)
	if len(segmentFiles(t, dir)) < 3 {
		t.Fatal("expected several segments")
	}
	r, _ := s.Reader("first")
	if got := numbers(t, readN(t, r, 40)); !slices.Equal(got, seqRange(0, 40)) {
		t.Fatalf("read %v", got)
	}
}

func TestNextBlocksAndWakes(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	got := make(chan []Record, 1)
	go func() {
		recs, err := r.Next(context.Background(), 10, 0)
		if err != nil {
			t.Error(err)
		}
		got <- recs
	}()
	// Lag and Commit must not wait for a blocked Next.
	time.Sleep(5 * time.Millisecond)
	if n, _ := r.Lag(); n != 0 {
		t.Fatalf("lag %d", n)
	}
	appendRange(t, s, 7, 8, 20)
	select {
	case recs := <-got:
		if len(recs) != 1 || number(t, recs[0].Data) != 7 {
			t.Fatalf("woke with %v", recs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake on Append")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx, 1, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background(), 1, 0)
		done <- err
	}()
	time.Sleep(5 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked Next")
	}
}

func TestNextLimits(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 10, 100)
	recs, err := r.Next(context.Background(), 3, 0)
	if err != nil || len(recs) != 3 {
		t.Fatalf("maxRecords 3: %d, %v", len(recs), err)
	}
	recs, err = r.Next(context.Background(), 100, 250)
	if err != nil || len(recs) != 2 {
		t.Fatalf("maxBytes 250 with 100-byte records: %d, %v", len(recs), err)
	}
	recs, err = r.Next(context.Background(), 100, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("maxBytes below one record must still give one: %d, %v", len(recs), err)
	}
	// A record larger than the read buffer.
	big := payload(1000, 300<<10)
	if err := s.Append(context.Background(), [][]byte{big}); err != nil {
		t.Fatal(err)
	}
	rest := readN(t, r, 5)
	if !bytes.Equal(rest[4].Data, big) {
		t.Fatal("large record read back wrong")
	}
}

func TestDamagedSealedSegmentSkipped(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 40, 200)
	recs := readN(t, r, 40)
	s.Close()
	// Damage the third record of the first segment.
	flipByte(t, filepath.Join(dir, segmentName(recs[2].Pos.Segment)), recs[2].Pos.Offset+recordHeaderSize+20)
	s2, logs := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 2 << 10 })
	r2, _ := s2.Reader("out")
	var got []uint64
	for {
		recs, err := r2.Next(context.Background(), 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, numbers(t, recs)...)
		if got[len(got)-1] == 39 {
			break
		}
	}
	firstSeg := 0
	for _, rec := range recs {
		if rec.Pos.Segment == recs[0].Pos.Segment {
			firstSeg++
		}
	}
	want := append(seqRange(0, 2), seqRange(uint64(firstSeg), 40)...)
	if !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), "damaged record") {
		t.Fatalf("damage not logged: %s", logs)
	}
	var scanned []uint64
	if err := s2.Scan(func(b []byte) error { scanned = append(scanned, number(t, b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(scanned, want) {
		t.Fatalf("scan %v", scanned)
	}
}

func TestScan(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.SegmentBytes = 2 << 10 })
	appendRange(t, s, 0, 50, 150)
	var got []uint64
	if err := s.Scan(func(b []byte) error { got = append(got, number(t, b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, seqRange(0, 50)) {
		t.Fatalf("scan %v", got)
	}
	stop := errors.New("stop")
	n := 0
	err := s.Scan(func([]byte) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("scan stop: %v after %d", err, n)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	openSpool(t, dir, nil)
	if _, err := Open(Options{Dir: dir, NoSync: true}); err == nil || !strings.Contains(err.Error(), "another auditrelay") {
		t.Fatalf("second open: %v", err)
	}
}

func TestDamagedCursorStartsOver(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 5, 30)
	recs := readN(t, r, 5)
	if err := r.Commit(recs[3].Pos); err != nil {
		t.Fatal(err)
	}
	s.Close()
	flipByte(t, filepath.Join(dir, cursorName("out")), 12)
	s2, logs := openSpool(t, dir, nil)
	r2, _ := s2.Reader("out")
	if got := numbers(t, readN(t, r2, 5)); !slices.Equal(got, seqRange(0, 5)) {
		t.Fatalf("read %v", got)
	}
	if !strings.Contains(logs.String(), "cursor file unreadable") {
		t.Fatalf("not logged: %s", logs)
	}
}

func TestCursorName(t *testing.T) {
	for _, name := range []string{"splunk", "a.b", "../../etc/passwd", "spaces and ü", "%41"} {
		file := cursorName(name)
		if strings.ContainsAny(file, `/\`) || strings.Contains(file, "..") {
			t.Errorf("%q -> unsafe file name %q", name, file)
		}
		back, ok := parseCursorName(file)
		if !ok || back != name {
			t.Errorf("%q -> %q -> %q, %v", name, file, back, ok)
		}
	}
}

func TestPositionOrder(t *testing.T) {
	a, b, c := Position{1, 100}, Position{1, 200}, Position{2, 16}
	if !a.Less(b) || !b.Less(c) || c.Less(a) || a.Less(a) || a.Compare(a) != 0 {
		t.Fatal("position order wrong")
	}
}

// TestEmptyDirLeftovers checks that a stray temporary file and an empty
// directory open cleanly.
func TestEmptyDirLeftovers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segmentName(5)+tmpSuffix), []byte("partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	s, _ := openSpool(t, dir, nil)
	if _, err := os.Stat(filepath.Join(dir, segmentName(5)+tmpSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
	if s.Depth() != 0 {
		t.Fatal("empty spool not empty")
	}
	f, err := os.Open(filepath.Join(dir, segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr, _ := io.ReadAll(f)
	if _, err := parseSegmentHeader(hdr); err != nil {
		t.Fatal(err)
	}
}

func TestUnreadableNewestSegmentMovedAside(t *testing.T) {
	dir := t.TempDir()
	small := func(o *Options) { o.SegmentBytes = 2 << 10 }
	s, _ := openSpool(t, dir, small)
	appendRange(t, s, 0, 30, 200)
	s.Close()
	segs := segmentFiles(t, dir)
	newest := segs[len(segs)-1]
	if err := os.WriteFile(newest, []byte("garbage, not a header"), 0o640); err != nil {
		t.Fatal(err)
	}
	s2, logs := openSpool(t, dir, small)
	if !strings.Contains(logs.String(), "moved aside") {
		t.Fatalf("not logged: %s", logs)
	}
	if _, err := os.Stat(newest + corruptSuffix); err != nil {
		t.Fatalf("not moved aside: %v", err)
	}
	r, _ := s2.Reader("out")
	kept := int(s2.Depth())
	got := numbers(t, readN(t, r, kept))
	if !slices.Equal(got, seqRange(0, uint64(kept))) || kept == 0 || kept >= 30 {
		t.Fatalf("kept %v", got)
	}
	// The spool writes on after the older segment.
	appendRange(t, s2, 500, 520, 200)
	if got := numbers(t, readN(t, r, 20)); !slices.Equal(got, seqRange(500, 520)) {
		t.Fatalf("after repair read %v", got)
	}
}

func TestReaderCloseAndReopen(t *testing.T) {
	s, _ := openSpool(t, t.TempDir(), nil)
	r, _ := s.Reader("out")
	appendRange(t, s, 0, 6, 30)
	recs := readN(t, r, 6)
	if err := r.Commit(recs[2].Pos); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background(), 1, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("next on closed reader: %v", err)
	}
	r2, err := s.Reader("out")
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, readN(t, r2, 3)); !slices.Equal(got, seqRange(3, 6)) {
		t.Fatalf("reopened reader read %v", got)
	}
}

// TestWriteFailureRefusesUntilRestart breaks the writer's file under it: the
// failing Append reports the error, later ones refuse with advice, and a
// reopen recovers every record acknowledged before.
func TestWriteFailureRefusesUntilRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, nil)
	appendRange(t, s, 0, 5, 50)
	s.w.f.Close() // the writer is idle: the last Append's answer ordered this after its writes
	err := s.Append(context.Background(), [][]byte{payload(5, 50)})
	if err == nil || !strings.Contains(err.Error(), "data_dir") {
		t.Fatalf("append on a broken file: %v", err)
	}
	err = s.Append(context.Background(), [][]byte{payload(6, 50)})
	if err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("append after an unrecoverable failure: %v", err)
	}
	s.Close()
	s2, _ := openSpool(t, dir, nil)
	r, _ := s2.Reader("out")
	if got := numbers(t, readN(t, r, 5)); !slices.Equal(got, seqRange(0, 5)) {
		t.Fatalf("after restart read %v", got)
	}
	expectEmpty(t, r)
}
