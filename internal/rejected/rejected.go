// Package rejected keeps what an authenticated sender sent but auditrelay
// could not use — a malformed body, a bad line of a Konnect batch — so it can
// be fixed and replayed with `auditrelay replay`. Nothing is thrown away
// silently: the store is bounded (rejected_max_bytes) and drops its oldest
// entries first, logging each drop.
//
// Layout under data_dir/rejected/:
//
//	<unix-nanos>-<input>.body   the body or line exactly as it arrived
//	<unix-nanos>-<input>.json   {"input","received_at","reason","line"}
//
// Replay a fixed body with: auditrelay replay -c CONFIG --input NAME FILE.body
package rejected

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Store is the bounded directory of rejected bodies.
type Store struct {
	dir      string
	maxBytes int64
	logger   *slog.Logger
	now      func() time.Time

	mu    sync.Mutex
	files []entry // oldest first
	size  int64
	last  int64 // last name stamp, to keep names unique and ordered
}

type entry struct {
	stem string
	size int64
}

// Open opens (creating) dir and measures what it already holds.
func Open(dir string, maxBytes int64, logger *slog.Logger, now func() time.Time) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("rejected store: %w", err)
	}
	s := &Store{dir: dir, maxBytes: maxBytes, logger: logger, now: now}
	names, err := filepath.Glob(filepath.Join(dir, "*.body"))
	if err != nil {
		return nil, fmt.Errorf("rejected store: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		stem := strings.TrimSuffix(n, ".body")
		s.files = append(s.files, entry{stem: stem, size: fileSize(n) + fileSize(stem+".json")})
		s.size += s.files[len(s.files)-1].size
	}
	return s, nil
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// meta is the .json file beside each body.
type meta struct {
	Input      string    `json:"input"`
	ReceivedAt time.Time `json:"received_at"`
	Reason     string    `json:"reason"`
	Line       int       `json:"line,omitempty"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Keep stores body with the reason it was rejected; line is the 1-based
// line of a line-batched body, 0 for a whole body.
func (s *Store) Keep(input string, body []byte, reason string, line int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stamp := s.now().UnixNano()
	if stamp <= s.last {
		stamp = s.last + 1
	}
	s.last = stamp
	stem := filepath.Join(s.dir, fmt.Sprintf("%019d-%s", stamp, unsafeName.ReplaceAllString(input, "_")))
	m, err := json.Marshal(meta{Input: input, ReceivedAt: time.Unix(0, stamp).UTC(), Reason: reason, Line: line})
	if err != nil {
		return fmt.Errorf("rejected store: %w", err)
	}
	if err := os.WriteFile(stem+".body", body, 0o600); err != nil {
		return fmt.Errorf("rejected store: keep body: %w", err)
	}
	if err := os.WriteFile(stem+".json", append(m, '\n'), 0o600); err != nil {
		return fmt.Errorf("rejected store: keep reason: %w", err)
	}
	e := entry{stem: stem, size: int64(len(body) + len(m) + 1)}
	s.files = append(s.files, e)
	s.size += e.size
	s.trim()
	return nil
}

// trim drops the oldest entries until the store fits maxBytes, keeping at
// least the newest one.
func (s *Store) trim() {
	for s.size > s.maxBytes && len(s.files) > 1 {
		old := s.files[0]
		s.files = s.files[1:]
		s.size -= old.size
		_ = os.Remove(old.stem + ".body")
		_ = os.Remove(old.stem + ".json")
		s.logger.Warn("rejected store full: dropped the oldest rejected body",
			"file", filepath.Base(old.stem)+".body", "rejected_max_bytes", s.maxBytes)
	}
}

// Size returns the bytes held.
func (s *Store) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Count returns the number of bodies held.
func (s *Store) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// stampOf returns the time stamp in a stored file's name, for tests.
func stampOf(path string) int64 {
	n, _ := strconv.ParseInt(strings.SplitN(filepath.Base(path), "-", 2)[0], 10, 64)
	return n
}
