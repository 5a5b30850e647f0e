package openfaas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
