package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Defaults for Next's limits when given as zero or less.
const (
	DefaultNextRecords = 1000
	DefaultNextBytes   = 1 << 20
)

// Reader reads the spool for one output. It has a read position, which Next
// advances, and a committed cursor, which Commit persists; Rewind moves the
// read position back to the cursor. A Reader's methods may be called from
// different goroutines, but Next calls are serialized.
type Reader struct {
	s    *Spool
	name string

	mu        sync.Mutex
	committed cursor
	read      cursor
	last      [2]cursor // the last record Next returned and the cursor after it
	f         *os.File
	fID       uint64
	removed   bool // closed or removed: Next and Commit return ErrClosed
	// reuse, set by ReuseBuffers, makes Next read into buf and return recs
	// again each time instead of allocating them.
	reuse bool
	buf   []byte
	recs  []Record
}

// ReuseBuffers makes every later Next reuse one read buffer and one record
// slice: the records Next returns, and their Data, are then valid only
// until the next call of Next. For a caller that decodes each batch before
// it reads the next one (internal/delivery), this takes the allocation of
// a batch-sized buffer off every read.
func (r *Reader) ReuseBuffers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reuse = true
}

// Reader returns the reader called name (an output name), registering it
// when new: a new reader starts at the oldest record still in the spool and
// its cursor file is written at once, so from then on no segment it has not
// passed is deleted. One Reader per name may be open at a time.
func (s *Spool) Reader(name string) (*Reader, error) {
	if name == "" {
		return nil, errors.New("spool reader: empty name; give the output's name")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if _, open := s.readers[name]; open {
		s.mu.Unlock()
		return nil, fmt.Errorf("spool reader %q: already open; one reader per output", name)
	}
	c, registered := s.cursors[name]
	if !registered {
		oldest := s.segs[0]
		c = cursor{pos: Position{oldest.id, segmentHeaderSize}, seq: oldest.firstSeq}
		s.cursors[name] = c
	}
	r := &Reader{s: s, name: name, committed: c, read: c}
	s.readers[name] = r
	s.mu.Unlock()
	if registered {
		return r, nil
	}
	if err := s.writeCursor(name, c); err != nil {
		s.mu.Lock()
		delete(s.cursors, name)
		delete(s.readers, name)
		s.mu.Unlock()
		return nil, fmt.Errorf("spool reader %q: %w", name, err)
	}
	return r, nil
}

// Readers lists the registered readers (those with a cursor file), open or
// not, so the caller can RemoveReader the ones no configured output claims.
func (s *Spool) Readers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.cursors))
	for name := range s.cursors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// RemoveReader unregisters a reader (an output removed from the config):
// its cursor file is deleted so it no longer pins segments, and an open
// Reader of that name returns ErrClosed from then on. Removing an unknown
// name is not an error. Call it for every name in Readers() that no
// configured output uses, after opening the configured ones.
func (s *Spool) RemoveReader(name string) error {
	s.mu.Lock()
	delete(s.cursors, name)
	r := s.readers[name]
	delete(s.readers, name)
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		r.removed = true
		r.closeFileLocked()
		r.mu.Unlock()
	}
	path := filepath.Join(s.opts.Dir, cursorName(name))
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove spool reader %q: %w", name, err)
	}
	if err := s.syncDir(); err != nil {
		return fmt.Errorf("remove spool reader %q: sync directory: %w", name, err)
	}
	s.reclaim()
	return nil
}

// writeCursor persists c durably: temp file, fsync, rename, fsync directory.
func (s *Spool) writeCursor(name string, c cursor) error {
	path := filepath.Join(s.opts.Dir, cursorName(name))
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write cursor: %w", err)
	}
	_, err = f.Write(appendCursor(nil, c))
	if err == nil {
		err = s.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = s.syncDir()
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write cursor %s: %w", path, err)
	}
	return nil
}

// view is a snapshot of the segment a reader is in.
type view struct {
	seg    segment
	endSeq uint64   // sequence number after the visible records
	next   *segment // the following segment, once seg is sealed
	wait   <-chan struct{}
}

func (r *Reader) view() (view, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || r.removed {
		return view{}, ErrClosed
	}
	seg := s.findSeg(r.read.pos.Segment)
	if seg == nil {
		// The reader read and committed to the end of a segment that was
		// then sealed and reclaimed (normal), or a lost cursor points at a
		// deleted one (records skipped: said). Go on at the next segment.
		next := s.segAfter(r.read.pos.Segment)
		if next == nil {
			next = s.lastSeg()
		}
		if r.read.seq != next.firstSeq {
			s.log.Warn("spool: reader position was in a deleted segment; moved on", "reader", r.name,
				"from", r.read.pos, "to", next.id)
		}
		r.read = cursor{pos: Position{next.id, segmentHeaderSize}, seq: next.firstSeq}
		seg = next
	}
	v := view{seg: *seg, endSeq: s.tailSeq, wait: s.notify}
	if seg.sealed {
		if next := s.segAfter(seg.id); next != nil {
			cp := *next
			v.next, v.endSeq = &cp, next.firstSeq
		}
	}
	return v, nil
}

// Next returns up to maxRecords records (and about maxBytes of payload, but
// always at least one record) after the reader's read position, and
// advances it. It blocks until there is at least one record, ctx ends
// (ctx's error) or the spool closes (ErrClosed). maxRecords <= 0 means
// DefaultNextRecords, maxBytes <= 0 DefaultNextBytes. Only fsync'd records
// are returned. A record whose checksum fails (disk damage) is logged and
// the rest of its segment skipped.
func (r *Reader) Next(ctx context.Context, maxRecords int, maxBytes int) ([]Record, error) {
	if maxRecords <= 0 {
		maxRecords = DefaultNextRecords
	}
	if maxBytes <= 0 {
		maxBytes = DefaultNextBytes
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		recs, wait, err := r.step(maxRecords, maxBytes)
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		if wait == nil {
			continue
		}
		select {
		case <-wait:
		case <-r.s.closedCh:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// step makes one attempt at reading: records, or a channel to wait on when
// the reader is at the end, or neither when it moved on to a later segment.
// The reader's lock is not held while Next waits.
func (r *Reader) step(maxRecords, maxBytes int) ([]Record, <-chan struct{}, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, err := r.view()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case r.read.pos.Offset < v.seg.size:
		recs, err := r.readSegment(v, maxRecords, maxBytes)
		return recs, nil, err
	case v.next != nil:
		r.read = cursor{pos: Position{v.next.id, segmentHeaderSize}, seq: v.next.firstSeq}
		return nil, nil, nil
	}
	return nil, v.wait, nil
}

// readSegment reads records from the read position up to the visible end of
// the segment in v.
func (r *Reader) readSegment(v view, maxRecords, maxBytes int) ([]Record, error) {
	f, err := r.file(v.seg.id)
	if err != nil {
		return nil, err
	}
	off := r.read.pos.Offset
	avail := v.seg.size - off
	buf, recs := r.buffers(min(avail, int64(maxBytes)+64<<10))
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("spool reader %q: read segment %d: %w", r.name, v.seg.id, err)
	}
	defer func() {
		if r.reuse {
			r.recs = recs[:0]
		}
	}()
	pos, bytes := 0, 0
	for len(recs) < maxRecords && pos < len(buf) {
		if len(buf)-pos < recordHeaderSize {
			if len(recs) > 0 || int64(len(buf)) < avail {
				break
			}
			return recs, r.skipCorrupt(v, "record header cut short")
		}
		h := parseRecordHeader(buf[pos:])
		size := recordHeaderSize + int(h.length)
		if h.length > MaxRecordBytes || int64(pos)+int64(size) > avail {
			return recs, r.skipCorrupt(v, "record length past the end of the segment")
		}
		if len(recs) > 0 && bytes+int(h.length) > maxBytes {
			break
		}
		if pos+size > len(buf) {
			if len(recs) > 0 {
				break
			}
			// One record larger than the buffer: read exactly it.
			buf = make([]byte, size)
			if _, err := f.ReadAt(buf, off); err != nil {
				return nil, fmt.Errorf("spool reader %q: read segment %d: %w", r.name, v.seg.id, err)
			}
		}
		payload := buf[pos+recordHeaderSize : pos+size : pos+size]
		if h.seq != r.read.seq || !h.valid(buf[pos:], payload) {
			return recs, r.skipCorrupt(v, "record checksum or sequence mismatch")
		}
		at := Position{v.seg.id, off + int64(pos)}
		recs = append(recs, Record{Pos: at, Data: payload})
		pos += size
		bytes += int(h.length)
		r.last = [2]cursor{{pos: at, seq: h.seq}, {pos: Position{v.seg.id, off + int64(pos)}, seq: h.seq + 1}}
		r.read = r.last[1]
	}
	return recs, nil
}

// buffers returns a read buffer of n bytes and an empty record slice: the
// reader's own when it reuses them, new ones otherwise.
func (r *Reader) buffers(n int64) ([]byte, []Record) {
	if !r.reuse {
		return make([]byte, n), nil
	}
	if int64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	return r.buf[:n], r.recs[:0]
}

// skipCorrupt logs damage at the read position and moves past it: to the
// next segment, or to the visible end of the segment being written.
func (r *Reader) skipCorrupt(v view, why string) error {
	to := cursor{pos: Position{v.seg.id, v.seg.size}, seq: v.endSeq}
	if v.next != nil {
		to = cursor{pos: Position{v.next.id, segmentHeaderSize}, seq: v.next.firstSeq}
	}
	r.s.log.Error("spool: damaged record; skipping the rest of its segment (those records are lost)",
		"reader", r.name, "segment", filepath.Join(r.s.opts.Dir, segmentName(v.seg.id)),
		"offset", r.read.pos.Offset, "reason", why, "lost_records", int64(to.seq)-int64(r.read.seq))
	r.read = to
	return nil
}

func (r *Reader) file(id uint64) (*os.File, error) {
	if r.f != nil && r.fID == id {
		return r.f, nil
	}
	r.closeFileLocked()
	f, err := os.Open(filepath.Join(r.s.opts.Dir, segmentName(id)))
	if err != nil {
		return nil, fmt.Errorf("spool reader %q: open segment: %w", r.name, err)
	}
	r.f, r.fID = f, id
	return f, nil
}

func (r *Reader) closeFile() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeFileLocked()
}

func (r *Reader) closeFileLocked() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// Rewind moves the read position back to the committed cursor, so the next
// Next returns again every record not yet committed (after a failed
// delivery round).
func (r *Reader) Rewind() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read = r.committed
}

// Position is the reader's committed cursor: the position of the next
// record it has not committed.
func (r *Reader) Position() Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.committed.pos
}

// Commit marks every record up to and including the one at upTo as
// delivered and persists the cursor durably (temp file, fsync, rename,
// fsync directory) before deleting the segments every registered reader has
// passed. upTo must be the Pos of a record Next returned; positions already
// committed are ignored.
func (r *Reader) Commit(upTo Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed {
		return ErrClosed
	}
	if upTo.Less(r.committed.pos) {
		return nil
	}
	if !upTo.Less(r.read.pos) {
		return fmt.Errorf("spool reader %q: commit %v: not a record Next returned (read position %v)", r.name, upTo, r.read.pos)
	}
	next, err := r.after(upTo)
	if err != nil {
		return err
	}
	if err := r.s.writeCursor(r.name, next); err != nil {
		return fmt.Errorf("spool reader %q: commit: %w", r.name, err)
	}
	r.committed = next
	s := r.s
	s.mu.Lock()
	// A RemoveReader racing this Commit unregistered the name first and
	// deletes the file after: do not register it again.
	_, registered := s.cursors[r.name]
	if registered {
		s.cursors[r.name] = next
	}
	s.mu.Unlock()
	if !registered {
		return ErrClosed
	}
	s.reclaim()
	return nil
}

// after is the cursor just past the record at p.
func (r *Reader) after(p Position) (cursor, error) {
	if r.last[0].pos == p {
		return r.last[1], nil
	}
	f := r.f
	if f == nil || r.fID != p.Segment {
		var err error
		f, err = os.Open(filepath.Join(r.s.opts.Dir, segmentName(p.Segment)))
		if err != nil {
			return cursor{}, fmt.Errorf("spool reader %q: commit: %w", r.name, err)
		}
		defer f.Close()
	}
	var hdr [recordHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], p.Offset); err != nil {
		return cursor{}, fmt.Errorf("spool reader %q: commit %v: read record header: %w", r.name, p, err)
	}
	h := parseRecordHeader(hdr[:])
	next := cursor{pos: Position{p.Segment, p.Offset + recordHeaderSize + int64(h.length)}, seq: h.seq + 1}
	if h.seq < r.committed.seq || h.seq >= r.read.seq || r.read.pos.Less(next.pos) {
		return cursor{}, fmt.Errorf("spool reader %q: commit %v: not the start of a record Next returned", r.name, p)
	}
	return next, nil
}

// Lag is what is queued for this reader: records and bytes on disk after
// its committed cursor.
func (r *Reader) Lag() (records int64, bytes int64) {
	r.mu.Lock()
	c := r.committed
	r.mu.Unlock()
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	records = int64(s.tailSeq - c.seq)
	for _, seg := range s.segs {
		switch {
		case seg.id == c.pos.Segment:
			bytes += max(seg.size-c.pos.Offset, 0)
		case seg.id > c.pos.Segment:
			bytes += seg.size - segmentHeaderSize
		}
	}
	return max(records, 0), bytes
}

// Close releases the reader; its cursor stays registered (segments it has
// not passed are kept), and Reader(name) may open it again. Next on a closed
// Reader returns ErrClosed.
func (r *Reader) Close() error {
	s := r.s
	s.mu.Lock()
	if s.readers[r.name] == r {
		delete(s.readers, r.name)
	}
	s.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = true
	r.closeFileLocked()
	return nil
}
