package konnect

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

// record is one Konnect entry with every field as text, whichever format
// (JSON, CPS, CEF) it came in. Text keeps trace_id's digits exact and
// absorbs the type drift between releases (rt, status as string or number;
// success, granted as bool or "true").
type record struct {
	name, classID string
	rt, eventTS   string
	prefixTime    time.Time // from a CEF line's timestamp prefix
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
func (r *record) set(key, v string) {
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
func (r *record) fromJSON(b []byte) error {
	obj, err := decodeObject(b)
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
	sort.Strings(keys) // the first bad field reported is stable
	for _, k := range keys {
		v := obj[k]
		if k == "query" {
			q, err := queryOf(v)
			if err != nil {
				return fmt.Errorf("query: %w", err)
			}
			r.query = q
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		r.set(k, s)
	}
	return nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, describe(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the entry's object; one entry per line")
	}
	if obj == nil {
		return nil, errors.New("entry is JSON null, want an object")
	}
	return obj, nil
}

// scalar renders a JSON string, number or boolean as text; null is "".
func scalar(v any) (string, error) {
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

// queryOf reads an access entry's query: Konnect sends the request's query
// parameters as a JSON object in a string ("{\"end\":\"1684270800\"}"),
// possibly as the object itself. It returns them URL-encoded (keys
// sorted); a plain query string is kept as it is.
func queryOf(v any) (string, error) {
	switch q := v.(type) {
	case nil:
		return "", nil
	case map[string]any:
		return encodeQuery(q), nil
	case string:
		q = strings.TrimSpace(q)
		if !strings.HasPrefix(q, "{") {
			return strings.TrimPrefix(q, "?"), nil
		}
		obj, err := decodeObject([]byte(q))
		if err != nil {
			return "", err
		}
		return encodeQuery(obj), nil
	}
	return "", errors.New("want a JSON object or a string")
}

func encodeQuery(obj map[string]any) string {
	vals := url.Values{}
	for k, v := range obj {
		if list, ok := v.([]any); ok {
			for _, item := range list {
				if s, err := scalar(item); err == nil {
					vals.Add(k, s)
				}
			}
			continue
		}
		if s, err := scalar(v); err == nil {
			vals.Add(k, s)
		}
	}
	return vals.Encode()
}

// fromCEF reads a parsed CEF line: the header's SignatureID and Name are
// the JSON form's event_class_id and name; the extension holds the rest.
// p reads query objects in one pass (queryOf reads what it does not take).
func (r *record) fromCEF(c *cefLine, receivedAt time.Time, p *lineParser) {
	r.classID = c.signatureID
	r.name = c.name
	for _, f := range c.ext {
		if f.key == "query" {
			if q, ok := p.cefQuery(f.value); ok {
				r.query = q
			} else if q, err := queryOf(f.value); err == nil {
				r.query = q
			}
			continue
		}
		r.set(f.key, f.value)
	}
	r.prefixTime = prefixTime(c.prefix, receivedAt)
}

// Entry types by their name.
const (
	typeAuthn  = "authentication"
	typeAuthz  = "authorization"
	typeAccess = "access"
)

func (r *record) entryType() string {
	switch {
	case strings.HasPrefix(r.name, "AUTHENTICATION_"):
		return typeAuthn
	case strings.HasPrefix(r.name, "Authz."):
		return typeAuthz
	case r.name == "Ingress":
		return typeAccess
	}
	return ""
}

// normalize maps the record; an error names the field that was wrong.
func (r *record) normalize() (auditrelay.Event, error) {
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
	kongInit, err := optBool("kong_initiated", r.kongInit)
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
		Interface: interfaceOf(r.classID),
	}
	if r.query != "" {
		e.Request.Path += "?" + r.query
	}
	authFailure := (typ == typeAuthn || typ == typeAuthz) && e.Outcome.Result == auditrelay.ResultFailure
	e.Score(authFailure)
	return e, nil
}

// time is rt (epoch ms, string or number), else event_ts (RFC 3339),
// else the CEF line's timestamp prefix.
func (r *record) time() (time.Time, error) {
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
	return r.prefixTime, nil
}

// outcome is success (bool or "true"), granted, else the access status.
// An authentication entry without success is judged by its name.
func (r *record) outcome() (auditrelay.Outcome, error) {
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
		b, err := optBool(f.key, f.v)
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
		o.Reason = reasonOf(outcome)
	}
	return o, nil
}

// reasonOf words an authentication outcome: INVALID_PASSWORD → "invalid
// password". The documented outcomes are constants.
func reasonOf(outcome string) string {
	switch outcome {
	case "INVALID_PASSWORD":
		return "invalid password"
	case "NOT_FOUND":
		return "not found"
	case "LOCKED":
		return "locked"
	case "TOKEN_EXPIRED":
		return "token expired"
	}
	return strings.ToLower(strings.ReplaceAll(outcome, "_", " "))
}

// optBool normalizes a boolean field to "true", "false" or "" (absent).
func optBool(key, v string) (string, error) {
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
func (r *record) actor(kongInitiated bool) auditrelay.Actor {
	a := auditrelay.Actor{ID: r.principalID, Name: r.principalName, Type: auditrelay.ActorUser}
	switch {
	case kongInitiated || r.classID == "AUTHENTICATION_TYPE_SPAT":
		a.Type = auditrelay.ActorService
	case a.ID == "" && a.Name == "":
		a.Type = auditrelay.ActorAnonymous
	}
	return a
}

func (r *record) actionOf(typ string) auditrelay.Action {
	a := auditrelay.Action{Name: r.name}
	switch typ {
	case typeAuthn:
		a.Verb = auditrelay.VerbOther
		if r.classID != "" {
			a.All = []string{r.name, r.classID}
		}
	case typeAuthz:
		a.Verb = verbOfAction(r.action)
		if r.action != "" {
			a.All = []string{r.name, r.action}
		}
	default:
		a.Verb = auditrelay.VerbOf(r.act)
	}
	return a
}

// verbOfAction maps an authorization action (retrieve, list, edit…).
func verbOfAction(action string) string {
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

// interfaceOf: personal and system access tokens are API calls; the other
// authentication types (basic, SSO, Google, GitHub, Windows Live,
// federated) are logins to the web application or Dev Portal.
func interfaceOf(classID string) string {
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
func (r *record) resource(typ string) auditrelay.Resource {
	res := auditrelay.Resource{Namespace: r.orgID}
	switch typ {
	case typeAuthz:
		res.Type, res.ID = typeAndID(strings.TrimPrefix(r.name, "Authz."))
	case typeAccess:
		res.Type, res.ID = pathResource(r.request)
	case typeAuthn:
		if r.portalID != "" {
			res.Type, res.ID = "portal", r.portalID
		}
	}
	return res
}

// typeAndID reads collection/id pairs (control-planes/<id>/services):
// the last collection is the type, the id after it (not "*") the id.
func typeAndID(name string) (typ, id string) {
	for rest, more := name, true; more; {
		typ, rest, more = strings.Cut(rest, "/")
		id = ""
		if !more {
			break
		}
		id, rest, more = strings.Cut(rest, "/")
		if id == "*" {
			id = ""
		}
	}
	return typ, id
}

// pathResource takes the last segment of an API path that is not an id or
// a version as the type, and the id segment right after it as the id:
// /konnect-api/api/control_planes/<uuid>/services → services;
// /v2/control-planes/<uuid> → control-planes, <uuid>.
func pathResource(path string) (typ, id string) {
	path, _, _ = strings.Cut(path, "?")
	path = strings.Trim(path, "/")
	next, hasNext := "", false // the segment after the one looked at
	for rest := path; ; {
		i := strings.LastIndexByte(rest, '/')
		s := rest[i+1:]
		if s != "" && !isID(s) && !isVersion(s) {
			if hasNext && isID(next) {
				id = next
			}
			return s, id
		}
		if i < 0 {
			return "", ""
		}
		next, hasNext, rest = s, true, rest[:i]
	}
}

// isID: a UUID or a number (a uint64).
func isID(s string) bool {
	if isDigits(s) {
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
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

// isDigits reports whether s is one or more ASCII digits, the only
// strings strconv.ParseUint may take in base 10.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}
