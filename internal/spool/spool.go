package spool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBytes     = 1 << 30
	DefaultSegmentBytes = 64 << 20
	minSegmentBytes     = 1024
	maxRoundRequests    = 1024
)

// ErrFull is returned (wrapped) by Append when the records do not fit under
// MaxBytes. Nothing of the batch was written; the caller should push back
// (503/429) and let the sender retry.
var ErrFull = errors.New("spool is full: outputs are behind; retry later, or raise spool_max_bytes or fix the failing output")

// ErrClosed is returned once the spool (or a removed reader) is closed.
var ErrClosed = errors.New("spool is closed")

// Options configures a Spool.
type Options struct {
	// Dir is the spool directory (data_dir/spool); created when missing.
	Dir string
	// MaxBytes bounds the bytes on disk (segments not yet deleted, headers
	// included, and the spare segment file); Append returns ErrFull beyond
	// it. Default 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size at which the writer starts a new segment
	// file. Default 64 MiB; capped at MaxBytes/4 so that deleting passed
	// segments always frees room.
	SegmentBytes int64
	// NoSync skips every fsync. Tests and benchmarks only: without it
	// nothing survives a power loss.
	NoSync bool
	// Logger takes recovery and corruption reports. Default slog.Default().
	Logger *slog.Logger
}

// Position is where a record starts: its segment and byte offset in it.
// Positions order by Segment, then Offset (see Less).
type Position struct {
	Segment uint64
	Offset  int64
}

// Less reports whether p comes before q in the spool.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// Compare returns -1, 0 or +1 as p is before, at or after q.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.Segment, q.Segment); c != 0 {
		return c
	}
	return cmp.Compare(p.Offset, q.Offset)
}

// Record is one spooled record as a Reader returns it. Data belongs to the
// caller: the spool never reuses or overwrites it (each Next call reads into
// a fresh buffer that its records share).
type Record struct {
	Pos  Position
	Data []byte
}

// segment is what the spool knows about one segment file. Its fields change
// only under Spool.mu.
type segment struct {
	id       uint64
	firstSeq uint64
	// size is the durable, visible length of the file (header included).
	size int64
	// sealed is set once the writer moved on to a later segment and size is
	// final.
	sealed bool
}

// Spool is a durable, bounded, append-only queue of records on disk, read
// independently by one Reader per output. See doc.go for the layout.
type Spool struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	mu        sync.Mutex
	segs      []*segment // oldest first; the last one is being written
	diskBytes int64      // every file's size: segments, stale tail and spare included
	spare     int64      // size of the spare segment file, 0 when there is none
	tailSeq   uint64     // sequence number the next published record gets
	notify    chan struct{}
	cursors   map[string]cursor // committed cursor of every registered reader
	readers   map[string]*Reader
	closed    bool
	closedCh  chan struct{}
	broken    error

	closeMu sync.RWMutex
	closing bool
	reqs    chan *appendReq
	stop    chan struct{}
	done    chan struct{}

	w writer
	// rounds counts write rounds that made records durable: with group
	// commit it grows slower than the number of Appends.
	rounds atomic.Int64
}

// writer is the state owned by the writer goroutine.
type writer struct {
	f          *os.File
	seg        *segment
	off        int64 // bytes written to f, flushed or in buf
	seq        uint64
	durableOff int64 // bytes of f known to be fsync'd
	durableSeq uint64
	// phys is f's size on disk: more than off while a recycled file's old
	// records lie past the new ones.
	phys   int64
	buf    []byte
	sealed []sealed // segments closed this round, published at its end
	grown  int64    // bytes the files grew (or shrank) this round, published at its end
}

type sealed struct {
	seg  *segment
	size int64
}

type appendReq struct {
	records [][]byte
	err     error
	done    chan struct{}
}

// Open opens (creating if needed) the spool in opts.Dir and recovers it: it
// verifies the newest segment record by record, truncates a torn tail
// (logging what it dropped), and loads every reader's cursor.
func Open(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("open spool: no directory given; set data_dir")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	opts.SegmentBytes = min(opts.SegmentBytes, opts.MaxBytes/4)
	opts.SegmentBytes = max(opts.SegmentBytes, minSegmentBytes)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open spool: create %s: %w; check data_dir and its permissions", opts.Dir, err)
	}
	lock, err := lockDir(filepath.Join(opts.Dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", opts.Dir, err)
	}
	s := &Spool{
		opts:     opts,
		log:      opts.Logger,
		lock:     lock,
		notify:   make(chan struct{}),
		cursors:  map[string]cursor{},
		readers:  map[string]*Reader{},
		closedCh: make(chan struct{}),
		reqs:     make(chan *appendReq, maxRoundRequests),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := s.recover(); err != nil {
		s.w.close()
		unlockDir(lock)
		return nil, fmt.Errorf("open spool %s: %w", opts.Dir, err)
	}
	s.reclaim()
	go s.run()
	return s, nil
}

// recover rebuilds the in-memory state from the directory.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return fmt.Errorf("list directory: %w", err)
	}
	var ids []uint64
	cursorFiles := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			_ = os.Remove(filepath.Join(s.opts.Dir, name))
			continue
		}
		if id, ok := parseSegmentName(name); ok {
			ids = append(ids, id)
		}
		if name == spareName {
			s.adoptSpare()
		}
		if reader, ok := parseCursorName(name); ok {
			cursorFiles[reader] = name
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := s.loadSegment(id); err != nil {
			return err
		}
	}
	if err := s.loadCursors(cursorFiles); err != nil {
		return err
	}
	if len(s.segs) == 0 {
		return s.startFresh()
	}
	if err := s.repairTail(s.lastSeg()); err != nil {
		return err
	}
	return s.openActive()
}

// loadSegment reads a segment's header and size.
func (s *Spool) loadSegment(id uint64) error {
	path := filepath.Join(s.opts.Dir, segmentName(id))
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	var hdr [segmentHeaderSize]byte
	_, err = io.ReadFull(f, hdr[:])
	firstSeq, perr := parseSegmentHeader(hdr[:])
	if err != nil || perr != nil {
		s.quarantine(path, cmp.Or(err, perr))
		return nil
	}
	if prev := s.lastSeg(); prev != nil && firstSeq < prev.firstSeq {
		s.quarantine(path, fmt.Errorf("first sequence %d is before the previous segment's %d", firstSeq, prev.firstSeq))
		return nil
	}
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	seg := &segment{id: id, firstSeq: firstSeq, size: info.Size(), sealed: true}
	s.segs = append(s.segs, seg)
	s.diskBytes += seg.size
	return nil
}

// repairTail verifies the newest segment record by record, truncates a torn
// tail and makes it the segment being written.
func (s *Spool) repairTail(seg *segment) error {
	path := filepath.Join(s.opts.Dir, segmentName(seg.id))
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	valid, count, err := scanValid(f, seg.firstSeq, seg.size)
	if err != nil {
		return fmt.Errorf("verify segment %s: %w", path, err)
	}
	if valid < seg.size {
		if err := s.truncate(path, valid); err != nil {
			return err
		}
		s.log.Warn("spool: truncated a torn tail left by a crash; records after it were never acknowledged",
			"segment", path, "offset", valid, "dropped_bytes", seg.size-valid, "kept_records", count)
		s.diskBytes -= seg.size - valid
		seg.size = valid
	}
	seg.sealed = false
	s.tailSeq = seg.firstSeq + count
	return nil
}

// scanValid walks the records of f from the segment header on and returns
// the length of the valid prefix and how many records it holds.
func scanValid(f *os.File, firstSeq uint64, size int64) (int64, uint64, error) {
	r := io.NewSectionReader(f, 0, size)
	off := int64(segmentHeaderSize)
	var count uint64
	var hdr [recordHeaderSize]byte
	var payload []byte
	for off+recordHeaderSize <= size {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return 0, 0, err
		}
		h := parseRecordHeader(hdr[:])
		end := off + recordHeaderSize + int64(h.length)
		if h.length > MaxRecordBytes || end > size || h.seq != firstSeq+count {
			break
		}
		payload = slices.Grow(payload[:0], int(h.length))[:h.length]
		if _, err := r.ReadAt(payload, off+recordHeaderSize); err != nil {
			return 0, 0, err
		}
		if !h.valid(hdr[:], payload) {
			break
		}
		off = end
		count++
	}
	return off, count, nil
}

func (s *Spool) truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate torn tail of %s: %w", path, err)
	}
	return s.sync(f)
}

// quarantine renames a segment whose header is unreadable out of the way,
// so that the spool opens and the file stays for inspection.
func (s *Spool) quarantine(path string, why error) {
	s.log.Error("spool: segment header unreadable; moved aside, its records are not delivered",
		"segment", path, "moved_to", path+corruptSuffix, "error", why)
	if err := os.Rename(path, path+corruptSuffix); err != nil {
		s.log.Error("spool: could not move the unreadable segment aside", "segment", path, "error", err)
	}
}

func (s *Spool) lastSeg() *segment {
	if len(s.segs) == 0 {
		return nil
	}
	return s.segs[len(s.segs)-1]
}

// loadCursors reads every cursor file and clamps it to the retained range.
func (s *Spool) loadCursors(files map[string]string) error {
	for reader, file := range files {
		path := filepath.Join(s.opts.Dir, file)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read cursor %s: %w", path, err)
		}
		c, err := parseCursor(b)
		if err != nil {
			s.log.Error("spool: cursor file unreadable; the reader starts over at the oldest record (expect duplicates)",
				"reader", reader, "file", path, "error", err)
			c = cursor{}
		}
		s.cursors[reader] = c
	}
	return nil
}

// startFresh creates the first segment of an empty spool. Its id and first
// sequence number follow any cursor left behind, so old cursors never point
// into new data.
func (s *Spool) startFresh() error {
	var id, seq uint64 = 1, 0
	for _, c := range s.cursors {
		id = max(id, c.pos.Segment+1)
		seq = max(seq, c.seq)
	}
	seg, f, phys, err := s.createSegment(id, seq)
	if err != nil {
		return err
	}
	s.segs = []*segment{seg}
	s.tailSeq = seq
	s.w = writer{f: f, seg: seg, off: seg.size, seq: seq, durableOff: seg.size, durableSeq: seq, phys: phys}
	s.clampCursors()
	return nil
}

// openActive opens the newest segment for appending.
func (s *Spool) openActive() error {
	seg := s.lastSeg()
	f, err := os.OpenFile(filepath.Join(s.opts.Dir, segmentName(seg.id)), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open active segment: %w", err)
	}
	if _, err := f.Seek(seg.size, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("seek active segment: %w", err)
	}
	s.w = writer{f: f, seg: seg, off: seg.size, seq: s.tailSeq, durableOff: seg.size, durableSeq: s.tailSeq, phys: seg.size}
	s.clampCursors()
	return nil
}

// clampCursors moves every cursor into the retained range [oldest, tail].
func (s *Spool) clampCursors() {
	oldest, tail := s.segs[0], s.lastSeg()
	for reader, c := range s.cursors {
		fixed := c
		switch {
		case c.pos.Segment < oldest.id || c.pos == Position{}:
			fixed = cursor{pos: Position{oldest.id, segmentHeaderSize}, seq: oldest.firstSeq}
		case c.pos.Segment > tail.id || c.pos.Segment == tail.id && c.pos.Offset > tail.size:
			fixed = cursor{pos: Position{tail.id, tail.size}, seq: s.tailSeq}
		default:
			seg := s.findSeg(c.pos.Segment)
			switch {
			case seg == nil || seg.sealed && c.pos.Offset > seg.size:
				next := s.segAfter(c.pos.Segment)
				fixed = cursor{pos: Position{next.id, segmentHeaderSize}, seq: next.firstSeq}
			case c.pos.Offset < segmentHeaderSize:
				fixed = cursor{pos: Position{seg.id, segmentHeaderSize}, seq: seg.firstSeq}
			}
		}
		if fixed != c {
			if c.pos != (Position{}) && fixed.seq != c.seq { // the same seq: at the end of a reclaimed segment
				s.log.Warn("spool: reader cursor outside the retained records; moved", "reader", reader,
					"from", c.pos, "to", fixed.pos)
			}
			s.cursors[reader] = fixed
		}
	}
}

func (s *Spool) findSeg(id uint64) *segment {
	i, ok := slices.BinarySearchFunc(s.segs, id, func(seg *segment, id uint64) int { return cmp.Compare(seg.id, id) })
	if !ok {
		return nil
	}
	return s.segs[i]
}

// segAfter is the first segment with an id above id, or nil.
func (s *Spool) segAfter(id uint64) *segment {
	i, ok := slices.BinarySearchFunc(s.segs, id, func(seg *segment, id uint64) int { return cmp.Compare(seg.id, id) })
	if ok {
		i++
	}
	if i >= len(s.segs) {
		return nil
	}
	return s.segs[i]
}

// createSegment writes a new segment file with its header: written to a
// temporary name, synced, renamed into place and the directory synced, so a
// segment file never exists without a complete header. It recycles the
// spare file when there is one: the header is written over its start and
// its old records stay past the new ones until overwritten (see doc.go,
// "Recycling"). phys is the file's size; createSegment accounts for it in
// diskBytes.
func (s *Spool) createSegment(id, firstSeq uint64) (seg *segment, f *os.File, phys int64, err error) {
	path := filepath.Join(s.opts.Dir, segmentName(id))
	tmp := path + tmpSuffix
	phys = s.takeSpare(tmp)
	flags := os.O_RDWR | os.O_CREATE
	if phys == 0 {
		flags |= os.O_TRUNC
	}
	name := tmp // where the file is
	fail := func(err error) (*segment, *os.File, int64, error) {
		if f != nil {
			f.Close()
		}
		_ = os.Remove(name)
		s.mu.Lock()
		s.diskBytes -= phys // a recycled file is gone with it
		s.mu.Unlock()
		return nil, nil, 0, fmt.Errorf("create segment %s: %w", path, err)
	}
	if f, err = os.OpenFile(tmp, flags, 0o640); err != nil {
		return fail(err)
	}
	if _, err := f.Write(appendSegmentHeader(nil, firstSeq)); err != nil {
		return fail(err)
	}
	if err := s.sync(f); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	name = path
	if err := s.syncDir(); err != nil {
		return fail(err)
	}
	if phys < segmentHeaderSize {
		s.mu.Lock()
		s.diskBytes += segmentHeaderSize - phys
		s.mu.Unlock()
		phys = segmentHeaderSize
	}
	return &segment{id: id, firstSeq: firstSeq, size: segmentHeaderSize}, f, phys, nil
}

// takeSpare renames the spare file to tmp and returns its size, or 0 when
// there is none. Its bytes stay counted in diskBytes: they are tmp's now.
// Both renames of the spare happen under s.mu, so reclaim never makes a
// new spare while this one is being taken.
func (s *Spool) takeSpare(tmp string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	size := s.spare
	if size == 0 {
		return 0
	}
	s.spare = 0
	if err := os.Rename(filepath.Join(s.opts.Dir, spareName), tmp); err != nil {
		s.log.Warn("spool: could not reuse the spare segment file; deleting it", "error", err)
		_ = os.Remove(filepath.Join(s.opts.Dir, spareName))
		s.diskBytes -= size
		return 0
	}
	return size
}

// adoptSpare counts a spare file left by an earlier run (Open).
func (s *Spool) adoptSpare() {
	info, err := os.Stat(filepath.Join(s.opts.Dir, spareName))
	if err != nil {
		return
	}
	s.spare = info.Size()
	s.diskBytes += s.spare
}

// dropSpare deletes the spare file to make room (the caller holds s.mu).
func (s *Spool) dropSpare() {
	if s.spare == 0 {
		return
	}
	if err := os.Remove(filepath.Join(s.opts.Dir, spareName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("spool: could not delete the spare segment file; remove it by hand", "error", err)
		return
	}
	s.diskBytes -= s.spare
	s.spare = 0
}

func (s *Spool) sync(f *os.File) error {
	if s.opts.NoSync {
		return nil
	}
	return f.Sync()
}

func (s *Spool) syncDir() error {
	if s.opts.NoSync {
		return nil
	}
	d, err := os.Open(s.opts.Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append writes records as one all-or-nothing batch. When it returns nil
// every record is fsync'd. Concurrent Appends share one write and one fsync
// (group commit). It returns a wrapped ErrFull when the batch does not fit
// under MaxBytes (nothing written), ErrClosed after Close, and ctx's error
// if ctx ends before the batch was handed to the writer; once handed over,
// Append waits for the write, which a cancelled ctx does not stop.
func (s *Spool) Append(ctx context.Context, records [][]byte) error {
	if len(records) == 0 {
		return nil
	}
	for i, rec := range records {
		if len(rec) > MaxRecordBytes {
			return fmt.Errorf("spool append: record %d is %d bytes, above the %d-byte limit", i, len(rec), MaxRecordBytes)
		}
	}
	req := &appendReq{records: records, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closing {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	<-req.done
	return req.err
}

// run is the writer goroutine: it takes every waiting request, writes them
// in one go, fsyncs once and answers them all.
func (s *Spool) run() {
	defer close(s.done)
	for {
		select {
		case req := <-s.reqs:
			s.round(s.drain([]*appendReq{req}, maxRoundRequests))
		case <-s.stop:
			for {
				batch := s.drain(nil, maxRoundRequests)
				if len(batch) == 0 {
					return
				}
				s.round(batch)
			}
		}
	}
}

func (s *Spool) drain(batch []*appendReq, limit int) []*appendReq {
	for len(batch) < limit {
		select {
		case req := <-s.reqs:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// round writes one group of requests and answers each.
func (s *Spool) round(batch []*appendReq) {
	defer func() {
		for _, req := range batch {
			close(req.done)
		}
	}()
	s.mu.Lock()
	broken, used := s.broken, s.diskBytes
	s.mu.Unlock()
	if broken != nil {
		for _, req := range batch {
			req.err = fmt.Errorf("spool append: an earlier write failed: %w; restart auditrelay to recover the spool", broken)
		}
		return
	}
	var written []*appendReq
	var err error
	for _, req := range batch {
		need := s.cost(req.records)
		if used+need > s.opts.MaxBytes {
			used -= s.freeSpare()
		}
		if used+need > s.opts.MaxBytes {
			req.err = fmt.Errorf("spool append of %d records (%d bytes on disk, %d of %d used): %w",
				len(req.records), need, used, s.opts.MaxBytes, ErrFull)
			continue
		}
		if err = s.write(req.records); err != nil {
			break
		}
		used += need
		written = append(written, req)
	}
	if err == nil {
		err = s.flush(true)
	}
	if err == nil && len(written) > 0 {
		s.rounds.Add(1)
	}
	if err != nil {
		s.undo(err)
		for _, req := range batch {
			if req.err == nil {
				req.err = fmt.Errorf("spool append: %w; check free space on the data_dir volume", err)
			}
		}
	}
	s.publish()
}

// cost is how many bytes records add on disk when written now, segment
// headers of any rollover included. It follows write's rollover rule.
func (s *Spool) cost(records [][]byte) int64 {
	off, total := s.w.off, int64(0)
	for _, rec := range records {
		size := int64(recordHeaderSize + len(rec))
		if off > segmentHeaderSize && off+size > s.opts.SegmentBytes {
			off = segmentHeaderSize
			total += segmentHeaderSize
		}
		off += size
		total += size
	}
	return total
}

// write frames records into the writer's buffer, rolling over to a new
// segment when the current one would pass SegmentBytes (a segment always
// takes at least one record, however large).
func (s *Spool) write(records [][]byte) error {
	w := &s.w
	for _, rec := range records {
		size := int64(recordHeaderSize + len(rec))
		if w.off > segmentHeaderSize && w.off+size > s.opts.SegmentBytes {
			if err := s.rollover(); err != nil {
				return err
			}
		}
		w.buf = appendRecord(w.buf, w.seq, rec)
		w.off += size
		w.seq++
		if len(w.buf) >= 1<<20 {
			if err := s.flush(false); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the buffer to the active segment, and with sync makes it
// durable.
func (s *Spool) flush(sync bool) error {
	w := &s.w
	if len(w.buf) > 0 {
		_, err := w.f.Write(w.buf)
		w.buf = w.buf[:0]
		if err != nil {
			return fmt.Errorf("write segment %d: %w", w.seg.id, err)
		}
	}
	if !sync || w.durableOff == w.off {
		return nil
	}
	if err := s.sync(w.f); err != nil {
		return fmt.Errorf("fsync segment %d: %w", w.seg.id, err)
	}
	if w.off > w.phys {
		w.grown += w.off - w.phys
		w.phys = w.off
	}
	w.durableOff, w.durableSeq = w.off, w.seq
	return nil
}

// rollover makes the active segment durable and starts the next one. On
// failure the writer stays on the old segment.
func (s *Spool) rollover() error {
	w := &s.w
	if err := s.flush(true); err != nil {
		return err
	}
	if err := s.trimStale(); err != nil {
		return err
	}
	seg, f, phys, err := s.createSegment(w.seg.id+1, w.seq)
	if err != nil {
		return err
	}
	w.f.Close()
	w.sealed = append(w.sealed, sealed{seg: w.seg, size: w.off})
	s.mu.Lock()
	s.segs = append(s.segs, seg)
	s.mu.Unlock()
	w.f, w.seg, w.off, w.durableOff, w.phys = f, seg, seg.size, seg.size, phys
	return nil
}

// trimStale cuts a recycled file's old records off the end of the active
// segment and makes that durable, so that a sealed segment ends at its
// last record, as Open and the readers expect of a segment's size.
func (s *Spool) trimStale() error {
	w := &s.w
	if w.phys <= w.off {
		return nil
	}
	if err := w.f.Truncate(w.off); err != nil {
		return fmt.Errorf("trim segment %d: %w", w.seg.id, err)
	}
	if err := s.sync(w.f); err != nil {
		return fmt.Errorf("fsync segment %d: %w", w.seg.id, err)
	}
	w.grown -= w.phys - w.off
	w.phys = w.off
	return nil
}

// freeSpare deletes the spare file and returns the bytes it freed.
func (s *Spool) freeSpare() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.diskBytes
	s.dropSpare()
	return before - s.diskBytes
}

// undo drops what a failed round wrote past the last fsync, so the active
// segment ends on a record boundary again; if even that fails the spool
// refuses further appends until a restart recovers it.
func (s *Spool) undo(cause error) {
	w := &s.w
	w.buf = w.buf[:0]
	err := w.f.Truncate(w.durableOff)
	if err == nil {
		_, err = w.f.Seek(w.durableOff, io.SeekStart)
	}
	w.off, w.seq = w.durableOff, w.durableSeq
	if w.phys > w.durableOff { // a recycled file's old records went with the truncation
		s.mu.Lock()
		s.diskBytes -= w.phys - w.durableOff
		s.mu.Unlock()
		w.phys = w.durableOff
	}
	if err != nil {
		s.mu.Lock()
		s.broken = errors.Join(cause, err)
		s.mu.Unlock()
		s.log.Error("spool: could not undo a failed write; appends refused until restart", "error", err, "cause", cause)
	}
}

// publish makes the durable records of the round visible to readers.
func (s *Spool) publish() {
	w := &s.w
	s.mu.Lock()
	for _, sl := range w.sealed {
		sl.seg.size, sl.seg.sealed = sl.size, true
	}
	w.seg.size = w.durableOff
	s.tailSeq = w.durableSeq
	s.diskBytes += w.grown
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	rolled := len(w.sealed) > 0
	w.sealed, w.grown = w.sealed[:0], 0
	if rolled {
		s.reclaim()
	}
}

// passed reports whether c is past every record of seg.
func (c cursor) passed(seg *segment) bool {
	return c.pos.Segment > seg.id || c.pos.Segment == seg.id && seg.sealed && c.pos.Offset >= seg.size
}

// reclaim deletes the oldest segments every registered reader has passed.
// With no registered reader nothing is deleted. The segment being written is
// never deleted.
func (s *Spool) reclaim() {
	s.mu.Lock()
	var drop []*segment
	for len(s.segs) > 1 && len(s.cursors) > 0 {
		seg := s.segs[0]
		if !s.allPassed(seg) {
			break
		}
		s.segs = s.segs[1:]
		if s.keepAsSpare(seg) {
			continue
		}
		drop = append(drop, seg)
		s.diskBytes -= seg.size
	}
	s.mu.Unlock()
	for _, seg := range drop {
		path := filepath.Join(s.opts.Dir, segmentName(seg.id))
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("spool: could not delete a delivered segment; remove it by hand", "segment", path, "error", err)
		}
	}
}

// keepAsSpare renames a delivered segment to the spare file, for the
// writer's next segment to overwrite, when there is no spare yet and the
// segment is large enough to be worth it (the caller holds s.mu). Its
// bytes stay counted in diskBytes.
func (s *Spool) keepAsSpare(seg *segment) bool {
	if s.spare != 0 || seg.size < s.opts.SegmentBytes/2 {
		return false
	}
	path := filepath.Join(s.opts.Dir, segmentName(seg.id))
	if err := os.Rename(path, filepath.Join(s.opts.Dir, spareName)); err != nil {
		return false // deleted with the others, which logs a failure
	}
	s.spare = seg.size
	return true
}

func (s *Spool) allPassed(seg *segment) bool {
	for _, c := range s.cursors {
		if !c.passed(seg) {
			return false
		}
	}
	return true
}

// Rounds is how many group-commit rounds (one write and one fsync each,
// plus one per segment rollover) made appended records durable so far.
func (s *Spool) Rounds() int64 { return s.rounds.Load() }

// Size is the bytes on disk of the retained segments.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.diskBytes
}

// Depth is the backlog in records: those not yet committed by every
// registered reader (with no reader registered, every retained record).
// Delivered records may stay on disk until their segment is deleted; Size
// counts them, Depth does not.
func (s *Spool) Depth() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.segs[0].firstSeq
	if len(s.cursors) > 0 {
		from = s.tailSeq
		for _, c := range s.cursors {
			from = min(from, c.seq)
		}
	}
	return int64(s.tailSeq - min(from, s.tailSeq))
}

// Close stops the writer after it wrote every batch already handed to it,
// wakes blocked readers with ErrClosed and releases the directory. Appends
// after Close return ErrClosed.
func (s *Spool) Close() error {
	s.closeMu.Lock()
	if s.closing {
		s.closeMu.Unlock()
		return nil
	}
	s.closing = true
	s.closeMu.Unlock()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	s.closed = true
	close(s.closedCh)
	readers := make([]*Reader, 0, len(s.readers))
	for _, r := range s.readers {
		readers = append(readers, r)
	}
	s.mu.Unlock()
	for _, r := range readers {
		r.closeFile()
	}
	err := s.closeWriter()
	unlockDir(s.lock)
	if err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

// closeWriter trims a recycled file's old records off the active segment,
// so that the next Open finds it ending at its last record, and closes it.
func (s *Spool) closeWriter() error {
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if s.w.f == nil || broken != nil {
		return s.w.close()
	}
	return errors.Join(s.trimStale(), s.w.close())
}

func (w *writer) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
