package pathres

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/auditrelay/auditrelay"
)

// cache remembers resolved paths without a lock: every handler of an
// input resolves through one Resolver, and a lock (with an LRU's list
// update on every hit) made them queue behind each other. It is
// two-way set associative: a path may sit in either slot of its set, a
// new path takes an empty slot or else the one its hash picks, so two
// busy paths that share a set still stay cached together. Entries are
// immutable; a slot is swapped whole.
type cache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[entry] // sets of two adjacent slots
}

type entry struct {
	path string
	res  auditrelay.Resource
}

// newCache holds at most size paths (rounded up to an even count).
func newCache(size int) *cache {
	return &cache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[entry], size+size%2)}
}

// set returns the index of the first slot of path's set and the hash.
func (c *cache) set(path string) (int, uint64) {
	h := maphash.String(c.seed, path)
	sets, _ := bits.Mul64(h, uint64(len(c.slots)/2))
	return int(sets) * 2, h
}

func (c *cache) get(path string) (auditrelay.Resource, bool) {
	i, _ := c.set(path)
	for j := i; j < i+2; j++ {
		if e := c.slots[j].Load(); e != nil && e.path == path {
			return e.res, true
		}
	}
	return auditrelay.Resource{}, false
}

func (c *cache) add(path string, res auditrelay.Resource) {
	i, h := c.set(path)
	e := &entry{path: path, res: res}
	if c.slots[i].CompareAndSwap(nil, e) || c.slots[i+1].CompareAndSwap(nil, e) {
		return
	}
	c.slots[i+int(h&1)].Store(e)
}

// len counts the paths held.
func (c *cache) len() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}
