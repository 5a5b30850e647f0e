package http

import (
	"github.com/auditrelay/auditrelay"
)

// framingLines is CEF's framing: one line per event.
const framingLines = "lines"

// Encoder frames events for a request body. It holds no buffers.
type Encoder struct {
	Format auditrelay.Format
	// Framing is FramingArray, FramingNDJSON or "lines" (CEF).
	Framing string
}

// Items appends every event followed by a newline to dst and returns the
// buffer and, for each event i, the offset where its item (newline
// included) ends.
func (enc Encoder) Items(dst []byte, events []auditrelay.Event) ([]byte, []int) {
	ends := make([]int, len(events))
	for i := range events {
		dst = enc.Format.Append(dst, &events[i])
		dst = append(dst, '\n')
		ends[i] = len(dst)
	}
	return dst, ends
}

// Frame returns the request body for items [a, b): the items themselves
// for ndjson and CEF lines, or a JSON array [e1,e2,…] for array framing.
func (enc Encoder) Frame(items []byte, ends []int, a, b int) []byte {
	from := 0
	if a > 0 {
		from = ends[a-1]
	}
	if enc.Framing != FramingArray {
		return items[from:ends[b-1]]
	}
	out := make([]byte, 0, ends[b-1]-from+2)
	out = append(out, '[')
	for i := a; i < b; i++ {
		if i > a {
			out = append(out, ',')
		}
		out = append(out, items[from:ends[i]-1]...) // without the newline
		from = ends[i]
	}
	return append(out, ']')
}

// Split groups items into requests whose framed bodies stay within limit
// bytes and returns the index one past each request's last item. A single
// item larger than the limit travels alone; limit <= 0 means one request.
// Each item's newline stands for the array's comma or closing bracket, so
// an array body is the items' size plus one.
func (enc Encoder) Split(ends []int, limit int) []int {
	if len(ends) == 0 {
		return nil
	}
	if limit <= 0 {
		return []int{len(ends)}
	}
	extra := 0
	if enc.Framing == FramingArray {
		extra = 1 // the opening bracket
	}
	var cuts []int
	first, from := 0, 0
	for i, end := range ends {
		if i > first && end-from+extra > limit {
			cuts = append(cuts, i)
			first, from = i, ends[i-1]
		}
	}
	return append(cuts, len(ends))
}
