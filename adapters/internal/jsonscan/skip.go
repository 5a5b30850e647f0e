package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// skipFastLevels is how deep Skip follows nesting in its own loop; a
// value nested deeper is handed to skipChecked from its start.
const skipFastLevels = 64

// Skip reads and validates the next value, whatever it is. It walks an
// object or array in one loop rather than a call per member and element,
// so passing over a large value the caller does not use costs little. On
// a syntax error, or nesting deeper than 64 levels inside the value, it
// starts over from the value's first byte with skipChecked, so the error
// (and its Offset) is the one the member-by-member reader reports.
func (r *Reader) Skip() {
	switch r.Peek() {
	case Object, Array:
	case String:
		r.readString()
		return
	default:
		r.skipChecked()
		return
	}
	pos, spaces := r.pos, r.spaces
	if !r.skipContainer() {
		// Peek succeeded, so there was no error before this value.
		r.pos, r.spaces, r.err = pos, spaces, nil
		r.skipChecked()
	}
}

// skipContainer reads the object or array at r.pos and reports whether it
// is valid; on false, r.pos, r.spaces and r.err are left unspecified.
// r.depth is the same afterwards either way.
func (r *Reader) skipContainer() bool {
	data := r.data
	i := r.pos
	var objects uint64 // bit k set: the (k+1)th innermost open level is an object
	n := 0             // levels open
	for {
		// A value starts at i, after any whitespace.
		i = r.passSpace(i)
		if i >= len(data) {
			return false
		}
		switch c := data[i]; c {
		case '{', '[':
			if n == skipFastLevels || r.depth+n+1 > maxDepth {
				return false
			}
			objects = objects<<1 | uint64(c>>5&1) // '{' is 0x7b, '[' 0x5b
			n++
			if i = r.passSpace(i + 1); i >= len(data) {
				return false
			}
			if data[i] != c+2 { // '{'+2 == '}', '['+2 == ']'
				if c == '{' {
					if i = r.passKey(i); i < 0 {
						return false
					}
				}
				continue
			}
			objects >>= 1
			n--
			i++
		case '"':
			if i = passString(data, i); i < 0 {
				return false
			}
		default:
			if i = r.passScalar(i); i < 0 {
				return false
			}
		}
		// A value ended at i: a comma or closing brackets follow.
		for {
			if n == 0 {
				r.pos = i
				return true
			}
			if i = r.passSpace(i); i >= len(data) {
				return false
			}
			object := objects&1 != 0
			c := data[i]
			if c == ',' {
				i++
				if object {
					// The next member's key and colon, as passKey reads them.
					if i = r.passSpace(i); i >= len(data) || data[i] != '"' {
						return false
					}
					if i = passString(data, i); i < 0 {
						return false
					}
					if i = r.passSpace(i); i >= len(data) || data[i] != ':' {
						return false
					}
					i++
				}
				break
			}
			if object && c != '}' || !object && c != ']' {
				return false
			}
			objects >>= 1
			n--
			i++
		}
	}
}

// passSpace returns the index of the first byte at or after i that is not
// whitespace, counting a run of it in r.spaces as skipSpace does.
func (r *Reader) passSpace(i int) int {
	j := i
	for j < len(r.data) && isSpace(r.data[j]) {
		j++
	}
	if j != i {
		r.spaces++
	}
	return j
}

// passScalar reads the string, number or literal at i and returns the
// index after it, or -1 at a syntax error.
func (r *Reader) passScalar(i int) int {
	if r.data[i] == '"' {
		return passString(r.data, i)
	}
	r.pos = i
	switch r.data[i] {
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		r.Number()
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		return -1
	}
	if r.err != nil {
		return -1
	}
	return r.pos
}

// passKey reads a member's key at i, its colon and the whitespace around
// it, and returns the index after them, or -1 at a syntax error.
func (r *Reader) passKey(i int) int {
	if i >= len(r.data) || r.data[i] != '"' {
		return -1
	}
	if i = passString(r.data, i); i < 0 {
		return -1
	}
	i = r.passSpace(i)
	if i >= len(r.data) || r.data[i] != ':' {
		return -1
	}
	return i + 1
}

// passString returns the index after the string whose opening quote is
// at i, or -1 at a syntax error. It validates as readString does but does
// not look for invalid UTF-8, which only decoding needs.
func passString(data []byte, i int) int {
	i++
	for {
		for {
			if i+8 > len(data) {
				for i < len(data) && data[i] >= 0x20 && data[i] != '"' && data[i] != '\\' {
					i++
				}
				if i >= len(data) {
					return -1
				}
				break
			}
			if m := special(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			if i = escapeEnd(data, i); i < 0 {
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// escapeEnd returns the index after the valid escape at data[i] == '\\',
// or -1.
func escapeEnd(data []byte, i int) int {
	i++
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		if i+5 > len(data) {
			return -1
		}
		for _, c := range data[i+1 : i+5] {
			if unhex(c) < 0 {
				return -1
			}
		}
		return i + 5
	}
	return -1
}
