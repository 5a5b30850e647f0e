// Package journal is where accepted events enter the durable spool: it
// drops the ones seen within the dedup window, encodes the rest and
// appends them as one synced batch. Push inputs (internal/ingest), the Kong
// Admin API poller and `auditrelay replay` all store events through it.
//
// # Record layout
//
// Each spool record is one event:
//
//	byte 0      kind: 0 = routed by its input, 1 = for one output only
//	kind 1      uvarint length, then the output's name
//	rest        the event in the spool's binary codec (spool.AppendEvent)
//
// Kind 1 carries what `auditrelay deadletter replay` re-queues: only the
// output that dead-lettered it takes it again.
package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/dedup"
	"github.com/auditrelay/auditrelay/internal/spool"
)

const (
	kindRouted   = 0
	kindTargeted = 1
)

// Journal appends events to a spool through a dedup window.
type Journal struct {
	spool  *spool.Spool
	window *dedup.Window
	ids    *IDLog // nil: the window is rebuilt from the spool alone
	bufs   sync.Pool
}

// New returns a journal over s and w that records stored ids in ids (nil
// for none).
func New(s *spool.Spool, w *dedup.Window, ids *IDLog) *Journal {
	j := &Journal{spool: s, window: w, ids: ids}
	j.bufs.New = func() any { return new(batchBuf) }
	return j
}

// batchBuf is the reusable encoding of one batch.
type batchBuf struct {
	data    []byte
	stored  []string
	at      []time.Time
	records [][]byte
	ids     []string
	fresh   []bool
	offsets []int
}

// Append stores the events not seen within the dedup window, returning
// once they are synced. The same event sent twice at once is stored once.
// A failed append forgets the ids it claimed, so the sender's retry is
// accepted.
func (j *Journal) Append(ctx context.Context, events []auditrelay.Event) (accepted, duplicates int, err error) {
	if len(events) == 0 {
		return 0, 0, nil
	}
	b := j.bufs.Get().(*batchBuf)
	defer j.put(b)
	b.ids = b.ids[:0]
	for i := range events {
		b.ids = append(b.ids, events[i].ID)
	}
	b.fresh = j.window.Claim(b.ids, b.fresh)
	fresh := b.fresh
	b.data, b.records = b.data[:0], b.records[:0]
	b.offsets = b.offsets[:0]
	for i := range events {
		if !fresh[i] {
			continue
		}
		b.offsets = append(b.offsets, len(b.data))
		b.data = append(b.data, kindRouted)
		b.data = spool.AppendEvent(b.data, &events[i])
	}
	b.offsets = append(b.offsets, len(b.data))
	for k := 0; k+1 < len(b.offsets); k++ {
		b.records = append(b.records, b.data[b.offsets[k]:b.offsets[k+1]])
	}
	if len(b.records) > 0 {
		if err := j.spool.Append(ctx, b.records); err != nil {
			j.window.Release(b.ids, fresh)
			return 0, 0, fmt.Errorf("journal: %w", err)
		}
		j.record(b, events, fresh)
	}
	return len(b.records), len(events) - len(b.records), nil
}

// record writes the stored ids to the id log. A failure costs only
// dedup after a restart, so it does not fail the append.
func (j *Journal) record(b *batchBuf, events []auditrelay.Event, fresh []bool) {
	if j.ids == nil {
		return
	}
	b.stored, b.at = b.stored[:0], b.at[:0]
	for i := range events {
		if fresh[i] && events[i].ID != "" {
			b.stored = append(b.stored, events[i].ID)
			b.at = append(b.at, events[i].ReceivedAt)
		}
	}
	_ = j.ids.Record(b.stored, b.at)
}

func (j *Journal) put(b *batchBuf) {
	if cap(b.data) > 4<<20 {
		return
	}
	j.bufs.Put(b)
}

// AppendFor stores events for one output only, without dedup (a
// dead-letter replay).
func (j *Journal) AppendFor(ctx context.Context, output string, events []auditrelay.Event) error {
	records := make([][]byte, len(events))
	for i := range events {
		rec := []byte{kindTargeted}
		rec = binary.AppendUvarint(rec, uint64(len(output)))
		rec = append(rec, output...)
		records[i] = spool.AppendEvent(rec, &events[i])
	}
	if err := j.spool.Append(ctx, records); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Rebuild refills the dedup window after a restart from the id log and
// from the events still in the spool (which covers an append whose ids did
// not reach the log before a crash), so a batch resent after a restart is
// still caught within dedup_window. restored is the number of distinct ids
// the window then holds (an id found in both is one).
func (j *Journal) Rebuild(now time.Time) (restored int, err error) {
	if j.ids != nil {
		err := j.ids.Each(func(id string, receivedAt time.Time) {
			j.window.Restore(id, receivedAt, now)
		})
		if err != nil {
			return j.window.Len(), err
		}
	}
	_, err = j.window.Rebuild(j.spool.Scan, eventKey, now)
	return j.window.Len(), err
}

// eventKey reads a record's event id and received_at for dedup.
func eventKey(data []byte) (string, time.Time, error) {
	_, body, err := split(data)
	if err != nil {
		return "", time.Time{}, err
	}
	return spool.EventKey(body)
}

// ErrCorrupt is a record that is not a journal record.
var ErrCorrupt = errors.New("journal: damaged record")

// Decode reads one record: the event, and the output it is for ("" when
// it is routed by its input).
func Decode(data []byte, e *auditrelay.Event) (target string, err error) {
	target, body, err := split(data)
	if err != nil {
		return "", err
	}
	if err := spool.DecodeEvent(body, e); err != nil {
		return "", fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return target, nil
}

func split(data []byte) (target string, body []byte, err error) {
	if len(data) == 0 {
		return "", nil, ErrCorrupt
	}
	switch data[0] {
	case kindRouted:
		return "", data[1:], nil
	case kindTargeted:
		n, k := binary.Uvarint(data[1:])
		if k <= 0 || uint64(len(data)-1-k) < n {
			return "", nil, ErrCorrupt
		}
		start := 1 + k
		return string(data[start : start+int(n)]), data[start+int(n):], nil
	}
	return "", nil, ErrCorrupt
}
