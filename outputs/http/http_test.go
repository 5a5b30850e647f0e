package http_test

import (
	"bytes"
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
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/status"
	httpoutput "github.com/auditrelay/auditrelay/outputs/http"
)

var _ = golden.Update // accept go test ./... -update

const secret = "Bearer eyJ-SECRET-abc.def"

// lineFormat stands in for formats/cef.
type lineFormat struct{}

func (lineFormat) Append(dst []byte, e *auditrelay.Event) []byte {
	return append(append(dst, "CEF:0|Kong|Kong Gateway|1.0|create|POST /x|3|externalId="...), e.ID...)
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func events(n int) []auditrelay.Event {
	out := make([]auditrelay.Event, n)
	for i := range out {
		out[i] = auditrelay.Event{
			ID:       fmt.Sprintf("req-%03d", i),
			Time:     t0.Add(time.Duration(i) * time.Second),
			Source:   auditrelay.Source{Kind: "openfaas", Input: "openfaas"},
			Actor:    auditrelay.Actor{Name: "alice", Type: auditrelay.ActorUser},
			Action:   auditrelay.Action{Name: "Function:Create", Verb: auditrelay.VerbCreate},
			Request:  auditrelay.Request{Method: "POST", Path: "/system/functions"},
			Outcome:  auditrelay.Outcome{Result: auditrelay.ResultSuccess, StatusCode: 202},
			Severity: 3,
		}
	}
	return out
}

// collector answers script[n] for request n (nil or past the end: 200).
type collector struct {
	mu      sync.Mutex
	script  []func(w http.ResponseWriter)
	bodies  [][]byte
	headers []http.Header
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	n := len(c.bodies)
	c.bodies = append(c.bodies, body)
	c.headers = append(c.headers, r.Header.Clone())
	var f func(http.ResponseWriter)
	if n < len(c.script) {
		f = c.script[n]
	}
	c.mu.Unlock()
	if f != nil {
		f(w)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (c *collector) snapshot() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.bodies...)
}

func (c *collector) firstHeader() http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.headers[0]
}

func answer(code int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

type opts struct {
	cfg     func(*httpoutput.Config)
	cef     bool
	limit   int
	logs    *bytes.Buffer
	observe func(auditrelay.Attempt)
}

func start(t testing.TB, c *collector, o opts) *httpoutput.Output {
	t.Helper()
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	cfg := httpoutput.DefaultConfig()
	cfg.URL = srv.URL + "/ingest?key=QUERYSECRET"
	cfg.AllowHTTP = true
	cfg.Authorization = auditrelay.NewSecret(secret)
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	var f auditrelay.Format = jsonformat.New()
	name := "json"
	if o.cef {
		f, name = lineFormat{}, "cef"
	}
	logger := slog.New(slog.DiscardHandler)
	if o.logs != nil {
		logger = slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	out, err := httpoutput.New(cfg, auditrelay.OutputSettings{
		Name: "collector", Format: f, FormatName: name, Logger: logger,
		Retry:           auditrelay.RetryPolicy{MaxRetries: 4, WaitMin: auditrelay.Duration(time.Millisecond), WaitMax: auditrelay.Duration(20 * time.Millisecond)},
		MaxRequestBytes: o.limit, Observe: o.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return out
}

func ids(t *testing.T, bodies [][]byte, framing string) []string {
	t.Helper()
	var out []string
	for _, b := range bodies {
		switch framing {
		case "array":
			var evs []auditrelay.Event
			if err := json.Unmarshal(b, &evs); err != nil {
				t.Fatalf("body is not a JSON array: %v\n%s", err, b)
			}
			for _, e := range evs {
				out = append(out, e.ID)
			}
		case "ndjson":
			for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				var e auditrelay.Event
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				out = append(out, e.ID)
			}
		case "cef":
			for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				_, id, _ := strings.Cut(line, "externalId=")
				out = append(out, id)
			}
		}
	}
	return out
}

func idsOf(evs []auditrelay.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestFramings(t *testing.T) {
	for _, tc := range []struct {
		name, framing, wantType string
		cef                     bool
		contentType             string
	}{
		{"array", "array", "application/json", false, ""},
		{"default is array", "", "application/json", false, ""},
		{"ndjson", "ndjson", "application/x-ndjson", false, ""},
		{"cef", "", "text/plain; charset=utf-8", true, ""},
		{"cef ignores framing", "array", "text/plain; charset=utf-8", true, ""},
		{"content_type set", "ndjson", "application/vnd.custom", false, "application/vnd.custom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{}
			out := start(t, c, opts{cef: tc.cef, cfg: func(cfg *httpoutput.Config) {
				cfg.Framing, cfg.ContentType = tc.framing, tc.contentType
				cfg.Headers = map[string]auditrelay.Secret{"X-Source": auditrelay.NewSecret("auditrelay"), "dd-api-key": auditrelay.NewSecret("k")}
			}})
			evs := events(5)
			if err := out.Write(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			framing := tc.framing
			if framing == "" {
				framing = "array"
			}
			if tc.cef {
				framing = "cef"
			}
			if got := ids(t, c.snapshot(), framing); !reflect.DeepEqual(got, idsOf(evs)) {
				t.Errorf("delivered %v", got)
			}
			h := c.firstHeader()
			if h.Get("Content-Type") != tc.wantType {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tc.wantType)
			}
			if h.Get("Authorization") != secret {
				t.Errorf("Authorization %q", h.Get("Authorization"))
			}
			if h.Get("X-Source") != "auditrelay" || h.Get("Dd-Api-Key") != "k" {
				t.Errorf("extra headers missing: %v", h)
			}
		})
	}
}

func TestArrayBodyExact(t *testing.T) {
	c := &collector{}
	out := start(t, c, opts{})
	evs := events(2)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	f := jsonformat.New()
	want := "[" + string(f.Append(nil, &evs[0])) + "," + string(f.Append(nil, &evs[1])) + "]"
	if string(c.snapshot()[0]) != want {
		t.Errorf("body\n%s\nwant\n%s", c.snapshot()[0], want)
	}
}

func TestSplitAndPartialDelivery(t *testing.T) {
	c := &collector{script: []func(http.ResponseWriter){nil, answer(422, "bad")}}
	out := start(t, c, opts{limit: 900})
	evs := events(10)
	err := out.Write(context.Background(), evs)
	var de *auditrelay.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err %v", err)
	}
	if len(c.snapshot()) != 2 {
		t.Fatalf("requests %d", len(c.snapshot()))
	}
	first := len(ids(t, c.snapshot()[:1], "array"))
	if first == 0 || first >= 10 || len(c.snapshot()[0]) > 900 {
		t.Fatalf("first request: %d events, %d bytes", first, len(c.snapshot()[0]))
	}
	if de.Delivered != first || !de.Permanent || !de.PermanentAll || de.StatusCode != 422 || de.Response != "bad" {
		t.Errorf("got %+v", de)
	}
}

func TestSplitBodiesWithinLimit(t *testing.T) {
	for _, framing := range []string{"array", "ndjson"} {
		c := &collector{}
		out := start(t, c, opts{limit: 1000, cfg: func(cfg *httpoutput.Config) { cfg.Framing = framing }})
		evs := events(30)
		if err := out.Write(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
		for i, b := range c.snapshot() {
			if len(b) > 1000 {
				t.Errorf("%s: request %d is %d bytes", framing, i, len(b))
			}
		}
		if got := ids(t, c.snapshot(), framing); !reflect.DeepEqual(got, idsOf(evs)) {
			t.Errorf("%s: delivered %v", framing, got)
		}
	}
}

func TestAnswers(t *testing.T) {
	long := strings.Repeat("x", 5000)
	busy := answer(503, "busy")
	for _, tc := range []struct {
		name     string
		script   []func(http.ResponseWriter)
		requests int
		err      bool
		perm     bool
		paused   bool
		code     int
	}{
		{"ok", nil, 1, false, false, false, 0},
		{"503x4 then ok", []func(http.ResponseWriter){busy, busy, busy, busy}, 5, false, false, false, 0},
		{"429 and reset then ok", []func(http.ResponseWriter){answer(429, ""), reset, answer(500, "")}, 4, false, false, false, 0},
		{"503x5 retryable", []func(http.ResponseWriter){busy, busy, busy, busy, busy}, 5, true, false, false, 503},
		{"resets retryable", []func(http.ResponseWriter){reset, reset, reset, reset, reset}, 5, true, false, false, 0},
		{"400 permanent", []func(http.ResponseWriter){answer(400, long)}, 1, true, true, false, 400},
		{"401 pauses", []func(http.ResponseWriter){answer(401, "who")}, 1, true, false, true, 401},
		{"403 pauses", []func(http.ResponseWriter){answer(403, "no")}, 1, true, false, true, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{script: tc.script}
			reg := status.New(nil)
			st := reg.Output("collector")
			out := start(t, c, opts{observe: st.Observe})
			err := out.Write(context.Background(), events(3))
			if n := len(c.snapshot()); n != tc.requests {
				t.Errorf("requests %d, want %d", n, tc.requests)
			}
			if (err != nil) != tc.err {
				t.Fatalf("err %v", err)
			}
			if st.Snapshot().Retries != int64(tc.requests-1) {
				t.Errorf("retries %d", st.Snapshot().Retries)
			}
			if err == nil {
				return
			}
			var de *auditrelay.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("%T", err)
			}
			if de.Permanent != tc.perm || de.PermanentAll != tc.perm || de.Paused != tc.paused || de.StatusCode != tc.code || de.Delivered != 0 {
				t.Errorf("got %+v", de)
			}
			if tc.code == 400 && (len(de.Response) > 1100 || !strings.HasPrefix(de.Response, "xxxx")) {
				t.Errorf("Response not trimmed to ~1KiB: %d bytes", len(de.Response))
			}
			if tc.code == 503 {
				st.Failed(err)
				if s := st.Snapshot(); s.Status != "inactive" || s.LastResponseCode != 503 || s.Delivered != 0 {
					t.Errorf("status %+v", s)
				}
			}
		})
	}
}

func TestSecretsAbsent(t *testing.T) {
	var logs bytes.Buffer
	c := &collector{script: []func(http.ResponseWriter){answer(503, ""), reset, answer(400, "refused")}}
	out := start(t, c, opts{logs: &logs})
	err := out.Write(context.Background(), events(2))
	if err == nil || logs.Len() == 0 {
		t.Fatalf("err %v, %d bytes of logs", err, logs.Len())
	}
	for _, s := range []string{logs.String(), err.Error(), fmt.Sprintf("%#v", err)} {
		for _, leak := range []string{"SECRET", "QUERYSECRET", "key="} {
			if strings.Contains(s, leak) {
				t.Errorf("%q leaked into %s", leak, s)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	cfg := httpoutput.DefaultConfig()
	cfg.URL = "http://collector"
	cfg.Framing = "xml"
	cfg.Headers = map[string]auditrelay.Secret{"Authorization": auditrelay.NewSecret("x"), "Bad Name": auditrelay.NewSecret("y"), "X-Ok": auditrelay.NewSecret("a\nb")}
	err := cfg.Validate()
	for _, want := range []string{"allow_http", `"framing"`, `"Authorization" is set by the output`, `"Bad Name"`, "line break"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	ok := httpoutput.DefaultConfig()
	ok.URL = "https://collector.example.com/x"
	if err := ok.Validate(); err != nil {
		t.Errorf("no authorization is allowed: %v", err)
	}
}

type section struct {
	httpoutput.Config
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
	for name, prim := range doc.Outputs {
		sec := section{Config: httpoutput.DefaultConfig()}
		if err := md.PrimitiveDecode(prim, &sec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("unknown keys %v", u)
		}
		if sec.Type != "http" || sec.Config.Headers["X-Source"].Reveal() != "auditrelay" || !sec.Config.Authorization.IsSet() {
			t.Errorf("%s: %+v", name, sec)
		}
		if err := sec.Config.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(doc.Outputs) != 1 {
		t.Errorf("%d outputs in sample", len(doc.Outputs))
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, framing := range []string{"array", "ndjson"} {
		b.Run(framing, func(b *testing.B) {
			var wire int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := io.Copy(io.Discard, r.Body)
				wire += n
			}))
			defer srv.Close()
			cfg := httpoutput.DefaultConfig()
			cfg.URL, cfg.AllowHTTP, cfg.Framing = srv.URL, true, framing
			cfg.Authorization = auditrelay.NewSecret(secret)
			out, err := httpoutput.New(cfg, auditrelay.OutputSettings{Name: "b", Format: jsonformat.New(), FormatName: "json", MaxRequestBytes: 1_000_000})
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			evs := events(1000)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				if err := out.Write(context.Background(), evs); err != nil {
					b.Fatal(err)
				}
				n += len(evs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(wire)/float64(n), "wire-bytes/event")
		})
	}
}
