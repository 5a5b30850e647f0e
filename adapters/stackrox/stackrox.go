package stackrox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "stackrox"

// Config is the stackrox input's adapter configuration. It has no keys of
// its own: the Generic Webhook's Basic auth or header token is checked by the
// input's "authorization" (or "authorization_file") before the adapter runs,
// and "include_raw" is an input key.
type Config struct{}

// DefaultConfig returns the (empty) default Config.
func DefaultConfig() Config { return Config{} }

// Validate reports configuration problems without I/O. There are none to
// find.
func (c Config) Validate() error { return nil }

// Adapter parses what StackRox Central's generic webhook (audit logging)
// POSTs.
type Adapter struct{}

// New builds the adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Adapter{}, nil
}

// Parse turns one body into events: a message {"audit":{…}} (possibly
// preceded by the notifier's extra string fields), the docs' receiver record
// {"headers":…,"data":{…}}, or a JSON array of either. Alert, network-policy
// and test messages are counted in Parsed.Ignored. A malformed message
// rejects the whole body, naming it ("message 2: audit.time: …").
//
// The bodies Central sends take a one-pass path (parseFast); anything else,
// errors included, the general path below, with the same results.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	if out, ok := parseFast(body, meta); ok {
		return out, nil
	}
	return parseGeneral(body, meta)
}

// parseGeneral is Parse through encoding/json, for every body.
func parseGeneral(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	trimmed := trimJSONSpace(body)
	if len(trimmed) == 0 {
		return auditrelay.Parsed{}, errors.New(`body is empty: StackRox's generic webhook sends a JSON object {"audit":{…}}`)
	}
	p := parser{meta: meta, compact: bytes.Buffer{}}
	switch trimmed[0] {
	case '{':
		if err := p.message(1, body); err != nil {
			return auditrelay.Parsed{}, err
		}
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("body: %w", jsonscan.Describe(err))
		}
		p.out.Events = make([]auditrelay.Event, 0, len(elems))
		for i, raw := range elems {
			if err := p.message(i+1, raw); err != nil {
				return auditrelay.Parsed{}, err
			}
		}
	default:
		return auditrelay.Parsed{}, fmt.Errorf(`body is JSON %s, not an object or array: StackRox's generic webhook sends {"audit":{…}}`, jsonscan.KindOf(trimmed[0]).String())
	}
	return p.out, nil
}

// parser holds one Parse call's state.
type parser struct {
	meta    auditrelay.Meta
	out     auditrelay.Parsed
	compact bytes.Buffer
}

// message parses the n-th message of the body (counted from 1).
func (p *parser) message(n int, raw []byte) error {
	if t := trimJSONSpace(raw); t[0] != '{' {
		return fmt.Errorf("message %d: want a JSON object, got %s", n, jsonscan.KindOf(t[0]).String())
	}
	path := "audit"
	if !p.bareAudit(raw) {
		audit, at, err := unwrap(raw)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("body: %w", err)
		}
		if err != nil {
			return fmt.Errorf("message %d: %w", n, err)
		}
		if audit == nil {
			p.out.Ignored++
			return nil
		}
		path = at
		p.compact.Reset()
		if err := json.Compact(&p.compact, audit); err != nil {
			return fmt.Errorf("message %d: %s: %w", n, path, jsonscan.Describe(err))
		}
	}
	var m message
	if err := json.Unmarshal(p.compact.Bytes(), &m); err != nil {
		return fmt.Errorf("message %d: %s.%w", n, path, jsonscan.Describe(err))
	}
	e := normalize(&m, p.compact.Bytes())
	e.ReceivedAt = p.meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: p.meta.Input, DeliveryID: p.meta.DeliveryID}
	if p.meta.IncludeRaw {
		e.Raw = append(json.RawMessage(nil), p.compact.Bytes()...)
	}
	p.out.Events = append(p.out.Events, e)
	return nil
}

// bareAudit is the fast path for the body Central sends without extra
// fields, {"audit": <object>}: it compacts the object into p.compact without
// decoding the envelope. It reports false, for the general path to take
// over, when the body has another shape: json.Compact fails on anything
// but one JSON value.
func (p *parser) bareAudit(raw []byte) bool {
	rest, ok := bytes.CutPrefix(trimJSONSpace(raw), []byte(`{"audit":`))
	if !ok {
		return false
	}
	rest, ok = bytes.CutSuffix(trimJSONSpace(rest), []byte{'}'})
	rest = trimJSONSpace(rest)
	if !ok || len(rest) == 0 || rest[0] != '{' {
		return false
	}
	p.compact.Reset()
	return json.Compact(&p.compact, rest) == nil
}

// envelope is one body as the generic notifier builds it: the notifier's
// extra string fields (not decoded), then one message under "audit",
// "alert" or "networkpolicy". "data" is the docs' receiver record, which
// wraps such a body.
type envelope struct {
	Audit         json.RawMessage `json:"audit"`
	Alert         json.RawMessage `json:"alert"`
	NetworkPolicy json.RawMessage `json:"networkpolicy"`
	Data          json.RawMessage `json:"data"`
}

// unwrap finds the audit object in one message and the path it sits at
// ("audit" or "data.audit"). It returns a nil audit for a well-formed
// message of another kind (alert, test message, network policy).
func unwrap(raw []byte) (audit []byte, path string, err error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, "", jsonscan.Describe(err)
	}
	switch {
	case isObject(env.Audit):
		return env.Audit, "audit", nil
	case isObject(env.Alert), isObject(env.NetworkPolicy):
		return nil, "", nil
	case env.Audit == nil && isObject(env.Data):
		// The receiver record {"headers":…,"data":<the body>}.
		var inner envelope
		if err := json.Unmarshal(env.Data, &inner); err != nil {
			return nil, "", fmt.Errorf("data: %w", jsonscan.Describe(err))
		}
		switch {
		case isObject(inner.Audit):
			return inner.Audit, "data.audit", nil
		case isObject(inner.Alert), isObject(inner.NetworkPolicy):
			return nil, "", nil
		case present(inner.Audit):
			return nil, "", fmt.Errorf("data.audit: got JSON %s, want object", jsonscan.KindOf(inner.Audit[0]).String())
		}
		return nil, "", errors.New(`data has no "audit", "alert" or "networkpolicy" object: StackRox's generic webhook sends {"audit":{…}}`)
	case present(env.Audit):
		return nil, "", fmt.Errorf("audit: got JSON %s, want object", jsonscan.KindOf(env.Audit[0]).String())
	}
	return nil, "", errors.New(`no "audit", "alert" or "networkpolicy" object: StackRox's generic webhook sends {"audit":{…}}`)
}

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// trimJSONSpace trims JSON's whitespace (RFC 8259: space, tab, CR, LF) and
// nothing else: a non-breaking space next to a value is invalid JSON.
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }
