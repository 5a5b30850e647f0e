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
	appendAndAck(s, start)
}

// appendAndAck appends numbered records from start in batches of 1 to 17,
// printing "ack FROM TO" after each Append that returned nil, for at most
// 20 s or a million batches, then exits.
func appendAndAck(s *Spool, start uint64) {
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
		killChild(t, "TestHelperProcess", []string{crashDirEnv + "=" + dir, crashStartEnv + "=" + strconv.FormatUint(next, 10)},
			time.Duration(30+rand.IntN(200))*time.Millisecond, func(line string) {
				if !takeAck(line, acked) {
					t.Fatalf("child said %q", line)
				}
			})

		s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 64 << 10 })
		present := map[uint64]int{}
		last := int64(-1)
		err := s.Scan(func(b []byte) error {
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

// killChild runs the test named test of this binary as a child with env
// added, hands each line it prints to take, kills it with SIGKILL after
// killAfter (or 15 s at most), then hands over the lines it printed before
// the kill landed and reaps it.
func killChild(t *testing.T, test string, env []string, killAfter time.Duration, take func(line string)) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
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
	kill := time.After(killAfter)
	hardStop := time.After(15 * time.Second)
	for killed := false; !killed; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("child ended before the kill")
			}
			take(line)
		case <-kill:
			killed = true
		case <-hardStop:
			killed = true
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		take(line)
	}
	_ = cmd.Wait()
}

// takeAck records the numbers of an "ack FROM TO" line in acked; false
// when line is not one.
func takeAck(line string, acked map[uint64]bool) bool {
	var from, to uint64
	if _, err := fmt.Sscanf(line, "ack %d %d", &from, &to); err != nil {
		return false
	}
	for n := from; n < to; n++ {
		acked[n] = true
	}
	return true
}
