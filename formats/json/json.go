package json

import (
	"encoding/binary"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay"
)

// TimeLayout is RFC 3339 with nine fractional digits.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Format is the JSON format. Its zero value is ready to use.
type Format struct{}

// New returns the JSON format.
func New() Format { return Format{} }

// Append appends e as one JSON object.
func (Format) Append(dst []byte, e *auditrelay.Event) []byte {
	o := object{dst: append(dst, '{')}
	o = o.str(`,"id":`, e.ID)
	o = o.time(`,"time":"`, e.Time)
	o = o.time(`,"received_at":"`, e.ReceivedAt)
	if s := &e.Source; *s != (auditrelay.Source{}) {
		o = o.open(`,"source":{`)
		o = o.str(`,"kind":`, s.Kind)
		o = o.str(`,"input":`, s.Input)
		o = o.str(`,"delivery_id":`, s.DeliveryID)
		o = o.close()
	}
	if a := &e.Actor; a.ID != "" || a.Name != "" || a.Username != "" || a.Issuer != "" ||
		a.FederatedIssuer != "" || len(a.Roles) > 0 || a.Type != "" {
		o = o.open(`,"actor":{`)
		o = o.str(`,"id":`, a.ID)
		o = o.str(`,"name":`, a.Name)
		o = o.str(`,"username":`, a.Username)
		o = o.str(`,"issuer":`, a.Issuer)
		o = o.str(`,"federated_issuer":`, a.FederatedIssuer)
		o = o.strs(`,"roles":[`, a.Roles)
		o = o.str(`,"type":`, a.Type)
		o = o.close()
	}
	if a := &e.Action; a.Name != "" || len(a.All) > 0 || a.Verb != "" {
		o = o.open(`,"action":{`)
		o = o.str(`,"name":`, a.Name)
		o = o.strs(`,"all":[`, a.All)
		o = o.str(`,"verb":`, a.Verb)
		o = o.close()
	}
	if r := &e.Resource; *r != (auditrelay.Resource{}) {
		o = o.open(`,"resource":{`)
		o = o.str(`,"type":`, r.Type)
		o = o.str(`,"id":`, r.ID)
		o = o.str(`,"name":`, r.Name)
		o = o.str(`,"namespace":`, r.Namespace)
		o = o.close()
	}
	if r := &e.Request; *r != (auditrelay.Request{}) {
		o = o.open(`,"request":{`)
		o = o.str(`,"id":`, r.ID)
		o = o.str(`,"method":`, r.Method)
		o = o.str(`,"path":`, r.Path)
		o = o.str(`,"client_ip":`, r.ClientIP)
		o = o.str(`,"user_agent":`, r.UserAgent)
		o = o.str(`,"interface":`, r.Interface)
		o = o.close()
	}
	if r := &e.Outcome; *r != (auditrelay.Outcome{}) {
		o = o.open(`,"outcome":{`)
		o = o.str(`,"result":`, r.Result)
		o = o.int(`,"status_code":`, r.StatusCode)
		o = o.str(`,"reason":`, r.Reason)
		o = o.close()
	}
	dst = appendInt(o.key(`,"severity":`).dst, e.Severity)
	if len(e.Raw) > 0 {
		dst = append(dst, `,"raw":`...)
		dst = append(dst, e.Raw...)
	}
	return append(dst, '}')
}

// object writes the members of a JSON object, with commas where needed.
// Keys are constant strings written with their comma, quotes and colon
// (`,"name":`), and for containers their opening bracket too. Its methods
// take and return the object by value, so the buffer stays in registers
// (no write barrier per member).
type object struct {
	dst []byte
	// more says the current object has a member already, so the next key
	// keeps its leading comma.
	more bool
}

// key appends k, dropping its leading comma for an object's first member.
func (o object) key(k string) object {
	if !o.more {
		k = k[1:]
		o.more = true
	}
	o.dst = append(o.dst, k...)
	return o
}

// open starts a member object; k ends with its '{'.
func (o object) open(k string) object {
	o = o.key(k)
	o.more = false
	return o
}

func (o object) close() object {
	o.dst = append(o.dst, '}')
	o.more = true
	return o
}

// str appends a string member, growing the buffer once for key and value.
func (o object) str(k, v string) object {
	if v == "" {
		return o
	}
	if !o.more {
		k = k[1:]
		o.more = true
	}
	m := len(o.dst) + len(k)
	dst := append(o.dst, k...)
	dst = slices.Grow(dst, len(v)+2)[:m+len(v)+2]
	dst[m] = '"'
	if !copyPlain(dst[m+1:], v) {
		o.dst = appendEscaped(dst[:m], v)
		return o
	}
	dst[len(dst)-1] = '"'
	o.dst = dst
	return o
}

// strs appends an array of strings; k ends with its '['.
func (o object) strs(k string, vs []string) object {
	if len(vs) == 0 {
		return o
	}
	o = o.key(k)
	for i, v := range vs {
		if i > 0 {
			o.dst = append(o.dst, ',')
		}
		o.dst = AppendString(o.dst, v)
	}
	o.dst = append(o.dst, ']')
	return o
}

func (o object) int(k string, v int) object {
	if v == 0 {
		return o
	}
	o = o.key(k)
	o.dst = appendInt(o.dst, v)
	return o
}

// time appends t as a string; k ends with the value's opening quote.
func (o object) time(k string, t time.Time) object {
	if t.IsZero() {
		return o
	}
	o = o.key(k)
	o.dst = append(AppendTime(o.dst, t), '"')
	return o
}

// AppendTime appends t in UTC as TimeLayout does (RFC 3339 with nine
// fractional digits), without parsing the layout for every event.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	ns := t.Nanosecond()
	n := len(dst)
	dst = slices.Grow(dst, 30)[:n+30]
	b := dst[n : n+30] // 2006-01-02T15:04:05.000000000Z, written in place
	put2(b[0:2], year/100)
	put2(b[2:4], year%100)
	b[4] = '-'
	put2(b[5:7], int(month))
	b[7] = '-'
	put2(b[8:10], day)
	b[10] = 'T'
	put2(b[11:13], hour)
	b[13] = ':'
	put2(b[14:16], minute)
	b[16] = ':'
	put2(b[17:19], sec)
	b[19] = '.'
	b[20] = byte('0' + ns/1e8)
	ns %= 1e8
	put2(b[21:23], ns/1e6)
	put2(b[23:25], ns/1e4%100)
	put2(b[25:27], ns/100%100)
	put2(b[27:29], ns%100)
	b[29] = 'Z'
	return dst
}

// pairs holds the two digits of 00 to 99 in order.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// put2 writes v (0 to 99) into b[0:2] as two digits.
func put2(b []byte, v int) {
	_ = b[1]
	b[0], b[1] = pairs[2*v], pairs[2*v+1]
}

func appendInt(dst []byte, v int) []byte {
	switch {
	case v >= 0 && v < 10: // severity
		return append(dst, byte('0'+v))
	case v >= 100 && v < 1000: // status codes
		return append(dst, byte('0'+v/100), pairs[v%100*2], pairs[v%100*2+1])
	}
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u // the magnitude, math.MinInt's too
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

const hexDigits = "0123456789abcdef"

// Bytes AppendString copies as they are ("plain") are printable ASCII other
// than '"' and '\\'. The tests below check 8 (or 4) bytes at once (SWAR): a
// byte below 0x20, equal to '"' or '\\', or at or above 0x80 sets the high
// bit of its lane in the result (a borrow may set a higher lane's too, but
// only above a lane already set), so the word is plain if none is set.
const (
	lo64, hi64 = 0x0101010101010101, 0x8080808080808080
	lo32, hi32 = 0x01010101, 0x80808080
)

// special64 returns v's lanes that are not plain, as high bits.
func special64(v uint64) uint64 {
	ctl := v - 0x20*lo64            // a byte < 0x20
	quote := (v ^ '"'*lo64) - lo64  // a byte == '"'
	slash := (v ^ '\\'*lo64) - lo64 // a byte == '\\'
	return (ctl | quote | slash | v) & hi64
}

// special32 is special64 for four bytes.
func special32(v uint32) uint32 {
	ctl := v - 0x20*lo32
	quote := (v ^ '"'*lo32) - lo32
	slash := (v ^ '\\'*lo32) - lo32
	return (ctl | quote | slash | v) & hi32
}

// load64 reads s[0:8] little-endian (one load on amd64 and arm64).
func load64[T text](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 reads s[0:4] little-endian.
func load32[T text](s T) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// plain8 reports whether the 8 bytes of s are plain.
func plain8[T text](s T) bool { return special64(load64(s)) == 0 }

// text is what AppendString and AppendBytes escape.
type text interface{ string | []byte }

// copyPlain copies s into d (as long as s) a word at a time and reports
// whether every byte of s is plain; when not, d holds garbage.
func copyPlain[T text](d []byte, s T) bool {
	n := len(s)
	d = d[:n]
	switch {
	case n >= 8:
		var bad uint64
		for i := 0; i+8 <= n; i += 8 {
			v := load64(s[i:])
			bad |= special64(v)
			binary.LittleEndian.PutUint64(d[i:], v)
		}
		if n%8 != 0 { // the last word overlaps the one before
			v := load64(s[n-8:])
			bad |= special64(v)
			binary.LittleEndian.PutUint64(d[n-8:], v)
		}
		return bad == 0
	case n >= 4: // two words that may overlap
		v, w := load32(s), load32(s[n-4:])
		binary.LittleEndian.PutUint32(d, v)
		binary.LittleEndian.PutUint32(d[n-4:], w)
		return special32(v)|special32(w) == 0
	}
	for i := range n {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
		d[i] = c
	}
	return true
}

// AppendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped, U+2028/U+2029 too (for JavaScript consumers), and
// invalid UTF-8 becomes U+FFFD as encoding/json does.
func AppendString(dst []byte, s string) []byte { return appendString(dst, s) }

// AppendBytes is AppendString for text held in a byte slice; b may be a
// part of dst[:len(dst)] (AppendBytes only writes after it).
func AppendBytes(dst, b []byte) []byte { return appendString(dst, b) }

// appendString copies s a word at a time when it is all plain ASCII, the
// common case, and escapes it byte by byte otherwise.
func appendString[T text](dst []byte, s T) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s)+2)[:n+len(s)+2]
	dst[n] = '"'
	if !copyPlain(dst[n+1:], s) {
		return appendEscaped(dst[:n], s)
	}
	dst[len(dst)-1] = '"'
	return dst
}

// appendEscaped appends s as a JSON string byte by byte, escaping what
// needs it (and checking non-ASCII text for valid UTF-8).
func appendEscaped[T text](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
