package json

import (
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
	o.str("id", e.ID)
	o.time("time", e.Time)
	o.time("received_at", e.ReceivedAt)
	if s := e.Source; s != (auditrelay.Source{}) {
		o.open("source")
		o.str("kind", s.Kind)
		o.str("input", s.Input)
		o.str("delivery_id", s.DeliveryID)
		o.close()
	}
	if a := &e.Actor; a.ID != "" || a.Name != "" || a.Username != "" || a.Issuer != "" ||
		a.FederatedIssuer != "" || len(a.Roles) > 0 || a.Type != "" {
		o.open("actor")
		o.str("id", a.ID)
		o.str("name", a.Name)
		o.str("username", a.Username)
		o.str("issuer", a.Issuer)
		o.str("federated_issuer", a.FederatedIssuer)
		o.strs("roles", a.Roles)
		o.str("type", a.Type)
		o.close()
	}
	if a := &e.Action; a.Name != "" || len(a.All) > 0 || a.Verb != "" {
		o.open("action")
		o.str("name", a.Name)
		o.strs("all", a.All)
		o.str("verb", a.Verb)
		o.close()
	}
	if r := e.Resource; r != (auditrelay.Resource{}) {
		o.open("resource")
		o.str("type", r.Type)
		o.str("id", r.ID)
		o.str("name", r.Name)
		o.str("namespace", r.Namespace)
		o.close()
	}
	if r := e.Request; r != (auditrelay.Request{}) {
		o.open("request")
		o.str("id", r.ID)
		o.str("method", r.Method)
		o.str("path", r.Path)
		o.str("client_ip", r.ClientIP)
		o.str("user_agent", r.UserAgent)
		o.str("interface", r.Interface)
		o.close()
	}
	if r := e.Outcome; r != (auditrelay.Outcome{}) {
		o.open("outcome")
		o.str("result", r.Result)
		o.int("status_code", r.StatusCode)
		o.str("reason", r.Reason)
		o.close()
	}
	o.key("severity")
	o.dst = appendInt(o.dst, e.Severity)
	if len(e.Raw) > 0 {
		o.key("raw")
		o.dst = append(o.dst, e.Raw...)
	}
	return append(o.dst, '}')
}

// object writes the members of a JSON object, with commas where needed.
type object struct{ dst []byte }

func (o *object) key(k string) {
	if n := len(o.dst); n > 0 && o.dst[n-1] != '{' {
		o.dst = append(o.dst, ',')
	}
	o.dst = append(o.dst, '"')
	o.dst = append(o.dst, k...)
	o.dst = append(o.dst, '"', ':')
}

func (o *object) open(k string) {
	o.key(k)
	o.dst = append(o.dst, '{')
}

func (o *object) close() { o.dst = append(o.dst, '}') }

func (o *object) str(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.dst = AppendString(o.dst, v)
}

func (o *object) strs(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	o.key(k)
	o.dst = append(o.dst, '[')
	for i, v := range vs {
		if i > 0 {
			o.dst = append(o.dst, ',')
		}
		o.dst = AppendString(o.dst, v)
	}
	o.dst = append(o.dst, ']')
}

func (o *object) int(k string, v int) {
	if v == 0 {
		return
	}
	o.key(k)
	o.dst = appendInt(o.dst, v)
}

func (o *object) time(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	o.key(k)
	o.dst = append(o.dst, '"')
	o.dst = AppendTime(o.dst, t)
	o.dst = append(o.dst, '"')
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
	var b [30]byte // 2006-01-02T15:04:05.000000000Z, written in place
	putDigits(b[0:4], year)
	b[4] = '-'
	putDigits(b[5:7], int(month))
	b[7] = '-'
	putDigits(b[8:10], day)
	b[10] = 'T'
	putDigits(b[11:13], hour)
	b[13] = ':'
	putDigits(b[14:16], minute)
	b[16] = ':'
	putDigits(b[17:19], sec)
	b[19] = '.'
	putDigits(b[20:29], t.Nanosecond())
	b[29] = 'Z'
	return append(dst, b[:]...)
}

// putDigits writes v (non-negative) into b as len(b) zero-padded digits.
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

func appendInt(dst []byte, v int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

const hexDigits = "0123456789abcdef"

// plain8 reports whether the 8 bytes of s are printable ASCII other than
// '"' and '\\': bytes AppendString copies as they are. It tests all eight
// at once (SWAR): a byte below 0x20, equal to '"' or '\\', or at or above
// 0x80 sets its high bit in the result.
func plain8(s string) bool {
	v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := v - 0x20*lo          // high bit set where a byte < 0x20 (or borrowed)
	quote := (v ^ '"'*lo) - lo  // high bit set where a byte == '"'
	slash := (v ^ '\\'*lo) - lo // high bit set where a byte == '\\'
	return (ctl|quote|slash|v)&hi == 0
}

// AppendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped, U+2028/U+2029 too (for JavaScript consumers), and
// invalid UTF-8 becomes U+FFFD as encoding/json does.
func AppendString(dst []byte, s string) []byte {
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
		r, size := utf8.DecodeRuneInString(s[i:])
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
