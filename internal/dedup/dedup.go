// Package dedup holds the window of recently accepted event ids that makes
// ingest accept a duplicate (same id within dedup_window) only once.
//
// The window is an expirable LRU (github.com/hashicorp/golang-lru/v2): at
// most MaxEntries ids, each forgotten TTL after it was added. Bounded
// entries keep memory bounded (about 100 bytes per id plus the id itself);
// when more distinct ids than MaxEntries arrive within the TTL the oldest
// are forgotten early, so a late duplicate may then be accepted again —
// the delivery guarantee is at-least-once, never at-most-once.
//
// # Use from ingest
//
// For a batch: Claim(ids) says which ids are new (first time in the batch
// and not in the window) and remembers them at once; append only those to
// the spool; if the append fails, Release them, so the sender's retry is
// accepted. Two concurrent requests carrying the same new id: one claims
// it, the other counts it as a duplicate.
//
// # Rebuild after restart
//
// The window lives in memory only. At start-up it is rebuilt from the
// records still in the spool, before ingest starts:
//
//	n, err := window.Rebuild(sp.Scan, spool.EventKey, time.Now())
//
// which calls Restore(id, receivedAt, now) for every record. Restore
// skips ids received more than TTL ago and gives the rest a full TTL from
// now (the LRU has one TTL for all entries), so after a restart an id may be
// remembered up to TTL longer than it would have been. Ids whose records
// were already delivered and deleted from the spool are not restored: a
// duplicate of such an event arriving after a restart is accepted again.
package dedup

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// DefaultMaxEntries is the number of ids a window holds when New is given
// zero or less.
const DefaultMaxEntries = 1_000_000

// Window remembers event ids for a time. It is safe for concurrent use.
type Window struct {
	lru *expirable.LRU[string, struct{}]
	ttl time.Duration
	mu  sync.Mutex // makes Claim's check-and-add one step
}

// New returns a window of at most maxEntries ids (DefaultMaxEntries when
// zero or less), each kept for ttl (dedup_window). A ttl of zero or less
// disables deduplication: nothing is ever seen. The LRU's expiry goroutine
// lives as long as the process, so make one Window per process.
func New(maxEntries int, ttl time.Duration) *Window {
	if ttl <= 0 {
		return &Window{}
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Window{lru: expirable.NewLRU[string, struct{}](maxEntries, nil, ttl), ttl: ttl}
}

// Seen reports whether id was added within the window. It does not add it.
func (w *Window) Seen(id string) bool {
	if w.lru == nil || id == "" {
		return false
	}
	_, ok := w.lru.Peek(id)
	return ok
}

// Add remembers ids for the window's TTL (renewing ids already there).
// Empty ids are ignored.
func (w *Window) Add(ids ...string) {
	if w.lru == nil {
		return
	}
	for _, id := range ids {
		if id != "" {
			w.lru.Add(id, struct{}{})
		}
	}
}

// Claim reports, for each id of a batch, whether it is new: not in the
// window and not earlier in the same batch. It remembers the new ids at
// once, under one lock, so a concurrent request carrying the same id sees
// it as a duplicate: a duplicate is accepted once, even when both copies
// arrive together. Release the claimed ids if they could not be stored.
// An empty id is always new (an event without an id cannot be
// deduplicated). fresh is reused when it has room.
func (w *Window) Claim(ids []string, fresh []bool) []bool {
	fresh = append(fresh[:0], make([]bool, len(ids))...)
	if w.lru == nil {
		for i := range fresh {
			fresh[i] = true
		}
		return fresh
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, id := range ids {
		if id == "" {
			fresh[i] = true
			continue
		}
		if _, seen := w.lru.Peek(id); seen {
			continue
		}
		w.lru.Add(id, struct{}{})
		fresh[i] = true
	}
	return fresh
}

// Release forgets the ids Claim claimed (claimed[i] true) after their
// batch could not be stored, so the sender's retry is accepted.
func (w *Window) Release(ids []string, claimed []bool) {
	if w.lru == nil {
		return
	}
	for i, id := range ids {
		if claimed[i] && id != "" {
			w.lru.Remove(id)
		}
	}
}

// Restore adds id, received at receivedAt, while rebuilding the window
// after a restart: an id received more than the TTL before now is skipped
// (its window has passed). It reports whether the id was added.
func (w *Window) Restore(id string, receivedAt, now time.Time) bool {
	if w.lru == nil || id == "" || now.Sub(receivedAt) > w.ttl {
		return false
	}
	w.lru.Add(id, struct{}{})
	return true
}

// Len is the number of ids held (expired ones may linger until the LRU's
// cleanup runs, but Seen never reports them).
func (w *Window) Len() int {
	if w.lru == nil {
		return 0
	}
	return w.lru.Len()
}

// Rebuild restores the window from every record scan yields (spool.Scan),
// reading each record's id and received_at with key (spool.EventKey).
// Records key cannot read are skipped: they are not events, or damaged, and
// dedup is best effort. It returns how many ids were restored; an error
// only comes from scan.
func (w *Window) Rebuild(scan func(fn func([]byte) error) error, key func([]byte) (string, time.Time, error), now time.Time) (int, error) {
	restored := 0
	err := scan(func(record []byte) error {
		id, receivedAt, err := key(record)
		if err == nil && w.Restore(id, receivedAt, now) {
			restored++
		}
		return nil
	})
	if err != nil {
		return restored, fmt.Errorf("rebuild dedup window: %w", err)
	}
	return restored, nil
}
