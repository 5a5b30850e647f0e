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
	time, reason                            span
	status, method, interaction             enumVal
	hasTime, hasUser, hasRequest            bool
	username, friendly                      span
	role                                    span
	hasRole                                 bool
	endpoint, reqMethod, sourceIP           span
	hasPayload                              bool
	typ, id, name, namespace                span
	hasHeaders                              bool
	xff, remoteAddr, requestAddr, userAgent span
}

// The member names each object of a message has fields for, in the
// order of the indexes member returns.
var (
	envelopeKeys = [...]string{"audit", "alert", "networkpolicy", "data"}
	auditKeys    = [...]string{"time", "status", "statusReason", "user", "request", "method", "interaction"}
	userKeys     = [...]string{"username", "friendlyName", "roles", "role"}
	roleKeys     = [...]string{"name"}
	requestKeys  = [...]string{"endpoint", "method", "payload", "sourceHeaders", "sourceIp"}
	payloadKeys  = [...]string{"@type", "id", "name", "namespace"}
	headerKeys   = [...]string{"xForwardedFor", "remoteAddr", "requestAddr", "userAgent"}
)

// member returns the index in names of the member key it is at, -1 for
// a key no field has, and false for a key the general path must match
// (escaped, not ASCII, another case) or one already seen.
func member(it *jsonscan.Iter, seen *uint32, names []string) (int, bool) {
	key, decode := it.Key()
	if decode {
		return 0, false
	}
	sameLen := false
	for i, n := range names {
		if len(key) != len(n) {
			continue
		}
		if string(key) == n {
			if *seen&(1<<i) != 0 {
				return 0, false
			}
			*seen |= 1 << i
			return i, true
		}
		sameLen = true
	}
	for _, c := range key {
		if c >= 0x80 {
			return 0, false
		}
	}
	if sameLen {
		for _, n := range names {
			// An ASCII key folds to a name only at the name's length.
			if len(key) == len(n) && strings.EqualFold(string(key), n) {
				return 0, false
			}
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
		switch i, ok := member(&it, &seen, envelopeKeys[:]); {
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
	return f.normalize(&m, audit)
}

// str reads a string into text; null leaves dst as it is.
func (f *fast) str(dst *span) bool {
	r := &f.r
	switch f.peek('"') {
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

// enumVal is an enum's value: one of its names, or text when it is
// none of them.
type enumVal struct {
	name string
	s    span
}

// text returns the value, its name or the string s locates in text.
func (v enumVal) text(text string) string {
	if v.name != "" {
		return v.name
	}
	return text[v.s.off:v.s.end]
}

// peek is r.Peek, without skipping whitespace or checking for an error
// when the byte c (a value's first, '"' or '{') is right there: the
// value a field most often has.
func (f *fast) peek(c byte) jsonscan.Kind {
	if p := f.r.Pos(); p < len(f.body) && f.body[p] == c {
		return jsonscan.KindOf(c)
	}
	return f.r.Peek()
}

// enum reads a protobuf enum by name or number (see enum); null is "".
// A known name or number takes the name's own string rather than a copy.
func (f *fast) enum(dst *enumVal, names []string) bool {
	r := &f.r
	if r.Peek() != jsonscan.Number {
		if !f.str(&dst.s) {
			return false
		}
		dst.name = ""
		if b := f.bytes(dst.s); len(b) > 0 {
			for _, n := range names {
				if string(b) == n {
					dst.name, dst.s = n, span{}
					break
				}
			}
		}
		return true
	}
	lit := r.Number()
	n, err := strconv.Atoi(string(lit))
	if err != nil {
		return false
	}
	if n >= 0 && n < len(names) {
		*dst = enumVal{name: names[n]}
		return true
	}
	off := len(f.decoded)
	f.decoded = append(f.decoded, lit...)
	*dst = enumVal{s: span{off: off, end: len(f.decoded), decoded: true}}
	return true
}

// object starts an object member that may be null; it reports whether
// the value is an object (read its members next) and false in ok for
// another type.
func (f *fast) object() (it jsonscan.Iter, isObject, ok bool) {
	r := &f.r
	switch f.peek('{') {
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
		i, ok := member(&it, &seen, auditKeys[:])
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
		i, ok := member(&it, &seen, userKeys[:])
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
		i, ok := member(&it, &seen, roleKeys[:])
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
		i, ok := member(&it, &seen, requestKeys[:])
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
		i, ok := member(&it, &seen, payloadKeys[:])
		if !ok {
			return false
		}
		switch {
		case f.r.Peek() != jsonscan.String:
			f.r.Skip()
		case i < 0:
			f.r.String()
		default:
			f.str([...]*span{&m.typ, &m.id, &m.name, &m.namespace}[i])
		}
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
		i, ok := member(&it, &seen, headerKeys[:])
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

// normalize maps the message as normalize does, with every string (the
// id too) a part of one string holding the message's text, and the roles
// in one slice, straight into the next element of f.out.Events. It reports
// false, adding nothing, for a time that does not read.
func (f *fast) normalize(fs *fields, compact []byte) bool {
	text := f.gather(fs, compact)
	at := func(s span) string { return text[s.off:s.end] }
	var ts time.Time
	if fs.hasTime {
		var ok bool
		if ts, ok = parseUTC(at(fs.time)); !ok {
			t, err := time.Parse(time.RFC3339Nano, at(fs.time))
			if err != nil {
				return false
			}
			ts = t.UTC()
		}
	}
	v := fieldsOf{
		time:        ts,
		status:      requestStatus(fs.status.text(text)),
		reason:      at(fs.reason),
		method:      accessMethod(fs.method.text(text)),
		interaction: interaction(fs.interaction.text(text)),
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
	if f.out.Events == nil {
		f.out.Events = f.meta.EventBuffer(1)
	}
	f.out.Events = append(f.out.Events, auditrelay.Event{})
	e := &f.out.Events[len(f.out.Events)-1]
	v.fill(e, text[:auditrelay.ContentIDLen])
	e.ReceivedAt = f.meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: f.meta.Input, DeliveryID: f.meta.DeliveryID}
	if f.meta.IncludeRaw {
		e.Raw = bytes.Clone(compact)
	}
	return true
}

// appendID appends auditrelay.ContentID(Kind, compact), without a string
// of its own.
func appendID(b *strings.Builder, compact []byte) {
	var out [auditrelay.ContentIDLen]byte
	b.Write(auditrelay.AppendContentID(out[:0], Kind, compact))
}

// gather copies the message's id and strings into one string, its text
// (the id first), and points fs's and the roles' spans into it.
func (f *fast) gather(fs *fields, compact []byte) string {
	all := [...]*span{
		&fs.time, &fs.status.s, &fs.reason, &fs.method.s, &fs.interaction.s,
		&fs.username, &fs.friendly, &fs.role,
		&fs.endpoint, &fs.reqMethod, &fs.sourceIP,
		&fs.typ, &fs.id, &fs.name, &fs.namespace,
		&fs.xff, &fs.remoteAddr, &fs.requestAddr, &fs.userAgent,
	}
	roles := f.roleSpans[:min(f.nRoles, len(f.roleSpans))]
	n := auditrelay.ContentIDLen
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
	appendID(&b, compact)
	for _, s := range all {
		f.move(&b, s)
	}
	for i := range roles {
		f.move(&b, &roles[i])
	}
	for i := range f.moreRoles {
		f.move(&b, &f.moreRoles[i])
	}
	return b.String()
}

// move writes the string s locates to b and points s at it there.
func (f *fast) move(b *strings.Builder, s *span) {
	if s.end == s.off {
		*s = span{}
		return
	}
	off := b.Len()
	b.Write(f.bytes(*s))
	*s = span{off: off, end: b.Len()}
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

// parseUTC reads the time Central writes, "2006-01-02T15:04:05Z" with
// one to nine digits of fraction or none, as time.Parse reads it with
// time.RFC3339Nano; false for any other text, time.Parse's to read.
func parseUTC(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || len(s) > len("2006-01-02T15:04:05.999999999Z") ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		n, ok := digits(frac[min(1, len(frac)):])
		if frac[0] != '.' || len(frac) < 2 || !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	secs := (daysSinceEpoch(year, month, day)*24+int64(hour))*3600 + int64(minute)*60 + int64(sec)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysSinceEpoch counts the days from 1970-01-01 to a valid date of the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	m := int64(month) + 9
	if month > 2 {
		m = int64(month) - 3
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// digits reads a run of ASCII digits; false for an empty run or any
// other byte.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}

// daysIn is the number of days of month m (1 to 12) in year, in the
// proleptic Gregorian calendar, as package time counts them.
func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
