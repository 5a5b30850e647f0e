package splunkhec

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/httpout"
)

// Config is [outputs.NAME] with type = "splunkhec".
type Config struct {
	// Config holds url (the HEC base URL, e.g. https://splunk:8088; no
	// default), allow_http (default false), timeout (per attempt, default
	// 10s) and tls.ca_file / tls.insecure_skip_verify.
	httpout.Config
	// Token is the HEC token, sent as "Authorization: Splunk <token>".
	// Required unless token_file is set.
	Token auditrelay.Secret `toml:"token"`
	// TokenFile is a file holding the token (read by the config loader).
	TokenFile string `toml:"token_file"`
	// Host is the events' host field. Default empty (Splunk uses the
	// sender's address).
	Host string `toml:"host"`
	// Source is the events' source field. Default empty (the token's).
	Source string `toml:"source"`
	// Sourcetype is the events' sourcetype field. Default empty (the
	// token's).
	Sourcetype string `toml:"sourcetype"`
	// Index is the events' index. Default empty (the token's default index).
	Index string `toml:"index"`
	// Gzip compresses request bodies (Content-Encoding: gzip). Default false.
	Gzip bool `toml:"gzip"`
	// Ack turns on indexer acknowledgement (Splunk Enterprise): a request
	// counts as delivered only once /services/collector/ack reports its
	// ackId true. Default false.
	Ack bool `toml:"ack"`
	// Channel is the data channel GUID sent as X-Splunk-Request-Channel.
	// Default empty: generated at start when ack is on, not sent otherwise.
	Channel string `toml:"channel"`
	// AckTimeout bounds the wait for one request's acknowledgement; when it
	// passes, the events are sent again. Default 60s.
	AckTimeout auditrelay.Duration `toml:"ack_timeout"`
	// AckInterval is the pause between two acknowledgement queries.
	// Default 1s.
	AckInterval auditrelay.Duration `toml:"ack_interval"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Config:      httpout.DefaultConfig(),
		AckTimeout:  auditrelay.Duration(60 * time.Second),
		AckInterval: auditrelay.Duration(time.Second),
	}
}

var guid = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// Validate checks the config without I/O and reports every problem.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	if !c.Token.IsSet() && c.TokenFile == "" {
		errs = append(errs, errors.New(`requires "token" or "token_file"`))
	}
	if c.Channel != "" && !guid.MatchString(c.Channel) {
		errs = append(errs, fmt.Errorf(`"channel" %q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); leave it empty to generate one`, c.Channel))
	}
	if c.Ack && c.AckTimeout <= 0 {
		errs = append(errs, errors.New(`"ack_timeout" must be positive when ack = true`))
	}
	if c.Ack && c.AckInterval <= 0 {
		errs = append(errs, errors.New(`"ack_interval" must be positive when ack = true`))
	}
	if c.Ack && c.AckInterval > c.AckTimeout {
		errs = append(errs, errors.New(`"ack_interval" must not exceed "ack_timeout"`))
	}
	return errors.Join(errs...)
}

// EventPath and AckPath are appended to url.
const (
	EventPath = "/services/collector/event"
	AckPath   = "/services/collector/ack"
)

// Output sends batches to Splunk's HTTP Event Collector.
type Output struct {
	client   *httpout.Client
	enc      *Encoder
	eventURL string
	ackURL   string
	header   http.Header
	limit    int
	ack      bool
	timeout  time.Duration
	interval time.Duration
	log      *slog.Logger

	mu sync.Mutex // serialises Write; guards gz, body, ends, ratio and perEvent
	gz *gzip.Writer
	// body and ends are Write's encoding buffers, reused from one Write to
	// the next when gzip is on (the request carries a compressed copy, so
	// nothing reads them after Write returns).
	body []byte
	ends []int
	// ratio is the last request's compressed size per 1024 bytes of body,
	// used to size the next compressed body in one allocation.
	ratio int
	// perEvent is the last Write's encoded bytes per event, used to size
	// the next uncompressed body in one allocation.
	perEvent int
}

// New builds the output; it reads tls.ca_file.
func New(c Config, s auditrelay.OutputSettings) (*Output, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("splunkhec output %q: %w", s.Name, err)
	}
	if s.Format == nil {
		return nil, fmt.Errorf("splunkhec output %q: no format", s.Name)
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("output", s.Name)
	client, err := httpout.New(c.Config, httpout.Options{
		Retry:       s.Retry,
		Logger:      log,
		Observe:     s.Observe,
		RetryStatus: func(code int) bool { return code == http.StatusRequestTimeout },
	})
	if err != nil {
		return nil, fmt.Errorf("splunkhec output %q: %w", s.Name, err)
	}
	base := strings.TrimRight(c.URL, "/")
	base = strings.TrimSuffix(base, EventPath) // tolerate a full endpoint URL
	o := &Output{
		client:   client,
		enc:      NewEncoder(Envelope{Host: c.Host, Source: c.Source, Sourcetype: c.Sourcetype, Index: c.Index}, s.Format, s.FormatName == "cef"),
		eventURL: base + EventPath,
		ackURL:   base + AckPath,
		header:   http.Header{"Authorization": {"Splunk " + c.Token.Reveal()}, "Content-Type": {"application/json"}},
		limit:    s.MaxRequestBytes,
		ack:      c.Ack,
		timeout:  c.AckTimeout.D(),
		interval: c.AckInterval.D(),
		log:      log,
	}
	channel := c.Channel
	if channel == "" && c.Ack {
		channel = newGUID()
	}
	if channel != "" {
		o.header.Set("X-Splunk-Request-Channel", channel)
	}
	if c.Gzip {
		o.header.Set("Content-Encoding", "gzip")
		o.gz, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)
	}
	return o, nil
}

// newGUID returns a random (version 4) GUID.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const h = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, h[c>>4], h[c&0xf])
	}
	return string(out)
}

// Write sends events in as many requests as batch_max_bytes needs and
// classifies each answer; see the package doc for the table. Calls are
// serialised.
func (o *Output) Write(ctx context.Context, events []auditrelay.Event) error {
	if len(events) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	body, ends := o.encode(events)
	b := batch{body: body, ends: ends}
	first := 0
	for _, cut := range Split(ends, o.limit) {
		if err := o.send(ctx, b, first, cut); err != nil {
			return err
		}
		first = cut
	}
	return nil
}

// encode encodes events into the output's reused buffers when gzip is on,
// into new ones otherwise (an uncompressed body is the request body itself,
// which the HTTP transport may still hold after Write returns).
func (o *Output) encode(events []auditrelay.Event) ([]byte, []int) {
	body, ends := o.body[:0], o.ends[:0]
	if o.gz == nil {
		// Size the body from the last Write's bytes per event, one huge
		// event's batch not making every later one reserve as much.
		size := cmp.Or(o.perEvent, 512) * len(events)
		body, ends = make([]byte, 0, min(size+size/8, maxKeptBody)), make([]int, 0, len(events))
	}
	for i := range events {
		body = o.enc.Append(body, &events[i])
		ends = append(ends, len(body))
	}
	o.perEvent = len(body)/len(events) + 1
	if o.gz != nil && cap(body) <= maxKeptBody {
		o.body, o.ends = body, ends
	}
	return body, ends
}

// maxKeptBody bounds the encoding buffer an output keeps between Writes.
const maxKeptBody = 16 << 20

// batch is one Write's encoded events.
type batch struct {
	body []byte
	ends []int
}

// span returns the body of events [a, b).
func (b batch) span(a, c int) []byte {
	from := 0
	if a > 0 {
		from = b.ends[a-1]
	}
	return b.body[from:b.ends[c-1]]
}

// send posts events [a, b) of the batch; a *DeliveryError's Delivered
// counts from the batch's start.
func (o *Output) send(ctx context.Context, b batch, a, c int) error {
	payload, err := o.compress(b.span(a, c))
	if err != nil {
		return &auditrelay.DeliveryError{Delivered: a, Err: err}
	}
	resp, err := o.client.Do(ctx, httpout.Request{Method: http.MethodPost, URL: o.eventURL, Header: o.header, Body: payload})
	if err != nil {
		return &auditrelay.DeliveryError{Delivered: a, Err: fmt.Errorf("send events: %w", err)}
	}
	r := Classify(resp.StatusCode, resp.Body)
	fail := &auditrelay.DeliveryError{
		Delivered:  a,
		StatusCode: resp.StatusCode,
		Response:   httpout.Trim(resp.Body, 1024),
		Err:        errors.New(r.Reason),
	}
	switch r.Verdict {
	case Success:
		return o.confirm(ctx, r.Answer, a, c)
	case TooLarge:
		if c-a == 1 {
			fail.Permanent = true
			fail.Err = fmt.Errorf("event too large for splunk alone: %s", r.Reason)
			return fail
		}
		mid := a + (c-a)/2
		o.log.Info("splunk refused request as too large; splitting", "events", c-a)
		if err := o.send(ctx, b, a, mid); err != nil {
			return err
		}
		return o.send(ctx, b, mid, c)
	case Partial:
		n := r.Answer.InvalidEvent
		if n >= c-a { // out of range: nothing can be singled out
			fail.Permanent, fail.PermanentAll = true, true
			return fail
		}
		fail.Delivered, fail.Permanent = a+n, true
		return fail
	case Reject:
		fail.Permanent, fail.PermanentAll = true, true
		return fail
	case Pause:
		fail.Paused = true
		return fail
	default:
		if d, ok := httpout.RetryAfter(resp.Header, time.Now()); ok {
			fail.RetryAfter = d
		}
		return fail
	}
}

// compress gzips body when gzip is on; the result is a new slice, since
// the client replays it on retries.
func (o *Output) compress(body []byte) ([]byte, error) {
	if o.gz == nil {
		return body, nil
	}
	ratio := o.ratio
	if ratio == 0 {
		ratio = 256
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/1024*ratio*9/8 + 1024)
	o.gz.Reset(&buf)
	if _, err := o.gz.Write(body); err != nil {
		return nil, fmt.Errorf("gzip request body: %w", err)
	}
	if err := o.gz.Close(); err != nil {
		return nil, fmt.Errorf("gzip request body: %w", err)
	}
	if len(body) >= 1024 {
		o.ratio = max(buf.Len()/(len(body)/1024), 1)
	}
	return buf.Bytes(), nil
}

// confirm waits for indexer acknowledgement of a successful request when
// ack is on.
func (o *Output) confirm(ctx context.Context, a Answer, first, end int) error {
	if !o.ack {
		return nil
	}
	if a.AckID < 0 {
		o.log.Warn("ack = true but splunk's answer carries no ackId; counting the events delivered (is indexer acknowledgement enabled on the token?)")
		return nil
	}
	if err := o.waitAck(ctx, a.AckID); err != nil {
		de := auditrelay.AsDeliveryError(err)
		de.Delivered = first
		return de
	}
	return nil
}

// waitAck polls /services/collector/ack until id is acknowledged, the ack
// timeout passes, or ctx ends.
func (o *Output) waitAck(ctx context.Context, id int64) error {
	deadline := time.Now().Add(o.timeout)
	body := []byte(`{"acks":[` + strconv.FormatInt(id, 10) + `]}`)
	header := o.header.Clone()
	header.Del("Content-Encoding")
	timer := time.NewTimer(o.interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for indexer acknowledgement of ackId %d: %w", id, context.Cause(ctx))
		case <-timer.C:
		}
		resp, err := o.client.Do(ctx, httpout.Request{Method: http.MethodPost, URL: o.ackURL, Header: header, Body: body})
		switch {
		case err != nil:
			return fmt.Errorf("query indexer acknowledgement: %w", err)
		case resp.StatusCode >= 300:
			r := Classify(resp.StatusCode, resp.Body)
			return &auditrelay.DeliveryError{
				Paused:     r.Verdict == Pause,
				StatusCode: resp.StatusCode,
				Response:   httpout.Trim(resp.Body, 1024),
				Err:        fmt.Errorf("query indexer acknowledgement of ackId %d: %s", id, r.Reason),
			}
		}
		ok, err := Acked(resp.Body, id)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if !time.Now().Add(o.interval).Before(deadline) {
			return fmt.Errorf("splunk did not acknowledge ackId %d within ack_timeout %s; the events will be sent again", id, o.timeout)
		}
		timer.Reset(o.interval)
	}
}

// Close releases idle connections; a second Close is a no-op.
func (o *Output) Close() error {
	o.client.Close()
	return nil
}
