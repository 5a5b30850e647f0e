package delivery

import (
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/internal/spool"
)

// commitEvery is the least time between two cursor writes of one output.
// It bounds the fsyncs delivery adds to the disk the spool writer fsyncs
// on (two per write) to about 20 a second, and what a crash may send again
// to about that long of deliveries.
const commitEvery = 50 * time.Millisecond

// committer persists a loop's spool cursor off the delivery path. A
// commit (one temp file, two fsyncs and a rename in the spool) costs more
// than sending a batch on a busy disk; done in line it would cap an
// output at one batch per cursor write. Instead commit records the newest
// delivered position and returns, and one goroutine writes it: a slow
// write delays no batch, and batches delivered meanwhile (or within
// commitEvery of the last write) share the next write. Delivery stays at-least-once: a crash before a cursor write only
// sends the batches after the last durable cursor again.
type committer struct {
	q     Queue
	after func() // called after each cursor write (refreshes "queued")
	wake  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	pos     spool.Position
	pending bool
	err     error // the first failed write; every later commit returns it
}

func newCommitter(q Queue, after func()) *committer {
	return &committer{q: q, after: after, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// commit asks for the cursor to move past the record at p. Positions only
// grow; a newer one replaces a pending older one. It returns the error of
// an earlier write that failed.
func (c *committer) commit(p spool.Position) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.pos, c.pending = p, true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // a write is already due; it will take p
	}
	return nil
}

// run writes pending positions until stop closes, then writes the last
// one and closes done.
func (c *committer) run(stop <-chan struct{}) {
	defer close(c.done)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-c.wake:
		case <-stop:
			c.flush()
			return
		}
		select { // at most one write per commitEvery
		case <-pause.C:
		case <-stop:
			c.flush()
			return
		}
		c.flush()
		pause.Reset(commitEvery)
	}
}

func (c *committer) flush() {
	c.mu.Lock()
	p, pending := c.pos, c.pending
	c.pending = false
	c.mu.Unlock()
	if !pending {
		return
	}
	if err := c.q.Commit(p); err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		return
	}
	c.after()
}
