package konnect

// The implementation Parse had before its one-pass path (fast.go), kept
// whole as the reference FuzzParseMatchesReference compares Parse with:
// refRecord.go, cef.go and the line loop of konnect.go as they were, every
// package-level name prefixed with ref. Only decompress is shared: gzip
// handling did not change.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
)

// refParse turns one delivery (newline-separated JSON, CPS or CEF entries,
// usually gzip-compressed) into events. A bad entry does not cost the good
// ones: it is listed in Parsed.Rejected. Parse fails only when the body as
// a whole is unusable: a corrupt gzip stream, or one that decompresses to
// more than max_decompressed_bytes.
func (a *Adapter) refParse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	data, err := a.decompress(body, meta.Header)
	if err != nil {
		return auditrelay.Parsed{}, err
	}
	var out auditrelay.Parsed
	var scratch bytes.Buffer
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := refEntry(line, meta, &scratch)
		if err != nil {
			out.Rejected = append(out.Rejected, auditrelay.Rejection{
				Line: n, Entry: bytes.Clone(line), Reason: err.Error(),
			})
			continue
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// refEntry parses and maps one line; scratch is reused for json.Compact.
func refEntry(line []byte, meta auditrelay.Meta, scratch *bytes.Buffer) (auditrelay.Event, error) {
	var r refRecord
	var idBytes, raw []byte
	trimmed := bytes.TrimSpace(line)
	switch trimmed[0] {
	case '[':
		return auditrelay.Event{}, errors.New("entry is a JSON array: Konnect sends one JSON object per line")
	case '{':
		scratch.Reset()
		if err := json.Compact(scratch, trimmed); err != nil {
			return auditrelay.Event{}, refDescribe(err)
		}
		idBytes = scratch.Bytes()
		if err := r.fromJSON(idBytes); err != nil {
			return auditrelay.Event{}, err
		}
		raw = idBytes
	default:
		c, err := refParseCEF(line)
		if err != nil {
			return auditrelay.Event{}, err
		}
		r.fromCEF(&c, meta.ReceivedAt)
		idBytes = line
		raw, _ = json.Marshal(string(line))
	}
	e, err := r.normalize()
	if err != nil {
		return auditrelay.Event{}, err
	}
	e.ID = auditrelay.ContentID(Kind, idBytes)
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		e.Raw = bytes.Clone(raw)
	}
	return e, nil
}

// describe rewrites encoding/json's syntax errors with their position.
func refDescribe(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// refRecord is one Konnect entry with every field as text, whichever format
// (JSON, CPS, CEF) it came in. Text keeps trace_id's digits exact and
// absorbs the type drift between releases (rt, status as string or number;
// success, granted as bool or "true").
type refRecord struct {
	name, classID string
	rt, eventTS   string
	refPrefixTime time.Time // from a CEF line's timestamp prefix
	src, orgID    string
	principalID   string
	principalName string
	kongInit      string
	traceID       string
	userAgent     string
	request       string
	query         string
	act, status   string
	success       string
	granted       string
	action        string
	portalID      string
}

// set stores one field by its Konnect name; unknown names are ignored
// (they stay in raw).
func (r *refRecord) set(key, v string) {
	switch key {
	case "name":
		r.name = v
	case "event_class_id":
		r.classID = v
	case "rt":
		r.rt = v
	case "event_ts":
		r.eventTS = v
	case "src":
		r.src = v
	case "org_id":
		r.orgID = v
	case "principal_id":
		r.principalID = v
	case "principal_name":
		r.principalName = v
	case "kong_initiated":
		r.kongInit = v
	case "trace_id":
		r.traceID = v
	case "user_agent":
		r.userAgent = v
	case "request":
		r.request = v
	case "query":
		r.query = v
	case "act":
		r.act = v
	case "status":
		r.status = v
	case "success":
		r.success = v
	case "granted":
		r.granted = v
	case "action":
		r.action = v
	case "portal_id":
		r.portalID = v
	}
}

// fromJSON reads a compacted JSON or CPS ({"event":{…}}) entry. Numbers
// are decoded with UseNumber, never through float64.
func (r *refRecord) fromJSON(b []byte) error {
	obj, err := refDecodeObject(b)
	if err != nil {
		return err
	}
	if inner, ok := obj["event"].(map[string]any); ok && obj["name"] == nil {
		obj = inner // CPS
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad refField reported is stable
	for _, k := range keys {
		v := obj[k]
		if k == "query" {
			q, err := refQueryOf(v)
			if err != nil {
				return fmt.Errorf("query: %w", err)
			}
			r.query = q
			continue
		}
		s, err := refScalar(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		r.set(k, s)
	}
	return nil
}

func refDecodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, refDescribe(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the entry's object; one entry per line")
	}
	if obj == nil {
		return nil, errors.New("entry is JSON null, want an object")
	}
	return obj, nil
}

// refScalar renders a JSON string, number or boolean as text; null is "".
func refScalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any:
		return "", errors.New("got a JSON object, want a string, number or boolean")
	}
	return "", errors.New("got a JSON array, want a string, number or boolean")
}

// refQueryOf reads an access entry's query: Konnect sends the request's query
// parameters as a JSON object in a string ("{\"end\":\"1684270800\"}"),
// possibly as the object itself. It returns them URL-encoded (keys
// sorted); a plain query string is kept as it is.
func refQueryOf(v any) (string, error) {
	switch q := v.(type) {
	case nil:
		return "", nil
	case map[string]any:
		return refEncodeQuery(q), nil
	case string:
		q = strings.TrimSpace(q)
		if !strings.HasPrefix(q, "{") {
			return strings.TrimPrefix(q, "?"), nil
		}
		obj, err := refDecodeObject([]byte(q))
		if err != nil {
			return "", err
		}
		return refEncodeQuery(obj), nil
	}
	return "", errors.New("want a JSON object or a string")
}

func refEncodeQuery(obj map[string]any) string {
	vals := url.Values{}
	for k, v := range obj {
		if list, ok := v.([]any); ok {
			for _, item := range list {
				if s, err := refScalar(item); err == nil {
					vals.Add(k, s)
				}
			}
			continue
		}
		if s, err := refScalar(v); err == nil {
			vals.Add(k, s)
		}
	}
	return vals.Encode()
}

// fromCEF reads a parsed CEF line: the header's SignatureID and Name are
// the JSON form's event_class_id and name; the extension holds the rest.
func (r *refRecord) fromCEF(c *refCefLine, receivedAt time.Time) {
	r.classID = c.signatureID
	r.name = c.name
	for _, f := range c.ext {
		if f.key == "query" {
			if q, err := refQueryOf(f.value); err == nil {
				r.query = q
			}
			continue
		}
		r.set(f.key, f.value)
	}
	r.refPrefixTime = refPrefixTime(c.prefix, receivedAt)
}

// Entry types by their name.
const (
	refTypeAuthn  = "authentication"
	refTypeAuthz  = "authorization"
	refTypeAccess = "access"
)

func (r *refRecord) entryType() string {
	switch {
	case strings.HasPrefix(r.name, "AUTHENTICATION_"):
		return refTypeAuthn
	case strings.HasPrefix(r.name, "Authz."):
		return refTypeAuthz
	case r.name == "Ingress":
		return refTypeAccess
	}
	return ""
}

// normalize maps the refRecord; an error names the field that was wrong.
func (r *refRecord) normalize() (auditrelay.Event, error) {
	if r.name == "" {
		return auditrelay.Event{}, errors.New(`entry has no "name": not a Konnect audit entry`)
	}
	var e auditrelay.Event
	var err error
	if e.Time, err = r.time(); err != nil {
		return e, err
	}
	if e.Outcome, err = r.outcome(); err != nil {
		return e, err
	}
	kongInit, err := refOptBool("kong_initiated", r.kongInit)
	if err != nil {
		return e, err
	}
	typ := r.entryType()
	e.Actor = r.actor(kongInit == "true")
	e.Action = r.actionOf(typ)
	e.Resource = r.resource(typ)
	e.Request = auditrelay.Request{
		ID:        r.traceID,
		Method:    r.act,
		Path:      r.request,
		ClientIP:  r.src,
		UserAgent: r.userAgent,
		Interface: refInterfaceOf(r.classID),
	}
	if r.query != "" {
		e.Request.Path += "?" + r.query
	}
	authFailure := (typ == refTypeAuthn || typ == refTypeAuthz) && e.Outcome.Result == auditrelay.ResultFailure
	e.Score(authFailure)
	return e, nil
}

// time is rt (epoch ms, string or number), else event_ts (RFC 3339),
// else the CEF line's timestamp prefix.
func (r *refRecord) time() (time.Time, error) {
	if r.rt != "" {
		ms, err := strconv.ParseInt(r.rt, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("rt: %q is not epoch milliseconds", r.rt)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	if r.eventTS != "" {
		t, err := time.Parse(time.RFC3339Nano, r.eventTS)
		if err != nil {
			return time.Time{}, fmt.Errorf("event_ts: %q is not an RFC 3339 time", r.eventTS)
		}
		return t.UTC(), nil
	}
	return r.refPrefixTime, nil
}

// outcome is success (bool or "true"), granted, else the access status.
// An authentication entry without success is judged by its name.
func (r *refRecord) outcome() (auditrelay.Outcome, error) {
	var o auditrelay.Outcome
	if r.status != "" {
		code, err := strconv.Atoi(r.status)
		if err != nil || code < 0 {
			return o, fmt.Errorf("status: %q is not an HTTP status code", r.status)
		}
		o.StatusCode = code
	}
	o.Result = auditrelay.ResultOf(o.StatusCode)
	for _, f := range [...]struct{ key, v string }{{"success", r.success}, {"granted", r.granted}} {
		b, err := refOptBool(f.key, f.v)
		if err != nil {
			return o, err
		}
		switch b {
		case "true":
			o.Result = auditrelay.ResultSuccess
		case "false":
			o.Result = auditrelay.ResultFailure
		}
	}
	outcome, isAuthn := strings.CutPrefix(r.name, "AUTHENTICATION_OUTCOME_")
	if isAuthn && r.success == "" {
		o.Result = auditrelay.ResultFailure
		if outcome == "SUCCESS" {
			o.Result = auditrelay.ResultSuccess
		}
	}
	if isAuthn && outcome != "SUCCESS" {
		o.Reason = strings.ToLower(strings.ReplaceAll(outcome, "_", " "))
	}
	return o, nil
}

// refOptBool normalizes a boolean field to "true", "false" or "" (absent).
func refOptBool(key, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not a boolean", key, v)
	}
	return strconv.FormatBool(b), nil
}

// actor: principal_id/principal_name; Kong-initiated actions and system
// account tokens are services; no principal is anonymous.
func (r *refRecord) actor(kongInitiated bool) auditrelay.Actor {
	a := auditrelay.Actor{ID: r.principalID, Name: r.principalName, Type: auditrelay.ActorUser}
	switch {
	case kongInitiated || r.classID == "AUTHENTICATION_TYPE_SPAT":
		a.Type = auditrelay.ActorService
	case a.ID == "" && a.Name == "":
		a.Type = auditrelay.ActorAnonymous
	}
	return a
}

func (r *refRecord) actionOf(typ string) auditrelay.Action {
	a := auditrelay.Action{Name: r.name}
	switch typ {
	case refTypeAuthn:
		a.Verb = auditrelay.VerbOther
		if r.classID != "" {
			a.All = []string{r.name, r.classID}
		}
	case refTypeAuthz:
		a.Verb = refVerbOfAction(r.action)
		if r.action != "" {
			a.All = []string{r.name, r.action}
		}
	default:
		a.Verb = auditrelay.VerbOf(r.act)
	}
	return a
}

// refVerbOfAction maps an authorization action (retrieve, list, edit…).
func refVerbOfAction(action string) string {
	switch strings.ToLower(action) {
	case "retrieve", "list", "get", "read", "view", "describe", "search":
		return auditrelay.VerbRead
	case "create", "add":
		return auditrelay.VerbCreate
	case "edit", "update", "patch", "modify", "replace":
		return auditrelay.VerbUpdate
	case "delete", "remove", "destroy":
		return auditrelay.VerbDelete
	}
	return auditrelay.VerbOther
}

// refInterfaceOf: personal and system access tokens are API calls; the other
// authentication types (basic, SSO, Google, GitHub, Windows Live,
// federated) are logins to the web application or Dev Portal.
func refInterfaceOf(classID string) string {
	typ, ok := strings.CutPrefix(classID, "AUTHENTICATION_TYPE_")
	switch {
	case !ok || typ == "INVALID":
		return ""
	case typ == "PAT" || typ == "SPAT":
		return auditrelay.InterfaceAPI
	}
	return auditrelay.InterfaceUI
}

// resource: org_id is the namespace; an authorization names its resource
// (Authz.control-planes/<id>); an access entry's path ends in one; a Dev
// Portal login is to a portal.
func (r *refRecord) resource(typ string) auditrelay.Resource {
	res := auditrelay.Resource{Namespace: r.orgID}
	switch typ {
	case refTypeAuthz:
		res.Type, res.ID = refTypeAndID(strings.Split(strings.TrimPrefix(r.name, "Authz."), "/"))
	case refTypeAccess:
		res.Type, res.ID = refPathResource(r.request)
	case refTypeAuthn:
		if r.portalID != "" {
			res.Type, res.ID = "portal", r.portalID
		}
	}
	return res
}

// refTypeAndID reads collection/id pairs (control-planes/<id>/services):
// the last collection is the type, the id after it (not "*") the id.
func refTypeAndID(segs []string) (typ, id string) {
	for i := 0; i < len(segs); i += 2 {
		typ, id = segs[i], ""
		if i+1 < len(segs) && segs[i+1] != "*" {
			id = segs[i+1]
		}
	}
	return typ, id
}

// refPathResource takes the last segment of an API path that is not an id or
// a version as the type, and the id segment right after it as the id:
// /konnect-api/api/control_planes/<uuid>/services → services;
// /v2/control-planes/<uuid> → control-planes, <uuid>.
func refPathResource(path string) (typ, id string) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if s == "" || refIsID(s) || refIsVersion(s) {
			continue
		}
		if i+1 < len(segs) && refIsID(segs[i+1]) {
			id = segs[i+1]
		}
		return s, id
	}
	return "", ""
}

// refIsID: a UUID or a number.
func refIsID(s string) bool {
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return true
	}
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func refIsVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}

// refCefLine is one CEF entry as Konnect writes it:
//
//	<prefix> CEF:<version>|<vendor>|<product>|<version>|<signature id>|<name>|<severity>|<extension>
//
// where the prefix is "2025-06-18T21:02:36Z konghq.com" or a syslog
// "Apr 14 05:39:08 konghq.com".
type refCefLine struct {
	prefix                                   string
	version, vendor, product, productVersion string
	signatureID, name, severity              string
	ext                                      []refField
}

type refField struct{ key, value string }

var refCefMarker = []byte("CEF:")

// refCefHeaderFields counts the header fields after "CEF:", the version
// included.
const refCefHeaderFields = 7

// refParseCEF splits a CEF line into prefix, header and extension. Header
// fields unescape \| and \\; extension values unescape \=, \\, \n and \r.
// A value runs up to the space before the next key=, so values may hold
// spaces, parentheses and unescaped '=' not preceded by a key.
func refParseCEF(line []byte) (refCefLine, error) {
	var c refCefLine
	at := bytes.Index(line, refCefMarker)
	if at < 0 {
		return c, errors.New("neither JSON nor CEF: a Konnect entry is a JSON object, {\"event\":{…}} (CPS) or a CEF:0|… line")
	}
	c.prefix = strings.TrimSpace(string(line[:at]))
	rest := string(line[at+len(refCefMarker):])
	var hdr [refCefHeaderFields]string
	for i := range hdr {
		end := refHeaderEnd(rest)
		if end < 0 {
			return c, fmt.Errorf("CEF header has %d of %d |-separated fields", i, refCefHeaderFields)
		}
		hdr[i] = refUnescapeHeader(rest[:end])
		rest = rest[end+1:]
	}
	c.version, c.vendor, c.product, c.productVersion = hdr[0], hdr[1], hdr[2], hdr[3]
	c.signatureID, c.name, c.severity = hdr[4], hdr[5], hdr[6]
	ext, err := refParseExtension(rest)
	if err != nil {
		return c, err
	}
	c.ext = ext
	return c, nil
}

// refHeaderEnd returns the index of the first unescaped '|', or -1.
func refHeaderEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			return i
		}
	}
	return -1
}

func refUnescapeHeader(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// refParseExtension reads "k1=v1 k2=a value with spaces k3=" pairs.
func refParseExtension(s string) ([]refField, error) {
	s = strings.TrimLeft(s, " ")
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []refField
	key, valStart := "", 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			continue
		case '=':
		default:
			continue
		}
		j := i
		for j > 0 && refIsKeyByte(s[j-1]) {
			j--
		}
		if j == i || (j > 0 && s[j-1] != ' ') || j < valStart {
			if key == "" {
				return nil, fmt.Errorf("CEF extension does not start with key=value: %.40q", s)
			}
			continue // an '=' inside a value
		}
		if key != "" {
			out = append(out, refField{key, refUnescapeValue(strings.TrimRight(s[valStart:j], " "))})
		} else if j != 0 {
			return nil, fmt.Errorf("CEF extension does not start with key=value: %.40q", s)
		}
		key, valStart = s[j:i], i+1
	}
	if key == "" {
		return nil, fmt.Errorf("CEF extension has no key=value: %.40q", s)
	}
	out = append(out, refField{key, refUnescapeValue(strings.TrimRight(s[valStart:], " "))})
	return out, nil
}

func refIsKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func refUnescapeValue(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '\\', '=', '|':
			b.WriteByte(s[i+1])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte('\\') // not a CEF escape: kept as it is
			continue
		}
		i++
	}
	return b.String()
}

// refPrefixTime reads the timestamp before "CEF:": RFC 3339
// ("2025-06-18T21:02:36Z konghq.com") or syslog ("Apr 14 05:39:08
// konghq.com", optionally after a <PRI>), whose year is taken from
// receivedAt (the previous year when that would put it more than a day in
// the future). Anything else gives the zero time.
func refPrefixTime(prefix string, receivedAt time.Time) time.Time {
	if strings.HasPrefix(prefix, "<") {
		if end := strings.IndexByte(prefix, '>'); end > 0 {
			prefix = strings.TrimLeft(prefix[end+1:], " ")
		}
	}
	first, _, _ := strings.Cut(prefix, " ")
	if t, err := time.Parse(time.RFC3339Nano, first); err == nil {
		return t.UTC()
	}
	if len(prefix) < len(time.Stamp) || receivedAt.IsZero() {
		return time.Time{}
	}
	t, err := time.Parse(time.Stamp, prefix[:len(time.Stamp)])
	if err != nil {
		return time.Time{}
	}
	return refWithYear(t, receivedAt)
}

// refWithYear puts a year-less time in receivedAt's year, or the year before
// when that would be more than a day after receivedAt (a December entry
// received in January).
func refWithYear(t, receivedAt time.Time) time.Time {
	rec := receivedAt.UTC()
	y := time.Date(rec.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if y.After(rec.Add(24 * time.Hour)) {
		y = y.AddDate(-1, 0, 0)
	}
	return y
}
