package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const crashReaderEnv = "AUDITRELAY_SPOOL_CRASH_READER"

// recycleCrashOptions makes 16 KiB segments, so that a reader keeping up
// has segments reclaimed, one kept as the spare and reused, many times a
// second.
func recycleCrashOptions(o *Options) { o.SegmentBytes = 16 << 10; o.MaxBytes = 64 << 20 }

// TestHelperProcessRecycling is the child of TestKillNineWhileRecycling:
// it appends numbered records as TestHelperProcess does and, beside, reads
// and commits them as an output would, printing "deliver N" before it
// commits past record N, and "spare" once it saw a spare segment file.
func TestHelperProcessRecycling(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" || os.Getenv(crashReaderEnv) == "" {
		t.Skip("helper process for TestKillNineWhileRecycling")
	}
	start, err := strconv.ParseUint(os.Getenv(crashStartEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad start:", err)
		os.Exit(2)
	}
	opts := Options{Dir: dir}
	recycleCrashOptions(&opts)
	s, err := Open(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	r, err := s.Reader("out")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reader:", err)
		os.Exit(2)
	}
	go func() {
		for range 20_000 { // bounded like the rest of the child: 20 s at most
			if _, err := os.Stat(filepath.Join(dir, spareName)); err == nil {
				fmt.Fprintln(os.Stdout, "spare")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	go func() {
		for {
			recs, err := r.Next(context.Background(), 50, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "next:", err)
				os.Exit(2)
			}
			last := recs[len(recs)-1]
			fmt.Fprintf(os.Stdout, "deliver %d\n", binary.BigEndian.Uint64(last.Data))
			if err := r.Commit(last.Pos); err != nil {
				fmt.Fprintln(os.Stderr, "commit:", err)
				os.Exit(2)
			}
		}
	}()
	appendAndAck(s, start)
}

// TestKillNineWhileRecycling kills, with SIGKILL at a random moment, a
// process that appends and delivers while its spool recycles segment
// files, three times over one spool. Every acknowledged record must be
// delivered (the child said so before committing) or still there, once and
// in order; none of a recycled file's old records may come back.
func TestKillNineWhileRecycling(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	var next, delivered uint64
	acked := map[uint64]bool{}
	sawSpare := false
	take := func(line string) {
		var d uint64
		switch {
		case takeAck(line, acked):
		case line == "spare":
			sawSpare = true
		case strings.HasPrefix(line, "deliver "):
			if _, err := fmt.Sscanf(line, "deliver %d", &d); err != nil {
				t.Fatalf("child said %q", line)
			}
			delivered = max(delivered, d)
		default:
			t.Fatalf("child said %q", line)
		}
	}
	for round := range 3 {
		killChild(t, "TestHelperProcessRecycling", []string{crashDirEnv + "=" + dir, crashReaderEnv + "=1",
			crashStartEnv + "=" + strconv.FormatUint(next, 10)}, time.Duration(150+rand.IntN(300))*time.Millisecond, take)

		s, _ := openSpool(t, dir, recycleCrashOptions)
		r, err := s.Reader("out")
		if err != nil {
			t.Fatal(err)
		}
		present := map[uint64]bool{}
		last := int64(-1)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			recs, err := r.Next(ctx, 1000, 0)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, rec := range recs {
				n := number(t, rec.Data)
				if int64(n) <= last {
					t.Fatalf("round %d: record %d after %d: out of order, repeated or an old record back", round, n, last)
				}
				last = int64(n)
				present[n] = true
			}
		}
		missing := 0
		for n := range acked {
			if n > delivered && !present[n] {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d acknowledged records neither delivered nor kept after kill -9", round, missing)
		}
		t.Logf("round %d: %d acknowledged, delivered up to %d, %d kept", round, len(acked), delivered, len(present))
		for n := range acked {
			next = max(next, n+1)
		}
		next = max(next, uint64(last+1))
		s.Close()
	}
	if len(acked) == 0 || delivered == 0 {
		t.Fatal("the child acknowledged or delivered nothing; the test proved nothing")
	}
	if !sawSpare {
		t.Fatal("the child never had a spare segment file: the test did not exercise recycling")
	}
}
