package splunkhec_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/internal/status"
	"github.com/auditrelay/auditrelay/outputs/splunkhec"
)

const token = "0b5e6f2a-7c1d-4e8f-9a3b-SECRET-TOKEN"

// reply is one scripted answer; a nil func answers 200 Success.
type reply func(w http.ResponseWriter, objs []hecObject) bool

func answer(code int, body string) reply {
	return func(w http.ResponseWriter, _ []hecObject) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
		return code < 300
	}
}

// hec is a fake HTTP Event Collector. It records every request and the
// events of every accepted one.
type hec struct {
	t      testing.TB
	mu     sync.Mutex
	script []reply
	// decide, when set, answers instead of script.
	decide    func(n int, objs []hecObject) reply
	requests  int
	headers   []http.Header
	bodies    [][]byte
	accepted  []hecObject
	nextAck   int64
	acks      map[int64]int // ackId → polls left before true
	ackPolls  int
	ackBodies []string
}

func (h *hec) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			http.Error(w, `{"text":"bad gzip","code":6}`, 400)
			return
		}
		body, _ = io.ReadAll(zr)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch r.URL.Path {
	case splunkhec.AckPath:
		h.ackPolls++
		h.ackBodies = append(h.ackBodies, string(body))
		var q struct{ Acks []int64 }
		_ = json.Unmarshal(body, &q)
		res := map[string]bool{}
		for _, id := range q.Acks {
			left := h.acks[id]
			res[fmt.Sprint(id)] = left <= 0
			h.acks[id] = left - 1
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"acks": res})
		return
	case splunkhec.EventPath:
	default:
		http.NotFound(w, r)
		return
	}
	n := h.requests
	h.requests++
	h.headers = append(h.headers, r.Header.Clone())
	h.bodies = append(h.bodies, raw)
	objs, err := parseObjects(body)
	if err != nil {
		h.t.Error(err)
	}
	var rep reply
	switch {
	case h.decide != nil:
		rep = h.decide(n, objs)
	case n < len(h.script):
		rep = h.script[n]
	}
	if rep != nil {
		if rep(w, objs) {
			h.accepted = append(h.accepted, objs...)
		}
		return
	}
	h.accepted = append(h.accepted, objs...)
	if h.acks != nil {
		id := h.nextAck
		h.nextAck++
		h.acks[id] = 2 // two polls say false, the third true
		_, _ = fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, id)
		return
	}
	_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
}

type hecStats struct {
	requests, ackPolls int
	headers            []http.Header
	bodies             [][]byte
	ackBodies          []string
}

func (h *hec) stats() hecStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return hecStats{h.requests, h.ackPolls, append([]http.Header(nil), h.headers...), append([][]byte(nil), h.bodies...), append([]string(nil), h.ackBodies...)}
}

func (h *hec) objects() []hecObject {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hecObject(nil), h.accepted...)
}

func (h *hec) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, o := range h.accepted {
		var e struct{ ID string }
		if err := json.Unmarshal(o.Event, &e); err != nil {
			h.t.Errorf("event %s: %v", o.Event, err)
		}
		out = append(out, e.ID)
	}
	return out
}

func idsOf(evs []auditrelay.Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

type setup struct {
	cfg      func(*splunkhec.Config)
	limit    int
	retries  int
	logs     *bytes.Buffer
	observe  func(auditrelay.Attempt)
	format   auditrelay.Format
	cefLines bool
}

func start(t testing.TB, h *hec, s setup) (*splunkhec.Output, *httptest.Server) {
	t.Helper()
	h.t = t
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := splunkhec.DefaultConfig()
	cfg.URL = srv.URL
	cfg.AllowHTTP = true
	cfg.Token = auditrelay.NewSecret(token)
	cfg.AckInterval = auditrelay.Duration(2 * time.Millisecond)
	cfg.AckTimeout = auditrelay.Duration(time.Second)
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	logger := slog.New(slog.DiscardHandler)
	if s.logs != nil {
		logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if s.retries == 0 {
		s.retries = 4
	}
	f, name := s.format, "json"
	if f == nil {
		f = jsonformat.New()
	}
	if s.cefLines {
		name = "cef"
	}
	out, err := splunkhec.New(cfg, auditrelay.OutputSettings{
		Name: "splunk", Format: f, FormatName: name, Logger: logger,
		Retry:           auditrelay.RetryPolicy{MaxRetries: s.retries, WaitMin: auditrelay.Duration(time.Millisecond), WaitMax: auditrelay.Duration(20 * time.Millisecond)},
		MaxRequestBytes: s.limit,
		Observe:         s.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return out, srv
}

func deliveryError(t *testing.T, err error) *auditrelay.DeliveryError {
	t.Helper()
	var de *auditrelay.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("want *DeliveryError, got %T %v", err, err)
	}
	return de
}

func TestWriteDelivers(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			h := &hec{}
			out, _ := start(t, h, setup{cfg: func(c *splunkhec.Config) {
				c.Gzip = gz
				c.Index, c.Sourcetype, c.Host, c.Source = "audit", "auditrelay:json", "relay-1", "auditrelay"
			}})
			evs := events(50)
			if err := out.Write(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			if got := h.ids(); !reflect.DeepEqual(got, idsOf(evs)) {
				t.Fatalf("delivered %v", got)
			}
			hd := h.stats().headers[0]
			if got := hd.Get("Authorization"); got != "Splunk "+token {
				t.Errorf("Authorization = %q", got)
			}
			if got := hd.Get("Content-Encoding"); (got == "gzip") != gz {
				t.Errorf("Content-Encoding = %q", got)
			}
			if hd.Get("X-Splunk-Request-Channel") != "" {
				t.Error("channel sent without ack or channel")
			}
			for i, o := range h.objects() {
				if o.Index != "audit" || o.Sourcetype != "auditrelay:json" || o.Host != "relay-1" || o.Source != "auditrelay" {
					t.Errorf("object %d envelope: %+v", i, o)
				}
				if want := fmt.Sprintf("%d.123", evs[i].Time.Unix()); o.Time.String() != want {
					t.Errorf("object %d time %s, want %s", i, o.Time, want)
				}
				var back auditrelay.Event
				if err := json.Unmarshal(o.Event, &back); err != nil || !reflect.DeepEqual(back, evs[i]) {
					t.Errorf("object %d event differs: %v\n%s", i, err, o.Event)
				}
			}
		})
	}
}

func TestWriteCEF(t *testing.T) {
	h := &hec{}
	out, _ := start(t, h, setup{format: lineFormat{}, cefLines: true})
	evs := events(3)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	for i, o := range h.objects() {
		var line string
		if err := json.Unmarshal(o.Event, &line); err != nil {
			t.Fatal(err)
		}
		if want := string(lineFormat{}.Append(nil, &evs[i])); line != want {
			t.Errorf("line %d = %q, want %q", i, line, want)
		}
	}
}

func TestWriteSplitsByMaxRequestBytes(t *testing.T) {
	h := &hec{}
	out, _ := start(t, h, setup{limit: 2000})
	evs := events(40)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if h.stats().requests < 2 {
		t.Fatalf("requests = %d, want several", h.stats().requests)
	}
	for i, b := range h.stats().bodies {
		if len(b) > 2000 {
			t.Errorf("request %d is %d bytes", i, len(b))
		}
	}
	if got := h.ids(); !reflect.DeepEqual(got, idsOf(evs)) {
		t.Errorf("delivered %v", got)
	}
}

func TestRetryThenDeliverOnFifthAttempt(t *testing.T) {
	busy := answer(503, `{"text":"Server is busy","code":9}`)
	h := &hec{script: []reply{busy, busy, busy, busy}}
	reg := status.New(nil)
	st := reg.Output("splunk")
	out, _ := start(t, h, setup{observe: st.Observe})
	if err := out.Write(context.Background(), events(5)); err != nil {
		t.Fatal(err)
	}
	if h.stats().requests != 5 || len(h.ids()) != 5 {
		t.Errorf("requests %d, delivered %d", h.stats().requests, len(h.ids()))
	}
	if s := st.Snapshot(); s.Retries != 4 || s.LastResponseCode != 200 {
		t.Errorf("status %+v", s)
	}
}

func TestRetriesRunOut(t *testing.T) {
	busy := answer(503, `{"text":"Server is busy","code":9}`)
	h := &hec{script: []reply{busy, busy, busy, busy, busy}}
	reg := status.New(nil)
	st := reg.Output("splunk")
	out, _ := start(t, h, setup{observe: st.Observe})
	err := out.Write(context.Background(), events(5))
	de := deliveryError(t, err)
	if de.Permanent || de.Paused || de.Delivered != 0 || de.StatusCode != 503 {
		t.Errorf("DeliveryError %+v", de)
	}
	if h.stats().requests != 5 {
		t.Errorf("requests = %d, want 5", h.stats().requests)
	}
	// the runtime's part, as internal/delivery does it
	st.Failed(err)
	snap := reg.Snapshot().Outputs["splunk"]
	if snap.Status != "inactive" || snap.LastResponseCode != 503 || snap.Delivered != 0 || snap.Retries != 4 {
		t.Errorf("status %+v", snap)
	}
}

func TestClassifiedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rep       reply
		requests  int
		delivered int
		permanent bool
		all       bool
		paused    bool
		reason    string
	}{
		{"invalid token pauses", answer(403, `{"text":"Invalid token","code":4}`), 1, 0, false, false, true, `check "token"`},
		{"token disabled pauses", answer(403, `{"text":"Token disabled","code":1}`), 1, 0, false, false, true, "disabled"},
		{"incorrect index pauses", answer(400, `{"text":"Incorrect index","code":7,"invalid-event-number":1}`), 1, 0, false, false, true, `"index"`},
		{"401 without code pauses", answer(401, `Unauthorized`), 1, 0, false, false, true, `"token"`},
		{"400 without number rejects all", answer(400, `{"text":"Invalid data format","code":6}`), 1, 0, true, true, false, "code 6"},
		{"plain 400 rejects all", answer(400, `bad`), 1, 0, true, true, false, "400"},
		{"partial", answer(400, `{"text":"Invalid data format","code":6,"invalid-event-number":3}`), 1, 3, true, false, false, "event 3"},
		{"blank event", answer(400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`), 1, 0, true, false, false, "event 0"},
		{"404 pauses", answer(404, `not found`), 1, 0, false, false, true, `"url"`},
		{"408 retried", answer(408, `{"text":"Request timeout"}`), 5, 0, false, false, false, "408"},
		{"queues full retried", answer(503, `{"text":"HEC is unhealthy, queues are full","code":18}`), 5, 0, false, false, false, "code 18"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hec{decide: func(int, []hecObject) reply { return tc.rep }}
			out, _ := start(t, h, setup{})
			de := deliveryError(t, out.Write(context.Background(), events(6)))
			if h.stats().requests != tc.requests {
				t.Errorf("requests = %d, want %d", h.stats().requests, tc.requests)
			}
			if de.Delivered != tc.delivered || de.Permanent != tc.permanent || de.PermanentAll != tc.all || de.Paused != tc.paused {
				t.Errorf("got %+v", de)
			}
			if !strings.Contains(de.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", de.Error(), tc.reason)
			}
			if strings.Contains(de.Error(), token) || strings.Contains(de.Response, token) {
				t.Error("error leaks the token")
			}
		})
	}
}

func TestPartialAcrossRequests(t *testing.T) {
	// three requests; the second refuses its event 1
	h := &hec{decide: func(n int, _ []hecObject) reply {
		if n == 1 {
			return answer(400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`)
		}
		return nil
	}}
	out, _ := start(t, h, setup{limit: 1100})
	evs := events(9)
	err := out.Write(context.Background(), evs)
	de := deliveryError(t, err)
	if h.stats().requests != 2 {
		t.Fatalf("requests = %d, want 2", h.stats().requests)
	}
	first := len(h.ids())
	if first == 0 || first >= 8 {
		t.Fatalf("first request carried %d events", first)
	}
	if de.Delivered != first+1 || !de.Permanent || de.PermanentAll {
		t.Errorf("got %+v, want Delivered %d permanent", de, first+1)
	}
}

func Test413SplitsInHalves(t *testing.T) {
	// Splunk takes at most 3 events per request here.
	h := &hec{decide: func(_ int, objs []hecObject) reply {
		if len(objs) > 3 {
			return answer(413, `{"text":"Content too large"}`)
		}
		return nil
	}}
	out, _ := start(t, h, setup{})
	evs := events(10)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if got := h.ids(); !reflect.DeepEqual(got, idsOf(evs)) {
		t.Errorf("delivered %v", got)
	}
	// 10 → 5+5 → (2+3)+(2+3): 3 refused + 4 accepted
	if h.stats().requests != 7 {
		t.Errorf("requests = %d, want 7", h.stats().requests)
	}
}

func Test413SingleEventPermanent(t *testing.T) {
	h := &hec{decide: func(_ int, objs []hecObject) reply {
		for _, o := range objs {
			if strings.Contains(string(o.Event), `"req-002"`) {
				return answer(413, `{"text":"Content too large"}`)
			}
		}
		return nil
	}}
	out, _ := start(t, h, setup{})
	de := deliveryError(t, out.Write(context.Background(), events(4)))
	if de.Delivered != 2 || !de.Permanent || de.PermanentAll || de.StatusCode != 413 {
		t.Errorf("got %+v", de)
	}
	if got := h.ids(); !reflect.DeepEqual(got, []string{"req-000", "req-001"}) {
		t.Errorf("delivered %v", got)
	}
}

func TestAckFlow(t *testing.T) {
	h := &hec{acks: map[int64]int{}}
	out, _ := start(t, h, setup{cfg: func(c *splunkhec.Config) { c.Ack = true }, limit: 1100})
	evs := events(6)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if h.stats().requests < 2 {
		t.Fatalf("want several requests, got %d", h.stats().requests)
	}
	// each request polled until its third answer
	if h.stats().ackPolls != 3*h.stats().requests {
		t.Errorf("ack polls = %d, want %d", h.stats().ackPolls, 3*h.stats().requests)
	}
	if h.stats().ackBodies[0] != `{"acks":[0]}` || h.stats().ackBodies[len(h.stats().ackBodies)-1] != fmt.Sprintf(`{"acks":[%d]}`, h.stats().requests-1) {
		t.Errorf("ack bodies %v", h.stats().ackBodies)
	}
	ch := h.stats().headers[0].Get("X-Splunk-Request-Channel")
	if len(ch) != 36 || strings.Count(ch, "-") != 4 {
		t.Errorf("channel %q is not a GUID", ch)
	}
	for _, hd := range h.stats().headers {
		if hd.Get("X-Splunk-Request-Channel") != ch {
			t.Error("channel changed between requests")
		}
	}
}

func TestAckTimeout(t *testing.T) {
	h := &hec{acks: map[int64]int{}}
	h.decide = func(int, []hecObject) reply {
		return func(w http.ResponseWriter, _ []hecObject) bool {
			h.acks[7] = 1 << 30 // never acknowledged
			_, _ = io.WriteString(w, `{"text":"Success","code":0,"ackId":7}`)
			return true
		}
	}
	out, _ := start(t, h, setup{cfg: func(c *splunkhec.Config) {
		c.Ack = true
		c.Channel = "11111111-2222-3333-4444-555555555555"
		c.AckTimeout = auditrelay.Duration(30 * time.Millisecond)
	}})
	start := time.Now()
	de := deliveryError(t, out.Write(context.Background(), events(2)))
	if de.Permanent || de.Paused || de.Delivered != 0 || !strings.Contains(de.Error(), "ack_timeout") {
		t.Errorf("got %+v", de)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ack wait took %v", d)
	}
	if got := h.stats().headers[0].Get("X-Splunk-Request-Channel"); got != "11111111-2222-3333-4444-555555555555" {
		t.Errorf("channel %q", got)
	}
}

func TestAckDisabledPauses(t *testing.T) {
	h := &hec{}
	h.decide = func(int, []hecObject) reply { return answer(200, `{"text":"Success","code":0,"ackId":0}`) }
	srvMux := http.NewServeMux()
	srvMux.Handle(splunkhec.EventPath, h)
	srvMux.HandleFunc(splunkhec.AckPath, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"text":"ACK is disabled","code":14}`)
	})
	h.t = t
	srv := httptest.NewServer(srvMux)
	defer srv.Close()
	cfg := splunkhec.DefaultConfig()
	cfg.URL, cfg.AllowHTTP, cfg.Token, cfg.Ack = srv.URL+"/", true, auditrelay.NewSecret(token), true
	cfg.AckInterval = auditrelay.Duration(time.Millisecond)
	out, err := splunkhec.New(cfg, auditrelay.OutputSettings{Name: "s", Format: jsonformat.New(), FormatName: "json",
		Retry: auditrelay.RetryPolicy{WaitMin: auditrelay.Duration(time.Millisecond), WaitMax: auditrelay.Duration(time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	de := deliveryError(t, out.Write(context.Background(), events(1)))
	if !de.Paused || !strings.Contains(de.Error(), "ack = false") {
		t.Errorf("got %+v", de)
	}
}

func TestSecretsAbsentFromLogs(t *testing.T) {
	var logs bytes.Buffer
	busy := answer(503, `{"text":"Server is busy","code":9}`)
	h := &hec{script: []reply{busy, answer(403, `{"text":"Invalid token","code":4}`)}}
	out, _ := start(t, h, setup{logs: &logs})
	err := out.Write(context.Background(), events(2))
	if err == nil {
		t.Fatal("want an error")
	}
	if logs.Len() == 0 {
		t.Fatal("no logs captured")
	}
	for _, s := range []string{logs.String(), err.Error(), fmt.Sprintf("%+v", err)} {
		if strings.Contains(s, token) {
			t.Errorf("secret leaked: %s", s)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := splunkhec.DefaultConfig()
	ok.URL = "https://splunk.example.com:8088"
	ok.Token = auditrelay.NewSecret("t")
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := splunkhec.DefaultConfig()
	bad.URL = "http://splunk:8088"
	bad.Channel = "not-a-guid"
	bad.Ack = true
	bad.AckTimeout = 0
	err := bad.Validate()
	for _, want := range []string{`"token" or "token_file"`, "allow_http", `"channel"`, `"ack_timeout"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	withFile := ok
	withFile.Token = auditrelay.Secret{}
	withFile.TokenFile = "/run/secrets/hec"
	if err := withFile.Validate(); err != nil {
		t.Errorf("token_file alone: %v", err)
	}
}

// section is how the config loader sees [outputs.NAME]: the common keys
// plus the output's Config (embedded, so its keys sit at the same level).
type section struct {
	splunkhec.Config
	Type           string                 `toml:"type"`
	Format         string                 `toml:"format"`
	Inputs         []string               `toml:"inputs"`
	BatchMaxEvents int                    `toml:"batch_max_events"`
	BatchMaxBytes  auditrelay.Size        `toml:"batch_max_bytes"`
	FlushInterval  auditrelay.Duration    `toml:"flush_interval"`
	Retry          auditrelay.RetryPolicy `toml:"retry"`
}

func TestSampleTOML(t *testing.T) {
	var doc struct {
		Outputs map[string]toml.Primitive `toml:"outputs"`
	}
	md, err := toml.DecodeFile("sample.toml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Outputs) == 0 {
		t.Fatal("sample has no [outputs.NAME]")
	}
	for name, prim := range doc.Outputs {
		sec := section{Config: splunkhec.DefaultConfig()}
		if err := md.PrimitiveDecode(prim, &sec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("%s: unknown keys %v", name, u)
		}
		if sec.Type != "splunkhec" {
			t.Errorf("%s: type %q", name, sec.Type)
		}
		if err := sec.Config.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if sec.Config.URL == "" || sec.Config.Timeout.D() != 10*time.Second {
			t.Errorf("%s: embedded keys not decoded: %+v", name, sec.Config.Config)
		}
	}
}
