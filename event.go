package auditrelay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Event is one normalized audit event. Its JSON form (formats/json) is
// snake_case with empty fields omitted; times are RFC 3339 with nanoseconds
// in UTC.
type Event struct {
	// ID is the source's own id where it has one, otherwise ContentID.
	ID string `json:"id,omitempty"`
	// Time is when the audited action happened, by the source's clock.
	Time time.Time `json:"time,omitzero"`
	// ReceivedAt is when auditrelay accepted the event.
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Source     Source    `json:"source,omitzero"`
	Actor      Actor     `json:"actor,omitzero"`
	Action     Action    `json:"action,omitzero"`
	Resource   Resource  `json:"resource,omitzero"`
	Request    Request   `json:"request,omitzero"`
	Outcome    Outcome   `json:"outcome,omitzero"`
	// Severity is 0–10; see SeverityOf.
	Severity int `json:"severity"`
	// Raw is the source event unchanged, only when the input sets include_raw.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Source says where an event came from.
type Source struct {
	Kind       string `json:"kind,omitempty"`        // adapter name
	Input      string `json:"input,omitempty"`       // configured input name
	DeliveryID string `json:"delivery_id,omitempty"` // e.g. X-Openfaas-Delivery
}

// Actor is who did it.
type Actor struct {
	ID              string   `json:"id,omitempty"`
	Name            string   `json:"name,omitempty"`
	Username        string   `json:"username,omitempty"`
	Issuer          string   `json:"issuer,omitempty"`
	FederatedIssuer string   `json:"federated_issuer,omitempty"`
	Roles           []string `json:"roles,omitempty"`
	// Type is ActorUser, ActorService or ActorAnonymous.
	Type string `json:"type,omitempty"`
}

// Actor types.
const (
	ActorUser      = "user"
	ActorService   = "service"
	ActorAnonymous = "anonymous"
)

// Action is what was done.
type Action struct {
	Name string   `json:"name,omitempty"` // the source's own action name
	All  []string `json:"all,omitempty"`  // every action the source lists
	Verb string   `json:"verb,omitempty"` // one of the Verb* constants
}

// Verbs.
const (
	VerbCreate = "create"
	VerbRead   = "read"
	VerbUpdate = "update"
	VerbDelete = "delete"
	VerbOther  = "other"
)

// Resource is what it was done to, as far as the source tells.
type Resource struct {
	Type      string `json:"type,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Request is the API request that carried the action.
type Request struct {
	ID        string `json:"id,omitempty"`
	Method    string `json:"method,omitempty"`
	Path      string `json:"path,omitempty"`
	ClientIP  string `json:"client_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	// Interface is InterfaceAPI, InterfaceUI or InterfaceCLI where known.
	Interface string `json:"interface,omitempty"`
}

// Request interfaces.
const (
	InterfaceAPI = "api"
	InterfaceUI  = "ui"
	InterfaceCLI = "cli"
)

// Outcome is how it ended.
type Outcome struct {
	// Result is ResultSuccess, ResultFailure or ResultUnknown.
	Result     string `json:"result,omitempty"`
	StatusCode int    `json:"status_code,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Outcome results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultUnknown = "unknown"
)

// ContentID is the id of an event whose source gives none:
// "sha256:" + the first 32 hex digits of SHA-256 over kind + "\n" + body.
// body is a JSON event as json.Compact leaves it, or a text entry without its
// line ending, so the id is stable across redelivery.
func ContentID(kind string, body []byte) string {
	var out [ContentIDLen]byte
	return string(AppendContentID(out[:0], kind, body))
}

// ContentIDLen is the length of a ContentID.
const ContentIDLen = len("sha256:") + 32

// AppendContentID appends ContentID(kind, body) to dst, for an adapter
// that keeps the id in a buffer of its own.
func AppendContentID(dst []byte, kind string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{'\n'})
	h.Write(body)
	var sum [sha256.Size]byte
	dst = append(dst, "sha256:"...)
	return hex.AppendEncode(dst, h.Sum(sum[:0])[:16])
}

// VerbOf maps an HTTP method to a verb: GET/HEAD→read, POST→create,
// PUT/PATCH→update, DELETE→delete, anything else→other.
func VerbOf(method string) string {
	switch strings.ToUpper(method) {
	case "GET", "HEAD":
		return VerbRead
	case "POST":
		return VerbCreate
	case "PUT", "PATCH":
		return VerbUpdate
	case "DELETE":
		return VerbDelete
	}
	return VerbOther
}

// ResultOf maps an HTTP status code to a result: none→unknown,
// below 400→success, else failure.
func ResultOf(status int) string {
	switch {
	case status <= 0:
		return ResultUnknown
	case status < 400:
		return ResultSuccess
	}
	return ResultFailure
}

// SeverityOf scores an event 0–10: 401/403 or an authentication or
// authorization failure 7, 5xx 6, any other failure 5; a success (or an
// unknown outcome) by its verb: read 1, create/update/other 3, delete 5.
func SeverityOf(verb, result string, status int, authFailure bool) int {
	if authFailure || status == 401 || status == 403 {
		return 7
	}
	if status >= 500 {
		return 6
	}
	if result == ResultFailure || status >= 400 {
		return 5
	}
	switch verb {
	case VerbRead:
		return 1
	case VerbDelete:
		return 5
	}
	return 3
}

// Score sets e.Severity from e's verb and outcome; see SeverityOf.
func (e *Event) Score(authFailure bool) {
	e.Severity = SeverityOf(e.Action.Verb, e.Outcome.Result, e.Outcome.StatusCode, authFailure)
}

// EventTime is the time an event is filed under: its Time, or when it was
// received where the source gives none.
func (e *Event) EventTime() time.Time {
	if e.Time.IsZero() {
		return e.ReceivedAt
	}
	return e.Time
}
