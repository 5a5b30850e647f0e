package spool

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

const benchRecordBytes = 500

func benchBatch(size int) [][]byte {
	batch := make([][]byte, size)
	for i := range batch {
		batch[i] = payload(uint64(i), benchRecordBytes)
	}
	return batch
}

// drainIfBig reads and commits everything once the spool passes 256 MiB,
// outside the timer, so long benchmarks stay bounded on disk.
func drainIfBig(b *testing.B, s *Spool, r *Reader) {
	if s.Size() < 256<<20 {
		return
	}
	b.StopTimer()
	defer b.StartTimer()
	for {
		n, _ := r.Lag()
		if n == 0 {
			return
		}
		recs, err := r.Next(context.Background(), 10000, 8<<20)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Commit(recs[len(recs)-1].Pos); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendFsync is one goroutine appending batches of ~500-byte
// records, each Append fsync'd before it returns.
func BenchmarkAppendFsync(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, _ := openSpool(b, b.TempDir(), func(o *Options) { o.NoSync = false })
			r, _ := s.Reader("bench")
			batch := benchBatch(size)
			b.SetBytes(int64(size * benchRecordBytes))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := s.Append(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				n += size
				drainIfBig(b, s, r)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendGroupCommit is 4 goroutines appending batches of 100
// concurrently; appends/fsync shows how many Appends share one fsync.
func BenchmarkAppendGroupCommit(b *testing.B) {
	const goroutines, size = 4, 100
	s, _ := openSpool(b, b.TempDir(), func(o *Options) { o.NoSync = false; o.MaxBytes = 4 << 30 })
	batch := benchBatch(size)
	b.SetBytes(int64(size * benchRecordBytes))
	b.ReportAllocs()
	rounds0 := s.Rounds()
	work := make(chan struct{}, goroutines)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range work {
				if err := s.Append(context.Background(), batch); err != nil {
					b.Error(err)
				}
			}
		})
	}
	n := 0
	for b.Loop() {
		work <- struct{}{}
		n += size
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n/size)/float64(max(s.Rounds()-rounds0, 1)), "appends/fsync")
}

// BenchmarkReader reads 1000-record batches of ~500-byte records (page
// cache warm: this is the spool's CPU cost, checksums included), with a
// new buffer per read and with ReuseBuffers (as delivery reads).
func BenchmarkReader(b *testing.B) {
	b.Run("fresh", func(b *testing.B) { benchmarkReader(b, false) })
	b.Run("reuse", func(b *testing.B) { benchmarkReader(b, true) })
}

func benchmarkReader(b *testing.B, reuse bool) {
	s, _ := openSpool(b, b.TempDir(), nil)
	r, _ := s.Reader("bench")
	if reuse {
		r.ReuseBuffers()
	}
	batch := benchBatch(1000)
	for range 100 {
		if err := s.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	n, bytes, inRound := 0, 0, 0
	ctx := context.Background()
	for b.Loop() {
		recs, err := r.Next(ctx, 1000, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		n += len(recs)
		for _, rec := range recs {
			bytes += len(rec.Data)
		}
		if inRound += len(recs); inRound == 100*len(batch) {
			r.Rewind()
			inRound = 0
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
