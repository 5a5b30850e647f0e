package cef

import "unicode/utf8"

// part says which part of a CEF line a value is written into; the two parts
// escape differently.
type part uint8

const (
	// inHeader: `\` and `|` are escaped, CR and LF become a space (the
	// header may not span lines and has no newline escape).
	inHeader part = iota
	// inExtension: `\`, `=`, LF and CR are escaped as `\\`, `\=`, `\n`, `\r`;
	// `|` is left alone, as the spec says.
	inExtension
)

// appendEscaped appends s to dst escaped for p, with each byte of invalid
// UTF-8 replaced by U+FFFD. It writes at most limit length units (see
// units) and never splits a character or an escape: the value is cut before
// it is escaped. It returns the extended buffer, the units written and
// whether all of s was written.
func appendEscaped(dst []byte, s string, limit int, p part) ([]byte, int, bool) {
	delim := byte('=') // the delimiter p escapes besides `\`, CR and LF
	if p == inHeader {
		delim = '|'
	}
	n, start, i := 0, 0, 0
	for i < len(s) && n < limit {
		// Take a run of ASCII that is written as it is.
		end := min(len(s), i+limit-n)
		j := i
		for j < end {
			c := s[j]
			if c >= utf8.RuneSelf || c == '\\' || c == delim || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		n += j - i
		i = j
		if i == end {
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			if esc := escapeOf(c, p); esc == ' ' {
				dst = append(dst, ' ')
			} else {
				dst = append(dst, '\\', esc)
			}
			i++
			n++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		u := units(r)
		if n+u > limit {
			break
		}
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			n++
			start = i
			continue
		}
		i += size
		n += u
	}
	return append(dst, s[start:i]...), n, i == len(s)
}

// escapeOf returns what follows the backslash in the escape of the ASCII
// byte c in part p, ' ' when c is replaced by a space, or 0 when c is
// written as it is.
func escapeOf(c byte, p part) byte {
	switch c {
	case '\\':
		return '\\'
	case '\n':
		if p == inHeader {
			return ' '
		}
		return 'n'
	case '\r':
		if p == inHeader {
			return ' '
		}
		return 'r'
	case '|':
		if p == inHeader {
			return '|'
		}
	case '=':
		if p == inExtension {
			return '='
		}
	}
	return 0
}

// units is the length of r as the CEF dictionary counts it. Its consumers
// are Java programs, whose String.length counts UTF-16 code units: one for
// a character of the Basic Multilingual Plane, two above it. Counting so
// never exceeds a limit however a consumer counts characters.
func units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// appendJoined appends the non-empty elements of parts joined by sep (an
// ASCII byte that p does not escape), escaped for p and cut as a whole to
// limit units, exactly as appendEscaped would cut the joined string.
func appendJoined(dst []byte, parts []string, sep byte, limit int, p part) []byte {
	left, first := limit, true
	for _, s := range parts {
		if s == "" {
			continue
		}
		if !first {
			if left == 0 {
				break
			}
			dst = append(dst, sep)
			left--
		}
		first = false
		var n int
		var all bool
		dst, n, all = appendEscaped(dst, s, left, p)
		left -= n
		if !all {
			break
		}
	}
	return dst
}
