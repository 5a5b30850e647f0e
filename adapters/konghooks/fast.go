package konghooks

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// parseFast reads a delivery (trimmed, starting with '{') in one pass
// (package jsonscan) straight into a hook, with the body's own bytes
// (compacted only when they hold whitespace) for its id. ok is false
// whenever anything needs the general path (json.Unmarshal), which then
// runs from the start, so both give the same result: any syntax error or
// refused delivery, a value of another JSON type than the field's, a key
// written with escapes, outside ASCII, in another case than the field's or
// twice.
func parseFast(trimmed []byte, meta auditrelay.Meta) (out auditrelay.Parsed, ok bool) {
	f := fast{r: jsonscan.NewReader(trimmed), text: make([]byte, 0, len(trimmed))} // the strings fit, unless decoding grows them
	var h hook
	if !f.hook(&h) || f.r.End() != nil {
		return out, false
	}
	if h.Source == sourcePing {
		return auditrelay.Parsed{Ignored: 1}, true
	}
	e, err := normalize(&h, meta)
	if err != nil {
		return out, false
	}
	id := trimmed
	if f.r.Spaces() != 0 {
		id = jsonscan.AppendCompact(make([]byte, 0, len(trimmed)), trimmed)
	}
	e.ID = auditrelay.ContentID(Kind, id)
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		if f.r.Spaces() == 0 {
			id = bytes.Clone(id)
		}
		e.Raw = id
	}
	return auditrelay.Parsed{Events: append(meta.EventBuffer(1), e)}, true
}

// fast holds one parseFast call's state.
type fast struct {
	r    jsonscan.Reader
	text []byte // the delivery's strings, back to back
}

// span locates a string in fast.text.
type span struct{ off, end int }

// member returns the index in names of the member key it is at, -1 for
// a key no field has, and false for a key encoding/json might match to a
// field otherwise (escaped, not ASCII, another case) or, unless dupOK, one
// already seen.
func member(it *jsonscan.Iter, seen *uint32, names []string, dupOK bool) (int, bool) {
	key, decode := it.Key()
	if decode {
		return 0, false
	}
	for i, n := range names {
		if string(key) == n {
			if *seen&(1<<i) != 0 && !dupOK {
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

// Fields of a hook, by their index in hookKeys.
const (
	hSource = iota
	hEvent
	hOperation
	hSchema
	hEntity
	hOldEntity
	hUpstreamID
	hIP
	hPort
	hHostname
	hHealth
	hConsumer
	hService
	hRate
	hLimit
	hWindow
	numHookFields
)

var hookKeys = []string{
	"source", "event", "operation", "schema", "entity", "old_entity", "upstream_id", "ip", "port",
	"hostname", "health", "consumer", "service", "rate", "limit", "window",
}

// entityStrings are an entity's string members, as spans of text.
type entityStrings [numEntityStrings]span

func (f *fast) hook(h *hook) bool {
	r := &f.r
	if r.Peek() != jsonscan.Object {
		return false
	}
	var s [numHookFields]span
	var es [4]entityStrings // entity, old_entity, consumer, service
	var seen uint32
	for it := r.Object(); it.Next(); {
		i, ok := member(&it, &seen, hookKeys, false)
		if !ok {
			return false
		}
		switch i {
		case -1:
			r.Skip()
		case hEntity:
			ok = f.entity(&h.Entity, &es[0])
		case hOldEntity:
			ok = f.entity(&h.OldEntity, &es[1])
		case hConsumer:
			ok = f.entity(&h.Consumer, &es[2])
		case hService:
			ok = f.entity(&h.Service, &es[3])
		case hPort:
			ok = f.port(h)
		case hRate:
			h.Rate = r.Value()
		case hLimit:
			h.Limit = r.Value()
		case hWindow:
			h.Window = r.Value()
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
	text := string(f.text)
	at := func(sp span) string { return text[sp.off:sp.end] }
	h.Source, h.Event, h.Operation, h.Schema = at(s[hSource]), at(s[hEvent]), at(s[hOperation]), at(s[hSchema])
	h.UpstreamID, h.IP, h.Hostname, h.Health = at(s[hUpstreamID]), at(s[hIP]), at(s[hHostname]), at(s[hHealth])
	for i, e := range [...]*entity{&h.Entity, &h.OldEntity, &h.Consumer, &h.Service} {
		for j, sp := range es[i] {
			e.decoded[j] = at(sp)
		}
		e.isDecoded = true
	}
	return true
}

// str reads a string field into text; null leaves it empty.
func (f *fast) str(dst *span) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.String:
		*dst = f.appendText(r.String())
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

// port reads port, an int as encoding/json reads one; null leaves it 0.
func (f *fast) port(h *hook) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.Number:
		n, ok := jsonscan.ParseInt(r.Number())
		h.Port = n
		return ok
	case jsonscan.Null:
		r.Null()
		return true
	}
	return false
}

var entityKeys = []string{"id", "name", "username", "custom_id", "ws_id", "created_at", "updated_at"}

// entity reads an entity member as entity.UnmarshalJSON does: null gives
// none, an object its members (a later duplicate key wins; a member that
// is not a string reads as ""); any other type is for the general path,
// which refuses it.
func (f *fast) entity(e *entity, s *entityStrings) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.Null:
		r.Null()
		return true
	case jsonscan.Object:
	default:
		return false
	}
	e.present = true
	var seen uint32
	for it := r.Object(); it.Next(); {
		i, ok := member(&it, &seen, entityKeys, true)
		if !ok {
			return false
		}
		if i < 0 {
			r.Skip()
			continue
		}
		v := r.Value()
		*e.member(i) = v
		if i < numEntityStrings {
			s[i] = span{}
			if len(v) > 0 && v[0] == '"' {
				raw := v[1 : len(v)-1]
				s[i] = f.appendText(raw, needsDecode(raw))
			}
		}
	}
	return true
}

// member returns the raw value of the member entityKeys[i] names.
func (e *entity) member(i int) *json.RawMessage {
	switch i {
	case 0:
		return &e.ID
	case 1:
		return &e.Name
	case 2:
		return &e.Username
	case 3:
		return &e.CustomID
	case 4:
		return &e.WsID
	case 5:
		return &e.CreatedAt
	}
	return &e.UpdatedAt
}

// needsDecode reports whether a string's content (validated JSON) must go
// through jsonscan.AppendDecoded: it holds an escape or bytes outside
// ASCII (which may be invalid UTF-8).
func needsDecode(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	return false
}
