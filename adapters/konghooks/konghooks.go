package konghooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "konghooks"

// Config is the konghooks input's adapter configuration.
type Config struct {
	// Secret is the event hook's config.secret, with which Kong signs each
	// delivery (HMAC-SHA1, X-Kong-Signature). Empty: not verified.
	Secret auditrelay.Secret `toml:"secret"`
	// SecretFile is a file holding Secret; the config loader reads it into
	// Secret before New.
	SecretFile string `toml:"secret_file"`
}

// DefaultConfig returns a Config with no secret.
func DefaultConfig() Config { return Config{} }

// Validate reports configuration problems without I/O. Both keys are
// optional (an input may rely on authorization or allow_unsigned, which
// the config loader checks), and the loader reads secret_file into Secret
// before New, so there is nothing to refuse here.
func (c Config) Validate() error { return nil }

// Adapter parses Kong event-hook webhook deliveries.
type Adapter struct {
	secret []byte
}

// New builds the adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Adapter{secret: []byte(c.Secret.Reveal())}, nil
}

// SignatureHeader carries "sha1=<hex HMAC-SHA1(secret, body)>".
const SignatureHeader = "X-Kong-Signature"

// HasKey reports whether a secret is configured.
func (a *Adapter) HasKey() bool { return len(a.secret) > 0 }

// Verify checks X-Kong-Signature against the body.
func (a *Adapter) Verify(body []byte, h http.Header) error {
	sig := h.Get(SignatureHeader)
	if sig == "" {
		return fmt.Errorf("%w: no %s header; set the event hook's config.secret to the input's secret", auditrelay.ErrUnsigned, SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha1=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return fmt.Errorf("%w: %s is not sha1=<hex>", auditrelay.ErrBadSignature, SignatureHeader)
	}
	mac := hmac.New(sha1.New, a.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: check that the event hook's config.secret and the input's secret are the same", auditrelay.ErrBadSignature)
	}
	return nil
}

// Parse turns one event-hook delivery into one event. A ping (sent when a
// hook is created or changed) is counted as ignored. Deliveries as Kong
// writes them are read in one pass (parseFast); anything else, errors
// included, goes through json.Unmarshal.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return auditrelay.Parsed{}, errors.New("body is empty: Kong's webhook handler sends one JSON object per event")
	}
	if trimmed[0] != '{' {
		return auditrelay.Parsed{}, fmt.Errorf("body is JSON %s, not an object: Kong's webhook handler sends one JSON object per event", jsonscan.KindOf(trimmed[0]).String())
	}
	if out, ok := parseFast(trimmed, meta); ok {
		return out, nil
	}
	var h hook
	if err := json.Unmarshal(trimmed, &h); err != nil {
		return auditrelay.Parsed{}, fmt.Errorf("body: %w", jsonscan.Describe(err))
	}
	if err := h.check(); err != nil {
		return auditrelay.Parsed{}, err
	}
	if h.Source == sourcePing {
		return auditrelay.Parsed{Ignored: 1}, nil
	}
	e, err := normalize(&h, meta)
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
	return auditrelay.Parsed{Events: append(meta.EventBuffer(1), e)}, nil
}
