package konghooks

// The implementation Parse had before its one-pass path (fast.go), kept
// as the reference FuzzParseMatchesReference compares Parse with: Parse's
// decoding and hook.go as they were, every name they defined prefixed with
// ref (the source constants are shared).

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
	"github.com/auditrelay/auditrelay/adapters/kong"
)

// refParse turns one event-hook delivery into one event. A ping (sent when a
// hook is created or changed) is counted as ignored.
func (a *Adapter) refParse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return auditrelay.Parsed{}, errors.New("body is empty: Kong's webhook handler sends one JSON object per event")
	}
	if trimmed[0] != '{' {
		return auditrelay.Parsed{}, fmt.Errorf("body is JSON %s, not an object: Kong's webhook handler sends one JSON object per event", jsonscan.KindOf(trimmed[0]).String())
	}
	var h refHook
	if err := json.Unmarshal(trimmed, &h); err != nil {
		return auditrelay.Parsed{}, fmt.Errorf("body: %w", jsonscan.Describe(err))
	}
	if err := h.check(); err != nil {
		return auditrelay.Parsed{}, err
	}
	if h.Source == sourcePing {
		return auditrelay.Parsed{Ignored: 1}, nil
	}
	e, err := refNormalize(&h, meta)
	if err != nil {
		return auditrelay.Parsed{}, err
	}
	var compact bytes.Buffer
	compact.Grow(len(trimmed))
	if err := json.Compact(&compact, trimmed); err != nil {
		return auditrelay.Parsed{}, fmt.Errorf("body: %w", jsonscan.Describe(err))
	}
	e.ID = auditrelay.ContentID(Kind, compact.Bytes())
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		e.Raw = compact.Bytes()
	}
	return auditrelay.Parsed{Events: []auditrelay.Event{e}}, nil
}

// refHook is one webhook delivery: Kong's event data plus the event and
// source the webhook handler adds.
type refHook struct {
	Source string `json:"source"`
	Event  string `json:"event"`

	// crud, dao:crud
	Operation string    `json:"operation"`
	Schema    string    `json:"schema"`
	Entity    refEntity `json:"entity"`
	OldEntity refEntity `json:"old_entity"`

	// balancer health
	UpstreamID string `json:"upstream_id"`
	IP         string `json:"ip"` // also rate-limiting-advanced: the client
	Port       int    `json:"port"`
	Hostname   string `json:"hostname"`
	Health     string `json:"health"`

	// rate-limiting-advanced rate-limit-exceeded
	Consumer refEntity       `json:"consumer"`
	Service  refEntity       `json:"service"`
	Rate     json.RawMessage `json:"rate"`
	Limit    json.RawMessage `json:"limit"`
	Window   json.RawMessage `json:"window"`
}

func refNormalize(h *refHook, meta auditrelay.Meta) (auditrelay.Event, error) {
	var e auditrelay.Event
	switch {
	case h.Source == sourceBalancer:
		e = refBalancer(h)
	case h.Source == sourceRateLimit:
		e = refRateLimit(h)
	case h.Source == sourceCRUD || h.Source == sourceDAOCRUD || h.Operation != "" || h.Entity.present:
		e = refCrud(h)
	case h.Source == "" && h.Event == "":
		return e, errors.New(`body has neither "source" nor "event": not a Kong event-hook delivery`)
	default:
		e = auditrelay.Event{
			Actor:    auditrelay.Actor{Type: auditrelay.ActorAnonymous},
			Action:   auditrelay.Action{Name: h.Event, Verb: auditrelay.VerbOther},
			Resource: auditrelay.Resource{Type: h.Schema},
			Outcome:  auditrelay.Outcome{Result: auditrelay.ResultUnknown},
		}
	}
	if e.Time.IsZero() {
		e.Time = meta.ReceivedAt
	}
	e.Score(false)
	return e, nil
}

// refCrud maps a crud or dao:crud event: a committed database change.
func refCrud(h *refHook) auditrelay.Event {
	ent, old := &h.Entity, &h.OldEntity
	op := h.Operation
	typ := h.Schema
	if h.Source == sourceDAOCRUD {
		// dao:crud events are named by operation: create, update, delete.
		op = cmp.Or(op, h.Event)
	} else {
		// crud events are named by schema: consumers or consumers:create.
		name, suffix, _ := strings.Cut(h.Event, ":")
		op, typ = cmp.Or(op, suffix), cmp.Or(typ, name)
	}
	verb := refVerbOfOperation(op)
	e := auditrelay.Event{
		Actor:  auditrelay.Actor{Type: auditrelay.ActorAnonymous},
		Action: auditrelay.Action{Name: op, Verb: verb},
		Resource: auditrelay.Resource{
			Type:      typ,
			ID:        cmp.Or(ent.str(ent.ID), old.str(old.ID)),
			Name:      cmp.Or(ent.name(), old.name()),
			Namespace: cmp.Or(ent.str(ent.WsID), old.str(old.WsID)),
		},
		Outcome: auditrelay.Outcome{Result: auditrelay.ResultSuccess},
	}
	if verb == auditrelay.VerbCreate || verb == auditrelay.VerbUpdate {
		e.Time = ent.changedAt()
	}
	return e
}

// refBalancer maps a balancer health event: a target of an upstream changed
// health, as Kong's health checker saw it.
func refBalancer(h *refHook) auditrelay.Event {
	host := cmp.Or(h.Hostname, h.IP)
	target := host
	if h.Port > 0 {
		target = net.JoinHostPort(host, strconv.Itoa(h.Port))
	}
	if h.IP != "" && h.IP != host {
		target += " (" + h.IP + ")"
	}
	result := auditrelay.ResultFailure
	if h.Health == "healthy" {
		result = auditrelay.ResultSuccess
	}
	return auditrelay.Event{
		Actor:    auditrelay.Actor{Type: auditrelay.ActorService},
		Action:   auditrelay.Action{Name: cmp.Or(h.Event, "health"), Verb: auditrelay.VerbOther},
		Resource: auditrelay.Resource{Type: "upstreams", ID: h.UpstreamID},
		Outcome: auditrelay.Outcome{
			Result: result,
			Reason: strings.TrimSpace(fmt.Sprintf("target %s is %s", target, cmp.Or(h.Health, "of unknown health"))),
		},
	}
}

// refRateLimit maps a rate-limiting-advanced rate-limit-exceeded event: a
// client was answered 429.
func refRateLimit(h *refHook) auditrelay.Event {
	consumer, svc := &h.Consumer, &h.Service
	e := auditrelay.Event{
		Actor:   auditrelay.Actor{Type: auditrelay.ActorAnonymous},
		Action:  auditrelay.Action{Name: cmp.Or(h.Event, "rate-limit-exceeded"), Verb: auditrelay.VerbOther},
		Request: auditrelay.Request{ClientIP: h.IP},
		Outcome: auditrelay.Outcome{
			Result:     auditrelay.ResultFailure,
			StatusCode: 429,
			Reason:     fmt.Sprintf("rate %s exceeds limit %s per %s", refScalar(h.Rate), refScalar(h.Limit), refWindow(h.Window)),
		},
	}
	if id, user := consumer.str(consumer.ID), consumer.str(consumer.Username); id != "" || user != "" {
		e.Actor = auditrelay.Actor{ID: id, Username: user, Name: consumer.str(consumer.CustomID), Type: auditrelay.ActorUser}
	}
	if id, name := svc.str(svc.ID), svc.str(svc.Name); id != "" || name != "" {
		e.Resource = auditrelay.Resource{Type: "services", ID: id, Name: name, Namespace: svc.str(svc.WsID)}
	}
	return e
}

// refWindow names a rate-limit window: its name ("minute") or its size in
// seconds.
func refWindow(raw json.RawMessage) string {
	w := refScalar(raw)
	if len(raw) > 0 && raw[0] != '"' && w != "?" {
		return w + "s"
	}
	return w
}

// refScalar writes a JSON string or number as text; anything else as "?".
func refScalar(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "?"
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return "?"
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

// refEntity is the part of a Kong entity the mapping reads; a member of
// another JSON type than expected is ignored, not an error.
type refEntity struct {
	ID        json.RawMessage `json:"id"`
	Name      json.RawMessage `json:"name"`
	Username  json.RawMessage `json:"username"`
	CustomID  json.RawMessage `json:"custom_id"`
	WsID      json.RawMessage `json:"ws_id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`

	present bool   // the member was an object, {} included
	bad     string // the JSON type of a member that was not an object
}

// UnmarshalJSON reads an entity object; null gives none. A member of
// another JSON type is noted in bad and reported by hook.check, which
// knows the member's name.
func (e *refEntity) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '{':
	default:
		e.bad = jsonscan.KindOf(b[0]).String()
		return nil
	}
	type plain refEntity
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.present = true
	return nil
}

// check reports an entity member that is not a JSON object.
func (h *refHook) check() error {
	for _, m := range []struct {
		name string
		e    *refEntity
	}{{"entity", &h.Entity}, {"old_entity", &h.OldEntity}, {"consumer", &h.Consumer}, {"service", &h.Service}} {
		if m.e.bad != "" {
			return fmt.Errorf("%s: got JSON %s, want an object (a Kong entity)", m.name, m.e.bad)
		}
	}
	return nil
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

func (e refEntity) name() string { return cmp.Or(e.str(e.Name), e.str(e.Username)) }

// changedAt is the entity's updated_at, else its created_at.
func (e refEntity) changedAt() time.Time { return kong.EntityTime(e.UpdatedAt, e.CreatedAt) }
