package httpout_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/httpout"
)

var _ = golden.Update // accept go test ./... -update

// sink answers the first len(script) requests from script ("503", "429",
// "reset", "400", …) and 200 afterwards, recording arrival times.
type sink struct {
	mu      sync.Mutex
	script  []string
	times   []time.Time
	bodies  [][]byte
	headers []http.Header
	retry   string // Retry-After to send with 429/503
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.bodies = append(s.bodies, body)
	s.headers = append(s.headers, r.Header.Clone())
	step := "200"
	if n < len(s.script) {
		step = s.script[n]
	}
	retry := s.retry
	s.mu.Unlock()
	switch step {
	case "reset":
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case "429", "503":
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
	}
	code := 200
	switch step {
	case "400":
		code = 400
	case "401":
		code = 401
	case "403":
		code = 403
	case "408":
		code = 408
	case "429":
		code = 429
	case "500":
		code = 500
	case "503":
		code = 503
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, `{"step":"`+step+`"}`)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

func (s *sink) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.times); i++ {
		out = append(out, s.times[i].Sub(s.times[i-1]))
	}
	return out
}

func policy(retries int, lo, hi time.Duration) auditrelay.RetryPolicy {
	return auditrelay.RetryPolicy{MaxRetries: retries, WaitMin: auditrelay.Duration(lo), WaitMax: auditrelay.Duration(hi)}
}

type recorder struct {
	mu sync.Mutex
	a  []auditrelay.Attempt
}

func (r *recorder) observe(a auditrelay.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.a = append(r.a, a)
}

func (r *recorder) attempts() []auditrelay.Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]auditrelay.Attempt(nil), r.a...)
}

func newClient(t *testing.T, url string, p auditrelay.RetryPolicy, o httpout.Options) *httpout.Client {
	t.Helper()
	cfg := httpout.DefaultConfig()
	cfg.URL = url
	cfg.AllowHTTP = true
	cfg.Timeout = auditrelay.Duration(2 * time.Second)
	o.Retry = p
	c, err := httpout.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryScripts(t *testing.T) {
	cases := []struct {
		name     string
		script   []string
		wantCode int
		wantReqs int
		wantErr  bool
	}{
		{"ok", nil, 200, 1, false},
		{"503 then ok", []string{"503", "503"}, 200, 3, false},
		{"429 then ok", []string{"429"}, 200, 2, false},
		{"500 then ok", []string{"500"}, 200, 2, false},
		{"reset then ok", []string{"reset", "reset"}, 200, 3, false},
		{"503x4 then ok on 5th", []string{"503", "503", "503", "503"}, 200, 5, false},
		{"503x5 gives up", []string{"503", "503", "503", "503", "503"}, 503, 5, false},
		{"resets give up", []string{"reset", "reset", "reset", "reset", "reset"}, 0, 5, true},
		{"mixed give up", []string{"reset", "429", "500", "503", "503"}, 503, 5, false},
		{"400 not retried", []string{"400"}, 400, 1, false},
		{"401 not retried", []string{"401"}, 401, 1, false},
		{"403 not retried", []string{"403"}, 403, 1, false},
		{"408 not retried by default", []string{"408"}, 408, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{script: tc.script}
			srv := httptest.NewServer(s)
			defer srv.Close()
			rec := &recorder{}
			c := newClient(t, srv.URL, policy(4, time.Millisecond, 20*time.Millisecond), httpout.Options{Observe: rec.observe})
			resp, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL + "/x", Body: []byte("payload")})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if got := s.count(); got != tc.wantReqs {
				t.Errorf("server saw %d requests, want %d", got, tc.wantReqs)
			}
			if resp.Attempts != tc.wantReqs {
				t.Errorf("Attempts = %d, want %d", resp.Attempts, tc.wantReqs)
			}
			att := rec.attempts()
			if len(att) != tc.wantReqs {
				t.Fatalf("observed %d attempts, want %d", len(att), tc.wantReqs)
			}
			for i, a := range att {
				if a.Retry != (i > 0) {
					t.Errorf("attempt %d Retry = %v", i, a.Retry)
				}
				if a.At.IsZero() {
					t.Errorf("attempt %d has no time", i)
				}
				step := "200"
				if i < len(tc.script) {
					step = tc.script[i]
				}
				if step == "reset" && (a.StatusCode != 0 || a.Err == nil) {
					t.Errorf("attempt %d on reset: code %d err %v", i, a.StatusCode, a.Err)
				}
				if step == "200" && (a.StatusCode != 200 || a.Err != nil) {
					t.Errorf("attempt %d on 200: code %d err %v", i, a.StatusCode, a.Err)
				}
			}
			// every retry resent the same body
			s.mu.Lock()
			for i, b := range s.bodies {
				if string(b) != "payload" && i < len(s.bodies) {
					t.Errorf("request %d body %q", i, b)
				}
			}
			s.mu.Unlock()
		})
	}
}

func TestWaitsInsideBounds(t *testing.T) {
	const lo, hi = 20 * time.Millisecond, 200 * time.Millisecond
	s := &sink{script: []string{"503", "500", "reset", "429", "503"}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(t, srv.URL, policy(4, lo, hi), httpout.Options{})
	if _, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	gaps := s.gaps()
	if len(gaps) != 4 {
		t.Fatalf("gaps = %v", gaps)
	}
	for i, g := range gaps {
		if g < lo || g > hi+150*time.Millisecond {
			t.Errorf("gap %d = %v, want in [%v, %v+slack]", i, g, lo, hi)
		}
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		s := &sink{script: []string{"429"}, retry: "1"}
		srv := httptest.NewServer(s)
		defer srv.Close()
		// wait_max 1.5s lets the 1 s Retry-After through; wait_min 1ms would
		// otherwise retry almost at once.
		c := newClient(t, srv.URL, policy(4, time.Millisecond, 1500*time.Millisecond), httpout.Options{})
		if _, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		if g := s.gaps(); len(g) != 1 || g[0] < time.Second || g[0] > 1400*time.Millisecond {
			t.Errorf("gap = %v, want about 1s", g)
		}
	})
	t.Run("capped at wait_max", func(t *testing.T) {
		s := &sink{script: []string{"503", "503"}, retry: "3600"}
		srv := httptest.NewServer(s)
		defer srv.Close()
		c := newClient(t, srv.URL, policy(4, time.Millisecond, 30*time.Millisecond), httpout.Options{})
		start := time.Now()
		if _, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v, Retry-After not capped", d)
		}
		for _, g := range s.gaps() {
			if g < 30*time.Millisecond {
				t.Errorf("gap %v shorter than capped Retry-After (wait_max)", g)
			}
		}
	})
}

func TestCancelStopsRetrySleep(t *testing.T) {
	s := &sink{script: []string{"503", "503", "503", "503", "503"}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(t, srv.URL, policy(4, 10*time.Second, 30*time.Second), httpout.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, httpout.Request{Method: "POST", URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if n := s.count(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestBackoffDefaultPolicyBounds(t *testing.T) {
	p := auditrelay.DefaultRetryPolicy()
	lo, hi := p.WaitMin.D(), p.WaitMax.D()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := [][2]time.Duration{{1 * time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second},
		{4 * time.Second, 8 * time.Second}, {8 * time.Second, 16 * time.Second}}
	for n := 0; n < p.MaxRetries; n++ {
		for _, r := range []float64{0, 0.25, 0.5, 0.999999} {
			w := httpout.Backoff(lo, hi, n, nil, r, now)
			if w < lo || w > hi {
				t.Errorf("n=%d r=%v: %v outside [%v, %v]", n, r, w, lo, hi)
			}
			if w < want[n][0] || w >= want[n][1] {
				t.Errorf("n=%d r=%v: %v outside step [%v, %v)", n, r, w, want[n][0], want[n][1])
			}
		}
	}
	for n := 4; n < 100; n++ {
		if w := httpout.Backoff(lo, hi, n, nil, 0.9, now); w != hi && (w < lo || w > hi) {
			t.Errorf("n=%d: %v outside bounds", n, w)
		}
	}
	if w := httpout.Backoff(lo, hi, 70, nil, 0.5, now); w != hi {
		t.Errorf("large n: %v, want %v", w, hi)
	}
	ra := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{ra("5"), 5 * time.Second},
		{ra("0"), lo},
		{ra("3600"), hi},
		{ra(now.Add(7 * time.Second).Format(http.TimeFormat)), 7 * time.Second},
		{ra(now.Add(-time.Hour).Format(http.TimeFormat)), lo},
	} {
		if got := httpout.Backoff(lo, hi, 0, tc.h, 0.5, now); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.h.Get("Retry-After"), got, tc.want)
		}
	}
	if got := httpout.Backoff(lo, hi, 2, ra("soon"), 0, now); got != 4*time.Second {
		t.Errorf("bad Retry-After falls back to backoff: %v", got)
	}
}

func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	const secret = "s3cr3t-T0KEN-value"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &sink{script: []string{"503", "reset", "500", "429", "503"}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(t, srv.URL, policy(4, time.Millisecond, 5*time.Millisecond), httpout.Options{Logger: logger})
	url := srv.URL + "/services/collector/event?token=" + secret
	h := http.Header{"Authorization": {"Splunk " + secret}}
	resp, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: url, Header: h, Body: []byte("x")})
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("resp %d err %v", resp.StatusCode, err)
	}
	if got := s.headers[0].Get("Authorization"); got != "Splunk "+secret {
		t.Errorf("Authorization arrived as %q", got)
	}
	// a connection that never answers: the error names host and path only
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	c2 := newClient(t, deadURL, policy(1, time.Millisecond, 2*time.Millisecond), httpout.Options{Logger: logger})
	_, err = c2.Do(context.Background(), httpout.Request{Method: "POST", URL: deadURL + "/p?token=" + secret, Header: h})
	if err == nil {
		t.Fatal("want a connection error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks secret: %v", err)
	}
	if !strings.Contains(err.Error(), "/p") {
		t.Errorf("error should name the path: %v", err)
	}
	if logs.Len() == 0 {
		t.Fatal("no log lines captured")
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, secret) || strings.Contains(line, "token=") {
			t.Errorf("log line leaks secret: %s", line)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  httpout.Config
		want string
	}{
		{httpout.Config{URL: "https://splunk.example.com:8088"}, ""},
		{httpout.Config{URL: "http://127.0.0.1:8088", AllowHTTP: true}, ""},
		{httpout.Config{}, `requires a non-empty "url"`},
		{httpout.Config{URL: "http://127.0.0.1:8088"}, "allow_http = true"},
		{httpout.Config{URL: "ftp://x"}, "must start with https://"},
		{httpout.Config{URL: "https://"}, "has no host"},
		{httpout.Config{URL: "https://u:pw@h/x"}, "user:password"},
		{httpout.Config{URL: "https://h/%zz?token=abc"}, "does not parse"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.cfg.URL, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: err %v, want %q", tc.cfg.URL, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token=abc")) {
			t.Errorf("%q: error leaks credentials: %v", tc.cfg.URL, err)
		}
	}
}

func TestTLSCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	do := func(tlsc httpout.TLS) (int, error) {
		c, err := httpout.New(httpout.Config{URL: srv.URL, TLS: tlsc}, httpout.Options{Retry: policy(0, time.Millisecond, time.Millisecond)})
		if err != nil {
			return 0, err
		}
		r, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL})
		return r.StatusCode, err
	}
	if code, err := do(httpout.TLS{CAFile: ca}); err != nil || code != 204 {
		t.Errorf("with ca_file: %d %v", code, err)
	}
	if _, err := do(httpout.TLS{}); err == nil {
		t.Error("without ca_file the test certificate must be refused")
	} else {
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if code, err := do(httpout.TLS{InsecureSkipVerify: true}); err != nil || code != 204 {
		t.Errorf("insecure_skip_verify: %d %v", code, err)
	}
	bad := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := do(httpout.TLS{CAFile: bad}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad ca_file: %v", err)
	}
}

func TestNoRedirect(t *testing.T) {
	target := &sink{}
	tsrv := httptest.NewServer(target)
	defer tsrv.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tsrv.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, policy(0, time.Millisecond, time.Millisecond), httpout.Options{})
	resp, err := c.Do(context.Background(), httpout.Request{Method: "POST", URL: srv.URL, Header: http.Header{"Authorization": {"x"}}})
	if err != nil || resp.StatusCode != 307 {
		t.Fatalf("resp %d err %v", resp.StatusCode, err)
	}
	if target.count() != 0 {
		t.Error("redirect was followed")
	}
}

func TestTrim(t *testing.T) {
	if got := httpout.Trim([]byte("  héllo  "), 2); got != "h…" {
		t.Errorf("Trim = %q", got)
	}
	if got := httpout.Trim([]byte("ok"), 10); got != "ok" {
		t.Errorf("Trim = %q", got)
	}
}

// An answer cut off mid-body is an error, not a short answer: the kong_admin
// poller read such a page as "not an audit page" and outputs would judge
// a half answer.
func TestCutOffAnswerIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":[{"id":`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection 985 bytes short
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, policy(0, time.Millisecond, time.Millisecond), httpout.Options{})
	resp, err := c.Do(context.Background(), httpout.Request{Method: "GET", URL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "reading the 200 answer") {
		t.Fatalf("err = %v (body %q), want an error reading the answer", err, resp.Body)
	}
	if resp.Body != nil {
		t.Errorf("the cut-off body was returned: %q", resp.Body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":[`))
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
	}))
	defer slow.Close()
	if _, err := c.Do(ctx, httpout.Request{Method: "GET", URL: slow.URL}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled when the caller stops mid-answer", err)
	}
}
