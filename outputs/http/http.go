package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/httpout"
)

// Config is [outputs.NAME] with type = "http".
type Config struct {
	// Config holds url (no default), allow_http (default false), timeout
	// (per attempt, default 10s) and tls.ca_file / tls.insecure_skip_verify.
	httpout.Config
	// Authorization is sent verbatim as the Authorization header, any
	// scheme ("Bearer …", "Splunk …", "Basic …"). Default none.
	Authorization auditrelay.Secret `toml:"authorization"`
	// AuthorizationFile is a file holding the Authorization value (read by
	// the config loader).
	AuthorizationFile string `toml:"authorization_file"`
	// Headers are extra request headers. Default none. They may not set
	// Authorization, Content-Type, Content-Length or Host.
	// Values are secrets (an API key often travels here, e.g. Datadog's
	// DD-API-KEY): `check` and logs show them as [redacted].
	Headers map[string]auditrelay.Secret `toml:"headers"`
	// ContentType is the Content-Type header. Default application/json for
	// format "json" (application/x-ndjson with framing "ndjson") and
	// text/plain for "cef".
	ContentType string `toml:"content_type"`
	// Framing is how JSON events are framed: "array" (one JSON array per
	// request, the default) or "ndjson" (one object per line). CEF is
	// always one line per event.
	Framing string `toml:"framing"`
}

// Framings.
const (
	FramingArray  = "array"
	FramingNDJSON = "ndjson"
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Config: httpout.DefaultConfig()}
}

// Validate checks the config without I/O and reports every problem.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	switch c.Framing {
	case "", FramingArray, FramingNDJSON:
	default:
		errs = append(errs, fmt.Errorf(`"framing" %q: use "array" or "ndjson"`, c.Framing))
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case !token(k):
			errs = append(errs, fmt.Errorf(`"headers": %q is not a valid header name`, k))
		case reserved(k):
			errs = append(errs, fmt.Errorf(`"headers": %q is set by the output; use "authorization" or "content_type"`, k))
		case strings.ContainsAny(c.Headers[k].Reveal(), "\r\n"):
			errs = append(errs, fmt.Errorf(`"headers": the value of %q holds a line break`, k))
		}
	}
	if strings.ContainsAny(c.ContentType, "\r\n") {
		errs = append(errs, errors.New(`"content_type" holds a line break`))
	}
	if strings.ContainsAny(c.Authorization.Reveal(), "\r\n") {
		errs = append(errs, errors.New(`"authorization" holds a line break (check the file for a trailing newline)`))
	}
	return errors.Join(errs...)
}

func reserved(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Content-Type", "Content-Length", "Content-Encoding", "Host", "Transfer-Encoding":
		return true
	}
	return false
}

// token reports whether s is an RFC 9110 token (a header name).
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Output POSTs batches to a generic HTTPS collector.
type Output struct {
	client *httpout.Client
	enc    Encoder
	url    string
	header http.Header
	limit  int
	mu     sync.Mutex // serialises Write
}

// New builds the output; it reads tls.ca_file.
func New(c Config, s auditrelay.OutputSettings) (*Output, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("http output %q: %w", s.Name, err)
	}
	if s.Format == nil {
		return nil, fmt.Errorf("http output %q: no format", s.Name)
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := httpout.New(c.Config, httpout.Options{Retry: s.Retry, Logger: log.With("output", s.Name), Observe: s.Observe})
	if err != nil {
		return nil, fmt.Errorf("http output %q: %w", s.Name, err)
	}
	enc := Encoder{Format: s.Format, Framing: c.Framing}
	if s.FormatName == "cef" {
		enc.Framing = framingLines
	} else if enc.Framing == "" {
		enc.Framing = FramingArray
	}
	header := http.Header{}
	for k, v := range c.Headers {
		header.Set(k, v.Reveal())
	}
	header.Set("Content-Type", contentType(c.ContentType, enc.Framing))
	if c.Authorization.IsSet() {
		header.Set("Authorization", c.Authorization.Reveal())
	}
	return &Output{client: client, enc: enc, url: c.URL, header: header, limit: s.MaxRequestBytes}, nil
}

func contentType(set, framing string) string {
	switch {
	case set != "":
		return set
	case framing == framingLines:
		return "text/plain; charset=utf-8"
	case framing == FramingNDJSON:
		return "application/x-ndjson"
	}
	return "application/json"
}

// Write sends events in as many requests as batch_max_bytes needs and
// classifies each answer (see Classify). Calls are serialised.
func (o *Output) Write(ctx context.Context, events []auditrelay.Event) error {
	if len(events) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	items, ends := o.enc.Items(make([]byte, 0, 512*len(events)), events)
	first := 0
	for _, cut := range o.enc.Split(ends, o.limit) {
		body := o.enc.Frame(items, ends, first, cut)
		if err := o.send(ctx, body, first); err != nil {
			return err
		}
		first = cut
	}
	return nil
}

func (o *Output) send(ctx context.Context, body []byte, first int) error {
	resp, err := o.client.Do(ctx, httpout.Request{Method: http.MethodPost, URL: o.url, Header: o.header, Body: body})
	if err != nil {
		return &auditrelay.DeliveryError{Delivered: first, Err: fmt.Errorf("send events: %w", err)}
	}
	v, reason := Classify(resp.StatusCode)
	if v == Success {
		return nil
	}
	de := &auditrelay.DeliveryError{
		Delivered:  first,
		StatusCode: resp.StatusCode,
		Response:   httpout.Trim(resp.Body, 1024),
		Err:        errors.New(reason),
	}
	switch v {
	case Reject:
		de.Permanent, de.PermanentAll = true, true
	case Pause:
		de.Paused = true
	default:
		if d, ok := httpout.RetryAfter(resp.Header, time.Now()); ok {
			de.RetryAfter = d
		}
	}
	return de
}

// Close releases idle connections; a second Close is a no-op.
func (o *Output) Close() error {
	o.client.Close()
	return nil
}
