package konnect

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// cefLine is one CEF entry as Konnect writes it:
//
//	<prefix> CEF:<version>|<vendor>|<product>|<version>|<signature id>|<name>|<severity>|<extension>
//
// where the prefix is "2025-06-18T21:02:36Z konghq.com" or a syslog
// "Apr 14 05:39:08 konghq.com".
type cefLine struct {
	prefix                                   string
	version, vendor, product, productVersion string
	signatureID, name, severity              string
	ext                                      []field
}

type field struct{ key, value string }

var cefMarker = []byte("CEF:")

// cefHeaderFields counts the header fields after "CEF:", the version
// included.
const cefHeaderFields = 7

// parseCEF splits a CEF line into prefix, header and extension. Header
// fields unescape \| and \\; extension values unescape \=, \\, \n and \r.
// A value runs up to the space before the next key=, so values may hold
// spaces, parentheses and unescaped '=' not preceded by a key. The
// extension's fields are appended to ext (c.ext is ext, grown, even on an
// error, for the caller to reuse); every string is cut from one copy of
// the line.
func parseCEF(line []byte, ext []field) (c cefLine, err error) {
	c.ext = ext
	at := bytes.Index(line, cefMarker)
	if at < 0 {
		return c, errors.New("neither JSON nor CEF: a Konnect entry is a JSON object, {\"event\":{…}} (CPS) or a CEF:0|… line")
	}
	s := string(line)
	c.prefix = strings.TrimSpace(s[:at])
	rest := s[at+len(cefMarker):]
	var hdr [cefHeaderFields]string
	for i := range hdr {
		end := headerEnd(rest)
		if end < 0 {
			return c, fmt.Errorf("CEF header has %d of %d |-separated fields", i, cefHeaderFields)
		}
		hdr[i] = unescapeHeader(rest[:end])
		rest = rest[end+1:]
	}
	c.version, c.vendor, c.product, c.productVersion = hdr[0], hdr[1], hdr[2], hdr[3]
	c.signatureID, c.name, c.severity = hdr[4], hdr[5], hdr[6]
	c.ext, err = parseExtension(rest, c.ext)
	return c, err
}

// headerEnd returns the index of the first unescaped '|', or -1.
func headerEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			return i
		}
	}
	return -1
}

func unescapeHeader(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseExtension appends the "k1=v1 k2=a value with spaces k3=" pairs of s
// to out.
func parseExtension(s string, out []field) ([]field, error) {
	s = strings.TrimLeft(s, " ")
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	key, valStart := "", 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			continue
		case '=':
		default:
			continue
		}
		j := i
		for j > 0 && isKeyByte(s[j-1]) {
			j--
		}
		if j == i || (j > 0 && s[j-1] != ' ') || j < valStart {
			if key == "" {
				return out, fmt.Errorf("CEF extension does not start with key=value: %.40q", s)
			}
			continue // an '=' inside a value
		}
		if key != "" {
			out = append(out, field{key, unescapeValue(strings.TrimRight(s[valStart:j], " "))})
		} else if j != 0 {
			return out, fmt.Errorf("CEF extension does not start with key=value: %.40q", s)
		}
		key, valStart = s[j:i], i+1
	}
	if key == "" {
		return out, fmt.Errorf("CEF extension has no key=value: %.40q", s)
	}
	out = append(out, field{key, unescapeValue(strings.TrimRight(s[valStart:], " "))})
	return out, nil
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func unescapeValue(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '\\', '=', '|':
			b.WriteByte(s[i+1])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte('\\') // not a CEF escape: kept as it is
			continue
		}
		i++
	}
	return b.String()
}

// prefixTime reads the timestamp before "CEF:": RFC 3339
// ("2025-06-18T21:02:36Z konghq.com") or syslog ("Apr 14 05:39:08
// konghq.com", optionally after a <PRI>), whose year is taken from
// receivedAt (the previous year when that would put it more than a day in
// the future). Anything else gives the zero time.
func prefixTime(prefix string, receivedAt time.Time) time.Time {
	if strings.HasPrefix(prefix, "<") {
		if end := strings.IndexByte(prefix, '>'); end > 0 {
			prefix = strings.TrimLeft(prefix[end+1:], " ")
		}
	}
	// RFC 3339 starts with a digit; time.Parse is not tried on a syslog
	// stamp, as its error would cost an allocation.
	if first, _, _ := strings.Cut(prefix, " "); first != "" && '0' <= first[0] && first[0] <= '9' {
		if t, err := time.Parse(time.RFC3339Nano, first); err == nil {
			return t.UTC()
		}
	}
	if len(prefix) < len(time.Stamp) || receivedAt.IsZero() {
		return time.Time{}
	}
	t, err := time.Parse(time.Stamp, prefix[:len(time.Stamp)])
	if err != nil {
		return time.Time{}
	}
	return withYear(t, receivedAt)
}

// withYear puts a year-less time in receivedAt's year, or the year before
// when that would be more than a day after receivedAt (a December entry
// received in January).
func withYear(t, receivedAt time.Time) time.Time {
	rec := receivedAt.UTC()
	y := time.Date(rec.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if y.After(rec.Add(24 * time.Hour)) {
		y = y.AddDate(-1, 0, 0)
	}
	return y
}
