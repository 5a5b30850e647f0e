//go:build !unix

package dedup

// allocate makes the window's arrays on the heap.
func allocate(w *Window, n, slots int) { allocateHeap(w, n, slots) }
