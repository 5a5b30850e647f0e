package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/auditrelay/auditrelay"
)

// postConfig is what a post run does.
type postConfig struct {
	// URL is the relay's base URL; POSTs go to URL/ingest/Input.
	URL string
	// Input is the configured input name.
	Input string
	// Adapter is the payload shape; empty: Input when it names an adapter.
	Adapter string
	// Batch is the events per POST (clamped to 1 for stackrox, konghooks).
	Batch int
	// Concurrency is the number of POSTs in flight.
	Concurrency int
	// Rate is the events per second offered; 0 sends as fast as answered.
	Rate int
	// Total is the number of events to send.
	Total int64
	// Duration is the hard stop of the whole run.
	Duration time.Duration
	// Timeout bounds each HTTP attempt.
	Timeout time.Duration
	// Retries bounds the retries of one POST after 503/429.
	Retries int
	// Secret is the HMAC key of openfaas and konghooks.
	Secret auditrelay.Secret
	// Authorization is sent verbatim as the Authorization header.
	Authorization auditrelay.Secret
	// Gzip compresses konnect bodies (Content-Encoding: gzip).
	Gzip bool
	// Unique makes every event distinct.
	Unique bool
	// AllowRemote permits targets that are not loopback.
	AllowRemote bool
	// Seed varies the generated values; 0 takes the clock.
	Seed uint64
	// KonnectFormat is json, cef or mixed.
	KonnectFormat string
	// Base is the time of event 0; zero takes the clock.
	Base time.Time
}

func defaultPostConfig() postConfig {
	return postConfig{
		URL:           "http://127.0.0.1:9780",
		Input:         "openfaas",
		Batch:         100,
		Concurrency:   4,
		Total:         100000,
		Duration:      60 * time.Second,
		Timeout:       30 * time.Second,
		Retries:       10,
		Unique:        true,
		KonnectFormat: konnectMixed,
	}
}

// adapter is the payload shape the run generates.
func (c postConfig) adapter() string {
	if c.Adapter == "" && isAdapter(c.Input) {
		return c.Input
	}
	return c.Adapter
}

// Validate reports every problem of the config without doing I/O.
func (c postConfig) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("-url %q: %w", c.URL, err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("-url %q must start with http:// or https://", c.URL))
	case u.Hostname() == "":
		errs = append(errs, fmt.Errorf("-url %q has no host", c.URL))
	}
	if c.Input == "" || strings.ContainsAny(c.Input, "/?#") {
		errs = append(errs, fmt.Errorf("-input %q must be a non-empty input name", c.Input))
	}
	if a := c.adapter(); !isAdapter(a) {
		errs = append(errs, fmt.Errorf("-adapter %q: set -adapter to one of %s (the input name is not one)", a, strings.Join(adapterNames(), ", ")))
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("-batch %d must be at least 1", c.Batch))
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		errs = append(errs, fmt.Errorf("-concurrency %d must be between 1 and 4096", c.Concurrency))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("-rate %d must not be negative (0 is unlimited)", c.Rate))
	}
	if c.Total < 1 {
		errs = append(errs, fmt.Errorf("-total %d must be at least 1", c.Total))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("-duration %s must be positive: it bounds the run", c.Duration))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout %s must be positive", c.Timeout))
	}
	if c.Retries < 0 || c.Retries > 1000 {
		errs = append(errs, fmt.Errorf("-retries %d must be between 0 and 1000", c.Retries))
	}
	if c.Gzip && c.adapter() != adapterKonnect {
		errs = append(errs, fmt.Errorf("-gzip applies to -adapter konnect only (Konnect is the source that compresses)"))
	}
	if err := (Spec{Adapter: adapterOpenFaaS, KonnectFormat: c.KonnectFormat}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("-konnect-format: %w", err))
	}
	return errors.Join(errs...)
}

// spec is the generator spec of the run.
func (c postConfig) spec() Spec {
	return Spec{
		Adapter:       c.adapter(),
		Seed:          c.Seed,
		Unique:        c.Unique,
		Base:          c.Base,
		Secret:        []byte(c.Secret.Reveal()),
		KonnectFormat: c.KonnectFormat,
	}
}

// batch is the events per POST after the adapter's own limit.
func (c postConfig) batch() int {
	if m := c.spec().MaxBatch(); m > 0 {
		return min(c.Batch, m)
	}
	return c.Batch
}

// target is the URL every POST goes to.
func (c postConfig) target() string {
	return strings.TrimRight(c.URL, "/") + "/ingest/" + url.PathEscape(c.Input)
}

// lookupFunc resolves a host name (net.DefaultResolver.LookupIPAddr).
type lookupFunc func(ctx context.Context, host string) ([]net.IPAddr, error)

// checkLoopback refuses a host unless every address it resolves to is
// loopback (127.0.0.0/8 or ::1). The resolved addresses decide, not the
// name.
func checkLoopback(ctx context.Context, host string, lookup lookupFunc) error {
	var ips []net.IP
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := lookup(ctx, host)
		if err != nil {
			return fmt.Errorf("resolve %q: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("resolve %q: no addresses", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%q resolves to %s, which is not loopback: pass -allow-remote to load another host", host, ip)
		}
	}
	return nil
}

// loopbackOnly is a dialer Control that refuses any non-loopback address
// at connect time, so a name that resolves differently later (or a
// redirect) cannot send load elsewhere.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %q: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %s: not a loopback address: pass -allow-remote to load another host", address)
	}
	return nil
}

// newClient builds the HTTP client of a run: no proxy, no redirects, one
// idle connection per worker, loopback-only dialing unless allowRemote. The
// 64 KiB write buffer sends a POST of 100 events (about 31 KiB for
// openfaas) with its headers in one write instead of a 4 KiB one and the
// rest.
func newClient(c postConfig) (*http.Client, *http.Transport) {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !c.AllowRemote {
		dialer.Control = loopbackOnly
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        c.Concurrency * 2,
		MaxIdleConnsPerHost: c.Concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   c.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, tr
}

// runPost sends the configured load and measures it. It returns when
// Total events were answered, Duration passed or ctx was cancelled.
func runPost(ctx context.Context, c postConfig, lookup lookupFunc) (*postResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if lookup == nil {
		lookup = net.DefaultResolver.LookupIPAddr
	}
	u, _ := url.Parse(c.URL)
	if !c.AllowRemote {
		if err := checkLoopback(ctx, u.Hostname(), lookup); err != nil {
			return nil, fmt.Errorf("check target: %w", err)
		}
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Base.IsZero() {
		c.Base = time.Now().UTC()
	}
	client, tr := newClient(c)
	defer tr.CloseIdleConnections()

	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	l := &loop{cfg: c, spec: c.spec(), batch: c.batch(), client: client, target: c.target(), start: time.Now()}
	workers := make([]*worker, c.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{loop: l, errors: map[string]int64{}}
		workers[i] = w
		wg.Go(func() { w.run(runCtx) })
	}
	wg.Wait()
	elapsed := time.Since(l.start)

	res := &postResult{
		Mode: "post", URL: l.target, Adapter: l.spec.Adapter, Batch: l.batch,
		Concurrency: c.Concurrency, Rate: c.Rate, Gzip: c.Gzip,
		Errors: map[string]int64{}, Elapsed: elapsed.Seconds(), Stopped: "total",
	}
	var hist histogram
	for _, w := range workers {
		w.addTo(res)
		hist.merge(&w.hist)
	}
	res.Latency = hist.report()
	if elapsed > 0 {
		res.EventsPerSec = float64(res.EventsAcked) / elapsed.Seconds()
	}
	switch {
	case ctx.Err() != nil:
		res.Stopped = "interrupted"
	case res.EventsAcked+res.ErrorEvents < c.Total:
		res.Stopped = "duration"
	}
	return res, nil
}

// loop is what the workers of one run share.
type loop struct {
	cfg    postConfig
	spec   Spec
	batch  int
	client *http.Client
	target string
	start  time.Time
	next   atomic.Uint64
}

// claim hands out the next batch: the index of its first event and its
// size; ok is false once Total events were handed out.
func (l *loop) claim() (first uint64, n int, ok bool) {
	b := uint64(l.batch)
	first = l.next.Add(b) - b
	total := uint64(l.cfg.Total)
	if first >= total {
		return 0, 0, false
	}
	return first, int(min(b, total-first)), true
}

// due is when the batch starting at event first may be sent under -rate.
func (l *loop) due(first uint64) time.Time {
	if l.cfg.Rate <= 0 {
		return time.Time{}
	}
	return l.start.Add(time.Duration(float64(first) / float64(l.cfg.Rate) * float64(time.Second)))
}

// worker sends one POST at a time and keeps its own counters, merged
// after the run.
type worker struct {
	loop   *loop
	body   []byte
	zbuf   bytes.Buffer
	zw     *gzip.Writer
	answer bytes.Buffer     // the last answer's body, reused
	limit  io.LimitedReader // bounds answer, reused
	hist   histogram
	errors map[string]int64

	posts, sent, acked, bytes                    int64
	accepted, duplicates, ignored, rejected      int64
	unparsed, backpressure, errorEvents, aborted int64
}

func (w *worker) addTo(r *postResult) {
	r.Posts += w.posts
	r.EventsSent += w.sent
	r.EventsAcked += w.acked
	r.Bytes += w.bytes
	r.Accepted += w.accepted
	r.Duplicates += w.duplicates
	r.Ignored += w.ignored
	r.Rejected += w.rejected
	r.Unparsed += w.unparsed
	r.Backpressure += w.backpressure
	r.ErrorEvents += w.errorEvents
	r.Aborted += w.aborted
	for k, v := range w.errors {
		r.Errors[k] += v
	}
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		first, n, ok := w.loop.claim()
		if !ok {
			return
		}
		if !sleepUntil(ctx, w.loop.due(first)) {
			return
		}
		p := w.loop.spec.Build(w.body, first, n)
		w.body = p.Body
		body := p.Body
		if w.loop.cfg.Gzip {
			body = w.compress(body)
		}
		w.deliver(ctx, p, body)
	}
}

// compress gzips body into the worker's reusable buffer, at the fastest
// level so that compression does not limit the load.
func (w *worker) compress(body []byte) []byte {
	w.zbuf.Reset()
	if w.zw == nil {
		w.zw, _ = gzip.NewWriterLevel(&w.zbuf, gzip.BestSpeed) // the level is valid
	} else {
		w.zw.Reset(&w.zbuf)
	}
	_, _ = w.zw.Write(body) // writes to a bytes.Buffer do not fail
	_ = w.zw.Close()
	return w.zbuf.Bytes()
}

// deliver POSTs one payload, retrying 503/429 (and closed connections for
// konghooks, as Kong does) after Retry-After, at most Retries times.
func (w *worker) deliver(ctx context.Context, p Payload, body []byte) {
	n := int64(p.Events)
	w.sent += n
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		status, wait, err := w.attempt(ctx, p, body)
		if err == nil && status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			return // answered and counted
		}
		switch {
		case ctx.Err() != nil:
			w.aborted += n
			return
		case err != nil && w.loop.spec.Adapter == adapterKongHooks && attempt < w.loop.cfg.Retries:
			// The relay closes konghooks connections to push back.
			w.backpressure++
			wait, backoff = backoff, min(backoff*2, time.Second)
		case err != nil:
			w.fail(errorKey(err), n)
			return
		case attempt >= w.loop.cfg.Retries:
			w.fail(strconv.Itoa(status), n)
			return
		default:
			w.backpressure++
		}
		if !sleepUntil(ctx, time.Now().Add(wait)) {
			w.aborted += n
			return
		}
	}
}

func (w *worker) fail(key string, events int64) {
	w.posts++
	w.errors[key]++
	w.errorEvents += events
}

// attempt sends the payload once. For a 2xx it records the latency and
// counts; for 503/429 it returns the wait Retry-After asks for; for other
// answers it counts the error and returns the status.
func (w *worker) attempt(ctx context.Context, p Payload, body []byte) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.loop.target, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	for _, h := range p.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	if w.loop.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if a := w.loop.cfg.Authorization; a.IsSet() {
		req.Header.Set("Authorization", a.Reveal())
	}
	w.bytes += int64(len(body))
	start := time.Now()
	resp, err := w.loop.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	w.answer.Reset()
	w.limit = io.LimitedReader{R: resp.Body, N: 64 << 10}
	_, _ = w.answer.ReadFrom(&w.limit)
	_ = resp.Body.Close()
	answer := w.answer.Bytes()
	latency := time.Since(start)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		w.posts++
		w.hist.record(latency)
		w.acked += int64(p.Events)
		w.count(answer)
	case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
	default:
		w.fail(strconv.Itoa(resp.StatusCode), int64(p.Events))
	}
	return resp.StatusCode, 0, nil
}

// count adds the relay's {"accepted":N,"duplicates":M,"ignored":K,
// "rejected":R} answer.
func (w *worker) count(answer []byte) {
	var a struct {
		Accepted   *int64 `json:"accepted"`
		Duplicates int64  `json:"duplicates"`
		Ignored    int64  `json:"ignored"`
		Rejected   int64  `json:"rejected"`
	}
	if json.Unmarshal(answer, &a) != nil || a.Accepted == nil {
		w.unparsed++
		return
	}
	w.accepted += *a.Accepted
	w.duplicates += a.Duplicates
	w.ignored += a.Ignored
	w.rejected += a.Rejected
}

// errorKey names a transport error for the error counts.
func errorKey(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "connection"
}

// retryAfter is the wait a Retry-After value asks for: delay-seconds or an
// HTTP date; 1s when absent or unreadable; at most a minute.
func retryAfter(v string, now time.Time) time.Duration {
	const fallback, ceiling = time.Second, time.Minute
	v = strings.TrimSpace(v)
	if v == "" {
		return fallback
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return fallback
		}
		return min(time.Duration(s)*time.Second, ceiling)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), ceiling)
	}
	return fallback
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
