package openfaas

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/pathres"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "openfaas"

// Config is the openfaas input's adapter configuration.
type Config struct {
	// Secret is the endpointSecret OpenFaaS signs each delivery with
	// (HMAC-SHA256, X-Openfaas-Signature-256). Empty: not verified.
	Secret auditrelay.Secret `toml:"secret"`
	// SecretFile reads Secret from a file (the Kubernetes secret mount).
	SecretFile string `toml:"secret_file"`
	// PathPatterns replaces the default grok expressions that find the
	// resource name (and a type where no action gives one) in the request
	// path (see package pathres: captures type, id, name, namespace; first
	// match wins). Default: empty, the built-in /system/… patterns.
	PathPatterns []string `toml:"path_patterns"`
}

// DefaultConfig returns a Config with no secret.
func DefaultConfig() Config { return Config{} }

// Validate reports configuration problems without I/O. The config loader
// reads secret_file into Secret (refusing both set) before it.
func (c Config) Validate() error {
	var errs []error
	for i, p := range c.PathPatterns {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf(`"path_patterns" entry %d is empty: remove it or write a grok expression`, i+1))
		}
	}
	return errors.Join(errs...)
}

// Adapter parses OpenFaaS audit webhook deliveries.
type Adapter struct {
	secret []byte
	paths  *pathres.Resolver
}

// New builds the adapter and compiles its path patterns.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pc := pathres.OpenFaaS()
	if len(c.PathPatterns) > 0 {
		pc.Patterns = c.PathPatterns
	}
	paths, err := pathres.New(pc)
	if err != nil {
		return nil, fmt.Errorf("openfaas: %w", err)
	}
	return &Adapter{secret: []byte(c.Secret.Reveal()), paths: paths}, nil
}

// HasKey reports whether an endpoint secret is configured.
func (a *Adapter) HasKey() bool { return len(a.secret) > 0 }

// SignatureHeader carries "sha256=<hex HMAC-SHA256(secret, body)>".
const SignatureHeader = "X-Openfaas-Signature-256"

// Verify checks X-Openfaas-Signature-256 against the body.
func (a *Adapter) Verify(body []byte, h http.Header) error {
	sig := h.Get(SignatureHeader)
	if sig == "" {
		return fmt.Errorf("%w: no %s header; set the same endpointSecret in OpenFaaS and auditrelay", auditrelay.ErrUnsigned, SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return fmt.Errorf("%w: %s is not sha256=<hex>", auditrelay.ErrBadSignature, SignatureHeader)
	}
	mac := hmac.New(sha256.New, a.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: check that OpenFaaS and auditrelay share the same endpointSecret", auditrelay.ErrBadSignature)
	}
	return nil
}

// event is one api_access element as OpenFaaS sends it.
type event struct {
	Event         string    `json:"event"`
	Actor         *actor    `json:"actor"`
	Path          string    `json:"path"`
	Method        string    `json:"method"`
	Actions       []string  `json:"actions"`
	ResponseCode  int       `json:"response_code"`
	Time          time.Time `json:"time"`
	CustomMessage string    `json:"custom_message"`
	Namespace     string    `json:"namespace"`
}

type actor struct {
	Sub       string `json:"sub"`
	Name      string `json:"name"`
	Issuer    string `json:"issuer"`
	FedIssuer string `json:"fed_issuer"`
}

// Parse turns one delivery (a JSON array of api_access events) into
// events. A malformed element rejects the whole delivery.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	var elems []json.RawMessage
	if err := decodeArray(body, &elems); err != nil {
		return auditrelay.Parsed{}, err
	}
	if t := meta.Header.Get("X-Openfaas-Event"); t != "" && t != "api_access" {
		return auditrelay.Parsed{Ignored: len(elems)}, nil
	}
	delivery := meta.DeliveryID
	if delivery == "" {
		delivery = meta.Header.Get("X-Openfaas-Delivery")
	}
	out := auditrelay.Parsed{Events: make([]auditrelay.Event, 0, len(elems))}
	var compact bytes.Buffer
	for i, raw := range elems {
		var src event
		if err := decodeEvent(raw, &src); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		if src.Event != "" && src.Event != "api_access" {
			out.Ignored++
			continue
		}
		compact.Reset()
		if err := json.Compact(&compact, raw); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		e := a.normalize(&src, compact.Bytes())
		e.ReceivedAt = meta.ReceivedAt
		e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: delivery}
		if meta.IncludeRaw {
			e.Raw = append(json.RawMessage(nil), compact.Bytes()...)
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func decodeArray(body []byte, elems *[]json.RawMessage) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errors.New("body is empty: OpenFaaS sends a JSON array of api_access events")
	}
	if trimmed[0] != '[' {
		return fmt.Errorf("body is JSON %s, not an array: OpenFaaS sends a JSON array of api_access events", jsonKind(trimmed[0]))
	}
	if err := json.Unmarshal(trimmed, elems); err != nil {
		return fmt.Errorf("body: %w", describe(err))
	}
	return nil
}

func decodeEvent(raw json.RawMessage, src *event) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("want a JSON object, got %s", jsonKind(t[0]))
	}
	if err := json.Unmarshal(raw, src); err != nil {
		return describe(err)
	}
	return nil
}

// describe rewrites encoding/json's errors into "field: what was wrong".
func describe(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("time: %q is not an RFC 3339 time", pe.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return err
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// normalize maps one api_access event; compact is its json.Compact form.
func (a *Adapter) normalize(src *event, compact []byte) auditrelay.Event {
	e := auditrelay.Event{
		ID:      auditrelay.ContentID(Kind, compact),
		Time:    src.Time.UTC(),
		Actor:   mapActor(src.Actor),
		Request: auditrelay.Request{Method: src.Method, Path: src.Path},
		Outcome: auditrelay.Outcome{
			Result:     auditrelay.ResultOf(src.ResponseCode),
			StatusCode: src.ResponseCode,
			Reason:     src.CustomMessage,
		},
		Action:   auditrelay.Action{All: src.Actions, Verb: auditrelay.VerbOf(src.Method)},
		Resource: a.resourceOf(src),
	}
	if len(src.Actions) > 0 {
		e.Action.Name = src.Actions[0]
	}
	e.Score(false)
	return e
}

func mapActor(a *actor) auditrelay.Actor {
	if a == nil || *a == (actor{}) {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	t := auditrelay.ActorUser
	if strings.Contains(a.Sub, "system:serviceaccount:") {
		t = auditrelay.ActorService
	}
	return auditrelay.Actor{ID: a.Sub, Name: a.Name, Issuer: a.Issuer, FederatedIssuer: a.FedIssuer, Type: t}
}
