package spool

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

const (
	crashDirEnv   = "AUDITRELAY_SPOOL_CRASH_DIR"
	crashStartEnv = "AUDITRELAY_SPOOL_CRASH_START"
)

// TestHelperProcess is the child of TestKillNineKeepsAcknowledged: it
// appends numbered records in batches and prints "ack FROM TO" after each
// Append that returned nil, until it is killed (or a bound is reached).
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestKillNineKeepsAcknowledged")
	}
	start, err := strconv.ParseUint(os.Getenv(crashStartEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad start:", err)
		os.Exit(2)
	}
	s, err := Open(Options{Dir: dir, SegmentBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	n := start
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
		size := 1 + i%17
		batch := make([][]byte, size)
		for j := range batch {
			batch[j] = payload(n+uint64(j), 100+int(n%400))
		}
		if err := s.Append(context.Background(), batch); err != nil {
			fmt.Fprintln(os.Stderr, "append:", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "ack %d %d\n", n, n+uint64(size))
		n += uint64(size)
	}
	os.Exit(0)
}

// TestKillNineKeepsAcknowledged kills a writing process with SIGKILL at a
// random moment, three times over one spool, and checks that every record
// whose Append was acknowledged is there, once, in order.
func TestKillNineKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	next := uint64(0)
	acked := map[uint64]bool{}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.FormatUint(next, 10))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		kill := time.After(time.Duration(30+rand.IntN(200)) * time.Millisecond)
		hardStop := time.After(15 * time.Second)
		killed := false
		for !killed {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child ended before the kill", round)
				}
				var from, to uint64
				if _, err := fmt.Sscanf(line, "ack %d %d", &from, &to); err != nil {
					t.Fatalf("child said %q", line)
				}
				for n := from; n < to; n++ {
					acked[n] = true
				}
			case <-kill:
				killed = true
			case <-hardStop:
				killed = true
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for line := range lines { // acks printed before the kill landed
			var from, to uint64
			if _, err := fmt.Sscanf(line, "ack %d %d", &from, &to); err == nil {
				for n := from; n < to; n++ {
					acked[n] = true
				}
			}
		}
		_ = cmd.Wait()

		s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 64 << 10 })
		present := map[uint64]int{}
		last := int64(-1)
		err = s.Scan(func(b []byte) error {
			n := number(t, b)
			if int64(n) <= last {
				return fmt.Errorf("record %d after %d: out of order or repeated", n, last)
			}
			last = int64(n)
			present[n]++
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		missing := 0
		for n := range acked {
			if present[n] == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged records missing after kill -9", round, missing, len(acked))
		}
		t.Logf("round %d: %d acknowledged, %d present", round, len(acked), len(present))
		next = uint64(last + 1)
		s.Close()
	}
	if len(acked) == 0 {
		t.Fatal("the child acknowledged nothing; the test proved nothing")
	}
}
