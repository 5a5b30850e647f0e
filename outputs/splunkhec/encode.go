package splunkhec

import (
	"slices"
	"strconv"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
)

// Envelope is the metadata every HEC event object carries; empty fields
// are left out so the token's defaults apply.
type Envelope struct {
	Host       string
	Source     string
	Sourcetype string
	Index      string
}

// Encoder appends HEC event objects. It holds no buffers and is safe for
// concurrent use.
type Encoder struct {
	// prefix is `,"host":…,"source":…,"sourcetype":…,"index":…,"event":`,
	// built once.
	prefix []byte
	format auditrelay.Format
	// cef embeds the Format's bytes as a JSON string instead of raw JSON.
	cef bool
}

// NewEncoder returns an encoder for env with f; cef says f writes text
// lines (embedded as a JSON string) rather than JSON objects (embedded raw).
func NewEncoder(env Envelope, f auditrelay.Format, cef bool) *Encoder {
	var p []byte
	for _, kv := range [...][2]string{{"host", env.Host}, {"source", env.Source}, {"sourcetype", env.Sourcetype}, {"index", env.Index}} {
		if kv[1] == "" {
			continue
		}
		p = append(p, `,"`...)
		p = append(p, kv[0]...)
		p = append(p, `":`...)
		p = jsonformat.AppendString(p, kv[1])
	}
	p = append(p, `,"event":`...)
	return &Encoder{prefix: p, format: f, cef: cef}
}

// Append appends one event object:
// {"time":<epoch s.ms>,"host":…,"source":…,"sourcetype":…,"index":…,"event":…}.
func (enc *Encoder) Append(dst []byte, e *auditrelay.Event) []byte {
	dst = append(dst, `{"time":`...)
	dst = AppendEpoch(dst, e.EventTime().UnixMilli())
	dst = append(dst, enc.prefix...)
	if !enc.cef {
		dst = enc.format.Append(dst, e)
		return append(dst, '}')
	}
	// Encode the line at the object's current end, escape it after itself
	// and move the escaped copy into its place: no allocation per event.
	start := len(dst)
	dst = enc.format.Append(dst, e)
	end := len(dst)
	dst = jsonformat.AppendBytes(dst, dst[start:end])
	n := copy(dst[start:], dst[end:])
	return append(dst[:start+n], '}')
}

// Encode appends every event to dst and returns the buffer and, for each
// event i, the offset where its object ends.
func (enc *Encoder) Encode(dst []byte, events []auditrelay.Event) ([]byte, []int) {
	ends := make([]int, len(events))
	for i := range events {
		dst = enc.Append(dst, &events[i])
		ends[i] = len(dst)
	}
	return dst, ends
}

// AppendEpoch appends ms milliseconds since the epoch as seconds with three
// decimals (1735689600.123).
func AppendEpoch(dst []byte, ms int64) []byte {
	if ms >= 1e12 && ms < 1e13 { // 2001-09-09 to 2286-11-20: ten digits
		sec, frac := ms/1000, ms%1000
		n := len(dst)
		dst = slices.Grow(dst, 14)[:n+14]
		b := dst[n:]
		for i := 8; i >= 0; i -= 2 {
			b[i], b[i+1] = pairs[sec%100*2], pairs[sec%100*2+1]
			sec /= 100
		}
		b[10] = '.'
		b[11] = byte('0' + frac/100)
		b[12], b[13] = pairs[frac%100*2], pairs[frac%100*2+1]
		return dst
	}
	if ms < 0 {
		dst = append(dst, '-')
		ms = -ms
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	frac := ms % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// pairs holds the two digits of 00 to 99 in order.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// Split groups events into requests whose bodies stay within limit bytes:
// ends are the objects' end offsets (from Encode), and the result holds the
// index one past each request's last event. A single event larger than the
// limit travels alone. limit <= 0 means one request.
func Split(ends []int, limit int) []int {
	if len(ends) == 0 {
		return nil
	}
	if limit <= 0 {
		return []int{len(ends)}
	}
	var cuts []int
	first, from := 0, 0 // the current request's first event and its offset
	for i, end := range ends {
		if i > first && end-from > limit {
			cuts = append(cuts, i)
			first, from = i, ends[i-1]
		}
	}
	return append(cuts, len(ends))
}
