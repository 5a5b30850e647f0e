package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/metrics"
)

// Journal stores accepted events durably, dropping those seen within the
// dedup window. Append returns only once the new events are synced.
type Journal interface {
	Append(ctx context.Context, events []auditrelay.Event) (accepted, duplicates int, err error)
}

// Counts takes an input's event counts (internal/status).
type Counts interface {
	Count(accepted, duplicates, ignored, rejected int)
}

// Keeper keeps what could not be used, for replay (internal/rejected).
type Keeper interface {
	Keep(input string, body []byte, reason string, line int) error
}

// Input is one push input as the server sees it.
type Input struct {
	Name          string
	Adapter       auditrelay.Adapter
	Authorization auditrelay.Secret
	AllowUnsigned bool
	IncludeRaw    bool
	// Severity, when set, overrides every event's severity.
	Severity *int
	Refusal  auditrelay.Refusal
	Counts   Counts
}

// Options configure a Server.
type Options struct {
	Inputs       []*Input
	Journal      Journal
	Rejected     Keeper
	MaxBodyBytes int64
	// MaxConcurrent caps the requests read and parsed at once, so memory
	// is bounded by max_body_bytes × MaxConcurrent, not by load; a
	// request waits up to SlotWait for a slot, then is refused like a
	// full spool. Zero means 32.
	MaxConcurrent int
	// SlotWait is how long a request waits for a slot; zero means 1s.
	SlotWait time.Duration
	// RetryAfter is what a refusal asks the sender to wait; default 5s.
	RetryAfter time.Duration
	Metrics    *metrics.Registry
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server is the ingest handler.
type Server struct {
	opts     Options
	inputs   map[string]*Input
	draining atomic.Bool
	scratch  sync.Pool // of *scratch
	slots    chan struct{}

	requests metrics.Counter
	events   metrics.Counter
	latency  metrics.Histogram
}

// New builds the handler.
func New(opts Options) *Server {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Second
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 32
	}
	if opts.SlotWait <= 0 {
		opts.SlotWait = time.Second
	}
	s := &Server{opts: opts, inputs: map[string]*Input{}, slots: make(chan struct{}, opts.MaxConcurrent)}
	for _, in := range opts.Inputs {
		s.inputs[in.Name] = in
	}
	s.scratch.New = func() any { return new(scratch) }
	m := opts.Metrics
	s.requests = m.Counter("auditrelay_ingest_requests_total", "Ingest requests by input and answer.", "input", "code")
	s.events = m.Counter("auditrelay_input_events_total", "Events by input and result (accepted, duplicate, ignored, rejected).", "input", "result")
	s.latency = m.Histogram("auditrelay_ingest_request_duration_seconds", "Time from request to answer, the ack latency.", metrics.LatencyBuckets, "input")
	return s
}

// Drain makes every input refuse from now on (shutdown).
func (s *Server) Drain() { s.draining.Store(true) }

// answer is the JSON of a 200. Rejected counts the bad lines of a
// line-batched body (konnect, lines); it is 0 for the other adapters.
type answer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
	Rejected   int `json:"rejected"`
}

// ServeHTTP handles /ingest/{input}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/ingest/")
	in, ok := s.inputs[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no input named %q is configured", name))
		return
	}
	start := s.opts.Now()
	code := 0 // stays 0 when a refusal closes the connection
	defer func() {
		s.requests.Add(1, in.Name, strconv.Itoa(code))
		s.latency.Observe(s.opts.Now().Sub(start).Seconds(), in.Name)
	}()
	code = s.serve(w, r, in)
}

// serve answers one request to a known input and returns the status code
// sent (0 for a connection closed without answer).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, in *Input) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, "use POST to send events")
	}
	if s.draining.Load() {
		return s.refuse(w, in, "the relay is shutting down")
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		return s.tooLarge(w)
	}
	if !s.acquire(r.Context()) {
		return s.refuse(w, in, "the relay is handling max_concurrent_requests requests already")
	}
	defer func() { <-s.slots }()
	sc := s.scratch.Get().(*scratch)
	defer s.putScratch(sc)
	buf := &sc.body
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.tooLarge(w)
		}
		return writeError(w, http.StatusBadRequest, "could not read the body: "+err.Error())
	}
	body := buf.Bytes()
	if err := s.authenticate(in, body, r.Header); err != nil {
		return writeError(w, http.StatusUnauthorized, err.Error())
	}
	parsed, err := in.Adapter.Parse(body, auditrelay.Meta{
		Input: in.Name, Header: r.Header, ReceivedAt: s.opts.Now().UTC(), IncludeRaw: in.IncludeRaw,
		Events: sc.events,
	})
	sc.events = parsed.Events
	if err != nil {
		s.keep(in, body, err.Error(), 0)
		return writeError(w, http.StatusBadRequest, "nothing stored: "+err.Error()+"; fix the body and send it again")
	}
	for _, rj := range parsed.Rejected {
		s.keep(in, rj.Entry, rj.Reason, rj.Line)
	}
	if in.Severity != nil {
		for i := range parsed.Events {
			parsed.Events[i].Severity = *in.Severity
		}
	}
	accepted, dups, err := s.opts.Journal.Append(r.Context(), parsed.Events)
	if err != nil {
		s.opts.Logger.Warn("ingest: could not store events; refusing so the sender retries", "input", in.Name, "err", err)
		return s.refuse(w, in, "the relay cannot store events right now")
	}
	s.count(in, accepted, dups, parsed.Ignored, len(parsed.Rejected))
	return writeJSON(w, http.StatusOK, answer{
		Accepted: accepted, Duplicates: dups, Ignored: parsed.Ignored, Rejected: len(parsed.Rejected),
	})
}

// acquire takes a request slot, waiting at most SlotWait.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(s.opts.SlotWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// scratch is one request's reusable memory: the body as read and the
// storage the adapter parses its events into (Meta.Events). Reusing the
// event storage spares a large, zeroed allocation per batch.
type scratch struct {
	body   bytes.Buffer
	events []auditrelay.Event
}

// Bounds of what a pooled scratch keeps; a larger one is let go rather
// than pinned.
const (
	keepBodyBytes = 1 << 20
	keepEvents    = 2048
)

func (s *Server) putScratch(sc *scratch) {
	if sc.body.Cap() > keepBodyBytes || cap(sc.events) > keepEvents {
		return
	}
	sc.body.Reset()
	clear(sc.events) // drop the strings of this batch
	sc.events = sc.events[:0]
	s.scratch.Put(sc)
}

func (s *Server) count(in *Input, accepted, dups, ignored, rejected int) {
	s.events.Add(accepted, in.Name, "accepted")
	s.events.Add(dups, in.Name, "duplicate")
	s.events.Add(ignored, in.Name, "ignored")
	s.events.Add(rejected, in.Name, "rejected")
	if in.Counts != nil {
		in.Counts.Count(accepted, dups, ignored, rejected)
	}
}

// authenticate checks the input's credential and its adapter's signature.
// Errors name what is wrong and never the expected value.
func (s *Server) authenticate(in *Input, body []byte, h http.Header) error {
	checked := false
	if in.Authorization.IsSet() {
		got := h.Get("Authorization")
		if got == "" {
			return errors.New("missing Authorization header")
		}
		if !in.Authorization.Equal(got) {
			return errors.New("the Authorization header does not match this input's credential")
		}
		checked = true
	}
	if v, ok := in.Adapter.(auditrelay.Verifier); ok && v.HasKey() {
		if err := v.Verify(body, h); err != nil {
			return err
		}
		checked = true
	}
	if !checked && !in.AllowUnsigned {
		return errors.New("this input has no credential configured and does not allow unsigned requests")
	}
	return nil
}

func (s *Server) keep(in *Input, body []byte, reason string, line int) {
	if s.opts.Rejected == nil {
		return
	}
	if err := s.opts.Rejected.Keep(in.Name, body, reason, line); err != nil {
		s.opts.Logger.Error("ingest: could not keep a rejected body", "input", in.Name, "err", err)
	}
}

func (s *Server) tooLarge(w http.ResponseWriter) int {
	return writeError(w, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("body is larger than max_body_bytes (%s): send smaller batches or raise the limit", auditrelay.Size(s.opts.MaxBodyBytes)))
}

// refuse turns the sender away in the way it retries.
func (s *Server) refuse(w http.ResponseWriter, in *Input, why string) int {
	retry := strconv.Itoa(int((s.opts.RetryAfter + time.Second - 1) / time.Second))
	switch in.Refusal {
	case auditrelay.RefuseHangUp:
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case auditrelay.RefuseTooManyRequests:
		w.Header().Set("Retry-After", retry)
		return writeError(w, http.StatusTooManyRequests, why+"; retry later")
	}
	w.Header().Set("Retry-After", retry)
	return writeError(w, http.StatusServiceUnavailable, why+"; retry later")
}

func writeError(w http.ResponseWriter, code int, msg string) int {
	return writeJSON(w, code, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
	return code
}
