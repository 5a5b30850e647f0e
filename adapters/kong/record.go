package kong

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// record holds the fields of both record kinds that the mapping reads;
// signature, ttl, expire, removed_from_payload and removed_from_entity are
// not decoded (they reach raw only).
type record struct {
	// request records (/audit/requests)
	RequestID        string          `json:"request_id"`
	RequestTimestamp json.RawMessage `json:"request_timestamp"` // also on 3.x object records
	ClientIP         string          `json:"client_ip"`
	Path             string          `json:"path"`
	Method           string          `json:"method"`
	Status           int             `json:"status"`
	RBACUserID       string          `json:"rbac_user_id"` // also on object records
	RBACUserName     string          `json:"rbac_user_name"`
	RequestSource    string          `json:"request_source"`
	Workspace        string          `json:"workspace"`
	Payload          string          `json:"payload"`

	// object records (/audit/objects)
	ID        string `json:"id"`
	DaoName   string `json:"dao_name"`
	EntityKey string `json:"entity_key"`
	Operation string `json:"operation"`
	Entity    string `json:"entity"`

	// What the one-pass path (fast.go) read of Entity and Payload already;
	// without it the mapping reads them itself.
	ent         entityFields
	entRead     bool
	payloadName string
	payloadRead bool
}

// entityFields is what the mapping reads of an entity.
type entityFields struct {
	id, name, wsID       string
	updatedAt, createdAt json.RawMessage
}

// entityFields returns what the mapping reads of the record's entity.
func (r *record) entityFields() entityFields {
	if r.entRead {
		return r.ent
	}
	e := parseEntity(r.Entity)
	return entityFields{id: e.id(), name: e.name(), wsID: e.str(e.WsID), updatedAt: e.UpdatedAt, createdAt: e.CreatedAt}
}

// payloadNameOf is payloadName of the record's payload.
func (r *record) payloadNameOf() string {
	if r.payloadRead {
		return r.payloadName
	}
	return payloadName(r.Payload)
}

func (r *record) isObject() bool  { return r.DaoName != "" || r.Operation != "" }
func (r *record) isRequest() bool { return r.Method != "" || r.Path != "" || r.RequestID != "" }

func decodeRecord(raw json.RawMessage, r *record) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("want a JSON object (an audit record), got %s", jsonscan.KindOf(t[0]).String())
	}
	if err := json.Unmarshal(raw, r); err != nil {
		return jsonscan.Describe(err)
	}
	return nil
}

func (a *Adapter) normalize(r *record) (auditrelay.Event, error) {
	switch {
	case r.isObject():
		return a.object(r)
	case r.isRequest():
		return a.request(r)
	}
	return auditrelay.Event{}, errors.New("neither a request record (request_id, method, path) nor an object record (dao_name, operation)")
}

// request maps a record of GET /audit/requests.
func (a *Adapter) request(r *record) (auditrelay.Event, error) {
	t, err := epoch(r.RequestTimestamp, "request_timestamp")
	if err != nil {
		return auditrelay.Event{}, err
	}
	e := auditrelay.Event{
		ID:     r.RequestID,
		Time:   t,
		Actor:  actorOf(r.RBACUserID, r.RBACUserName),
		Action: auditrelay.Action{Name: sessionAction(r.Method, r.Path), Verb: auditrelay.VerbOf(r.Method)},
		Request: auditrelay.Request{
			ID:        r.RequestID,
			Method:    r.Method,
			Path:      r.Path,
			ClientIP:  r.ClientIP,
			Interface: interfaceOf(r.RequestSource),
		},
		Outcome:  auditrelay.Outcome{Result: auditrelay.ResultOf(r.Status), StatusCode: r.Status},
		Resource: a.paths.Resolve(r.Path),
	}
	if r.Workspace != "" {
		e.Resource.Namespace = r.Workspace
	}
	if e.Resource.Type != "" && e.Resource.ID == "" && e.Resource.Name == "" {
		e.Resource.Name = r.payloadNameOf()
	}
	e.Score(false)
	return e, nil
}

// object maps a record of GET /audit/objects.
func (a *Adapter) object(r *record) (auditrelay.Event, error) {
	t, err := epoch(r.RequestTimestamp, "request_timestamp")
	if err != nil {
		return auditrelay.Event{}, err
	}
	ent := r.entityFields()
	verb := verbOfOperation(r.Operation)
	if t.IsZero() && (verb == auditrelay.VerbCreate || verb == auditrelay.VerbUpdate) {
		t = EntityTime(ent.updatedAt, ent.createdAt) // updated_at, else created_at
	}
	e := auditrelay.Event{
		ID:     r.ID,
		Time:   t,
		Actor:  actorOf(r.RBACUserID, ""),
		Action: auditrelay.Action{Name: r.Operation, Verb: verb},
		Resource: auditrelay.Resource{
			Type:      r.DaoName,
			ID:        cmp.Or(r.EntityKey, ent.id),
			Name:      ent.name,
			Namespace: ent.wsID,
		},
		Request: auditrelay.Request{ID: r.RequestID},
		// Kong writes an object record when the change is committed.
		Outcome: auditrelay.Outcome{Result: auditrelay.ResultSuccess},
	}
	e.Score(false)
	return e, nil
}

func actorOf(id, name string) auditrelay.Actor {
	if id == "" && name == "" {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	return auditrelay.Actor{ID: id, Name: name, Type: auditrelay.ActorUser}
}

func interfaceOf(source string) string {
	if source == "kong-manager" {
		return auditrelay.InterfaceUI
	}
	return ""
}

// sessionAction names Kong Manager's session requests: GET /auth logs in,
// DELETE /auth?session_logout=true logs out.
func sessionAction(method, path string) string {
	if p, _, _ := strings.Cut(path, "?"); p != "/auth" {
		return ""
	}
	switch strings.ToUpper(method) {
	case "GET":
		return "login"
	case "DELETE":
		return "logout"
	}
	return ""
}

func verbOfOperation(op string) string {
	switch op {
	case "create":
		return auditrelay.VerbCreate
	case "update":
		return auditrelay.VerbUpdate
	case "delete":
		return auditrelay.VerbDelete
	}
	return auditrelay.VerbOther
}

// payloadName reads the name or username the request body gave the
// entity it creates: from a JSON object, else from a form body.
func payloadName(payload string) string {
	if payload == "" {
		return ""
	}
	if strings.HasPrefix(strings.TrimSpace(payload), "{") {
		var ent entity
		if json.Unmarshal([]byte(payload), &ent) != nil {
			return ""
		}
		return ent.name()
	}
	q, err := url.ParseQuery(payload)
	if err != nil {
		return ""
	}
	return cmp.Or(q.Get("name"), q.Get("username"))
}

// entity is the part of a Kong entity (object record entity, event-hook
// entity, request payload) the mapping reads; values of another JSON type
// than expected are ignored, not errors.
type entity struct {
	ID        json.RawMessage `json:"id"`
	Name      json.RawMessage `json:"name"`
	Username  json.RawMessage `json:"username"`
	WsID      json.RawMessage `json:"ws_id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// parseEntity reads an object record's entity, a JSON string; one that is
// not a JSON object gives nothing (it stays in raw).
func parseEntity(s string) entity {
	var ent entity
	if s != "" && json.Unmarshal([]byte(s), &ent) != nil {
		return entity{}
	}
	return ent
}

func (entity) str(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func (e entity) id() string   { return e.str(e.ID) }
func (e entity) name() string { return cmp.Or(e.str(e.Name), e.str(e.Username)) }

// EntityTime reads the first of raws that is an epoch time, as Kong writes
// an entity's updated_at and created_at: seconds, with a millisecond
// fraction on targets; a value at or above 10^11 (year 5138 in seconds) is
// taken as milliseconds, as Kong 0.x entities carry them. Zero when none is
// usable.
func EntityTime(raws ...json.RawMessage) time.Time {
	for _, raw := range raws {
		if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
			continue
		}
		sec, nsec, err := jsonscan.SplitDecimal(string(raw))
		if err != nil || sec <= 0 {
			continue
		}
		if sec >= 100_000_000_000 {
			sec, nsec = sec/1000, (sec%1000)*int64(time.Millisecond)+nsec/1000
		}
		if sec > maxEpoch {
			continue
		}
		return time.Unix(sec, nsec).UTC()
	}
	return time.Time{}
}

// maxEpoch is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const maxEpoch = 253402300799

// epoch reads a JSON number of epoch seconds, fractions kept to the
// nanosecond; null or absent gives the zero time.
func epoch(raw json.RawMessage, field string) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return time.Time{}, fmt.Errorf("%s: got JSON %s, want epoch seconds (a number)", field, jsonscan.KindOf(c).String())
	}
	if raw[0] == '-' {
		return time.Time{}, fmt.Errorf("%s: %s is not an epoch time in seconds", field, raw)
	}
	sec, nsec, err := jsonscan.SplitDecimal(string(raw))
	if err != nil || sec < 0 || sec > maxEpoch {
		return time.Time{}, fmt.Errorf("%s: %s is not an epoch time in seconds", field, raw)
	}
	return time.Unix(sec, nsec).UTC(), nil
}
