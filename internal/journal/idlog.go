package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IDLog keeps the ids the journal stored, so that the dedup window
// survives a restart even after the spool has deleted the delivered
// segments that held them.
//
// Layout: data_dir/dedup/ids-<seq>.log, each a run of records
//
//	varint  received_at, Unix nanoseconds
//	uvarint length of the id
//	bytes   the id
//
// appended after every successful journal append. A file is closed once it
// holds perFile ids, and only the two newest files are kept, so the log
// holds at least the last perFile ids (the relay passes half of
// dedup_max_entries) and never more than twice that. It is written without
// fsync: a torn or lost tail after a power cut means at most that a
// duplicate is accepted again, which at-least-once allows; a torn record is
// skipped when the log is read.
type IDLog struct {
	dir     string
	perFile int

	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	seq   uint64
	count int
	buf   []byte
}

// OpenIDLog opens (creating) dir and starts a new file after the newest.
func OpenIDLog(dir string, perFile int) (*IDLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dedup id log: %w", err)
	}
	l := &IDLog{dir: dir, perFile: max(perFile, 1)}
	seqs, err := l.files()
	if err != nil {
		return nil, err
	}
	if len(seqs) > 0 {
		l.seq = seqs[len(seqs)-1]
	}
	return l, l.rotate()
}

func (l *IDLog) path(seq uint64) string {
	return filepath.Join(l.dir, fmt.Sprintf("ids-%020d.log", seq))
}

// files lists the log's file sequence numbers, oldest first.
func (l *IDLog) files() ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(l.dir, "ids-*.log"))
	if err != nil {
		return nil, fmt.Errorf("dedup id log: %w", err)
	}
	var seqs []uint64
	for _, n := range names {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "ids-"), ".log")
		if seq, err := strconv.ParseUint(s, 10, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// rotate closes the current file, starts the next and deletes all but the
// two newest. Called with mu held (or before the log is shared).
func (l *IDLog) rotate() error {
	if l.f != nil {
		if err := l.w.Flush(); err != nil {
			return fmt.Errorf("dedup id log: %w", err)
		}
		l.f.Close()
	}
	l.seq++
	f, err := os.OpenFile(l.path(l.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("dedup id log: %w", err)
	}
	l.f, l.w, l.count = f, bufio.NewWriterSize(f, 64<<10), 0
	seqs, err := l.files()
	if err != nil {
		return err
	}
	for len(seqs) > 2 {
		_ = os.Remove(l.path(seqs[0]))
		seqs = seqs[1:]
	}
	return nil
}

// Record appends ids with when they were received.
func (l *IDLog) Record(ids []string, receivedAt []time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := l.buf[:0]
	for i, id := range ids {
		buf = binary.AppendVarint(buf, receivedAt[i].UnixNano())
		buf = binary.AppendUvarint(buf, uint64(len(id)))
		buf = append(buf, id...)
	}
	l.buf = buf
	if _, err := l.w.Write(buf); err != nil {
		return fmt.Errorf("dedup id log: %w", err)
	}
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("dedup id log: %w", err)
	}
	l.count += len(ids)
	if l.count >= l.perFile {
		return l.rotate()
	}
	return nil
}

// Each calls fn for every id in the log, oldest file first. A torn record
// ends its file.
func (l *IDLog) Each(fn func(id string, receivedAt time.Time)) error {
	seqs, err := l.files()
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if err := eachInFile(l.path(seq), fn); err != nil {
			return err
		}
	}
	return nil
}

func eachInFile(path string, fn func(string, time.Time)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dedup id log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var id []byte
	for {
		nanos, err := binary.ReadVarint(r)
		if err != nil {
			return nil // end of file, or a torn record
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1<<16 {
			return nil
		}
		id = append(id[:0], make([]byte, n)...)
		if _, err := io.ReadFull(r, id); err != nil {
			return nil
		}
		fn(string(id), time.Unix(0, nanos))
	}
}

// Close flushes and closes the current file.
func (l *IDLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
