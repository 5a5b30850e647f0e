package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The sink is a measuring instrument, so it must cost far less than what
// it measures: these scanners find where JSON values begin and end without
// decoding them. They follow strings (escapes included) and bracket
// nesting, and check that brackets match (to a depth of 64), that every
// top-level item of a HEC or NDJSON body is an object and that array
// elements are separated by commas. They do not check numbers, literals,
// or the colons and commas inside an object. On valid JSON they agree with
// encoding/json exactly (FuzzDecodeHEC, FuzzSplitGeneric and FuzzJSONID
// compare them); malformed JSON may be counted where encoding/json would
// refuse it.

// HEC answers about a bad event object.
const (
	hecBadFormat     = "Invalid data format"
	hecEventRequired = "Event field is required"
	hecEventBlank    = "Event field cannot be blank"
)

// isSpace reports JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace drops JSON whitespace at both ends.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// stringEnd returns the index after the closing quote of the JSON string
// whose opening quote is b[i], or -1 when the string is not closed. It
// jumps from quote to quote (bytes.IndexByte beats stepping through even
// short strings); a quote closes the string when an even number of
// backslashes precede it.
func stringEnd(b []byte, i int) int {
	start := i + 1
	for j := start; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		p := j - 1
		for p >= start && b[p] == '\\' {
			p--
		}
		if (j-1-p)%2 == 0 {
			return j + 1
		}
	}
	return -1
}

// maxCheckedDepth is how deep containerEnd checks that brackets match;
// deeper levels are only counted.
const maxCheckedDepth = 64

// containerEnd scans the object or array that opens at b[i] ('{' or '[')
// and returns the index after its closing bracket, or -1 when it is not
// closed or a bracket does not match. When key is not empty and the
// container is an object, member is the value of its last top-level member
// named key, whitespace trimmed; nil when there is none.
func containerEnd(b []byte, i int, key string) (end int, member []byte) {
	var (
		depth    int
		objects  uint64 // bit d-1 is set when level d is an object
		keyNext  bool   // at depth 1 of an object, the next string is a key
		matched  bool   // the current depth-1 member is named key
		valStart = -1   // where the current depth-1 member's value starts
	)
	track := key != "" && b[i] == '{'
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			j := stringEnd(b, i)
			if j < 0 {
				return -1, nil
			}
			if track && depth == 1 && keyNext {
				matched, keyNext = keyIs(b[i:j], key), false
			}
			i = j - 1
		case '{', '[':
			if depth < maxCheckedDepth && c == '{' {
				objects |= 1 << depth
			} else if depth < maxCheckedDepth {
				objects &^= 1 << depth
			}
			depth++
			keyNext = depth == 1
		case '}', ']':
			if depth <= maxCheckedDepth && (objects>>(depth-1)&1 == 1) != (c == '}') {
				return -1, nil
			}
			if depth == 1 {
				if track && matched && valStart >= 0 {
					member = trimSpace(b[valStart:i])
				}
				return i + 1, member
			}
			depth--
		case ':':
			if track && depth == 1 {
				valStart = i + 1
			}
		case ',':
			if track && depth == 1 {
				if matched && valStart >= 0 {
					member = trimSpace(b[valStart:i])
				}
				keyNext, matched, valStart = true, false, -1
			}
		}
	}
	return -1, nil
}

// keyIs reports whether the JSON string raw (quotes included) is key.
func keyIs(raw []byte, key string) bool {
	if len(raw) == len(key)+2 && string(raw[1:len(raw)-1]) == key {
		return true
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == key
}

// unquote is the content of the JSON string raw (quotes included): raw's
// own bytes when it has no escapes, else decoded; nil when raw is not a
// valid string.
func unquote(raw []byte) []byte {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil
	}
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return []byte(s)
}

// valueEnd returns the index after the JSON value that starts at b[i], or
// -1 when there is none or it is not closed. Numbers and literals are the
// run of bytes up to whitespace or a separator.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '{', '[':
		end, _ := containerEnd(b, i, "")
		return end
	case '"':
		return stringEnd(b, i)
	case ',', ':', '}', ']':
		return -1
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != '"' && b[j] != '[' && b[j] != '{' && b[j] != ':' {
		j++
	}
	return j
}

// decodeHEC appends the events of a HEC body (concatenated
// {"event":…,…} objects) to dst; bad is the Splunk text of the first bad
// object, empty when all were good. The events before a bad one are kept.
func decodeHEC(body []byte, dst []sinkEntry) (events []sinkEntry, bad string) {
	for i := skipSpace(body, 0); i < len(body); i = skipSpace(body, i) {
		if body[i] != '{' {
			return dst, hecBadFormat
		}
		end, ev := containerEnd(body, i, "event")
		switch {
		case end < 0 || (ev != nil && len(ev) == 0):
			return dst, hecBadFormat
		case ev == nil:
			return dst, hecEventRequired
		case string(ev) == `""` || string(ev) == "null":
			return dst, hecEventBlank
		case ev[0] == '"':
			dst = append(dst, sinkEntry{ev, entryString})
		default:
			dst = append(dst, sinkEntry{ev, entryJSON})
		}
		i = end
	}
	return dst, ""
}

// splitGeneric appends a generic body's events to dst: the elements of a
// JSON array, concatenated JSON objects (NDJSON), else the non-blank
// lines.
func splitGeneric(body []byte, dst []sinkEntry) ([]sinkEntry, error) {
	i := skipSpace(body, 0)
	if i == len(body) {
		return dst, nil
	}
	if body[i] == '[' {
		return splitArray(body, i, dst)
	}
	if body[i] == '{' {
		if entries, ok := splitObjects(body, i, dst); ok {
			return entries, nil
		}
	}
	return splitLines(body, dst), nil
}

// splitArray appends the elements of the JSON array that opens at
// body[i]; nothing but whitespace may follow it.
func splitArray(body []byte, i int, dst []sinkEntry) ([]sinkEntry, error) {
	n := len(dst)
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == ']' {
		return dst, arrayTail(body, i+1)
	}
	for {
		end := valueEnd(body, i)
		if end < 0 {
			return dst[:n], fmt.Errorf("decode JSON array element %d: a value is missing, malformed or cut short", len(dst)-n+1)
		}
		dst = append(dst, sinkEntry{body[i:end], entryJSON})
		i = skipSpace(body, end)
		switch {
		case i == len(body):
			return dst[:n], errors.New("decode JSON array end: the closing bracket is missing")
		case body[i] == ']':
			if err := arrayTail(body, i+1); err != nil {
				return dst[:n], err
			}
			return dst, nil
		case body[i] != ',':
			return dst[:n], fmt.Errorf("decode JSON array element %d: want a comma or a closing bracket after it", len(dst)-n)
		}
		i = skipSpace(body, i+1)
	}
}

func arrayTail(body []byte, i int) error {
	if skipSpace(body, i) != len(body) {
		return errors.New("decode JSON array: data after the closing bracket")
	}
	return nil
}

// splitObjects appends concatenated JSON objects; ok is false when the
// body is not only objects (a Konnect batch mixing JSON and CEF lines).
func splitObjects(body []byte, i int, dst []sinkEntry) ([]sinkEntry, bool) {
	n := len(dst)
	for i = skipSpace(body, i); i < len(body); i = skipSpace(body, i) {
		if body[i] != '{' {
			return dst[:n], false
		}
		end, _ := containerEnd(body, i, "")
		if end < 0 {
			return dst[:n], false
		}
		dst = append(dst, sinkEntry{body[i:end], entryJSON})
		i = end
	}
	return dst, true
}

// splitLines appends the non-blank lines; a line that is one JSON object
// is JSON, any other is text.
func splitLines(body []byte, dst []sinkEntry) []sinkEntry {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		kind := entryText
		if line[0] == '{' {
			if end, _ := containerEnd(line, 0, ""); end > 0 && skipSpace(line, end) == len(line) {
				kind = entryJSON
			}
		}
		dst = append(dst, sinkEntry{line, kind})
	}
	return dst
}

// entryID is a JSON object's "id" (its first member in the relay's
// events, so looked for there first), or a CEF line's externalId, plain or
// as a HEC string event; nil when there is none. It may alias e.data.
func entryID(e sinkEntry) []byte {
	switch e.kind {
	case entryJSON:
		return jsonID(e.data)
	case entryString:
		if line := unquote(e.data); line != nil {
			return cefExternalID(line)
		}
		return nil
	}
	return cefExternalID(e.data)
}

// jsonID is the "id" member of a JSON object: a string's content, any
// other value's text; nil when absent, null or empty.
func jsonID(obj []byte) []byte {
	const first = `{"id":"`
	if bytes.HasPrefix(obj, []byte(first)) {
		if end := stringEnd(obj, len(first)-1); end > 0 && bytes.IndexByte(obj[len(first):end-1], '\\') < 0 {
			return nilIfEmpty(obj[len(first) : end-1])
		}
	}
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	_, v := containerEnd(obj, 0, "id")
	switch {
	case len(v) == 0 || string(v) == "null":
		return nil
	case v[0] == '"':
		return nilIfEmpty(unquote(v))
	}
	return v
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// cefExternalID is the value of a CEF extension's externalId key: the
// first "externalId=" when a space or the header's last pipe precedes it,
// up to the next space.
func cefExternalID(line []byte) []byte {
	const key = "externalId="
	i := bytes.Index(line, []byte(key))
	if i < 0 || (i > 0 && line[i-1] != ' ' && line[i-1] != '|') {
		return nil
	}
	v := line[i+len(key):]
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return nilIfEmpty(v)
}
