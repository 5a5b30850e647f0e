package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay/internal/spool"
)

// commitLog is a Queue that records commits and fails them once failing
// is set.
type commitLog struct {
	mu      sync.Mutex
	commits []spool.Position
	failing bool
}

func (q *commitLog) Next(context.Context, int, int) ([]spool.Record, error) { return nil, nil }
func (q *commitLog) Lag() (int64, int64)                                    { return 0, 0 }
func (q *commitLog) Commit(p spool.Position) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failing {
		return errors.New("disk gone")
	}
	q.commits = append(q.commits, p)
	return nil
}

func TestCommitterCoalescesAndFlushesOnStop(t *testing.T) {
	q := &commitLog{}
	c := newCommitter(q, func() {})
	for i := range 5 { // no writer running: they coalesce into one
		if err := c.commit(spool.Position{Segment: 1, Offset: int64(16 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	close(stop)
	c.run(stop) // writes the pending position before returning
	if len(q.commits) != 1 || q.commits[0].Offset != 20 {
		t.Fatalf("commits %v, want only the newest position", q.commits)
	}
}

func TestCommitterReportsAFailedWrite(t *testing.T) {
	q := &commitLog{failing: true}
	c := newCommitter(q, func() { t.Error("after called for a failed write") })
	if err := c.commit(spool.Position{Segment: 1, Offset: 16}); err != nil {
		t.Fatal(err)
	}
	c.flush()
	if err := c.commit(spool.Position{Segment: 1, Offset: 40}); err == nil {
		t.Fatal("a commit after a failed cursor write did not fail")
	}
}
