package jsonscan

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendDecoded appends the text of a string, given as the content a
// Reader returned (between the quotes, validated), decoded as
// encoding/json decodes a string into a Go string: escapes resolved, a
// surrogate escape that is not part of a valid pair and each byte of
// invalid UTF-8 replaced by U+FFFD, valid UTF-8 kept.
func AppendDecoded(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			var n int
			dst, n = appendEscape(dst, raw[i:])
			i += n
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(raw) && raw[j] < utf8.RuneSelf && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

// Decode returns the text of a string a Reader returned: raw itself as a
// string when decode is false, else AppendDecoded's result.
func Decode(raw []byte, decode bool) string {
	if !decode {
		return string(raw)
	}
	return string(AppendDecoded(make([]byte, 0, len(raw)), raw))
}

// appendEscape decodes the escape at the start of s (s[0] == '\\') and
// reports how many bytes it took.
func appendEscape(dst, s []byte) ([]byte, int) {
	if len(s) < 2 {
		return dst, len(s)
	}
	switch s[1] {
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
		r := getu4(s)
		if r < 0 {
			return dst, len(s)
		}
		if utf16.IsSurrogate(r) {
			if dec := utf16.DecodeRune(r, getu4(s[6:])); dec != utf8.RuneError {
				return utf8.AppendRune(dst, dec), 12
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), 6
	}
	return append(dst, s[1]), 2 // '"', '\\', '/'
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		d := unhex(c)
		if d < 0 {
			return -1
		}
		r = r*16 + d
	}
	return r
}

// AppendText appends a string's text as String returned it: decoded when
// decode is set, else the raw bytes (which then hold no escape).
func AppendText(dst, raw []byte, decode bool) []byte {
	if decode {
		return AppendDecoded(dst, raw)
	}
	return append(dst, raw...)
}

// ParseInt reads a JSON number literal as an int the way encoding/json
// does (strconv.ParseInt: no fraction, no exponent, no overflow).
func ParseInt(lit []byte) (int, bool) {
	digits := lit
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		n, err := strconv.ParseInt(string(lit), 10, 0)
		return int(n), err == nil
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if len(digits) < len(lit) {
		n = -n
	}
	return n, true
}
