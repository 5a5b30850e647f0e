package stackrox

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// parseFast reads the bodies Central sends — a message {"audit":{…}}, the
// notifier's extra fields first or not, or an array of them — in one pass
// (package jsonscan), straight into messages, with no reflection and the
// audit object's own bytes (compacted only when it holds whitespace) for
// its id. ok is false whenever anything needs the general path: any
// syntax error, a receiver record, an alert or network policy, a null
// message part, a value of an unexpected type, a time or enum that does not
// read, a key written with escapes, outside ASCII, in another case than
// the field's or twice. The general path then runs from the start, so
// both give the same result.
func parseFast(body []byte, meta auditrelay.Meta) (out auditrelay.Parsed, ok bool) {
	f := fast{r: jsonscan.NewReader(body), body: body, meta: meta, text: make([]byte, 0, len(body))}
	r := &f.r
	switch r.Peek() {
	case jsonscan.Object:
		if !f.message() {
			return out, false
		}
	case jsonscan.Array:
		for it := r.Array(); it.Next(); {
			if !f.message() {
				return out, false
			}
		}
		if f.out.Events == nil {
			f.out.Events = []auditrelay.Event{}
		}
	default:
		return out, false
	}
	if r.End() != nil {
		return out, false
	}
	return f.out, true
}

// fast holds one parseFast call's state.
type fast struct {
	r         jsonscan.Reader
	body      []byte
	meta      auditrelay.Meta
	out       auditrelay.Parsed
	compact   []byte
	text      []byte // one message's strings, back to back
	roleNames []span // its user's roles
}

// span locates a string in fast.text.
type span struct{ off, end int }

// fields is what parseFast reads of one audit message, as spans of text.
type fields struct {
	time, status, reason, method, interaction span
	hasTime, hasUser, hasRequest              bool
	username, friendly                        span
	role                                      span
	hasRole                                   bool
	endpoint, reqMethod, sourceIP             span
	hasPayload                                bool
	typ, id, name, namespace                  span
	hasHeaders                                bool
	xff, remoteAddr, requestAddr, userAgent   span
}

// member returns the index in names of the member key it is at, -1 for
// a key no field has, and false for a key the general path must match
// (escaped, not ASCII, another case) or one already seen.
func member(it *jsonscan.Iter, seen *uint32, names ...string) (int, bool) {
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

// message reads one {"audit":{…}} envelope and maps its audit object.
func (f *fast) message() bool {
	r := &f.r
	if r.Peek() != jsonscan.Object {
		return false
	}
	var seen uint32
	var audit []byte
	var m fields
	for it := r.Object(); it.Next(); {
		switch i, ok := member(&it, &seen, "audit", "alert", "networkpolicy", "data"); {
		case !ok || i > 0:
			return false
		case i < 0:
			r.Skip()
		default:
			if r.Peek() != jsonscan.Object {
				return false
			}
			start, spaces := r.Pos(), r.Spaces()
			f.text, f.roleNames = f.text[:0], f.roleNames[:0]
			if !f.audit(&m) {
				return false
			}
			audit = f.body[start:r.Pos()]
			if r.Spaces() != spaces {
				f.compact = jsonscan.AppendCompact(f.compact[:0], audit)
				audit = f.compact
			}
		}
	}
	if audit == nil || r.Err() != nil {
		return false
	}
	e, ok := f.normalize(&m, audit)
	if !ok {
		return false
	}
	if f.out.Events == nil {
		f.out.Events = make([]auditrelay.Event, 0, 1)
	}
	f.out.Events = append(f.out.Events, e)
	return true
}

// str reads a string into text; null leaves dst as it is.
func (f *fast) str(dst *span) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.String:
		raw, decode := r.String()
		off := len(f.text)
		if decode {
			f.text = jsonscan.AppendDecoded(f.text, raw)
		} else {
			f.text = append(f.text, raw...)
		}
		*dst = span{off, len(f.text)}
		return true
	case jsonscan.Null:
		r.Null()
		return true
	}
	return false
}

// enum reads a protobuf enum by name or number (see enum); null is "".
func (f *fast) enum(dst *span, names []string) bool {
	r := &f.r
	if r.Peek() != jsonscan.Number {
		return f.str(dst)
	}
	lit := r.Number()
	n, err := strconv.Atoi(string(lit))
	if err != nil {
		return false
	}
	off := len(f.text)
	if n >= 0 && n < len(names) {
		f.text = append(f.text, names[n]...)
	} else {
		f.text = append(f.text, lit...)
	}
	*dst = span{off, len(f.text)}
	return true
}

// object starts an object member that may be null; it reports whether
// the value is an object (read its members next) and false in ok for
// another type.
func (f *fast) object() (it jsonscan.Iter, isObject, ok bool) {
	r := &f.r
	switch r.Peek() {
	case jsonscan.Object:
		return r.Object(), true, true
	case jsonscan.Null:
		r.Null()
		return it, false, true
	}
	return it, false, false
}

func (f *fast) audit(m *fields) bool {
	r := &f.r
	var seen uint32
	for it := r.Object(); it.Next(); {
		i, ok := member(&it, &seen, "time", "status", "statusReason", "user", "request", "method", "interaction")
		if !ok {
			return false
		}
		switch i {
		case 0:
			ok = f.time(m)
		case 1:
			ok = f.enum(&m.status, statusNames[:])
		case 2:
			ok = f.str(&m.reason)
		case 3:
			ok = f.user(m)
		case 4:
			ok = f.request(m)
		case 5:
			ok = f.enum(&m.method, methodNames[:])
		case 6:
			ok = f.enum(&m.interaction, interactionNames[:])
		default:
			r.Skip()
		}
		if !ok {
			return false
		}
	}
	return r.Err() == nil
}

// time reads an RFC 3339 string (parsed in normalize) or null.
func (f *fast) time(m *fields) bool {
	if f.r.Peek() == jsonscan.String {
		m.hasTime = true
	}
	return f.str(&m.time)
}

func (f *fast) user(m *fields) bool {
	it, isObject, ok := f.object()
	if !isObject {
		return ok
	}
	m.hasUser = true
	var seen uint32
	for it.Next() {
		i, ok := member(&it, &seen, "username", "friendlyName", "roles", "role")
		if !ok {
			return false
		}
		switch i {
		case 0:
			ok = f.str(&m.username)
		case 1:
			ok = f.str(&m.friendly)
		case 2:
			ok = f.roles(m)
		case 3:
			ok = f.role(&m.role, &m.hasRole)
		default:
			f.r.Skip()
		}
		if !ok {
			return false
		}
	}
	return true
}

func (f *fast) roles(m *fields) bool {
	r := &f.r
	switch r.Peek() {
	case jsonscan.Null:
		r.Null()
		return true
	case jsonscan.Array:
	default:
		return false
	}
	for it := r.Array(); it.Next(); {
		var name span
		var has bool
		if !f.role(&name, &has) {
			return false
		}
		f.roleNames = append(f.roleNames, name)
	}
	return true
}

func (f *fast) role(name *span, has *bool) bool {
	it, isObject, ok := f.object()
	if !isObject {
		return ok
	}
	*has = true
	var seen uint32
	for it.Next() {
		i, ok := member(&it, &seen, "name")
		if !ok {
			return false
		}
		if i < 0 {
			f.r.Skip()
		} else if !f.str(name) {
			return false
		}
	}
	return true
}

func (f *fast) request(m *fields) bool {
	it, isObject, ok := f.object()
	if !isObject {
		return ok
	}
	m.hasRequest = true
	var seen uint32
	for it.Next() {
		i, ok := member(&it, &seen, "endpoint", "method", "payload", "sourceHeaders", "sourceIp")
		if !ok {
			return false
		}
		switch i {
		case 0:
			ok = f.str(&m.endpoint)
		case 1:
			ok = f.str(&m.reqMethod)
		case 2:
			ok = f.payload(m)
		case 3:
			ok = f.headers(m)
		case 4:
			ok = f.str(&m.sourceIP)
		default:
			f.r.Skip()
		}
		if !ok {
			return false
		}
	}
	return true
}

// payload reads the Any's "@type", id, name and namespace; a value that is
// not a string is ignored, as looseString ignores it.
func (f *fast) payload(m *fields) bool {
	it, isObject, ok := f.object()
	if !isObject {
		return ok
	}
	m.hasPayload = true
	var seen uint32
	for it.Next() {
		i, ok := member(&it, &seen, "@type", "id", "name", "namespace")
		if !ok {
			return false
		}
		if i < 0 || f.r.Peek() != jsonscan.String {
			f.r.Skip()
			continue
		}
		f.str([...]*span{&m.typ, &m.id, &m.name, &m.namespace}[i])
	}
	return true
}

func (f *fast) headers(m *fields) bool {
	it, isObject, ok := f.object()
	if !isObject {
		return ok
	}
	m.hasHeaders = true
	var seen uint32
	for it.Next() {
		i, ok := member(&it, &seen, "xForwardedFor", "remoteAddr", "requestAddr", "userAgent")
		if !ok {
			return false
		}
		switch i {
		case 0:
			ok = f.forwarded(m)
		case 1:
			ok = f.str(&m.remoteAddr)
		case 2:
			ok = f.str(&m.requestAddr)
		case 3:
			ok = f.str(&m.userAgent)
		default:
			f.r.Skip()
		}
		if !ok {
			return false
		}
	}
	return true
}

// forwarded reads X-Forwarded-For, a string or a list of strings, keeping
// every string: normalize picks the first address as addrList does.
func (f *fast) forwarded(m *fields) bool {
	r := &f.r
	if r.Peek() != jsonscan.Array {
		return f.str(&m.xff)
	}
	for it := r.Array(); it.Next(); {
		var s span
		if !f.str(&s) {
			return false
		}
		first, _, _ := bytes.Cut(f.text[s.off:s.end], []byte{','})
		if len(bytes.TrimSpace(first)) > 0 && m.xff == (span{}) {
			m.xff = s
		}
	}
	return true
}

// normalize builds the message the general path would have decoded and
// maps it with the same normalize.
func (f *fast) normalize(fs *fields, compact []byte) (auditrelay.Event, bool) {
	text := string(f.text)
	at := func(s span) string { return text[s.off:s.end] }
	var m message
	if fs.hasTime {
		ts, err := time.Parse(time.RFC3339Nano, at(fs.time))
		if err != nil {
			return auditrelay.Event{}, false
		}
		m.Time.t = ts.UTC()
	}
	m.Status = requestStatus(at(fs.status))
	m.StatusReason = at(fs.reason)
	m.Method = accessMethod(at(fs.method))
	m.Interaction = interaction(at(fs.interaction))
	var u userInfo
	var roles [4]role
	var one role
	if fs.hasUser {
		u = userInfo{Username: at(fs.username), FriendlyName: at(fs.friendly)}
		if len(f.roleNames) > 0 {
			u.Roles = roles[:0]
			for _, s := range f.roleNames {
				u.Roles = append(u.Roles, role{Name: at(s)})
			}
		}
		if fs.hasRole {
			one.Name = at(fs.role)
			u.Role = &one
		}
		m.User = &u
	}
	var req request
	var pl payload
	var sh sourceHeaders
	if fs.hasRequest {
		req = request{Endpoint: at(fs.endpoint), Method: at(fs.reqMethod), SourceIP: at(fs.sourceIP)}
		if fs.hasPayload {
			pl = payload{Type: looseString(at(fs.typ)), ID: looseString(at(fs.id)), Name: looseString(at(fs.name)), Namespace: looseString(at(fs.namespace))}
			req.Payload = &pl
		}
		if fs.hasHeaders {
			sh = sourceHeaders{XForwardedFor: addrList(firstAddr(at(fs.xff))), RemoteAddr: at(fs.remoteAddr), RequestAddr: at(fs.requestAddr), UserAgent: at(fs.userAgent)}
			req.SourceHeaders = &sh
		}
		m.Request = &req
	}
	e := normalize(&m, compact)
	e.ReceivedAt = f.meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: f.meta.Input, DeliveryID: f.meta.DeliveryID}
	if f.meta.IncludeRaw {
		e.Raw = bytes.Clone(compact)
	}
	return e, true
}
