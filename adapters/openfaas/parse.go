package openfaas

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// Parse turns one delivery (a JSON array of api_access events) into
// events. A malformed element rejects the whole delivery.
//
// It reads the body once (package jsonscan): each element's fields go
// straight into its event, and the element's own bytes, compacted only when
// they hold whitespace, give its content id. It accepts, maps and refuses
// exactly what decoding each element into a struct with encoding/json did
// (the reference in reference_test.go), quirks included: keys match
// case-insensitively, a later duplicate key wins, null leaves a string or
// number as it was, a syntax error anywhere in the body is reported before
// a wrong type in any element, and a time that does not parse before any
// other wrong type in its element.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return auditrelay.Parsed{}, errors.New("body is empty: OpenFaaS sends a JSON array of api_access events")
	}
	if trimmed[0] != '[' {
		return auditrelay.Parsed{}, fmt.Errorf("body is JSON %s, not an array: OpenFaaS sends a JSON array of api_access events", jsonscan.KindOf(trimmed[0]).String())
	}
	r := jsonscan.NewReader(trimmed)
	if t := meta.Header.Get("X-Openfaas-Event"); t != "" && t != "api_access" {
		n := 0
		for it := r.Array(); it.Next(); n++ {
			r.Skip()
		}
		if err := r.End(); err != nil {
			return auditrelay.Parsed{}, bodyError(err)
		}
		return auditrelay.Parsed{Ignored: n}, nil
	}
	p := parser{a: a, meta: meta, r: &r, body: trimmed, delivery: meta.DeliveryID}
	if p.delivery == "" {
		p.delivery = meta.Header.Get("X-Openfaas-Delivery")
	}
	var first error
	for it := r.Array(); it.Next(); {
		if first != nil {
			r.Skip()
			continue
		}
		if err := p.element(); err != nil {
			first = fmt.Errorf("event %d: %w", it.Index(), err)
		}
	}
	if err := r.End(); err != nil {
		return auditrelay.Parsed{}, bodyError(err)
	}
	if first != nil {
		return auditrelay.Parsed{}, first
	}
	if p.out.Events == nil {
		p.out.Events = []auditrelay.Event{}
	}
	return p.out, nil
}

func bodyError(err error) error {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("body: invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("body: %w", err)
}

// parser holds one Parse call's state.
type parser struct {
	a        *Adapter
	meta     auditrelay.Meta
	delivery string
	r        *jsonscan.Reader
	body     []byte
	out      auditrelay.Parsed
	src      element
	compact  []byte
}

// span locates a string field in element.text.
type span struct{ off, end int }

// element is what Parse keeps of one api_access element while it reads
// it: its string fields decoded back to back in text, so that one string
// conversion makes all of them.
type element struct {
	text                                   []byte
	event, path, method, custom, namespace span
	sub, name, issuer, fedIssuer           span
	actions                                []span
	// actionsSet: "actions" was an array (possibly empty), not absent or
	// null.
	actionsSet bool
	// exact holds the actions once a second "actions" array was read in
	// the same element (see again).
	exact     []string
	exactMode bool
	code      int
	time      time.Time
	// typeErr is the first field of the wrong JSON type; reading goes on.
	typeErr error
	// err is a time that did not parse; the rest of the element is skipped.
	err error
}

func (e *element) reset() {
	*e = element{text: e.text[:0], actions: e.actions[:0]}
}

// element reads the next element of the array; a non-nil error names what
// is wrong with it. A syntax error is left in the Reader.
func (p *parser) element() error {
	r := p.r
	k := r.Peek()
	if k == jsonscan.Invalid {
		return nil
	}
	start := r.Pos()
	if k != jsonscan.Object {
		r.Skip()
		return fmt.Errorf("want a JSON object, got %s", jsonscan.KindOf(p.body[start]).String())
	}
	spaces := r.Spaces()
	e := &p.src
	e.reset()
	p.object(e)
	switch {
	case r.Err() != nil:
		return nil
	case e.err != nil:
		return e.err
	case e.typeErr != nil:
		return e.typeErr
	}
	if ev := e.text[e.event.off:e.event.end]; len(ev) > 0 && string(ev) != "api_access" {
		p.out.Ignored++
		return nil
	}
	raw := p.body[start:r.Pos()]
	if r.Spaces() != spaces {
		p.compact = jsonscan.AppendCompact(p.compact[:0], raw)
		raw = p.compact
	}
	if p.out.Events == nil {
		p.out.Events = p.meta.EventBuffer(eventsCap(len(p.body), len(raw)))
	}
	p.out.Events = append(p.out.Events, p.normalize(e, raw))
	return nil
}

// eventsCap guesses how many events a body holds from its first element's
// size, never more than one per 128 bytes (smaller elements just grow the
// slice).
func eventsCap(body, first int) int {
	return min(body/(first+1), body/128) + 1
}

// Fields of an api_access element and of its actor.
const (
	fieldNone = iota
	fieldEvent
	fieldActor
	fieldPath
	fieldMethod
	fieldActions
	fieldCode
	fieldTime
	fieldCustom
	fieldNamespace
	fieldSub
	fieldName
	fieldIssuer
	fieldFedIssuer
)

// fieldOf finds the field a key names as encoding/json matches a struct
// field: the exact name, else case-insensitively (see fold).
func fieldOf(key []byte, decode, inActor bool) int {
	if !decode {
		if f := exactField(string(key), inActor); f != fieldNone {
			return f
		}
	}
	var kb, fb [64]byte
	if decode {
		key = jsonscan.AppendDecoded(kb[:0], key)
	}
	folded := fold(fb[:0], key)
	for i, c := range folded {
		if c >= utf8.RuneSelf {
			return fieldNone // every field name is ASCII
		}
		if 'A' <= c && c <= 'Z' {
			folded[i] = c + 'a' - 'A'
		}
	}
	return exactField(string(folded), inActor)
}

// exactField matches a key to a field by its exact name.
func exactField(key string, inActor bool) int {
	if inActor {
		switch key {
		case "sub":
			return fieldSub
		case "name":
			return fieldName
		case "issuer":
			return fieldIssuer
		case "fed_issuer":
			return fieldFedIssuer
		}
		return fieldNone
	}
	switch key {
	case "event":
		return fieldEvent
	case "actor":
		return fieldActor
	case "path":
		return fieldPath
	case "method":
		return fieldMethod
	case "actions":
		return fieldActions
	case "response_code":
		return fieldCode
	case "time":
		return fieldTime
	case "custom_message":
		return fieldCustom
	case "namespace":
		return fieldNamespace
	}
	return fieldNone
}

// fold upper-cases a key the way encoding/json folds names for its
// case-insensitive match: ASCII letters, and any other rune to the least
// rune of its simple case folding orbit ("ſ" and the Kelvin sign fold to
// "S" and "K").
func fold(dst, key []byte) []byte {
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

func (p *parser) object(e *element) {
	r := p.r
	for it := r.Object(); it.Next(); {
		if e.err != nil {
			r.Skip()
			continue
		}
		key, decode := it.Key()
		switch fieldOf(key, decode, false) {
		case fieldEvent:
			p.str(e, "event", &e.event)
		case fieldActor:
			p.actor(e)
		case fieldPath:
			p.str(e, "path", &e.path)
		case fieldMethod:
			p.str(e, "method", &e.method)
		case fieldActions:
			p.actions(e)
		case fieldCode:
			p.code(e)
		case fieldTime:
			p.time(e)
		case fieldCustom:
			p.str(e, "custom_message", &e.custom)
		case fieldNamespace:
			p.str(e, "namespace", &e.namespace)
		default:
			r.Skip()
		}
	}
}

// str reads a string field; null leaves it as it was.
func (p *parser) str(e *element, field string, dst *span) {
	r := p.r
	switch r.Peek() {
	case jsonscan.String:
		raw, decode := r.String()
		off := len(e.text)
		if decode {
			e.text = jsonscan.AppendDecoded(e.text, raw)
		} else {
			e.text = append(e.text, raw...)
		}
		*dst = span{off, len(e.text)}
	case jsonscan.Null:
		r.Null()
	case jsonscan.Invalid:
	default:
		p.mistyped(e, field, "string")
	}
}

// mistyped skips a value of the wrong JSON type and keeps the first such
// error, worded from encoding/json's UnmarshalTypeError.
func (p *parser) mistyped(e *element, field, want string) {
	v := p.r.Value()
	if e.typeErr != nil || len(v) == 0 {
		return
	}
	got := "number"
	switch v[0] {
	case '{':
		got = "object"
	case '[':
		got = "array"
	case '"':
		got = "string"
	case 't', 'f':
		got = "bool"
	default:
		if want == "int" {
			got = "number " + string(v)
		}
	}
	e.typeErr = fmt.Errorf("%s: got JSON %s, want %s", field, got, want)
}

// actor reads the actor object: null clears it, an object is merged into
// it (a later "actor" key fills in what it names).
func (p *parser) actor(e *element) {
	r := p.r
	switch r.Peek() {
	case jsonscan.Null:
		r.Null()
		e.sub, e.name, e.issuer, e.fedIssuer = span{}, span{}, span{}, span{}
	case jsonscan.Object:
		for it := r.Object(); it.Next(); {
			key, decode := it.Key()
			switch fieldOf(key, decode, true) {
			case fieldSub:
				p.str(e, "actor.sub", &e.sub)
			case fieldName:
				p.str(e, "actor.name", &e.name)
			case fieldIssuer:
				p.str(e, "actor.issuer", &e.issuer)
			case fieldFedIssuer:
				p.str(e, "actor.fed_issuer", &e.fedIssuer)
			default:
				r.Skip()
			}
		}
	case jsonscan.Invalid:
	default:
		p.mistyped(e, "actor", "openfaas.actor")
	}
}

// actions reads the actions array; null clears it.
func (p *parser) actions(e *element) {
	r := p.r
	switch r.Peek() {
	case jsonscan.Null:
		r.Null()
		e.actionsSet, e.actions, e.exact, e.exactMode = false, e.actions[:0], nil, false
		return
	case jsonscan.Array:
	case jsonscan.Invalid:
		return
	default:
		p.mistyped(e, "actions", "[]string")
		return
	}
	if e.exactMode || len(e.actions) > 0 {
		p.again(e)
		return
	}
	e.actionsSet = true
	for it := r.Array(); it.Next(); {
		var s span // null: ""
		p.str(e, "actions", &s)
		e.actions = append(e.actions, s)
	}
}

// again reads a second "actions" array in one element the way
// encoding/json decodes into a slice it already filled: it reuses the
// slice, so a null element keeps the value the earlier array left at its
// index (within the slice's capacity, which grows as append's does).
func (p *parser) again(e *element) {
	r := p.r
	s := e.exact
	if !e.exactMode {
		for _, sp := range e.actions {
			s = append(s, string(e.text[sp.off:sp.end]))
		}
		e.exactMode = true
	}
	i := 0
	for it := r.Array(); it.Next(); i++ {
		if i >= cap(s) {
			s = append(s[:cap(s)], "")[:len(s)]
		}
		if i >= len(s) {
			s = s[:i+1]
		}
		switch r.Peek() {
		case jsonscan.String:
			s[i] = jsonscan.Decode(r.String())
		case jsonscan.Null:
			r.Null()
		case jsonscan.Invalid:
		default:
			p.mistyped(e, "actions", "string")
		}
	}
	if i < len(s) {
		s = s[:i]
	}
	if i == 0 {
		s = []string{}
	}
	e.exact = s
}

// code reads response_code, an int.
func (p *parser) code(e *element) {
	r := p.r
	switch r.Peek() {
	case jsonscan.Number:
		lit := r.Number()
		n, ok := jsonscan.ParseInt(lit)
		if !ok {
			if e.typeErr == nil {
				e.typeErr = fmt.Errorf("response_code: got JSON number %s, want int", lit)
			}
			return
		}
		e.code = n
	case jsonscan.Null:
		r.Null()
	case jsonscan.Invalid:
	default:
		p.mistyped(e, "response_code", "int")
	}
}

// time reads time with time.Time's own UnmarshalJSON, as encoding/json
// did; its error stops the element.
func (p *parser) time(e *element) {
	v := p.r.Value()
	if v == nil {
		return
	}
	t := e.time
	if err := t.UnmarshalJSON(v); err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) {
			err = fmt.Errorf("time: %q is not an RFC 3339 time", pe.Value)
		}
		e.err = err
		return
	}
	e.time = t
}

// normalize maps one api_access element; compact is its json.Compact form.
func (p *parser) normalize(e *element, compact []byte) auditrelay.Event {
	text := string(e.text)
	at := func(s span) string { return text[s.off:s.end] }
	var actions []string
	switch {
	case e.exactMode:
		actions = e.exact
	case e.actionsSet:
		actions = make([]string, len(e.actions))
		for i, s := range e.actions {
			actions[i] = at(s)
		}
	}
	method, path := at(e.method), at(e.path)
	ev := auditrelay.Event{
		ID:         auditrelay.ContentID(Kind, compact),
		Time:       e.time.UTC(),
		ReceivedAt: p.meta.ReceivedAt,
		Source:     auditrelay.Source{Kind: Kind, Input: p.meta.Input, DeliveryID: p.delivery},
		Actor:      actorOf(at(e.sub), at(e.name), at(e.issuer), at(e.fedIssuer)),
		Request:    auditrelay.Request{Method: method, Path: path},
		Outcome: auditrelay.Outcome{
			Result:     auditrelay.ResultOf(e.code),
			StatusCode: e.code,
			Reason:     at(e.custom),
		},
		Action:   auditrelay.Action{All: actions, Verb: auditrelay.VerbOf(method)},
		Resource: p.a.resourceOf(path, actions, at(e.namespace)),
	}
	if len(actions) > 0 {
		ev.Action.Name = actions[0]
	}
	if p.meta.IncludeRaw {
		ev.Raw = bytes.Clone(compact)
	}
	ev.Score(false)
	return ev
}

func actorOf(sub, name, issuer, fedIssuer string) auditrelay.Actor {
	if sub == "" && name == "" && issuer == "" && fedIssuer == "" {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	t := auditrelay.ActorUser
	if strings.Contains(sub, "system:serviceaccount:") {
		t = auditrelay.ActorService
	}
	return auditrelay.Actor{ID: sub, Name: name, Issuer: issuer, FederatedIssuer: fedIssuer, Type: t}
}
