package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: a value nested deeper is
// refused ("exceeded max depth").
const maxDepth = 10000

// Kind is the type of a JSON value, told by its first byte.
type Kind byte

// Kinds.
const (
	Invalid Kind = iota
	Object
	Array
	String
	Number
	Bool
	Null
)

// KindOf returns the kind of the value a byte starts, Invalid for a byte
// no value starts with.
func KindOf(c byte) Kind {
	switch c {
	case '{':
		return Object
	case '[':
		return Array
	case '"':
		return String
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return Number
	}
	return Invalid
}

// String names the kind the way error messages do: "object", "array",
// "string", "number", "boolean", "null".
func (k Kind) String() string {
	switch k {
	case Object:
		return "object"
	case Array:
		return "array"
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "boolean"
	case Null:
		return "null"
	}
	return "invalid"
}

// SyntaxError is a violation of the JSON grammar, described as
// encoding/json describes it.
type SyntaxError struct {
	msg string
	// Offset counts the bytes read when the error was found, as
	// encoding/json's SyntaxError.Offset does: the offending byte's index
	// plus one, or the input's length when it ends too early.
	Offset int64
}

func (e *SyntaxError) Error() string { return e.msg }

// Reader reads one JSON text. The zero Reader reads an empty input; use
// NewReader. After the first syntax error every read returns nothing and
// Err reports that error.
type Reader struct {
	data   []byte
	pos    int
	depth  int
	spaces int
	err    *SyntaxError
}

// NewReader returns a Reader over data, positioned at its start.
func NewReader(data []byte) Reader { return Reader{data: data} }

// Err returns the first syntax error met, or nil.
func (r *Reader) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// Pos is the offset of the next unread byte. Right after Peek it is the
// first byte of the next value; right after a read, the byte after it.
func (r *Reader) Pos() int { return r.pos }

// Spaces counts the runs of insignificant whitespace passed over so far.
// A value read without the count changing is already in compact form.
func (r *Reader) Spaces() int { return r.spaces }

func isSpace(c byte) bool {
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r')
}

func (r *Reader) skipSpace() {
	i := r.pos
	for i < len(r.data) && isSpace(r.data[i]) {
		i++
	}
	if i != r.pos {
		r.spaces++
		r.pos = i
	}
}

// fail records "invalid character …" for the byte at i; at the end of the
// input it reports a space, as encoding/json's scanner does when the input
// stops inside a literal, number or escape.
func (r *Reader) fail(i int, context string) {
	if r.err == nil {
		c, off := byte(' '), len(r.data)
		if i < len(r.data) {
			c, off = r.data[i], i+1
		}
		r.err = &SyntaxError{msg: "invalid character " + quoteChar(c) + " " + context, Offset: int64(off)}
	}
	r.pos = len(r.data)
}

func (r *Reader) failEOF() {
	if r.err == nil {
		r.err = &SyntaxError{msg: "unexpected end of JSON input", Offset: int64(len(r.data))}
	}
	r.pos = len(r.data)
}

// quoteChar formats c as encoding/json's error messages do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// Peek skips whitespace and returns the kind of the value that starts
// next, without reading it. Invalid means no value starts there (the input
// ended, or a byte cannot start a value) and records the syntax error.
func (r *Reader) Peek() Kind {
	if r.err != nil {
		return Invalid
	}
	r.skipSpace()
	if r.pos >= len(r.data) {
		r.failEOF()
		return Invalid
	}
	k := KindOf(r.data[r.pos])
	if k == Invalid {
		r.fail(r.pos, "looking for beginning of value")
	}
	return k
}

// End checks that only whitespace follows the value read last.
func (r *Reader) End() error {
	if r.err == nil {
		r.skipSpace()
		if r.pos < len(r.data) {
			r.fail(r.pos, "after top-level value")
		}
	}
	return r.Err()
}

// Iter walks the members of an object or the elements of an array.
type Iter struct {
	r      *Reader
	close  byte
	n      int
	key    []byte
	decode bool
}

// Object starts reading the object Peek reported. Call Next before each
// member's value. If the next value is not an object, nothing is read and
// Next reports false.
func (r *Reader) Object() Iter { return r.open('{', '}') }

// Array starts reading the array Peek reported. Call Next before each
// element. If the next value is not an array, nothing is read and Next
// reports false.
func (r *Reader) Array() Iter { return r.open('[', ']') }

func (r *Reader) open(c, close byte) Iter {
	// A syntax error leaves pos at the input's end: that takes Peek too.
	if r.pos >= len(r.data) || r.data[r.pos] != c {
		if r.Peek() == Invalid || r.data[r.pos] != c {
			return Iter{}
		}
	}
	r.depth++
	if r.depth > maxDepth {
		r.fail(r.pos, "exceeded max depth")
		return Iter{}
	}
	r.pos++
	return Iter{r: r, close: close}
}

// Next moves to the next element or member and reports whether there is
// one; for an object it reads the member's key and colon, leaving its value
// to be read. After the last, it reads the closing bracket. Next reports
// false at a syntax error too: check Reader.Err.
func (it *Iter) Next() bool {
	r := it.r
	if r == nil || r.err != nil {
		return false
	}
	r.skipSpace()
	if r.pos >= len(r.data) {
		r.failEOF()
		return false
	}
	c := r.data[r.pos]
	if c == it.close {
		r.pos++
		r.depth--
		it.r = nil
		return false
	}
	if it.n > 0 {
		if c != ',' {
			if it.close == '}' {
				r.fail(r.pos, "after object key:value pair")
			} else {
				r.fail(r.pos, "after array element")
			}
			return false
		}
		r.pos++
	}
	it.n++
	if it.close == ']' {
		return true
	}
	// The member's key and colon, read here rather than in a call of
	// their own.
	r.skipSpace()
	if r.pos >= len(r.data) {
		r.failEOF()
		return false
	}
	if r.data[r.pos] != '"' {
		r.fail(r.pos, "looking for beginning of object key string")
		return false
	}
	it.key, it.decode = r.readString()
	if r.err != nil {
		return false
	}
	r.skipSpace()
	if r.pos >= len(r.data) {
		r.failEOF()
		return false
	}
	if r.data[r.pos] != ':' {
		r.fail(r.pos, "after object key")
		return false
	}
	r.pos++
	return true
}

// Key returns the current member's key as it is written between its
// quotes, and whether it must go through AppendDecoded (escapes or invalid
// UTF-8) to be read as encoding/json reads it.
func (it *Iter) Key() (raw []byte, decode bool) { return it.key, it.decode }

// Index is the current element's or member's position, counted from 1.
func (it *Iter) Index() int { return it.n }

// String reads the next value, a string, and returns its content as
// written between the quotes, and whether it must go through AppendDecoded
// (it holds escapes or invalid UTF-8); when not, the content is the
// string. If the next value is not a string, nothing is read.
func (r *Reader) String() (raw []byte, decode bool) {
	// A syntax error leaves pos at the input's end: that takes Peek too.
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		if r.Peek() != String {
			return nil, false
		}
	}
	return r.readString()
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special marks, in its lowest set high bit, the first byte of x that is
// a control character, '"' or '\\'.
func special(x uint64) uint64 {
	ctl := (x - 0x20*ones) &^ x
	q := x ^ '"'*ones
	bs := x ^ '\\'*ones
	return (ctl | (q-ones)&^q | (bs-ones)&^bs) & highs
}

func (r *Reader) readString() (raw []byte, decode bool) {
	data := r.data
	start := r.pos + 1
	i := start
	var hi uint64
	esc := false
	for {
		for i+8 <= len(data) {
			// hi takes the high bits of the bytes after the string's end
			// too: at worst utf8.Valid then runs on an ASCII string.
			x := binary.LittleEndian.Uint64(data[i:])
			hi |= x & highs
			if m := special(x); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(data) {
			r.failEOF()
			return nil, false
		}
		c := data[i]
		switch {
		case c == '"':
			raw = data[start:i]
			r.pos = i + 1
			return raw, esc || hi != 0 && !utf8.Valid(raw)
		case c == '\\':
			esc = true
			if i = r.escape(i); i < 0 {
				return nil, false
			}
		case c < 0x20:
			r.fail(i, "in string literal")
			return nil, false
		default:
			if c >= 0x80 {
				hi = highs
			}
			i++
		}
	}
}

// escape validates the escape at data[i] == '\\' and returns the index
// after it, or -1 at a syntax error.
func (r *Reader) escape(i int) int {
	data := r.data
	i++
	if i >= len(data) {
		r.fail(i, "in string escape code")
		return -1
	}
	switch data[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		for k := i + 1; k < i+5; k++ {
			if k >= len(data) || unhex(data[k]) < 0 {
				r.fail(k, `in \u hexadecimal character escape`)
				return -1
			}
		}
		return i + 5
	}
	r.fail(i, "in string escape code")
	return -1
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Number reads the next value, a number, and returns its literal bytes.
// If the next value is not a number, nothing is read.
func (r *Reader) Number() []byte {
	if r.Peek() != Number {
		return nil
	}
	data := r.data
	start, i := r.pos, r.pos
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		r.fail(i, "in numeric literal")
		return nil
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			r.fail(i, "after decimal point in numeric literal")
			return nil
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			r.fail(i, "in exponent of numeric literal")
			return nil
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	r.pos = i
	return data[start:i]
}

// Bool reads the next value, true or false. If it is not a boolean,
// nothing is read.
func (r *Reader) Bool() bool {
	if r.Peek() != Bool {
		return false
	}
	if r.data[r.pos] == 't' {
		r.literal("true")
		return r.err == nil
	}
	r.literal("false")
	return false
}

// Null reads the next value, null. If it is not null, nothing is read.
func (r *Reader) Null() {
	if r.Peek() == Null {
		r.literal("null")
	}
}

func (r *Reader) literal(lit string) {
	if r.err != nil {
		return
	}
	for k := 1; k < len(lit); k++ {
		i := r.pos + k
		if i >= len(r.data) || r.data[i] != lit[k] {
			r.fail(i, "in literal "+lit+" (expecting "+quoteChar(lit[k])+")")
			return
		}
	}
	r.pos += len(lit)
}

// skipChecked reads and validates the next value, whatever it is, one
// call per member and element: Skip's fallback, whose errors Skip reports.
func (r *Reader) skipChecked() {
	switch r.Peek() {
	case Object, Array:
		it := r.open(r.data[r.pos], r.data[r.pos]+2) // '{'+2 == '}', '['+2 == ']'
		for it.Next() {
			r.skipChecked()
		}
	case String:
		r.readString()
	case Number:
		r.Number()
	case Bool:
		r.Bool()
	case Null:
		r.literal("null")
	}
}

// Value reads the next value and returns its bytes as written.
func (r *Reader) Value() []byte {
	if r.Peek() == Invalid {
		return nil
	}
	start := r.pos
	r.Skip()
	if r.err != nil {
		return nil
	}
	return r.data[start:r.pos]
}

// Validate checks that data is one JSON value, with whitespace around it
// at most, and returns the error encoding/json would.
func Validate(data []byte) error {
	r := NewReader(data)
	r.Skip()
	return r.End()
}

// Valid reports whether data is one JSON value, as json.Valid does.
func Valid(data []byte) bool { return Validate(data) == nil }

// Compact appends src to dst as json.Compact would write it, after
// checking that src is valid JSON; on an error dst is returned unchanged.
func Compact(dst, src []byte) ([]byte, error) {
	if err := Validate(src); err != nil {
		return dst, err
	}
	return AppendCompact(dst, src), nil
}

// AppendCompact appends valid JSON src to dst without its insignificant
// whitespace, as json.Compact does: strings, escapes, numbers and key order
// are kept byte for byte. src must be valid (Validate it, or take it from a
// Reader); on invalid input the result is unspecified.
func AppendCompact(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case isSpace(c):
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}
