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
// (package jsonscan; the values no field uses, such as the user's
// permissions and most of the request payload, are passed over with
// Reader.Skip), straight into messages, with no reflection and the
// audit object's own bytes (compacted only when it holds whitespace) for
// its id. ok is false whenever anything needs the general path: any
// syntax error, a receiver record, an alert or network policy, a null
// message part, a value of an unexpected type, a time or enum that does not
// read, a key written with escapes, outside ASCII, in another case than
// the field's or twice. The general path then runs from the start, so
// both give the same result.
func parseFast(body []byte, meta auditrelay.Meta) (out auditrelay.Parsed, ok bool) {
	f := fast{r: jsonscan.NewReader(body), body: body, meta: meta}
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
	decoded   []byte  // one message's strings that are not as the body has them
	roleSpans [8]span // its user's roles
	moreRoles []span  // and any after the eighth
	nRoles    int     // how many roles in all
}

// span locates a string in fast.body, or in fast.decoded when it is
// decoded; after gather, in the message's text.
type span struct {
	off, end int
	decoded  bool
}

// bytes returns the string s locates.
func (f *fast) bytes(s span) []byte {
	if s.decoded {
		return f.decoded[s.off:s.end]
	}
	return f.body[s.off:s.end]
}

// addRole records a role's name.
func (f *fast) addRole(s span) {
	if f.nRoles < len(f.roleSpans) {
		f.roleSpans[f.nRoles] = s
	} else {
		f.moreRoles = append(f.moreRoles, s)
	}
	f.nRoles++
}

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
		// An ASCII key folds to a name only at the name's length.
		if len(key) == len(n) && strings.EqualFold(string(key), n) {
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
			f.decoded, f.moreRoles, f.nRoles = f.decoded[:0], f.moreRoles[:0], 0
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
		f.out.Events = f.meta.EventBuffer(1)
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
		if !decode {
			end := r.Pos() - 1 // the closing quote
			*dst = span{off: end - len(raw), end: end}
			return true
		}
		off := len(f.decoded)
		f.decoded = jsonscan.AppendDecoded(f.decoded, raw)
		*dst = span{off: off, end: len(f.decoded), decoded: true}
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
	off := len(f.decoded)
	if n >= 0 && n < len(names) {
		f.decoded = append(f.decoded, names[n]...)
	} else {
		f.decoded = append(f.decoded, lit...)
	}
	*dst = span{off: off, end: len(f.decoded), decoded: true}
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
		f.addRole(name)
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
		first, _, _ := bytes.Cut(f.bytes(s), []byte{','})
		if len(bytes.TrimSpace(first)) > 0 && m.xff == (span{}) {
			m.xff = s
		}
	}
	return true
}

// normalize maps the message as normalize does, with every string a part
// of one string holding the message's text, and the roles in one slice.
func (f *fast) normalize(fs *fields, compact []byte) (auditrelay.Event, bool) {
	text := f.gather(fs)
	at := func(s span) string { return text[s.off:s.end] }
	v := fieldsOf{
		status:      requestStatus(at(fs.status)),
		reason:      at(fs.reason),
		method:      accessMethod(at(fs.method)),
		interaction: interaction(at(fs.interaction)),
	}
	if fs.hasTime {
		ts, err := time.Parse(time.RFC3339Nano, at(fs.time))
		if err != nil {
			return auditrelay.Event{}, false
		}
		v.time = ts.UTC()
	}
	if fs.hasUser {
		v.username, v.friendly, v.role = at(fs.username), at(fs.friendly), at(fs.role)
		if v.named() {
			v.roles = f.roleList(text)
		}
	}
	if fs.hasRequest {
		v.hasRequest = true
		v.endpoint, v.reqMethod, v.sourceIP = at(fs.endpoint), at(fs.reqMethod), at(fs.sourceIP)
		if fs.hasPayload {
			v.hasPayload = true
			v.typ, v.id, v.name, v.namespace = at(fs.typ), at(fs.id), at(fs.name), at(fs.namespace)
		}
		if fs.hasHeaders {
			v.xff, v.remoteAddr, v.requestAddr, v.userAgent = firstAddr(at(fs.xff)), at(fs.remoteAddr), at(fs.requestAddr), at(fs.userAgent)
		}
	}
	e := v.event(compact)
	e.ReceivedAt = f.meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: f.meta.Input, DeliveryID: f.meta.DeliveryID}
	if f.meta.IncludeRaw {
		e.Raw = bytes.Clone(compact)
	}
	return e, true
}

// gather copies the strings of one message into one string, its text,
// and points fs's and the roles' spans into it.
func (f *fast) gather(fs *fields) string {
	all := [...]*span{
		&fs.time, &fs.status, &fs.reason, &fs.method, &fs.interaction,
		&fs.username, &fs.friendly, &fs.role,
		&fs.endpoint, &fs.reqMethod, &fs.sourceIP,
		&fs.typ, &fs.id, &fs.name, &fs.namespace,
		&fs.xff, &fs.remoteAddr, &fs.requestAddr, &fs.userAgent,
	}
	roles := f.roleSpans[:min(f.nRoles, len(f.roleSpans))]
	n := 0
	for _, s := range all {
		n += s.end - s.off
	}
	for _, s := range roles {
		n += s.end - s.off
	}
	for _, s := range f.moreRoles {
		n += s.end - s.off
	}
	var b strings.Builder
	b.Grow(n)
	move := func(s *span) {
		off := b.Len()
		b.Write(f.bytes(*s))
		*s = span{off: off, end: b.Len()}
	}
	for _, s := range all {
		move(s)
	}
	for i := range roles {
		move(&roles[i])
	}
	for i := range f.moreRoles {
		move(&f.moreRoles[i])
	}
	return b.String()
}

// roleList returns the user's non-empty role names in text (after
// gather), nil for none.
func (f *fast) roleList(text string) []string {
	roles := f.roleSpans[:min(f.nRoles, len(f.roleSpans))]
	n := 0
	for _, s := range roles {
		if s.end > s.off {
			n++
		}
	}
	for _, s := range f.moreRoles {
		if s.end > s.off {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	names := make([]string, 0, n)
	for _, s := range roles {
		if s.end > s.off {
			names = append(names, text[s.off:s.end])
		}
	}
	for _, s := range f.moreRoles {
		if s.end > s.off {
			names = append(names, text[s.off:s.end])
		}
	}
	return names
}
