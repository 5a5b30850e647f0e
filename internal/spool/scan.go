package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Scan calls fn with the payload of every record still in the spool, oldest
// first, up to the records published when Scan started (it is meant for
// rebuilding the dedup window at start-up). data is valid only during the
// call; fn must copy what it keeps. An error from fn stops the scan and is
// returned. A damaged record is logged and the rest of its segment skipped,
// as a Reader does.
func (s *Spool) Scan(fn func(data []byte) error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	segs := make([]segment, len(s.segs))
	for i, seg := range s.segs {
		segs[i] = *seg
	}
	s.mu.Unlock()
	var buf []byte
	for _, seg := range segs {
		var err error
		if buf, err = s.scanSegment(seg, buf, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Spool) scanSegment(seg segment, buf []byte, fn func([]byte) error) ([]byte, error) {
	path := filepath.Join(s.opts.Dir, segmentName(seg.id))
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return buf, nil // deleted meanwhile: every reader had passed it
	}
	if err != nil {
		return buf, fmt.Errorf("scan spool: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, segmentHeaderSize, seg.size-segmentHeaderSize), 1<<20)
	seq := seg.firstSeq
	var hdr [recordHeaderSize]byte
	for off := int64(segmentHeaderSize); off < seg.size; {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			s.logScanDamage(path, off, err)
			return buf, nil
		}
		h := parseRecordHeader(hdr[:])
		if h.length > MaxRecordBytes || h.seq != seq {
			s.logScanDamage(path, off, errors.New("bad record header"))
			return buf, nil
		}
		if cap(buf) < int(h.length) {
			buf = make([]byte, h.length)
		}
		payload := buf[:h.length]
		if _, err := io.ReadFull(br, payload); err != nil || !h.valid(hdr[:], payload) {
			s.logScanDamage(path, off, errors.New("record checksum mismatch"))
			return buf, nil
		}
		if err := fn(payload); err != nil {
			return buf, err
		}
		off += recordHeaderSize + int64(h.length)
		seq++
	}
	return buf, nil
}

func (s *Spool) logScanDamage(path string, off int64, err error) {
	s.log.Error("spool: damaged record found while scanning; skipping the rest of its segment",
		"segment", path, "offset", off, "error", err)
}
