package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/journal"
	"github.com/auditrelay/auditrelay/internal/spool"
	"github.com/auditrelay/auditrelay/internal/status"
)

// Queue is an output's spool reader.
type Queue interface {
	Next(ctx context.Context, maxRecords, maxBytes int) ([]spool.Record, error)
	Commit(upTo spool.Position) error
	Lag() (records, bytes int64)
}

// Options configure one output's delivery loop.
type Options struct {
	Name   string
	Output auditrelay.Output
	Queue  Queue
	// Takes reports whether events of the named input go to this output.
	Takes          func(input string) bool
	BatchMaxEvents int
	BatchMaxBytes  int
	FlushInterval  time.Duration
	// RoundWait is the pause before a new round of retries (wait_max).
	RoundWait  time.Duration
	DeadLetter *DeadLetter
	Status     *status.Output
	Logger     *slog.Logger
}

// Loop delivers one output's events until its context ends.
type Loop struct {
	o Options
	// b is reused by every round: its slices keep their capacity, so a
	// steady stream of batches decodes without allocating them again.
	b       batch
	commits *committer
}

// New builds a delivery loop. A Queue that can reuse its read buffers
// (spool.Reader.ReuseBuffers) is told to: the loop decodes every record of
// a read before it reads again.
func New(o Options) *Loop {
	if q, ok := o.Queue.(interface{ ReuseBuffers() }); ok {
		q.ReuseBuffers()
	}
	return &Loop{o: o}
}

// batch is what one read produced: the events for this output, the spool
// position of each, and the position of the last record read (events not
// for this output included).
type batch struct {
	events []auditrelay.Event
	pos    []spool.Position
	last   spool.Position
}

// Run delivers until ctx ends. It returns nil on cancellation and an error
// only when the spool itself fails. Cursor commits run beside delivery (see
// committer); Run makes the last one durable before it returns.
func (l *Loop) Run(ctx context.Context) error {
	c := newCommitter(l.o.Queue, l.setQueued)
	l.commits = c
	stop := make(chan struct{})
	go c.run(stop)
	defer func() {
		close(stop)
		<-c.done
	}()
	for {
		b, err := l.collect(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, spool.ErrClosed) {
				return nil
			}
			return fmt.Errorf("output %s: read spool: %w", l.o.Name, err)
		}
		if err := l.deliver(ctx, b); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// collect reads records until the batch is full or flush_interval has
// passed since the first one.
func (l *Loop) collect(ctx context.Context) (*batch, error) {
	b := &l.b
	clear(b.events) // drop the previous round's strings for the collector
	b.events, b.pos, b.last = b.events[:0], b.pos[:0], spool.Position{}
	recs, err := l.o.Queue.Next(ctx, l.o.BatchMaxEvents, l.o.BatchMaxBytes)
	if err != nil {
		return nil, err
	}
	size := l.add(b, recs)
	if len(b.events) >= l.o.BatchMaxEvents || size >= l.o.BatchMaxBytes {
		return b, nil
	}
	fill, cancel := context.WithTimeout(ctx, l.o.FlushInterval)
	defer cancel()
	for len(b.events) < l.o.BatchMaxEvents && size < l.o.BatchMaxBytes {
		recs, err := l.o.Queue.Next(fill, l.o.BatchMaxEvents-len(b.events), l.o.BatchMaxBytes-size)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if fill.Err() != nil {
				break // flush_interval reached
			}
			return nil, err
		}
		size += l.add(b, recs)
	}
	return b, nil
}

// add decodes recs into b, keeping the events routed to this output, and
// returns the bytes read. Each event is decoded in place, into the next
// slot of b.events, which is given back when the event is not kept.
func (l *Loop) add(b *batch, recs []spool.Record) int {
	size := 0
	for _, r := range recs {
		size += len(r.Data)
		b.last = r.Pos
		b.events = append(b.events, auditrelay.Event{})
		e := &b.events[len(b.events)-1]
		target, err := journal.Decode(r.Data, e)
		keep := err == nil && (target == l.o.Name || target == "" && l.o.Takes(e.Source.Input))
		if err != nil {
			l.o.Logger.Error("spool record cannot be decoded; skipping it", "output", l.o.Name, "segment", r.Pos.Segment, "offset", r.Pos.Offset, "err", err)
		}
		if !keep {
			*e = auditrelay.Event{}
			b.events = b.events[:len(b.events)-1]
			continue
		}
		b.pos = append(b.pos, r.Pos)
	}
	return size
}

// deliver hands b to the output until every event is delivered or dead
// lettered, pausing between rounds, and commits as it goes.
func (l *Loop) deliver(ctx context.Context, b *batch) error {
	events, pos := b.events, b.pos
	for len(events) > 0 {
		err := l.o.Output.Write(ctx, events)
		if err == nil {
			l.o.Status.Delivered(len(events))
			if l.o.Status.Succeeded() {
				l.o.Logger.Info("output active again: the destination accepted a batch", "output", l.o.Name)
			}
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		de := auditrelay.AsDeliveryError(err)
		k := min(max(de.Delivered, 0), len(events))
		if k > 0 {
			if err := l.commits.commit(pos[k-1]); err != nil {
				return fmt.Errorf("output %s: commit: %w", l.o.Name, err)
			}
			l.o.Status.Delivered(k)
			events, pos = events[k:], pos[k:]
		}
		if len(events) == 0 {
			break
		}
		if de.Permanent {
			n := 1
			if de.PermanentAll {
				n = len(events)
			}
			if err := l.deadLetter(events[:n], de); err != nil {
				return err
			}
			if err := l.commits.commit(pos[n-1]); err != nil {
				return fmt.Errorf("output %s: commit: %w", l.o.Name, err)
			}
			events, pos = events[n:], pos[n:]
			continue
		}
		if err := l.pause(ctx, de); err != nil {
			return err
		}
	}
	if err := l.commits.commit(b.last); err != nil {
		return fmt.Errorf("output %s: commit: %w", l.o.Name, err)
	}
	l.setQueued()
	return nil
}

func (l *Loop) deadLetter(events []auditrelay.Event, de *auditrelay.DeliveryError) error {
	if err := l.o.DeadLetter.Write(l.o.Name, events, de); err != nil {
		return fmt.Errorf("output %s: dead letter: %w", l.o.Name, err)
	}
	l.o.Status.DeadLettered(len(events))
	l.o.Logger.Warn("output refused events for good; moved to dead letter",
		"output", l.o.Name, "events", len(events), "status_code", de.StatusCode, "err", de.Err,
		"replay", "auditrelay deadletter replay --output "+l.o.Name)
	return nil
}

// pause marks the output inactive (or paused) and waits before the next
// round.
func (l *Loop) pause(ctx context.Context, de *auditrelay.DeliveryError) error {
	wait := max(l.o.RoundWait, de.RetryAfter)
	if de.Paused {
		l.o.Status.Paused(de)
		l.o.Logger.Error("output paused: the destination refuses this configuration; fix it, the batch is kept",
			"output", l.o.Name, "status_code", de.StatusCode, "err", de.Err, "next_round_in", wait)
	} else {
		l.o.Status.Failed(de)
		l.o.Logger.Warn("output inactive: retries ran out; the batch is kept for the next round",
			"output", l.o.Name, "status_code", de.StatusCode, "err", de.Err, "next_round_in", wait)
	}
	l.setQueued()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (l *Loop) setQueued() {
	n, _ := l.o.Queue.Lag()
	l.o.Status.SetQueued(n)
}
