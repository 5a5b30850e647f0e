package ingest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/openfaas"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/metrics"
)

var _ = golden.Update // accept go test ./... -update

// memJournal is an in-memory Journal that dedups by id like the real one.
type memJournal struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []auditrelay.Event
	err    error
}

func (j *memJournal) Append(_ context.Context, events []auditrelay.Event) (int, int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, 0, j.err
	}
	acc, dup := 0, 0
	for _, e := range events {
		if j.seen[e.ID] {
			dup++
			continue
		}
		j.seen[e.ID] = true
		j.events = append(j.events, e)
		acc++
	}
	return acc, dup, nil
}

type kept struct {
	input, reason string
	line          int
	body          string
}

type memKeeper struct {
	mu   sync.Mutex
	kept []kept
}

func (k *memKeeper) Keep(input string, body []byte, reason string, line int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kept = append(k.kept, kept{input, reason, line, string(body)})
	return nil
}

// linesAdapter is a line-batched adapter: lines containing "bad" are rejected.
type linesAdapter struct{}

func (linesAdapter) Parse(body []byte, m auditrelay.Meta) (auditrelay.Parsed, error) {
	var p auditrelay.Parsed
	for i, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if strings.Contains(l, "bad") {
			p.Rejected = append(p.Rejected, auditrelay.Rejection{Line: i + 1, Entry: []byte(l), Reason: "no pattern matches"})
			continue
		}
		p.Events = append(p.Events, auditrelay.Event{ID: auditrelay.ContentID("lines", []byte(l)), Source: auditrelay.Source{Input: m.Input}})
	}
	return p, nil
}

const (
	secret = "s3cr3t-hmac-key"
	token  = "Bearer t0k3n-value"
	seed   = `[{"actor":{"sub":"fed:system:serviceaccount:openfaas:cron-connector","issuer":"","fed_issuer":"https://kubernetes.default.svc.cluster.local"},"path":"/system/namespaces","method":"GET","actions":["Namespace:List"],"response_code":200,"time":"2023-12-04T17:09:28.710118072Z"}]`
)

type fixture struct {
	srv     *Server
	url     string
	journal *memJournal
	keeper  *memKeeper
	logs    *bytes.Buffer
}

func newFixture(t *testing.T, maxBody int64) *fixture {
	t.Helper()
	signed, _ := openfaas.New(openfaas.Config{Secret: auditrelay.NewSecret(secret)})
	open, _ := openfaas.New(openfaas.DefaultConfig())
	f := &fixture{journal: &memJournal{seen: map[string]bool{}}, keeper: &memKeeper{}, logs: &bytes.Buffer{}}
	f.srv = New(Options{
		Inputs: []*Input{
			{Name: "openfaas", Adapter: signed},
			{Name: "tokened", Adapter: open, Authorization: auditrelay.NewSecret(token)},
			{Name: "unsigned", Adapter: open, AllowUnsigned: true},
			{Name: "nocred", Adapter: open},
			{Name: "konnect", Adapter: linesAdapter{}, AllowUnsigned: true, Refusal: auditrelay.RefuseTooManyRequests},
			{Name: "konghooks", Adapter: open, AllowUnsigned: true, Refusal: auditrelay.RefuseHangUp},
		},
		Journal:      f.journal,
		Rejected:     f.keeper,
		MaxBodyBytes: maxBody,
		Metrics:      metrics.New(),
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:          time.Now,
	})
	mux := http.NewServeMux()
	mux.Handle("/ingest/", f.srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type reply struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) post(t *testing.T, input, body string, hdr map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.url+"/ingest/"+input, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("answer is not JSON: %q", b)
	}
	return r
}

func TestAcceptSignedAndDedup(t *testing.T) {
	f := newFixture(t, 1<<20)
	r := f.post(t, "openfaas", seed, map[string]string{openfaas.SignatureHeader: sign(seed)})
	if r.code != 200 || r.body["accepted"] != 1.0 || r.body["duplicates"] != 0.0 || r.body["ignored"] != 0.0 || r.body["rejected"] != 0.0 {
		t.Fatalf("first post: %d %s", r.code, r.raw)
	}
	r = f.post(t, "openfaas", seed, map[string]string{openfaas.SignatureHeader: sign(seed)})
	if r.code != 200 || r.body["accepted"] != 0.0 || r.body["duplicates"] != 1.0 {
		t.Fatalf("resent post: %d %s", r.code, r.raw)
	}
	if len(f.journal.events) != 1 || f.journal.events[0].Source.Input != "openfaas" {
		t.Fatalf("journal holds %+v", f.journal.events)
	}
}

func TestRefusedRequestsStoreNothing(t *testing.T) {
	f := newFixture(t, 1024)
	for _, tc := range []struct {
		name, input, body string
		hdr               map[string]string
		code              int
		errHas            string
	}{
		{"unknown input", "nope", seed, nil, 404, "no input named"},
		{"missing signature", "openfaas", seed, nil, 401, "not signed"},
		{"bad signature", "openfaas", seed, map[string]string{openfaas.SignatureHeader: sign(seed + " ")}, 401, "does not match"},
		{"wrong authorization", "tokened", seed, map[string]string{"Authorization": "Bearer wrong"}, 401, "does not match"},
		{"missing authorization", "tokened", seed, nil, 401, "missing Authorization"},
		{"no credential configured", "nocred", seed, nil, 401, "no credential"},
		{"malformed", "unsigned", `[{"path":`, nil, 400, "nothing stored"},
		{"oversized", "unsigned", "[" + strings.Repeat(" ", 2000) + "]", nil, 413, "max_body_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, tc.input, tc.body, tc.hdr)
			msg, _ := r.body["error"].(string)
			if r.code != tc.code || !strings.Contains(msg, tc.errHas) {
				t.Fatalf("got %d %s, want %d with %q", r.code, r.raw, tc.code, tc.errHas)
			}
			for _, s := range []string{secret, "t0k3n-value"} {
				if strings.Contains(r.raw, s) {
					t.Fatalf("answer leaks a secret: %s", r.raw)
				}
			}
		})
	}
	if len(f.journal.events) != 0 {
		t.Fatalf("refused requests stored %d events", len(f.journal.events))
	}
	if len(f.keeper.kept) != 1 || f.keeper.kept[0].body != `[{"path":` {
		t.Fatalf("want only the malformed body kept (authenticated sender), got %+v", f.keeper.kept)
	}
}

func TestOversizedChunkedBody(t *testing.T) {
	f := newFixture(t, 1024)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("[" + strings.Repeat(" ", 4096) + "]"))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, f.url+"/ingest/unsigned", pr) // no Content-Length
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("chunked oversized body: %d", resp.StatusCode)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, 1024)
	resp, err := http.Get(f.url + "/ingest/unsigned")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestLineBatchedKeepsGoodLines(t *testing.T) {
	f := newFixture(t, 1<<20)
	r := f.post(t, "konnect", "one\nbad two\nthree\n", nil)
	if r.code != 200 || r.body["accepted"] != 2.0 || r.body["rejected"] != 1.0 {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	if len(f.keeper.kept) != 1 || f.keeper.kept[0].line != 2 || f.keeper.kept[0].body != "bad two" {
		t.Fatalf("kept %+v", f.keeper.kept)
	}
}

func TestRefusalsWhenStorageFails(t *testing.T) {
	f := newFixture(t, 1<<20)
	f.journal.err = errors.New("spool is full")
	if r := f.post(t, "unsigned", seed, nil); r.code != 503 || r.header.Get("Retry-After") != "5" {
		t.Fatalf("openfaas-like input: %d Retry-After=%q", r.code, r.header.Get("Retry-After"))
	}
	if r := f.post(t, "konnect", "one\n", nil); r.code != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("konnect-like input: %d", r.code)
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+"/ingest/konghooks", strings.NewReader(seed))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("konghooks-like input got an HTTP answer %d; want the connection closed", resp.StatusCode)
	}
}

func TestDrainRefuses(t *testing.T) {
	f := newFixture(t, 1<<20)
	f.srv.Drain()
	if r := f.post(t, "unsigned", seed, nil); r.code != 503 || !strings.Contains(r.raw, "shutting down") {
		t.Fatalf("while draining: %d %s", r.code, r.raw)
	}
	if len(f.journal.events) != 0 {
		t.Fatal("stored while draining")
	}
}

func BenchmarkIngestSigned(b *testing.B) {
	var body strings.Builder
	body.WriteByte('[')
	for i := range 100 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(strings.Replace(seed[1:len(seed)-1], "/system/namespaces", "/system/namespaces/"+strings.Repeat("x", i%7)+string(rune('a'+i%26)), 1))
	}
	body.WriteByte(']')
	signed, _ := openfaas.New(openfaas.Config{Secret: auditrelay.NewSecret(secret)})
	srv := New(Options{
		Inputs:       []*Input{{Name: "openfaas", Adapter: signed}},
		Journal:      discard{},
		MaxBodyBytes: 10 << 20,
		Metrics:      metrics.New(),
		Logger:       slog.New(slog.DiscardHandler),
		Now:          time.Now,
	})
	payload, sig := body.String(), sign(body.String())
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/ingest/openfaas", strings.NewReader(payload))
		req.Header.Set(openfaas.SignatureHeader, sig)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

type discard struct{}

func (discard) Append(_ context.Context, e []auditrelay.Event) (int, int, error) {
	return len(e), 0, nil
}

// blockingJournal holds every Append until release is closed.
type blockingJournal struct {
	entered chan struct{}
	release chan struct{}
}

func (j *blockingJournal) Append(_ context.Context, e []auditrelay.Event) (int, int, error) {
	j.entered <- struct{}{}
	<-j.release
	return len(e), 0, nil
}

// TestConcurrencyCapRefusesPastTheLimit: with one slot taken, the next
// request waits SlotWait and is refused the way its sender retries.
func TestConcurrencyCapRefusesPastTheLimit(t *testing.T) {
	open, _ := openfaas.New(openfaas.DefaultConfig())
	j := &blockingJournal{entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := New(Options{
		Inputs:       []*Input{{Name: "unsigned", Adapter: open, AllowUnsigned: true}},
		Journal:      j,
		MaxBodyBytes: 1 << 20, MaxConcurrent: 1, SlotWait: 50 * time.Millisecond,
		Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	first := make(chan int, 1)
	go func() {
		resp, err := http.Post(ts.URL+"/ingest/unsigned", "application/json", strings.NewReader(seed))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-j.entered // the first request holds the only slot
	start := time.Now()
	resp, err := http.Post(ts.URL+"/ingest/unsigned", "application/json", strings.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("second request: %d after %v; want 503 with Retry-After after waiting for a slot", resp.StatusCode, time.Since(start))
	}
	close(j.release)
	if code := <-first; code != 200 {
		t.Fatalf("first request: %d", code)
	}
}
