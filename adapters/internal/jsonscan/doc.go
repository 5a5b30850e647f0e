// Package jsonscan is a small, allocation-light JSON reader over a []byte,
// for adapters that map a source's events field by field in one pass.
//
// A Reader walks one JSON text without building values: it iterates an
// array's elements and an object's members (Iter), and reads strings (the
// bytes between the quotes, decoded only when they hold escapes or invalid
// UTF-8), numbers (the literal's exact bytes: a trace id above 2^53 keeps
// its digits), booleans and null, or skips any value. Everything it passes
// over is validated as RFC 8259 JSON exactly the way encoding/json's
// scanner validates it: the same inputs are accepted and refused, and a
// refusal is a *SyntaxError with encoding/json's message and Offset
// ("invalid character 'x' after array element", "unexpected end of JSON
// input"), so an adapter's error text does not change with the parser.
//
// String content decodes as encoding/json decodes into a Go string:
// escapes resolved, an unpaired surrogate escape and each byte of invalid
// UTF-8 replaced by U+FFFD.
//
// AppendCompact writes a value as json.Compact leaves it (insignificant
// whitespace removed; key order, escapes and number spelling kept), the
// form the content id of a normalized event is computed over; Reader.Spaces
// tells whether a value had any whitespace to remove, so a compact value
// can usually be used in place without a copy.
//
// A Reader is not safe for concurrent use; it is meant to live on the
// stack of one Parse call.
package jsonscan
