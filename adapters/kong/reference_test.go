package kong

// The implementation Parse had before its one-pass path (fast.go), kept
// as the reference FuzzParseMatchesReference compares Parse with: the
// record-by-record path and the mapping as they were, every name it
// defined prefixed with ref. Unchanged helpers (decodePage, epoch,
// EntityTime, actorOf, …) are shared.

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

// refParseEach decodes the records one by one: the reference path, which
// keeps each record's bytes (include_raw, content ids) and names the
// position of a bad record.
func (a *Adapter) refParseEach(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	records, err := refDecodeBody(body)
	if err != nil {
		return auditrelay.Parsed{}, err
	}
	out := auditrelay.Parsed{Events: make([]auditrelay.Event, 0, len(records))}
	var compact bytes.Buffer
	for i, raw := range records {
		var rec record
		if err := refDecodeRecord(raw, &rec); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		e, err := a.refNormalize(&rec)
		if err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		if e.ID == "" || meta.IncludeRaw {
			compact.Reset()
			if err := json.Compact(&compact, raw); err != nil {
				return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
			}
			if e.ID == "" {
				e.ID = auditrelay.ContentID(Kind, compact.Bytes())
			}
			if meta.IncludeRaw {
				e.Raw = append(json.RawMessage(nil), compact.Bytes()...)
			}
		}
		e.ReceivedAt = meta.ReceivedAt
		e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// refDecodeBody returns the records of a body in any of the three shapes.
func refDecodeBody(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("body is empty: " + shapes)
	}
	switch trimmed[0] {
	case '[':
		var records []json.RawMessage
		if err := json.Unmarshal(trimmed, &records); err != nil {
			return nil, fmt.Errorf("body: %w", jsonscan.Describe(err))
		}
		return records, nil
	case '{':
		p, isPage, err := decodePage(trimmed)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		if isPage {
			return p.Records, nil
		}
		return []json.RawMessage{trimmed}, nil
	}
	return nil, fmt.Errorf("body is JSON %s, not an object or array: %s", jsonscan.KindOf(trimmed[0]).String(), shapes)
}
func refDecodeRecord(raw json.RawMessage, r *record) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("want a JSON object (an audit record), got %s", jsonscan.KindOf(t[0]).String())
	}
	if err := json.Unmarshal(raw, r); err != nil {
		return jsonscan.Describe(err)
	}
	return nil
}

func (a *Adapter) refNormalize(r *record) (auditrelay.Event, error) {
	switch {
	case r.isObject():
		return a.refObject(r)
	case r.isRequest():
		return a.refRequest(r)
	}
	return auditrelay.Event{}, errors.New("neither a request record (request_id, method, path) nor an object record (dao_name, operation)")
}

// refRequest maps a record of GET /audit/requests.
func (a *Adapter) refRequest(r *record) (auditrelay.Event, error) {
	t, err := epoch(r.RequestTimestamp, "request_timestamp")
	if err != nil {
		return auditrelay.Event{}, err
	}
	e := auditrelay.Event{
		ID:     r.RequestID,
		Time:   t,
		Actor:  refActorOf(r.RBACUserID, r.RBACUserName),
		Action: auditrelay.Action{Name: refSessionAction(r.Method, r.Path), Verb: auditrelay.VerbOf(r.Method)},
		Request: auditrelay.Request{
			ID:        r.RequestID,
			Method:    r.Method,
			Path:      r.Path,
			ClientIP:  r.ClientIP,
			Interface: refInterfaceOf(r.RequestSource),
		},
		Outcome:  auditrelay.Outcome{Result: auditrelay.ResultOf(r.Status), StatusCode: r.Status},
		Resource: a.paths.Resolve(r.Path),
	}
	if r.Workspace != "" {
		e.Resource.Namespace = r.Workspace
	}
	if e.Resource.Type != "" && e.Resource.ID == "" && e.Resource.Name == "" {
		e.Resource.Name = refPayloadName(r.Payload)
	}
	e.Score(false)
	return e, nil
}

// refObject maps a record of GET /audit/objects.
func (a *Adapter) refObject(r *record) (auditrelay.Event, error) {
	t, err := epoch(r.RequestTimestamp, "request_timestamp")
	if err != nil {
		return auditrelay.Event{}, err
	}
	ent := refParseEntity(r.Entity)
	verb := refVerbOfOperation(r.Operation)
	if t.IsZero() && (verb == auditrelay.VerbCreate || verb == auditrelay.VerbUpdate) {
		t = ent.changedAt()
	}
	e := auditrelay.Event{
		ID:     r.ID,
		Time:   t,
		Actor:  refActorOf(r.RBACUserID, ""),
		Action: auditrelay.Action{Name: r.Operation, Verb: verb},
		Resource: auditrelay.Resource{
			Type:      r.DaoName,
			ID:        cmp.Or(r.EntityKey, ent.id()),
			Name:      ent.name(),
			Namespace: ent.str(ent.WsID),
		},
		Request: auditrelay.Request{ID: r.RequestID},
		// Kong writes an object record when the change is committed.
		Outcome: auditrelay.Outcome{Result: auditrelay.ResultSuccess},
	}
	e.Score(false)
	return e, nil
}

func refActorOf(id, name string) auditrelay.Actor {
	if id == "" && name == "" {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	return auditrelay.Actor{ID: id, Name: name, Type: auditrelay.ActorUser}
}

func refInterfaceOf(source string) string {
	if source == "kong-manager" {
		return auditrelay.InterfaceUI
	}
	return ""
}

// refSessionAction names Kong Manager's session requests: GET /auth logs in,
// DELETE /auth?session_logout=true logs out.
func refSessionAction(method, path string) string {
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

func refVerbOfOperation(op string) string {
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

// refPayloadName reads the name or username the request body gave the
// refEntity it creates: from a JSON object, else from a form body.
func refPayloadName(payload string) string {
	if payload == "" {
		return ""
	}
	if strings.HasPrefix(strings.TrimSpace(payload), "{") {
		var ent refEntity
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

// refEntity is the part of a Kong entity (object record entity, event-hook
// refEntity, request payload) the mapping reads; values of another JSON type
// than expected are ignored, not errors.
type refEntity struct {
	ID        json.RawMessage `json:"id"`
	Name      json.RawMessage `json:"name"`
	Username  json.RawMessage `json:"username"`
	WsID      json.RawMessage `json:"ws_id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// refParseEntity reads an object record's entity, a JSON string; one that is
// not a JSON object gives nothing (it stays in raw).
func refParseEntity(s string) refEntity {
	var ent refEntity
	if s != "" && json.Unmarshal([]byte(s), &ent) != nil {
		return refEntity{}
	}
	return ent
}

func (refEntity) str(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func (e refEntity) id() string   { return e.str(e.ID) }
func (e refEntity) name() string { return cmp.Or(e.str(e.Name), e.str(e.Username)) }

// changedAt is the entity's updated_at, else its created_at.
func (e refEntity) changedAt() time.Time { return EntityTime(e.UpdatedAt, e.CreatedAt) }
