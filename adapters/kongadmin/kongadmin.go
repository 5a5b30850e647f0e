package kongadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/kong"
	"github.com/auditrelay/auditrelay/internal/httpout"
)

// Config is [inputs.NAME] with adapter = "kong_admin".
type Config struct {
	// Config holds url (the Admin API base, e.g. https://kong:8444; no
	// default), allow_http (default false), timeout (per request, default
	// 10s) and tls.ca_file / tls.insecure_skip_verify.
	httpout.Config
	// AdminToken is sent as the Kong-Admin-Token header. Default none: a
	// Kong without RBAC needs none.
	AdminToken auditrelay.Secret `toml:"admin_token"`
	// AdminTokenFile is a file holding the admin token (read by the config
	// loader).
	AdminTokenFile string `toml:"admin_token_file"`
	// Workspace, when set, prefixes the audit paths: /{workspace}/audit/….
	// Default empty (Kong's default workspace).
	Workspace string `toml:"workspace"`
	// Interval is the pause between two polls once caught up. Default 10s.
	Interval auditrelay.Duration `toml:"interval"`
	// Endpoints are the audit lists to poll: "requests" (/audit/requests)
	// and/or "objects" (/audit/objects). Default both.
	Endpoints []string `toml:"endpoints"`
	// PageSize is the size query parameter, records per page, 1 to 1000.
	// Default 1000.
	PageSize int `toml:"page_size"`
	// StartFrom is where an endpoint without a saved cursor starts: "now"
	// (records from the relay's current second on), "earliest" (every
	// record Kong still holds) or a time (RFC 3339, or epoch seconds).
	// Default "now". Ignored once a cursor is saved.
	StartFrom string `toml:"start_from"`
	// Lookback is how far behind the newest record seen every poll reads
	// again, to catch records Kong wrote late (its audit writes are
	// asynchronous); rounded up to whole seconds. Default 30s. Records
	// already delivered are recognised by id and dropped.
	Lookback auditrelay.Duration `toml:"lookback"`
	// Retry is [inputs.NAME.retry], the shared HTTP retry policy for one
	// request: max_retries (default 4), wait_min (default 1s), wait_max
	// (default 30s; also the slowest poll pace after a 401 or 403).
	Retry auditrelay.RetryPolicy `toml:"retry"`
	// PathPatterns replaces the kong adapter's built-in grok expressions
	// that find the resource in a request record's path (see the kong
	// adapter). Default empty: the built-in patterns.
	PathPatterns []string `toml:"path_patterns"`
}

// Endpoint names.
const (
	EndpointRequests = "requests"
	EndpointObjects  = "objects"
)

// Start points of StartFrom.
const (
	StartNow      = "now"
	StartEarliest = "earliest"
)

// Kind is the source.kind of the events this input produces.
const Kind = "kong_admin"

// MaxPageSize is the largest size Kong accepts.
const MaxPageSize = 1000

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Config:    httpout.DefaultConfig(),
		Interval:  auditrelay.Duration(10 * time.Second),
		Endpoints: []string{EndpointRequests, EndpointObjects},
		PageSize:  MaxPageSize,
		StartFrom: StartNow,
		Lookback:  auditrelay.Duration(30 * time.Second),
		Retry:     auditrelay.DefaultRetryPolicy(),
	}
}

// Validate checks the config without I/O and reports every problem.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate(), kong.Config{PathPatterns: c.PathPatterns}.Validate()}
	if strings.ContainsAny(c.AdminToken.Reveal(), "\r\n") {
		errs = append(errs, errors.New(`"admin_token" holds a line break: check the token (or the file admin_token_file names)`))
	}
	if c.Workspace != "" && (url.PathEscape(c.Workspace) != c.Workspace || c.Workspace == "." || c.Workspace == "..") {
		errs = append(errs, fmt.Errorf(`"workspace" %q is not a workspace name: use letters, digits, "-", "_", "." or "~"`, c.Workspace))
	}
	if c.Interval <= 0 {
		errs = append(errs, errors.New(`"interval" must be positive, e.g. "10s"`))
	}
	errs = append(errs, c.validateEndpoints())
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf(`"page_size" is %d; use 1 to %d (Kong refuses more)`, c.PageSize, MaxPageSize))
	}
	if _, _, err := ParseStart(c.StartFrom); err != nil {
		errs = append(errs, err)
	}
	if c.Retry.MaxRetries < 0 {
		errs = append(errs, errors.New(`"retry.max_retries" must not be negative`))
	}
	if c.Retry.WaitMin > c.Retry.WaitMax {
		errs = append(errs, fmt.Errorf(`"retry.wait_min" (%s) is above "retry.wait_max" (%s)`, c.Retry.WaitMin, c.Retry.WaitMax))
	}
	return errors.Join(errs...)
}

func (c Config) validateEndpoints() error {
	if len(c.Endpoints) == 0 {
		return fmt.Errorf(`"endpoints" is empty: list %q, %q or both`, EndpointRequests, EndpointObjects)
	}
	var errs []error
	for i, ep := range c.Endpoints {
		switch {
		case ep != EndpointRequests && ep != EndpointObjects:
			errs = append(errs, fmt.Errorf(`"endpoints" entry %q: use %q or %q`, ep, EndpointRequests, EndpointObjects))
		case slices.Contains(c.Endpoints[:i], ep):
			errs = append(errs, fmt.Errorf(`"endpoints" lists %q twice`, ep))
		}
	}
	return errors.Join(errs...)
}

// ParseStart reads start_from: "now", "earliest" (earliest true), or a
// time as RFC 3339 or epoch seconds (at, truncated to its second).
func ParseStart(s string) (at int64, earliest bool, err error) {
	switch s {
	case StartNow, "":
		return 0, false, nil
	case StartEarliest:
		return 0, true, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, false, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Unix() >= 0 {
		return t.Unix(), false, nil
	}
	return 0, false, fmt.Errorf(`"start_from" %q: use "now", "earliest", an RFC 3339 time such as "2025-06-18T21:02:36Z", or epoch seconds`, s)
}

// Poller is a running kong_admin input: it polls each configured audit
// endpoint and stores the new records' events through its sink.
type Poller struct {
	cfg      Config
	s        auditrelay.PullSettings
	client   *httpout.Client
	adapter  *kong.Adapter
	base     *url.URL
	lookback int64
	cursors  map[string]*cursor
	log      *slog.Logger

	// maxPass bounds the records one pass holds (see collection).
	maxPass int
	// chunk is the most events handed to the sink at once.
	chunk int

	// failing and authFailing make each failure streak log once.
	failing, authFailing bool
}

// Pass bounds; tests lower them.
const (
	defaultMaxPass = 100_000
	defaultChunk   = 1000
)

// New builds the poller: it reads the CA file and every endpoint's cursor,
// and saves a fresh cursor for an endpoint that has none, so "now" means
// the first start, not the latest.
func New(c Config, s auditrelay.PullSettings) (*Poller, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if s.Sink == nil || s.StateDir == "" {
		return nil, errors.New("kong_admin: the runtime gave no sink or state directory")
	}
	fillSettings(&s)
	ad, err := kong.New(kong.Config{PathPatterns: c.PathPatterns})
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf(`"url": %w`, httpout.Sanitize(err))
	}
	client, err := httpout.New(c.Config, httpout.Options{Retry: c.Retry, Logger: s.Logger, Observe: s.Observe, Now: s.Now, MaxResponseBytes: maxPageBytes})
	if err != nil {
		return nil, err
	}
	p := &Poller{
		cfg: c, s: s, client: client, adapter: ad, base: base, log: s.Logger,
		lookback: int64((c.Lookback.D() + time.Second - 1) / time.Second),
		cursors:  map[string]*cursor{}, maxPass: defaultMaxPass, chunk: defaultChunk,
	}
	if err := p.loadCursors(); err != nil {
		client.Close()
		return nil, err
	}
	return p, nil
}

func fillSettings(s *auditrelay.PullSettings) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Observe == nil {
		s.Observe = func(auditrelay.Attempt) {}
	}
	if s.Count == nil {
		s.Count = func(int, int, int, int) {}
	}
}

func (p *Poller) loadCursors() error {
	at, earliest, _ := ParseStart(p.cfg.StartFrom)
	if !earliest && at == 0 {
		at = p.s.Now().Unix()
	}
	target := httpout.Redact(p.cfg.URL)
	for _, ep := range p.cfg.Endpoints {
		path := cursorPath(p.s.StateDir, ep)
		c, found, err := loadCursor(path)
		if err != nil {
			return err
		}
		if !found {
			c = newCursor(ep, target, p.cfg.Workspace, at)
			if err := c.save(path); err != nil {
				return err
			}
			p.log.Info("kong_admin: no cursor yet; starting", "endpoint", ep, "start_from", p.cfg.StartFrom, "after", c.Floor)
		} else if c.URL != target || c.Workspace != p.cfg.Workspace {
			p.log.Warn("kong_admin: the saved cursor was made for another Admin API or workspace; going on from it (delete it to start over from start_from)",
				"endpoint", ep, "cursor_url", c.URL, "cursor_workspace", c.Workspace, "file", path)
		}
		p.cursors[ep] = c
	}
	return nil
}

// Run polls until ctx ends, then returns nil. A failing Admin API is
// retried forever (the input reports inactive meanwhile).
func (p *Poller) Run(ctx context.Context) error {
	defer p.client.Close()
	for ctx.Err() == nil {
		wait := p.cycle(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// cycle polls every endpoint once and returns the pause before the next
// cycle: none while a backlog remains, interval once caught up or after a
// failure, and the slower of interval and retry.wait_max after a 401 or
// 403.
func (p *Poller) cycle(ctx context.Context) time.Duration {
	wait, more := p.cfg.Interval.D(), false
	var failed error
	for _, ep := range p.cfg.Endpoints {
		backlog, err := p.pass(ctx, ep)
		if ctx.Err() != nil {
			return 0
		}
		if err != nil {
			failed = err
			var ae *authError
			if errors.As(err, &ae) {
				p.reportAuth(ae)
				return max(wait, p.cfg.Retry.WaitMax.D())
			}
			continue
		}
		more = more || backlog
	}
	p.reportRecovery(failed)
	if failed == nil && more {
		return 0
	}
	return wait
}

// reportAuth logs a refused token once per streak.
func (p *Poller) reportAuth(ae *authError) {
	if p.authFailing {
		p.log.Debug("kong_admin: Admin API still refuses the token", "status", ae.code)
		return
	}
	p.authFailing = true
	p.log.Error("kong_admin: the Kong Admin API refused the credentials: check admin_token (or admin_token_file) and its RBAC role, which needs read access to /audit",
		"status", ae.code, "target", ae.target, "answer", ae.answer,
		"next_try_in", max(p.cfg.Interval.D(), p.cfg.Retry.WaitMax.D()).String())
}

// reportRecovery logs the first failure of a streak and the recovery.
func (p *Poller) reportRecovery(failed error) {
	switch {
	case failed != nil && !p.failing:
		p.failing = true
		p.log.Warn("kong_admin: a poll failed; trying again every interval from the saved cursor, catching up once it succeeds",
			"error", failed, "interval", p.cfg.Interval.D().String())
	case failed != nil:
		p.log.Debug("kong_admin: polling still failing", "error", failed)
	case p.failing || p.authFailing:
		p.failing, p.authFailing = false, false
		p.log.Info("kong_admin: the Admin API answers again; polling goes on from the saved cursor")
	}
}
