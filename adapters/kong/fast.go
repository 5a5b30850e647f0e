package kong

import (
	"bytes"
	"strings"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// parseFast reads a body — a record, an array of records or an Admin API
// page — in one pass (package jsonscan), straight into records, with each
// record's own bytes (compacted only when they hold whitespace) for its
// content id and raw, and its entity or JSON payload read in the same
// pass. ok is false whenever anything needs the record-by-record path
// (parseEach), which then runs from the start, so both give the same
// result: any syntax error or refused record, an element that is not an
// object, a page whose data is not an array, a value of another JSON type
// than the field's, a key written with escapes, outside ASCII, in another
// case than the field's or twice.
func (a *Adapter) parseFast(body []byte, meta auditrelay.Meta) (out auditrelay.Parsed, ok bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return out, false
	}
	f := fast{a: a, meta: meta, body: trimmed, r: jsonscan.NewReader(trimmed)}
	r := &f.r
	switch {
	case trimmed[0] == '[':
		for it := r.Array(); it.Next(); {
			if !f.record() {
				return out, false
			}
		}
	case trimmed[0] != '{':
		return out, false
	case !bytes.Contains(trimmed, []byte(`"data"`)): // as decodePage tells a record
		if !f.record() {
			return out, false
		}
	case !f.page():
		return out, false
	}
	if r.End() != nil {
		return out, false
	}
	if f.out.Events == nil {
		f.out.Events = []auditrelay.Event{}
	}
	return f.out, true
}

// fast holds one parseFast call's state.
type fast struct {
	a       *Adapter
	meta    auditrelay.Meta
	r       jsonscan.Reader
	body    []byte
	out     auditrelay.Parsed
	text    []byte // one record's strings, back to back
	compact []byte
}

// span locates a string in fast.text.
type span struct{ off, end int }

// member returns the index in names of the member key it is at, -1 for
// a key no field has, and false for a key encoding/json might match to a
// field otherwise (escaped, not ASCII, another case) or one already seen.
func member(it *jsonscan.Iter, seen *uint32, names []string) (int, bool) {
	key, decode := it.Key()
	if decode {
		return 0, false
	}
	for i, n := range names {
		if string(key) == n {
			if *seen&(1<<i) != 0 {
				return 0, false
			}
			*seen |= 1 << i
			return i, true
		}
	}
	for _, c := range key {
		if c >= 0x80 {
			return 0, false
		}
	}
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return 0, false
		}
	}
	return -1, true
}

var pageKeys = []string{"data", "next", "offset"}

// page reads an Admin API page whose data is an array.
func (f *fast) page() bool {
	r := &f.r
	var seen uint32
	for it := r.Object(); it.Next(); {
		i, ok := member(&it, &seen, pageKeys)
		if !ok {
			return false
		}
		switch i {
		case 0:
			if r.Peek() != jsonscan.Array {
				return false
			}
			for it := r.Array(); it.Next(); {
				if !f.record() {
					return false
				}
			}
		case 1, 2:
			if k := r.Peek(); k != jsonscan.String && k != jsonscan.Null {
				return false
			}
			r.Skip()
		default:
			r.Skip()
		}
	}
	return seen&1 != 0 && r.Err() == nil
}

// Fields of a record, by their index in recordKeys.
const (
	fRequestID = iota
	fRequestTimestamp
	fClientIP
	fPath
	fMethod
	fStatus
	fRBACUserID
	fRBACUserName
	fRequestSource
	fWorkspace
	fPayload
	fID
	fDaoName
	fEntityKey
	fOperation
	fEntity
	numFields
)

var recordKeys = []string{
	"request_id", "request_timestamp", "client_ip", "path", "method", "status",
	"rbac_user_id", "rbac_user_name", "request_source", "workspace", "payload",
	"id", "dao_name", "entity_key", "operation", "entity",
}

// record reads one record and appends its event.
func (f *fast) record() bool {
	r := &f.r
	if r.Peek() != jsonscan.Object {
		return false
	}
	start, spaces := r.Pos(), r.Spaces()
	f.text = f.text[:0]
	var s [numFields]span
	var rec record
	var seen uint32
	for it := r.Object(); it.Next(); {
		i, ok := member(&it, &seen, recordKeys)
		if !ok {
			return false
		}
		switch i {
		case -1:
			r.Skip()
		case fStatus:
			ok = f.status(&rec)
		case fRequestTimestamp:
			rec.RequestTimestamp = r.Value()
		default:
			ok = f.str(&s[i])
		}
		if !ok {
			return false
		}
	}
	if r.Err() != nil {
		return false
	}
	raw := f.body[start:r.Pos()]
	compacted := r.Spaces() != spaces
	ent, entOK := f.entity(s[fEntity])
	pl, plOK := f.payload(s[fPayload])
	text := string(f.text)
	at := func(sp span) string { return text[sp.off:sp.end] }
	rec.RequestID, rec.ClientIP, rec.Path, rec.Method = at(s[fRequestID]), at(s[fClientIP]), at(s[fPath]), at(s[fMethod])
	rec.RBACUserID, rec.RBACUserName, rec.RequestSource = at(s[fRBACUserID]), at(s[fRBACUserName]), at(s[fRequestSource])
	rec.Workspace, rec.Payload, rec.ID, rec.DaoName = at(s[fWorkspace]), at(s[fPayload]), at(s[fID]), at(s[fDaoName])
	rec.EntityKey, rec.Operation, rec.Entity = at(s[fEntityKey]), at(s[fOperation]), at(s[fEntity])
	if entOK {
		rec.ent = entityFields{id: at(ent.id), name: at(ent.name), wsID: at(ent.wsID), updatedAt: ent.updatedAt, createdAt: ent.createdAt}
		rec.entRead = true
	}
	if plOK {
		rec.payloadName, rec.payloadRead = at(pl.name), true
	}
	e, err := f.a.normalize(&rec)
	if err != nil {
		return false
	}
	if e.ID == "" || f.meta.IncludeRaw {
		if compacted {
			f.compact = jsonscan.AppendCompact(f.compact[:0], raw)
			raw = f.compact
		}
		if e.ID == "" {
			e.ID = auditrelay.ContentID(Kind, raw)
		}
		if f.meta.IncludeRaw {
			e.Raw = bytes.Clone(raw)
		}
	}
	e.ReceivedAt = f.meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: f.meta.Input, DeliveryID: f.meta.DeliveryID}
	if f.out.Events == nil {
		f.out.Events = f.meta.EventBuffer(eventsCap(len(f.body), len(raw)))
	}
	f.out.Events = append(f.out.Events, e)
	return true
}

// eventsCap guesses how many events a body holds from its first record's
// size, never more than one per 64 bytes.
func eventsCap(body, first int) int {
	return min(body/(first+1), body/64) + 1
}

// str reads a string field into text; null leaves it empty.
func (f *fast) str(dst *span) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.String:
		raw, decode := r.String()
		*dst = f.appendText(raw, decode)
		return true
	case jsonscan.Null:
		r.Null()
		return true
	}
	return false
}

func (f *fast) appendText(raw []byte, decode bool) span {
	off := len(f.text)
	f.text = jsonscan.AppendText(f.text, raw, decode)
	return span{off, len(f.text)}
}

// status reads status, an int as encoding/json reads one (no fraction, no
// exponent, no overflow); null leaves it 0.
func (f *fast) status(rec *record) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.Number:
		n, ok := jsonscan.ParseInt(r.Number())
		rec.Status = n
		return ok
	case jsonscan.Null:
		r.Null()
		return true
	}
	return false
}

// entitySpans is what entity reads of an entity: its strings as spans of
// text, its times as the raw values.
type entitySpans struct {
	id, name, wsID       span
	updatedAt, createdAt []byte
}

var entityKeys = []string{"id", "name", "username", "ws_id", "created_at", "updated_at"}

// entity reads an object record's entity, the JSON text at s in text, as
// parseEntity and the entity methods read it. ok is false when parseEntity
// must read it (a key encoding/json might match otherwise).
func (f *fast) entity(s span) (entitySpans, bool) {
	if s.off == s.end {
		return entitySpans{}, true
	}
	return f.readEntity(f.text[s.off:s.end])
}

// payload reads a request record's payload, at s in text, as payloadName
// does when it is a JSON object; ok is false for any other payload
// (payloadName reads it when the mapping needs it).
func (f *fast) payload(s span) (entitySpans, bool) {
	data := f.text[s.off:s.end]
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return entitySpans{}, false
	}
	return f.readEntity(data)
}

// readEntity reads data as json.Unmarshal reads it into an entity: a
// value that is not one valid JSON object gives none; a later duplicate
// key wins; a member that is not a string gives "". data must not change
// while text grows (it is in text, below its length, or elsewhere).
func (f *fast) readEntity(data []byte) (entitySpans, bool) {
	r := jsonscan.NewReader(data)
	if r.Peek() != jsonscan.Object {
		return entitySpans{}, true
	}
	var strs [4]span // id, name, username, ws_id
	var out entitySpans
	mark := len(f.text)
	for it := r.Object(); it.Next(); {
		var seen uint32 // duplicates are fine here: the last wins
		i, ok := member(&it, &seen, entityKeys)
		if !ok {
			f.text = f.text[:mark]
			return entitySpans{}, false
		}
		switch i {
		case -1:
			r.Skip()
		case 4:
			out.createdAt = r.Value()
		case 5:
			out.updatedAt = r.Value()
		default:
			strs[i] = span{}
			if r.Peek() == jsonscan.String {
				strs[i] = f.appendText(r.String())
			} else {
				r.Skip()
			}
		}
	}
	if r.End() != nil {
		f.text = f.text[:mark]
		return entitySpans{}, true
	}
	out.id, out.name, out.wsID = strs[0], strs[1], strs[3]
	if out.name.off == out.name.end {
		out.name = strs[2]
	}
	return out, true
}
