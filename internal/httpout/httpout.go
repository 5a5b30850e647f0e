package httpout

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/auditrelay/auditrelay"
)

// Config is the connection part of an HTTP output's config, embedded in
// the splunkhec and http output configs.
type Config struct {
	// URL is the destination, https:// unless AllowHTTP is set. No default.
	URL string `toml:"url"`
	// AllowHTTP permits a plain http:// URL (local tests). Default false.
	AllowHTTP bool `toml:"allow_http"`
	// Timeout bounds one request attempt, connect to last byte. Default 10s.
	Timeout auditrelay.Duration `toml:"timeout"`
	// TLS configures certificate verification.
	TLS TLS `toml:"tls"`
}

// TLS is [outputs.NAME.tls].
type TLS struct {
	// CAFile is a PEM bundle that replaces the system roots for this
	// output. Default empty (system roots).
	CAFile string `toml:"ca_file"`
	// InsecureSkipVerify turns certificate verification off. Default false;
	// never use it outside a lab.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
}

// DefaultTimeout is the default per-attempt timeout.
const DefaultTimeout = 10 * time.Second

// DefaultConfig returns the defaults: no URL, HTTPS only, 10s timeout.
func DefaultConfig() Config {
	return Config{Timeout: auditrelay.Duration(DefaultTimeout)}
}

// Validate checks the URL without I/O and reports every problem.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		return errors.New(`requires a non-empty "url"`)
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf(`"url" does not parse: write it as https://host[:port][/path]: %w`, Sanitize(err)))
	case u.Host == "":
		errs = append(errs, fmt.Errorf(`"url" %q has no host: write it as https://host[:port][/path]`, Redact(c.URL)))
	case u.Scheme == "https":
	case u.Scheme == "http" && c.AllowHTTP:
	case u.Scheme == "http":
		errs = append(errs, fmt.Errorf(`"url" %q is plain http: use https:// or set allow_http = true`, Redact(c.URL)))
	default:
		errs = append(errs, fmt.Errorf(`"url" %q must start with https://`, Redact(c.URL)))
	}
	if err == nil && u.User != nil {
		errs = append(errs, errors.New(`"url" must not carry user:password; use the output's token or authorization key`))
	}
	return errors.Join(errs...)
}

// Options are what the runtime hands the client besides its config.
type Options struct {
	// Retry is the output's retry policy.
	Retry auditrelay.RetryPolicy
	// Logger takes one line per attempt (method, host and path, status);
	// never headers, bodies or query strings. Nil discards.
	Logger *slog.Logger
	// Observe is told of every attempt, retries included.
	Observe func(auditrelay.Attempt)
	// RetryStatus adds status codes to retry besides 429 and 5xx (the
	// splunkhec output adds 408). Nil adds none.
	RetryStatus func(code int) bool
	// Now is the clock for Attempt.At; nil means time.Now.
	Now func() time.Time
	// MaxResponseBytes is how much of an answer's body Do keeps; 0 means
	// DefaultMaxResponseBytes, enough to classify an output's answer. A
	// client that reads data (the kong_admin poller) sets more.
	MaxResponseBytes int
}

// DefaultMaxResponseBytes is how much of an answer's body Do keeps for
// classification unless Options says otherwise.
const DefaultMaxResponseBytes = 64 << 10

// Client sends requests with the shared retry policy. It is safe for
// concurrent use.
type Client struct {
	rc      *retryablehttp.Client
	log     *slog.Logger
	observe func(auditrelay.Attempt)
	extra   func(int) bool
	now     func() time.Time
	limit   int
}

// New builds a client: it reads the CA file, so it does I/O.
func New(c Config, o Options) (*Client, error) {
	tlsConf, err := tlsConfig(c.TLS)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConf
	transport.MaxIdleConnsPerHost = 4
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// A redirect is a config problem (wrong url); never follow it with
		// the Authorization header.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cl := &Client{log: o.Logger, observe: o.Observe, extra: o.RetryStatus, now: o.Now, limit: o.MaxResponseBytes}
	if cl.limit <= 0 {
		cl.limit = DefaultMaxResponseBytes
	}
	if cl.log == nil {
		cl.log = slog.New(slog.DiscardHandler)
	}
	if cl.now == nil {
		cl.now = time.Now
	}
	p := o.Retry
	cl.rc = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // the library would print URLs; we log in checkRetry
		RetryWaitMin: p.WaitMin.D(),
		RetryWaitMax: p.WaitMax.D(),
		RetryMax:     max(p.MaxRetries, 0),
		CheckRetry:   cl.checkRetry,
		Backoff: func(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
			var h http.Header
			if resp != nil {
				h = resp.Header
			}
			return Backoff(lo, hi, n, h, rand.Float64(), cl.now())
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return cl, nil
}

func tlsConfig(t TLS) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, documented
	if t.CAFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read tls.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca_file %s holds no PEM certificate: give a PEM bundle of CA certificates", t.CAFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// Request is one request to send; Body is replayed on every retry.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is the last answer: after a success, a non-retryable answer, or
// once the retries ran out.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the start of the answer, at most Options.MaxResponseBytes.
	Body []byte
	// Truncated is set when the answer was longer than Body.
	Truncated bool
	// Attempts is how many requests were made.
	Attempts int
}

// Retryable reports whether code is retried: 429, 5xx, or one the output
// added through Options.RetryStatus.
func (c *Client) Retryable(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500 || (c.extra != nil && c.extra(code))
}

type traceKey struct{}

// trace follows one Do call through retryablehttp's callbacks.
type trace struct {
	method, target string
	attempts       int
}

// Do sends r with retries. A non-nil error means no answer arrived (the
// connection failed on the last attempt, or ctx ended); it names the method,
// host and path only. Every HTTP answer, success or not, comes back as a
// Response for the output to classify.
func (c *Client) Do(ctx context.Context, r Request) (Response, error) {
	tr := &trace{method: r.Method, target: Redact(r.URL)}
	ctx = context.WithValue(ctx, traceKey{}, tr)
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, r.URL, r.Body)
	if err != nil {
		return Response{}, fmt.Errorf("build %s %s: %w", r.Method, tr.target, Sanitize(err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return Response{Attempts: tr.attempts}, fmt.Errorf("%s %s: %w", r.Method, tr.target, context.Cause(ctx))
		}
		return Response{Attempts: tr.attempts}, fmt.Errorf("%s %s after %d attempt(s): %w", r.Method, tr.target, tr.attempts, Sanitize(err))
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(c.limit)+1))
	if rerr != nil {
		if ctx.Err() != nil {
			return Response{Attempts: tr.attempts}, fmt.Errorf("%s %s: %w", r.Method, tr.target, context.Cause(ctx))
		}
		// A cut-off answer is not an answer: the caller retries as after a
		// connection error rather than reading half of it.
		return Response{Attempts: tr.attempts}, fmt.Errorf("%s %s: reading the %d answer: %w", r.Method, tr.target, resp.StatusCode, Sanitize(rerr))
	}
	truncated := len(body) > c.limit
	if truncated {
		body = body[:c.limit]
	}
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Truncated: truncated, Attempts: tr.attempts}, nil
}

// Close releases idle connections. The client stays usable.
func (c *Client) Close() { c.rc.HTTPClient.CloseIdleConnections() }

// checkRetry is called by retryablehttp after every attempt: it reports the
// attempt, logs it, and decides.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, context.Cause(ctx)
	}
	tr, _ := ctx.Value(traceKey{}).(*trace)
	if tr == nil {
		tr = &trace{}
	}
	tr.attempts++
	a := auditrelay.Attempt{At: c.now(), Retry: tr.attempts > 1}
	if err != nil {
		a.Err = Sanitize(err)
	} else {
		a.StatusCode = resp.StatusCode
		if resp.StatusCode >= 300 {
			a.Err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if c.observe != nil {
		c.observe(a)
	}
	retry := err != nil || c.Retryable(resp.StatusCode)
	switch {
	case a.Err == nil:
		c.log.Debug("http attempt", "method", tr.method, "target", tr.target, "status", a.StatusCode, "attempt", tr.attempts)
	default:
		c.log.Warn("http attempt failed", "method", tr.method, "target", tr.target, "status", a.StatusCode,
			"attempt", tr.attempts, "retry", retry, "error", a.Err)
	}
	return retry, nil
}

// Backoff is the wait before retry n+1 (n counts from 0): a random point
// (r in [0,1)) in [lo·2ⁿ, lo·2ⁿ⁺¹), never below lo nor above hi. A
// Retry-After header (seconds or an HTTP date, judged against now) wins,
// clamped to [lo, hi].
func Backoff(lo, hi time.Duration, n int, h http.Header, r float64, now time.Time) time.Duration {
	if hi < lo {
		hi = lo
	}
	if d, ok := RetryAfter(h, now); ok {
		return min(max(d, lo), hi)
	}
	if lo <= 0 {
		return 0
	}
	step := hi
	if n < 62 && lo<<n > 0 && lo<<n < hi {
		step = lo << n
	}
	wait := step + time.Duration(r*float64(step))
	if wait < step { // overflow
		wait = hi
	}
	return min(max(wait, lo), hi)
}

// maxRetryAfter bounds a Retry-After in seconds before it is clamped.
const maxRetryAfter = 24 * time.Hour

// RetryAfter parses a Retry-After header: delay seconds or an HTTP date.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return min(time.Duration(min(secs, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Redact returns raw without user info, query string or fragment, for logs
// and errors: scheme://host/path.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.Index(raw, "@"); i >= 0 {
			raw = raw[i+1:]
		}
		return raw
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Sanitize rewrites the errors net/http returns so their text carries no
// query string or user info: a *url.Error keeps its operation and cause
// with a redacted URL. The chain stays inspectable with errors.Is/As.
func Sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &redactedError{msg: fmt.Sprintf("%s %q: %s", ue.Op, Redact(ue.URL), Sanitize(ue.Err)), err: ue.Err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Trim returns at most n bytes of b as a string, for DeliveryError.Response.
func Trim(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}
