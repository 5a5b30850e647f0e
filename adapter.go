package auditrelay

import (
	"errors"
	"net/http"
	"time"
)

// Meta is what the transport knows about one delivery of a body.
type Meta struct {
	// Input is the configured input name.
	Input string
	// DeliveryID overrides the delivery id an adapter reads from Header.
	DeliveryID string
	// Header holds the request's headers; nil when converting offline.
	Header http.Header
	// ReceivedAt is when auditrelay accepted the body.
	ReceivedAt time.Time
	// IncludeRaw asks the adapter to keep each source event in Event.Raw.
	IncludeRaw bool
	// Events is storage the caller no longer reads (a previous Parsed's
	// Events): batched adapters append a body's events to it instead of
	// allocating, through EventBuffer. Nil asks for a new slice.
	Events []Event
}

// EventBuffer returns the storage for a body's events: m.Events emptied
// when the caller lent one, else a new slice with room for n.
func (m Meta) EventBuffer(n int) []Event {
	if cap(m.Events) > 0 {
		return m.Events[:0]
	}
	return make([]Event, 0, n)
}

// Adapter turns one body, as a source sends it, into normalized events.
// Parse is pure: it does no I/O and keeps no state between calls.
//
// An error rejects the whole body and says what and where ("event 3: time:
// …"; events and lines are counted from 1). Line-batched adapters instead
// report bad lines in Parsed.Rejected and keep the good ones.
type Adapter interface {
	Parse(body []byte, meta Meta) (Parsed, error)
}

// Parsed is what an Adapter made of one body.
type Parsed struct {
	Events []Event
	// Ignored counts well-formed messages that are not audit events
	// (an OpenFaaS function_usage batch, a StackRox alert).
	Ignored int
	// Rejected lists the lines a line-batched adapter could not use.
	Rejected []Rejection
}

// Rejection is one entry of a batch that an adapter could not use.
type Rejection struct {
	Line   int    // 1-based line number in the (decompressed) body
	Entry  []byte // the entry as it arrived
	Reason string // what was wrong with it
}

// Verifier is implemented by adapters whose source signs its body with a
// shared key (OpenFaaS HMAC-SHA256, Kong event hooks HMAC-SHA1).
type Verifier interface {
	// HasKey reports whether a signing key is configured.
	HasKey() bool
	// Verify checks the body's signature against the configured key. It
	// returns ErrUnsigned without a signature header and ErrBadSignature for
	// a signature that does not match.
	Verify(body []byte, header http.Header) error
}

// Errors a Verifier returns.
var (
	ErrUnsigned     = errors.New("request is not signed")
	ErrBadSignature = errors.New("signature does not match the body")
)

// Refusal is how an input turns a sender away when the relay cannot take
// its events now (spool full, shutting down): in the one way that sender
// retries.
type Refusal int

// Refusals.
const (
	// RefuseUnavailable answers 503 with Retry-After (OpenFaaS, StackRox,
	// Kong records, lines).
	RefuseUnavailable Refusal = iota
	// RefuseTooManyRequests answers 429 with Retry-After (Konnect retries
	// 429 and 5xx, and drops a batch on any other 4xx).
	RefuseTooManyRequests
	// RefuseHangUp closes the connection without an answer (Kong event
	// hooks count any HTTP answer as delivered and retry only failed
	// connections).
	RefuseHangUp
)
