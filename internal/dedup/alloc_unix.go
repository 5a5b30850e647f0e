//go:build unix

package dedup

import (
	"runtime"
	"syscall"
	"unsafe"
)

// allocate returns zeroed, pointer-free arrays for n entries and a
// hash table of slots entries, in one anonymous mapping outside the Go
// heap: the collector neither scans them nor counts them toward its heap
// goal, so a full window of a million ids does not double the heap the
// relay may grow to before a collection. Pages are touched (and count
// toward RSS) only as the window fills. The mapping is released when w is
// collected. When mmap fails the arrays come from the heap.
func allocate(w *Window, n, slots int) {
	keyBytes := n * int(unsafe.Sizeof(key{}))
	expBytes := n * 8
	size := keyBytes + expBytes + slots*int(unsafe.Sizeof(slot(0)))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		allocateHeap(w, n, slots)
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(b))
	w.keys = unsafe.Slice((*key)(base), n)
	w.expiry = unsafe.Slice((*int64)(unsafe.Add(base, keyBytes)), n)
	w.slots = unsafe.Slice((*slot)(unsafe.Add(base, keyBytes+expBytes)), slots)
	runtime.AddCleanup(w, func(b []byte) { _ = syscall.Munmap(b) }, b)
}
