package konnect

import (
	"bytes"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// Fields of a record, by their Konnect key (see record.set).
const (
	fName = iota
	fClassID
	fRT
	fEventTS
	fSrc
	fOrgID
	fPrincipalID
	fPrincipalName
	fKongInit
	fTraceID
	fUserAgent
	fRequest
	fQuery
	fAct
	fStatus
	fSuccess
	fGranted
	fAction
	fPortalID
	numFields
)

// fieldOf finds the field a key names exactly, -1 for any other key.
func fieldOf(key []byte) int {
	switch string(key) {
	case "name":
		return fName
	case "event_class_id":
		return fClassID
	case "rt":
		return fRT
	case "event_ts":
		return fEventTS
	case "src":
		return fSrc
	case "org_id":
		return fOrgID
	case "principal_id":
		return fPrincipalID
	case "principal_name":
		return fPrincipalName
	case "kong_initiated":
		return fKongInit
	case "trace_id":
		return fTraceID
	case "user_agent":
		return fUserAgent
	case "request":
		return fRequest
	case "query":
		return fQuery
	case "act":
		return fAct
	case "status":
		return fStatus
	case "success":
		return fSuccess
	case "granted":
		return fGranted
	case "action":
		return fAction
	case "portal_id":
		return fPortalID
	}
	return -1
}

// span locates a field's text in lineParser.text.
type span struct{ off, end int }

// level is what the one-pass reader keeps of one object of an entry: the
// entry itself, or a CPS entry's "event" object.
type level struct {
	f [numFields]span
	// named: the last "name" was not null (a CPS wrapper has none).
	named bool
	// bad: a value the general path refuses (an object or array where a
	// scalar belongs, a query it cannot read), or one it must judge.
	bad bool
}

// queryPair is one key=value of a query object, in lineParser.text; member
// numbers the object member it came from (a later duplicate key replaces
// the member's values), and a pair with noValue only marks that member.
type queryPair struct {
	key, value span
	member     int
	noValue    bool
}

// lineParser holds the buffers one Parse call reuses from line to line.
type lineParser struct {
	text    []byte // one entry's field values, back to back
	compact []byte
	keyBuf  []byte
	pairs   []queryPair
	ext     []field
	scratch bytes.Buffer // the general path's json.Compact
}

// readJSON reads a JSON or CPS entry (trimmed, starting with '{') in one pass
// (package jsonscan) into rec and returns the bytes of its content id: the
// entry itself, or its json.Compact form when it holds whitespace. ok is
// false whenever the general path must read the entry: any syntax error, an
// object or array where a scalar belongs, a query the one-pass reader does
// not take, or a CPS wrapper that the general path would refuse. rec is
// then not set. Keys match exactly (a map, not a struct), a later
// duplicate wins, null is "" — as decoding into map[string]any does.
func (p *lineParser) readJSON(trimmed []byte, rec *record) (id []byte, ok bool) {
	p.text = p.text[:0]
	r := jsonscan.NewReader(trimmed)
	var outer, inner level
	eventObject := false
	for it := r.Object(); it.Next(); {
		key := p.key(&it)
		if string(key) == "event" {
			eventObject = r.Peek() == jsonscan.Object
			if eventObject {
				inner = level{}
				for it := r.Object(); it.Next(); {
					p.member(&r, &inner, p.key(&it))
				}
				continue
			}
		}
		p.member(&r, &outer, key)
	}
	if r.End() != nil {
		return nil, false
	}
	lv := &outer
	if eventObject {
		if outer.named {
			return nil, false // "event": an object where a scalar belongs
		}
		lv = &inner
	}
	if lv.bad {
		return nil, false
	}
	rec.fill(string(p.text), &lv.f)
	id = trimmed
	if r.Spaces() != 0 {
		p.compact = jsonscan.AppendCompact(p.compact[:0], trimmed)
		id = p.compact
	}
	return id, true
}

// key returns the current member's key as encoding/json decodes it.
func (p *lineParser) key(it *jsonscan.Iter) []byte {
	raw, decode := it.Key()
	if !decode {
		return raw
	}
	p.keyBuf = jsonscan.AppendDecoded(p.keyBuf[:0], raw)
	return p.keyBuf
}

// member reads one member's value into lv as scalar and queryOf would.
func (p *lineParser) member(r *jsonscan.Reader, lv *level, key []byte) {
	f := fieldOf(key)
	if f == fQuery {
		p.query(r, lv)
		return
	}
	k := r.Peek()
	if k == jsonscan.Object || k == jsonscan.Array {
		r.Skip()
		lv.bad = true
		return
	}
	if f < 0 {
		r.Skip()
		return
	}
	if f == fName {
		lv.named = k != jsonscan.Null
	}
	lv.f[f] = p.scalar(r)
}

// scalar reads a string, number, boolean or null (as "") into text.
func (p *lineParser) scalar(r *jsonscan.Reader) span {
	off := len(p.text)
	switch r.Peek() {
	case jsonscan.String:
		raw, decode := r.String()
		if decode {
			p.text = jsonscan.AppendDecoded(p.text, raw)
		} else {
			p.text = append(p.text, raw...)
		}
	case jsonscan.Number:
		p.text = append(p.text, r.Number()...)
	case jsonscan.Bool:
		if r.Bool() {
			p.text = append(p.text, "true"...)
		} else {
			p.text = append(p.text, "false"...)
		}
	default:
		r.Skip()
	}
	return span{off, len(p.text)}
}

// query reads an entry's query as queryOf does: a JSON object, or a string
// holding one (or a plain query string), encoded as url.Values would.
func (p *lineParser) query(r *jsonscan.Reader, lv *level) {
	switch r.Peek() {
	case jsonscan.Null:
		r.Null()
		lv.f[fQuery] = span{}
	case jsonscan.Object:
		s, ok := p.queryObject(r)
		lv.f[fQuery] = s
		lv.bad = lv.bad || !ok
	case jsonscan.String:
		s, ok := p.queryString(p.scalar(r))
		lv.f[fQuery] = s
		lv.bad = lv.bad || !ok
	case jsonscan.Invalid:
	default:
		r.Skip()
		lv.bad = true
	}
}

// queryString reads the query string at s in text: a plain query string
// is kept without its "?", a JSON object is encoded. ok is false when the
// object is not one valid JSON object (the general path words the error).
func (p *lineParser) queryString(s span) (span, bool) {
	whole := p.text[s.off:s.end]
	q := bytes.TrimSpace(whole)
	if len(q) == 0 || q[0] != '{' {
		q = bytes.TrimPrefix(q, []byte{'?'})
		if len(q) == 0 {
			return span{}, true
		}
		off := s.off + cap(whole) - cap(q) // q is a reslice of whole
		return span{off, off + len(q)}, true
	}
	r := jsonscan.NewReader(q) // q stays valid while text grows
	out, ok := p.queryObject(&r)
	if r.End() != nil {
		return span{}, false
	}
	return out, ok
}

// queryObject reads a query object and appends its url.Values encoding
// (keys sorted, a key's values in order) to text. An array gives a value
// per scalar element; an object member or element gives none; a later
// duplicate key replaces the earlier one's values.
func (p *lineParser) queryObject(r *jsonscan.Reader) (span, bool) {
	p.pairs = p.pairs[:0]
	m := 0
	for it := r.Object(); it.Next(); m++ {
		raw, decode := it.Key()
		key := p.appendText(raw, decode)
		p.pairs = append(p.pairs, queryPair{key: key, member: m, noValue: true})
		switch r.Peek() {
		case jsonscan.Object:
			r.Skip()
		case jsonscan.Array:
			for it := r.Array(); it.Next(); {
				if k := r.Peek(); k == jsonscan.Object || k == jsonscan.Array {
					r.Skip()
					continue
				}
				p.pairs = append(p.pairs, queryPair{key: key, value: p.scalar(r), member: m})
			}
		default:
			p.pairs = append(p.pairs, queryPair{key: key, value: p.scalar(r), member: m})
		}
	}
	if r.Err() != nil {
		return span{}, false
	}
	text := p.text
	keyOf := func(q queryPair) []byte { return text[q.key.off:q.key.end] }
	slices.SortStableFunc(p.pairs, func(a, b queryPair) int { return bytes.Compare(keyOf(a), keyOf(b)) })
	off := len(p.text)
	for i := 0; i < len(p.pairs); {
		j, last := i+1, p.pairs[i].member
		for j < len(p.pairs) && bytes.Equal(keyOf(p.pairs[j]), keyOf(p.pairs[i])) {
			last = max(last, p.pairs[j].member)
			j++
		}
		for _, q := range p.pairs[i:j] {
			if q.member != last || q.noValue {
				continue
			}
			if len(p.text) > off {
				p.text = append(p.text, '&')
			}
			p.text = appendQueryEscape(p.text, text[q.key.off:q.key.end])
			p.text = append(p.text, '=')
			p.text = appendQueryEscape(p.text, text[q.value.off:q.value.end])
		}
		i = j
	}
	return span{off, len(p.text)}, true
}

// appendText appends a string's content, decoded when it must be.
func (p *lineParser) appendText(raw []byte, decode bool) span {
	off := len(p.text)
	if decode {
		p.text = jsonscan.AppendDecoded(p.text, raw)
	} else {
		p.text = append(p.text, raw...)
	}
	return span{off, len(p.text)}
}

// appendQueryEscape appends s escaped as url.QueryEscape escapes it.
func appendQueryEscape(dst, s []byte) []byte {
	const upperhex = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return dst
}

// cefQuery reads a CEF entry's query value as queryOf does; ok is false
// when queryOf must (it then fails, or words what the fast reader did not
// take).
func (p *lineParser) cefQuery(v string) (string, bool) {
	if t := strings.TrimSpace(v); !strings.HasPrefix(t, "{") {
		return strings.TrimPrefix(t, "?"), true
	}
	p.text = append(p.text[:0], v...)
	s, ok := p.queryString(span{0, len(p.text)})
	if !ok {
		return "", false
	}
	return string(p.text[s.off:s.end]), true
}

// fill sets the record's fields from their spans in text.
func (r *record) fill(text string, f *[numFields]span) {
	at := func(i int) string { return text[f[i].off:f[i].end] }
	r.name = at(fName)
	r.classID = at(fClassID)
	r.rt = at(fRT)
	r.eventTS = at(fEventTS)
	r.src = at(fSrc)
	r.orgID = at(fOrgID)
	r.principalID = at(fPrincipalID)
	r.principalName = at(fPrincipalName)
	r.kongInit = at(fKongInit)
	r.traceID = at(fTraceID)
	r.userAgent = at(fUserAgent)
	r.request = at(fRequest)
	r.query = at(fQuery)
	r.act = at(fAct)
	r.status = at(fStatus)
	r.success = at(fSuccess)
	r.granted = at(fGranted)
	r.action = at(fAction)
	r.portalID = at(fPortalID)
}
