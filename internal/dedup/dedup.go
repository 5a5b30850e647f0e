// Package dedup holds the window of recently accepted event ids that makes
// ingest accept a duplicate (same id within dedup_window) only once.
//
// The window holds at most MaxEntries ids, each forgotten TTL after it was
// added, oldest first. Bounded entries keep memory bounded: about 35 bytes
// per id whatever its length, allocated once (ids are kept as 128-bit keyed
// hashes, see below). When more distinct ids than MaxEntries arrive within
// the TTL the oldest are forgotten early, so a late duplicate may then be
// accepted again — the delivery guarantee is at-least-once, never
// at-most-once.
//
// # Layout
//
// The window is a ring of entries in the order they were added (a 128-bit
// key and an expiry each) and an open-addressing hash table (linear
// probing, backward-shift deletion) of ring indexes. Each slot of the table
// also holds the top 32 bits of its key, the tag, and the slot an entry
// prefers is computed from the tag alone: a probe compares tags and reads
// the ring only on a match, and deletion moves entries without reading the
// ring at all. A full window's table is far larger than the CPU caches, so
// every read of the ring is a cache miss; at the table's load of 3/4 a
// lookup of a new id probes about eight slots, which a tag keeps within one
// or two cache lines. Neither holds a
// pointer, so the garbage collector never scans them: a window of a million
// ids costs the collector nothing, where a map of strings or a linked LRU
// would be scanned at every cycle. On unix they live in one anonymous
// mapping outside the Go heap (alloc_unix.go), so they do not raise the
// heap size the collector lets the rest of the relay grow to either. Keys are hash/maphash of the id under two
// random per-process seeds; two different ids are taken for the same only
// if both 64-bit hashes collide, about one chance in 2^128 per pair — that
// would count a new event as a duplicate, so the key is twice as wide as a
// single hash.
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
// now, so after a restart an id may be remembered up to TTL longer than it
// would have been. Ids whose records were already delivered and deleted
// from the spool are not restored: a duplicate of such an event arriving
// after a restart is accepted again.
package dedup

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxEntries is the number of ids a window holds when New is given
// zero or less.
const DefaultMaxEntries = 1_000_000

// key is the 128-bit hash of an id; the zero key marks a released entry.
type key struct{ a, b uint64 }

// A slot of the hash table holds the key's tag in its upper 32 bits and
// a ring index plus one in its lower 32; 0 is a free slot, so that freshly
// mapped (zeroed) memory is an empty table.
type slot = uint64

func slotOf(k key, e int) slot { return slot(tagOf(k))<<32 | slot(e+1) }

// tagOf is the part of k stored in the table next to its ring index.
func tagOf(k key) uint32 { return uint32(k.a >> 32) }

// entry is the ring index a used slot holds.
func entry(s slot) int { return int(uint32(s)) - 1 }

// Window remembers event ids for a time. It is safe for concurrent use.
type Window struct {
	ttl    time.Duration
	seedA  maphash.Seed
	seedB  maphash.Seed
	now    func() time.Time
	mu     sync.Mutex
	keys   []key   // ring: the entry's key, zero once released
	expiry []int64 // ring: unix nanoseconds after which the entry is gone
	slots  []slot  // hash table: tag and ring index plus one, 0 when free
	head   int     // oldest entry
	count  int     // entries in the ring, released ones included
	live   int     // entries not released
}

// New returns a window of at most maxEntries ids (DefaultMaxEntries when
// zero or less), each kept for ttl (dedup_window). A ttl of zero or less
// disables deduplication: nothing is ever seen.
func New(maxEntries int, ttl time.Duration) *Window {
	if ttl <= 0 {
		return &Window{}
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	maxEntries = min(maxEntries, 1<<30)
	w := &Window{ttl: ttl, seedA: maphash.MakeSeed(), seedB: maphash.MakeSeed(), now: time.Now}
	allocate(w, maxEntries, maxEntries+maxEntries/3+1) // load factor at most 3/4
	return w
}

func allocateHeap(w *Window, n, slots int) {
	w.keys, w.expiry, w.slots = make([]key, n), make([]int64, n), make([]slot, slots)
}

func (w *Window) disabled() bool { return w.keys == nil }

func (w *Window) keyOf(id string) key {
	k := key{maphash.String(w.seedA, id), maphash.String(w.seedB, id)}
	if k == (key{}) {
		k.b = 1 // the zero key means released
	}
	return k
}

// home is the preferred slot of a key with tag t (the table has fewer
// than 2^32 slots).
func (w *Window) home(t uint32) int {
	return int(uint64(t) * uint64(len(w.slots)) >> 32)
}

// find returns the slot holding k, or -1.
func (w *Window) find(k key) int {
	t := tagOf(k)
	for i := w.home(t); ; i = w.next(i) {
		s := w.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == t && w.keys[entry(s)] == k {
			return i
		}
	}
}

func (w *Window) next(i int) int {
	if i++; i == len(w.slots) {
		return 0
	}
	return i
}

// remove frees slot i, moving later entries of its probe run back so that
// every entry stays reachable from its home slot.
func (w *Window) remove(i int) {
	for j := w.next(i); w.slots[j] != 0; j = w.next(j) {
		h := w.home(uint32(w.slots[j] >> 32))
		// Move j to i unless its home lies cyclically in (i, j].
		if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
			w.slots[i] = w.slots[j]
			i = j
		}
	}
	w.slots[i] = 0
}

// expire drops the oldest entries that have expired, at least until the
// ring has room for one more.
func (w *Window) expire(now int64) {
	for w.count > 0 && (w.count == len(w.keys) || w.expiry[w.head] < now || w.keys[w.head] == (key{})) {
		w.dropHead()
	}
}

func (w *Window) dropHead() {
	if k := w.keys[w.head]; k != (key{}) {
		w.remove(w.find(k))
		w.keys[w.head] = key{}
		w.live--
	}
	w.head = (w.head + 1) % len(w.keys)
	w.count--
}

// lookup reports whether k is held and not expired, and the slot holding
// k (expired or not), or -1.
func (w *Window) lookup(k key, now int64) (i int, ok bool) {
	if i = w.find(k); i < 0 {
		return -1, false
	}
	return i, w.expiry[entry(w.slots[i])] >= now
}

// add appends k as the newest entry (renewing it when held).
func (w *Window) add(k key, now int64) {
	i, _ := w.lookup(k, now)
	w.insert(k, now, i)
}

// insert appends k as the newest entry; held is the slot lookup found k
// in (expired or not), or -1.
func (w *Window) insert(k key, now int64, held int) {
	if held >= 0 {
		w.keys[entry(w.slots[held])] = key{}
		w.live--
		w.remove(held)
	}
	w.expire(now)
	e := (w.head + w.count) % len(w.keys)
	w.keys[e], w.expiry[e] = k, now+int64(w.ttl)
	w.count++
	w.live++
	i := w.home(tagOf(k))
	for w.slots[i] != 0 {
		i = w.next(i)
	}
	w.slots[i] = slotOf(k, e)
}

// Seen reports whether id was added within the window. It does not add it.
func (w *Window) Seen(id string) bool {
	if w.disabled() || id == "" {
		return false
	}
	k := w.keyOf(id)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.lookup(k, w.now().UnixNano())
	return ok
}

// Add remembers ids for the window's TTL (renewing ids already there).
// Empty ids are ignored.
func (w *Window) Add(ids ...string) {
	if w.disabled() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now().UnixNano()
	for _, id := range ids {
		if id != "" {
			w.add(w.keyOf(id), now)
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
	if w.disabled() {
		for i := range fresh {
			fresh[i] = true
		}
		return fresh
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now().UnixNano()
	for i, id := range ids {
		if id == "" {
			fresh[i] = true
			continue
		}
		k := w.keyOf(id)
		held, seen := w.lookup(k, now)
		if seen {
			continue
		}
		w.insert(k, now, held)
		fresh[i] = true
	}
	return fresh
}

// Release forgets the ids Claim claimed (claimed[i] true) after their
// batch could not be stored, so the sender's retry is accepted.
func (w *Window) Release(ids []string, claimed []bool) {
	if w.disabled() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, id := range ids {
		if !claimed[i] || id == "" {
			continue
		}
		if i := w.find(w.keyOf(id)); i >= 0 {
			w.keys[entry(w.slots[i])] = key{}
			w.live--
			w.remove(i)
		}
	}
}

// Restore adds id, received at receivedAt, while rebuilding the window
// after a restart: an id received more than the TTL before now is skipped
// (its window has passed). It reports whether the id was added.
func (w *Window) Restore(id string, receivedAt, now time.Time) bool {
	if w.disabled() || id == "" || now.Sub(receivedAt) > w.ttl {
		return false
	}
	w.Add(id)
	return true
}

// Len is the number of ids held (expired ones may linger until an Add or
// Claim drops them, but Seen never reports them).
func (w *Window) Len() int {
	if w.disabled() {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
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
