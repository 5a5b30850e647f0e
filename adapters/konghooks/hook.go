package konghooks

import (
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

// Sources this adapter maps field by field; any other source is mapped as
// far as its event and schema tell.
const (
	sourceCRUD      = "crud"
	sourceDAOCRUD   = "dao:crud"
	sourceBalancer  = "balancer"
	sourceRateLimit = "rate-limiting-advanced"
	sourcePing      = "kong:event_hooks"
)

// hook is one webhook delivery: Kong's event data plus the event and
// source the webhook handler adds.
type hook struct {
	Source string `json:"source"`
	Event  string `json:"event"`

	// crud, dao:crud
	Operation string `json:"operation"`
	Schema    string `json:"schema"`
	Entity    entity `json:"entity"`
	OldEntity entity `json:"old_entity"`

	// balancer health
	UpstreamID string `json:"upstream_id"`
	IP         string `json:"ip"` // also rate-limiting-advanced: the client
	Port       int    `json:"port"`
	Hostname   string `json:"hostname"`
	Health     string `json:"health"`

	// rate-limiting-advanced rate-limit-exceeded
	Consumer entity          `json:"consumer"`
	Service  entity          `json:"service"`
	Rate     json.RawMessage `json:"rate"`
	Limit    json.RawMessage `json:"limit"`
	Window   json.RawMessage `json:"window"`
}

func normalize(h *hook, meta auditrelay.Meta) (auditrelay.Event, error) {
	var e auditrelay.Event
	switch {
	case h.Source == sourceBalancer:
		e = balancer(h)
	case h.Source == sourceRateLimit:
		e = rateLimit(h)
	case h.Source == sourceCRUD || h.Source == sourceDAOCRUD || h.Operation != "" || h.Entity.present:
		e = crud(h)
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

// crud maps a crud or dao:crud event: a committed database change.
func crud(h *hook) auditrelay.Event {
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
	verb := verbOfOperation(op)
	e := auditrelay.Event{
		Actor:  auditrelay.Actor{Type: auditrelay.ActorAnonymous},
		Action: auditrelay.Action{Name: op, Verb: verb},
		Resource: auditrelay.Resource{
			Type:      typ,
			ID:        cmp.Or(ent.get(entID), old.get(entID)),
			Name:      cmp.Or(ent.name(), old.name()),
			Namespace: cmp.Or(ent.get(entWsID), old.get(entWsID)),
		},
		Outcome: auditrelay.Outcome{Result: auditrelay.ResultSuccess},
	}
	if verb == auditrelay.VerbCreate || verb == auditrelay.VerbUpdate {
		e.Time = ent.changedAt()
	}
	return e
}

// balancer maps a balancer health event: a target of an upstream changed
// health, as Kong's health checker saw it.
func balancer(h *hook) auditrelay.Event {
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

// rateLimit maps a rate-limiting-advanced rate-limit-exceeded event: a
// client was answered 429.
func rateLimit(h *hook) auditrelay.Event {
	consumer, svc := &h.Consumer, &h.Service
	e := auditrelay.Event{
		Actor:   auditrelay.Actor{Type: auditrelay.ActorAnonymous},
		Action:  auditrelay.Action{Name: cmp.Or(h.Event, "rate-limit-exceeded"), Verb: auditrelay.VerbOther},
		Request: auditrelay.Request{ClientIP: h.IP},
		Outcome: auditrelay.Outcome{
			Result:     auditrelay.ResultFailure,
			StatusCode: 429,
			Reason:     fmt.Sprintf("rate %s exceeds limit %s per %s", scalar(h.Rate), scalar(h.Limit), window(h.Window)),
		},
	}
	if id, user := consumer.get(entID), consumer.get(entUsername); id != "" || user != "" {
		e.Actor = auditrelay.Actor{ID: id, Username: user, Name: consumer.get(entCustomID), Type: auditrelay.ActorUser}
	}
	if id, name := svc.get(entID), svc.get(entName); id != "" || name != "" {
		e.Resource = auditrelay.Resource{Type: "services", ID: id, Name: name, Namespace: svc.get(entWsID)}
	}
	return e
}

// window names a rate-limit window: its name ("minute") or its size in
// seconds.
func window(raw json.RawMessage) string {
	w := scalar(raw)
	if len(raw) > 0 && raw[0] != '"' && w != "?" {
		return w + "s"
	}
	return w
}

// scalar writes a JSON string or number as text; anything else as "?".
func scalar(raw json.RawMessage) string {
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

// entity is the part of a Kong entity the mapping reads; a member of
// another JSON type than expected is ignored, not an error.
type entity struct {
	ID        json.RawMessage `json:"id"`
	Name      json.RawMessage `json:"name"`
	Username  json.RawMessage `json:"username"`
	CustomID  json.RawMessage `json:"custom_id"`
	WsID      json.RawMessage `json:"ws_id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`

	present bool   // the member was an object, {} included
	bad     string // the JSON type of a member that was not an object

	// decoded holds the string members, read by the one-pass path
	// (fast.go), when isDecoded; else get decodes them from the raw values.
	decoded   [numEntityStrings]string
	isDecoded bool
}

// The string members of an entity, by their index in entity.decoded.
const (
	entID = iota
	entName
	entUsername
	entCustomID
	entWsID
	numEntityStrings
)

// get returns a string member: its text, or "" when it is absent or not
// a JSON string.
func (e *entity) get(i int) string {
	if e.isDecoded {
		return e.decoded[i]
	}
	return e.str([...]json.RawMessage{e.ID, e.Name, e.Username, e.CustomID, e.WsID}[i])
}

// UnmarshalJSON reads an entity object; null gives none. A member of
// another JSON type is noted in bad and reported by hook.check, which
// knows the member's name.
func (e *entity) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '{':
	default:
		e.bad = jsonscan.KindOf(b[0]).String()
		return nil
	}
	type plain entity
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.present = true
	return nil
}

// check reports an entity member that is not a JSON object.
func (h *hook) check() error {
	for _, m := range []struct {
		name string
		e    *entity
	}{{"entity", &h.Entity}, {"old_entity", &h.OldEntity}, {"consumer", &h.Consumer}, {"service", &h.Service}} {
		if m.e.bad != "" {
			return fmt.Errorf("%s: got JSON %s, want an object (a Kong entity)", m.name, m.e.bad)
		}
	}
	return nil
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

func (e *entity) name() string { return cmp.Or(e.get(entName), e.get(entUsername)) }

// changedAt is the entity's updated_at, else its created_at.
func (e entity) changedAt() time.Time { return kong.EntityTime(e.UpdatedAt, e.CreatedAt) }
