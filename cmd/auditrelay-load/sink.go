package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/auditrelay/auditrelay"
)

// sinkConfig is what a sink run does.
type sinkConfig struct {
	// Listen is the address to serve on (loopback unless AllowRemote).
	Listen string
	// Token, when set, is required as "Authorization: Splunk <token>" on
	// the HEC endpoints (and on other paths when Authorization is unset).
	Token auditrelay.Secret
	// Authorization, when set, is the exact Authorization value required
	// on generic paths (and on HEC paths when Token is unset).
	Authorization auditrelay.Secret
	// FailFirst answers the first N event requests with FailStatus.
	FailFirst int64
	// FailStatus is the status of injected failures (default 503).
	FailStatus int
	// RetryAfter is the Retry-After (seconds) sent with injected 503/429.
	RetryAfter int
	// Report is the interval of progress lines on stderr; 0 disables them.
	Report time.Duration
	// Expect is the number of events after which the sink may stop.
	Expect int64
	// ExitAfterIdle stops the sink once Expect events arrived and none
	// came for this long.
	ExitAfterIdle time.Duration
	// Out, when set, receives every event, one per line.
	Out string
	// CountIDs tracks distinct "id" (JSON) / externalId (CEF) values.
	CountIDs bool
	// MaxIDs bounds the ids tracked.
	MaxIDs int
	// MaxBody bounds a request body, before and after decompression.
	MaxBody int64
	// AllowRemote permits a non-loopback listen address.
	AllowRemote bool
}

func defaultSinkConfig() sinkConfig {
	return sinkConfig{
		Listen:        "127.0.0.1:8088",
		FailStatus:    http.StatusServiceUnavailable,
		RetryAfter:    1,
		Report:        time.Second,
		ExitAfterIdle: 5 * time.Second,
		MaxIDs:        5_000_000,
		MaxBody:       64 << 20,
	}
}

// Validate reports every problem of the config without doing I/O.
func (c sinkConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("-listen %q: write it as host:port: %w", c.Listen, err))
	}
	if c.FailFirst < 0 {
		errs = append(errs, fmt.Errorf("-fail-first %d must not be negative", c.FailFirst))
	}
	if c.FailStatus < 400 || c.FailStatus > 599 {
		errs = append(errs, fmt.Errorf("-fail-status %d must be a 4xx or 5xx status", c.FailStatus))
	}
	if c.RetryAfter < 0 {
		errs = append(errs, fmt.Errorf("-retry-after %d must not be negative", c.RetryAfter))
	}
	if c.Report < 0 || c.ExitAfterIdle < 0 {
		errs = append(errs, errors.New("-report and -exit-after-idle must not be negative"))
	}
	if c.Expect < 0 {
		errs = append(errs, fmt.Errorf("-expect %d must not be negative", c.Expect))
	}
	if c.MaxBody < 1 {
		errs = append(errs, fmt.Errorf("-max-body %d must be positive", c.MaxBody))
	}
	if c.MaxIDs < 1 {
		errs = append(errs, fmt.Errorf("-max-ids %d must be positive", c.MaxIDs))
	}
	return errors.Join(errs...)
}

// checkListen refuses a listen address whose host is empty (every
// interface) or does not resolve to loopback only.
func checkListen(ctx context.Context, addr string, lookup lookupFunc) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("-listen %q listens on every interface: use 127.0.0.1:PORT, or pass -allow-remote", addr)
	}
	return checkLoopback(ctx, host, lookup)
}

// sink counts what a relay delivers: Splunk HEC on /services/collector*,
// any other POST path as a generic HTTP collector.
type sink struct {
	cfg sinkConfig
	now func() time.Time

	requests, events, hecEvents, httpEvents, bytes atomic.Int64
	failed, acks                                   atomic.Int64
	first, last                                    atomic.Int64 // unix ns of first and last event

	scratch sync.Pool // of *scratch: one request's buffers, reused

	mu           sync.Mutex // guards the fields below
	refused      map[string]int64
	ids          map[string]struct{}
	dupIDs       int64
	idsTruncated bool
	out          *bufio.Writer
}

func newSink(c sinkConfig, out io.Writer) *sink {
	s := &sink{cfg: c, now: time.Now, refused: map[string]int64{}}
	s.scratch.New = func() any { return new(scratch) }
	if c.CountIDs {
		s.ids = map[string]struct{}{}
	}
	if out != nil {
		s.out = bufio.NewWriterSize(out, 256<<10)
	}
	return s
}

// entryKind says how a received event is encoded.
type entryKind int

const (
	entryJSON   entryKind = iota // a JSON value (object)
	entryString                  // a JSON string (HEC event of a CEF line)
	entryText                    // a text line (CEF, syslog)
)

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasPrefix(path, "/services/collector/health") {
		writeAnswer(w, http.StatusOK, `{"text":"HEC is healthy","code":17}`)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeAnswer(w, http.StatusMethodNotAllowed, `{"error":"method not allowed: POST events here"}`)
		return
	}
	s.requests.Add(1)
	switch path {
	case "/services/collector/ack":
		s.serveAck(w, r)
	case "/services/collector/event", "/services/collector", "/services/collector/event/1.0":
		s.serveHEC(w, r)
	default:
		s.serveGeneric(w, r)
	}
}

func writeAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *sink) refuse(w http.ResponseWriter, status int, body string) {
	s.mu.Lock()
	s.refused[strconv.Itoa(status)]++
	s.mu.Unlock()
	writeAnswer(w, status, body)
}

// authorized checks the request's Authorization against what the path
// requires; true when nothing is required.
func (s *sink) authorized(r *http.Request, hec bool) (ok, present bool) {
	want := s.cfg.Authorization
	if s.cfg.Token.IsSet() && (hec || !want.IsSet()) {
		want = auditrelay.NewSecret("Splunk " + s.cfg.Token.Reveal())
	}
	got := r.Header.Get("Authorization")
	if !want.IsSet() {
		return true, got != ""
	}
	return want.Equal(got), got != ""
}

// injectFailure answers the first FailFirst event requests with
// FailStatus; true when it answered.
func (s *sink) injectFailure(w http.ResponseWriter, hec bool) bool {
	if s.cfg.FailFirst == 0 || s.failed.Add(1) > s.cfg.FailFirst {
		return false
	}
	st := s.cfg.FailStatus
	if st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(s.cfg.RetryAfter))
	}
	body := `{"error":"injected failure (-fail-first)"}`
	if hec {
		body = `{"text":"Internal server error","code":8}`
		if st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests {
			body = `{"text":"Server is busy","code":9}`
		}
	}
	s.refuse(w, st, body)
	return true
}

// scratch is one request's reusable buffers. The sink pools them, so a
// steady stream of requests allocates next to nothing: the raw and the
// gunzipped body, the gzip reader (Reset, not rebuilt) and the events.
type scratch struct {
	raw, plain bytes.Buffer
	src        bytes.Reader
	zr         gzip.Reader
	limit      io.LimitedReader
	entries    []sinkEntry
}

// maxPooledBuffer is the largest buffer put back into the pool; a larger
// one (a body far over the relay's 1 MB batches) is left to the GC.
const maxPooledBuffer = 8 << 20

func (s *sink) getScratch() *scratch { return s.scratch.Get().(*scratch) }

// putScratch returns sc to the pool unless it grew too large to keep.
func (s *sink) putScratch(sc *scratch) {
	if sc.raw.Cap() > maxPooledBuffer || sc.plain.Cap() > maxPooledBuffer || cap(sc.entries) > maxPooledBuffer/32 {
		return
	}
	clear(sc.entries)
	sc.entries = sc.entries[:0]
	sc.src.Reset(nil)
	s.scratch.Put(sc)
}

// readBody reads the request body within MaxBody into sc, gunzipping it
// when Content-Encoding says gzip (or application/gzip) or it starts with
// the gzip magic. status is non-zero when the body was refused. body
// aliases sc's buffers.
func (s *sink) readBody(sc *scratch, w http.ResponseWriter, r *http.Request) (body []byte, status int, reason string) {
	sc.raw.Reset()
	if n := r.ContentLength; n > 0 && n <= s.cfg.MaxBody {
		sc.raw.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead spare to see EOF
	}
	_, err := sc.raw.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	raw := sc.raw.Bytes()
	s.bytes.Add(int64(len(raw)))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, "body over -max-body"
	case err != nil:
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	}
	if !isGzip(r.Header.Get("Content-Encoding"), raw) {
		return raw, 0, ""
	}
	sc.src.Reset(raw)
	if err := sc.zr.Reset(&sc.src); err != nil {
		return nil, http.StatusBadRequest, "gunzip body: " + err.Error()
	}
	sc.plain.Reset()
	sc.limit = io.LimitedReader{R: &sc.zr, N: s.cfg.MaxBody + 1}
	_, err = sc.plain.ReadFrom(&sc.limit)
	body = sc.plain.Bytes()
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, "gunzip body: " + err.Error()
	case int64(len(body)) > s.cfg.MaxBody:
		return nil, http.StatusRequestEntityTooLarge, "decompressed body over -max-body"
	}
	return body, 0, ""
}

// isGzip reports whether a body is gzip: Content-Encoding names it, or the
// body starts with the gzip magic.
func isGzip(contentEncoding string, raw []byte) bool {
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		return true
	}
	if contentEncoding == "" {
		return false
	}
	return strings.Contains(strings.ToLower(contentEncoding), "gzip")
}

// hecError is a Splunk HEC error answer about the whole request.
func hecError(text string, code int) string {
	b, _ := json.Marshal(struct {
		Text string `json:"text"`
		Code int    `json:"code"`
	}{text, code})
	return string(b)
}

// hecEventError is a Splunk HEC answer naming the first bad event: the
// events before it were indexed.
func hecEventError(text string, code, eventNumber int) string {
	b, _ := json.Marshal(struct {
		Text   string `json:"text"`
		Code   int    `json:"code"`
		Number int    `json:"invalid-event-number"`
	}{text, code, eventNumber})
	return string(b)
}

// serveHEC counts concatenated {"event":…} objects. As Splunk does, the
// events before a bad one are indexed and the answer names the bad one.
func (s *sink) serveHEC(w http.ResponseWriter, r *http.Request) {
	if ok, present := s.authorized(r, true); !ok {
		if !present {
			s.refuse(w, http.StatusUnauthorized, `{"text":"Token is required","code":2}`)
			return
		}
		s.refuse(w, http.StatusUnauthorized, `{"text":"Invalid token","code":4}`)
		return
	}
	if s.injectFailure(w, true) {
		return
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	body, status, reason := s.readBody(sc, w, r)
	if status != 0 {
		s.refuse(w, status, hecError(reason, 6))
		return
	}
	events, bad := decodeHEC(body, sc.entries[:0])
	sc.entries = events
	s.record(events, true)
	if bad != "" {
		code := 6
		switch bad {
		case hecEventRequired:
			code = 12
		case hecEventBlank:
			code = 13
		}
		s.refuse(w, http.StatusBadRequest, hecEventError(bad, code, len(events)))
		return
	}
	if r.Header.Get("X-Splunk-Request-Channel") != "" || (r.URL.RawQuery != "" && r.URL.Query().Get("channel") != "") {
		writeAnswer(w, http.StatusOK, `{"text":"Success","code":0,"ackId":`+strconv.FormatInt(s.acks.Add(1)-1, 10)+`}`)
		return
	}
	writeAnswer(w, http.StatusOK, `{"text":"Success","code":0}`)
}

// sinkEntry is one received event.
type sinkEntry struct {
	data []byte
	kind entryKind
}

// serveAck answers every ackId asked about as indexed.
func (s *sink) serveAck(w http.ResponseWriter, r *http.Request) {
	if ok, _ := s.authorized(r, true); !ok {
		s.refuse(w, http.StatusUnauthorized, `{"text":"Invalid token","code":4}`)
		return
	}
	var q struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&q); err != nil {
		s.refuse(w, http.StatusBadRequest, `{"text":"Invalid data format","code":6}`)
		return
	}
	out := make(map[string]bool, len(q.Acks))
	for _, id := range q.Acks {
		out[strconv.FormatInt(id, 10)] = true
	}
	b, _ := json.Marshal(map[string]any{"acks": out})
	writeAnswer(w, http.StatusOK, string(b))
}

// serveGeneric counts a JSON array, concatenated/NDJSON objects or text
// lines and answers in the relay's own shape, so post can target it.
func (s *sink) serveGeneric(w http.ResponseWriter, r *http.Request) {
	if ok, _ := s.authorized(r, false); !ok {
		s.refuse(w, http.StatusUnauthorized, `{"error":"missing or wrong Authorization header"}`)
		return
	}
	if s.injectFailure(w, false) {
		return
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	body, status, reason := s.readBody(sc, w, r)
	if status != 0 {
		s.refuse(w, status, `{"error":`+strconv.Quote(reason)+`}`)
		return
	}
	entries, err := splitGeneric(body, sc.entries[:0])
	sc.entries = entries
	if err != nil {
		s.refuse(w, http.StatusBadRequest, `{"error":`+strconv.Quote(err.Error())+`}`)
		return
	}
	dups := s.record(entries, false)
	writeAnswer(w, http.StatusOK, `{"accepted":`+strconv.Itoa(len(entries))+`,"duplicates":`+strconv.FormatInt(dups, 10)+`,"ignored":0}`)
}

// record counts entries, writes them to -out and tracks their ids; it
// returns how many carried an id seen before.
func (s *sink) record(entries []sinkEntry, hec bool) int64 {
	n := int64(len(entries))
	if n == 0 {
		return 0
	}
	now := s.now().UnixNano()
	s.first.CompareAndSwap(0, now)
	for {
		last := s.last.Load()
		if last >= now || s.last.CompareAndSwap(last, now) {
			break
		}
	}
	if hec {
		s.hecEvents.Add(n)
	} else {
		s.httpEvents.Add(n)
	}
	s.events.Add(n)
	if s.out == nil && s.ids == nil {
		return 0
	}
	var dups int64
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if s.out != nil {
			s.writeEntry(e)
		}
		if s.ids != nil {
			dups += s.trackID(e)
		}
	}
	return dups
}

// writeEntry writes one event as one line: a HEC string event unquoted,
// JSON compacted. Caller holds mu.
func (s *sink) writeEntry(e sinkEntry) {
	data := e.data
	switch e.kind {
	case entryString:
		if line := unquote(data); line != nil {
			data = line
		}
	case entryJSON:
		if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
			var b bytes.Buffer
			if json.Compact(&b, data) == nil {
				data = b.Bytes()
			}
		}
	}
	_, _ = s.out.Write(data)
	_ = s.out.WriteByte('\n')
}

// trackID notes an entry's id; 1 when it was seen before. Caller holds mu.
func (s *sink) trackID(e sinkEntry) int64 {
	id := entryID(e)
	if id == nil {
		return 0
	}
	if _, seen := s.ids[string(id)]; seen {
		s.dupIDs++
		return 1
	}
	if len(s.ids) >= s.cfg.MaxIDs {
		s.idsTruncated = true
		return 0
	}
	s.ids[string(id)] = struct{}{}
	return 0
}

// result is the sink's summary so far.
func (s *sink) result() *sinkResult {
	r := &sinkResult{
		Mode: "sink", Events: s.events.Load(), Requests: s.requests.Load(),
		HECEvents: s.hecEvents.Load(), HTTPEvents: s.httpEvents.Load(),
		Bytes: s.bytes.Load(), Expect: s.cfg.Expect, Refused: map[string]int64{},
	}
	s.mu.Lock()
	for k, v := range s.refused {
		r.Refused[k] = v
	}
	r.DistinctIDs, r.DuplicateIDs, r.IDsTruncated = int64(len(s.ids)), s.dupIDs, s.idsTruncated
	s.mu.Unlock()
	if first, last := s.first.Load(), s.last.Load(); first != 0 {
		r.FirstEvent = time.Unix(0, first).UTC().Format(time.RFC3339Nano)
		r.LastEvent = time.Unix(0, last).UTC().Format(time.RFC3339Nano)
		r.Active = time.Duration(last - first).Seconds()
		if r.Active > 0 {
			r.EventsPerSec = float64(r.Events) / r.Active
		}
	}
	return r
}

// idle reports whether Expect events arrived and none came for
// ExitAfterIdle.
func (s *sink) idle(now time.Time) bool {
	if s.cfg.Expect <= 0 || s.events.Load() < s.cfg.Expect {
		return false
	}
	return now.Sub(time.Unix(0, s.last.Load())) >= s.cfg.ExitAfterIdle
}

// flush writes -out's buffer.
func (s *sink) flush() error {
	if s.out == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.out.Flush(); err != nil {
		return fmt.Errorf("write -out: %w", err)
	}
	return nil
}

// runSink serves until ctx ends or, with Expect, the sink went idle after
// Expect events. ready, when set, learns the address it listens on.
func runSink(ctx context.Context, c sinkConfig, lookup lookupFunc, progress io.Writer, ready func(addr string)) (*sinkResult, error) {
	if err := c.Validate(); err != nil {
		return nil, &usageError{err}
	}
	if lookup == nil {
		lookup = net.DefaultResolver.LookupIPAddr
	}
	if !c.AllowRemote {
		if err := checkListen(ctx, c.Listen, lookup); err != nil {
			return nil, &usageError{fmt.Errorf("check listen address: %w", err)}
		}
	}
	var out *os.File
	if c.Out != "" {
		f, err := os.Create(c.Out)
		if err != nil {
			return nil, fmt.Errorf("open -out: %w", err)
		}
		defer f.Close()
		out = f
	}
	var w io.Writer
	if out != nil {
		w = out
	}
	s := newSink(c, w)
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	stopped := s.wait(ctx, progress, served)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := s.flush(); err != nil {
		return nil, err
	}
	if out != nil {
		if err := out.Close(); err != nil {
			return nil, fmt.Errorf("close -out: %w", err)
		}
	}
	r := s.result()
	r.Listen, r.Stopped = ln.Addr().String(), stopped
	return r, nil
}

// wait blocks until the sink should stop and says why, printing progress
// every Report.
func (s *sink) wait(ctx context.Context, progress io.Writer, served <-chan error) string {
	var report <-chan time.Time
	if s.cfg.Report > 0 && progress != nil {
		t := time.NewTicker(s.cfg.Report)
		defer t.Stop()
		report = t.C
	}
	var check <-chan time.Time
	if s.cfg.Expect > 0 {
		t := time.NewTicker(min(max(s.cfg.ExitAfterIdle/4, 10*time.Millisecond), 250*time.Millisecond))
		defer t.Stop()
		check = t.C
	}
	var lastEvents int64
	lastAt := s.now()
	for {
		select {
		case <-ctx.Done():
			return "signal"
		case err := <-served:
			if err != nil && progress != nil {
				fmt.Fprintf(progress, "sink: serve: %v\n", err)
			}
			return "server error"
		case now := <-check:
			if s.idle(now) {
				return "expect"
			}
		case now := <-report:
			n := s.events.Load()
			rate := float64(n-lastEvents) / now.Sub(lastAt).Seconds()
			fmt.Fprintf(progress, "sink: %d events (+%d, %.0f/s) in %d requests\n", n, n-lastEvents, rate, s.requests.Load())
			lastEvents, lastAt = n, now
		}
	}
}
