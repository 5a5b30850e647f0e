package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the auditrelay built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "auditrelay-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "auditrelay")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build auditrelay: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	hecToken   = "e2e-hec-token-0123"
	hmacSecret = "e2e-openfaas-secret"
	seedBody   = `[{"actor":{"sub":"fed:system:serviceaccount:openfaas:cron-connector","issuer":"","fed_issuer":"https://kubernetes.default.svc.cluster.local"},"path":"/system/namespaces","method":"GET","actions":["Namespace:List"],"response_code":200,"time":"2023-12-04T17:09:28.710118072Z"}]`
)

// sink is a Splunk-HEC-compatible collector on 127.0.0.1 that records
// every event it accepts, and can be told to fail.
type sink struct {
	srv     *httptest.Server
	mu      sync.Mutex
	events  []map[string]any
	auth    []string
	failing int // answer 503 while > 0 (decremented per request); -1: always
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.failing != 0 {
		if s.failing > 0 {
			s.failing--
		}
		s.mu.Unlock()
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"text":"Server is busy","code":9}`))
		return
	}
	s.mu.Unlock()
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		body = zr
	}
	dec := json.NewDecoder(body)
	var got []map[string]any
	for dec.More() {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"text":"Invalid data format","code":6}`))
			return
		}
		got = append(got, obj)
	}
	s.mu.Lock()
	s.events = append(s.events, got...)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
}

func (s *sink) setFailing(n int) {
	s.mu.Lock()
	s.failing = n
	s.mu.Unlock()
}

// ids returns how often each event id arrived.
func (s *sink) ids() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[string]int{}
	for _, e := range s.events {
		if ev, ok := e["event"].(map[string]any); ok {
			id, _ := ev["id"].(string)
			n[id]++
		}
	}
	return n
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// relayProc is a running auditrelay child process.
type relayProc struct {
	cmd    *exec.Cmd
	addr   string
	stdout *bytes.Buffer
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writeConfig writes a config directory: a relay section listening on
// addr with data in dataDir, an openfaas input signed with hmacSecret, and
// a HEC output to sinkURL, plus extra drop-in text.
func writeConfig(t *testing.T, addr, dataDir, sinkURL, extra string) string {
	dir := t.TempDir()
	relay := fmt.Sprintf(`[relay]
listen = %q
data_dir = %q
max_body_bytes = "64KiB"
shutdown_timeout = "5s"
`, addr, dataDir)
	inputs := `[inputs.openfaas]
adapter = "openfaas"
secret = "${E2E_OPENFAAS_SECRET}"
`
	outputs := fmt.Sprintf(`[outputs.hec]
type = "splunkhec"
url = %q
allow_http = true
token_file = %q
format = "json"
flush_interval = "50ms"
[outputs.hec.retry]
max_retries = 1
wait_min = "10ms"
wait_max = "200ms"
`, sinkURL, writeFile(t, dir+"/../hec-token", hecToken))
	for name, text := range map[string]string{"00-relay.toml": relay, "10-inputs.toml": inputs, "20-hec.toml": outputs, "30-extra.toml": extra} {
		writeFile(t, filepath.Join(dir, name), text)
	}
	return dir
}

func writeFile(t *testing.T, path, text string) string {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs the relay and waits until /readyz answers.
func start(t *testing.T, addr string, args ...string) *relayProc {
	t.Helper()
	return startWith(t, addr, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, args...)
}

// startWith runs the relay and waits until ready reports true.
func startWith(t *testing.T, addr string, ready func() bool, args ...string) *relayProc {
	t.Helper()
	p := &relayProc{addr: addr, stdout: &bytes.Buffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "E2E_OPENFAAS_SECRET="+hmacSecret)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for !ready() {
		select {
		case err := <-p.done:
			t.Fatalf("relay exited before it was ready: %v\n%s", err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay not ready after 10s:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *relayProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("relay exited with %v after SIGTERM:\n%s", err, p.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("relay did not exit within 15s of SIGTERM")
	}
}

// kill sends SIGKILL and waits.
func (p *relayProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(hmacSecret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

type answer struct {
	Code   int
	Header http.Header
	Body   map[string]any
}

func post(t *testing.T, addr, input, body string, hdr map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/ingest/"+input, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	a := answer{Code: resp.StatusCode, Header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &a.Body)
	return a
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

type statusDoc struct {
	Outputs map[string]struct {
		Enabled          bool   `json:"enabled"`
		Status           string `json:"status"`
		LastAttemptAt    string `json:"last_attempt_at"`
		LastResponseCode int    `json:"last_response_code"`
		Queued           int64  `json:"queued"`
		Delivered        int64  `json:"delivered"`
		Retries          int64  `json:"retries"`
		DeadLettered     int64  `json:"dead_lettered"`
	} `json:"outputs"`
	Inputs map[string]struct {
		Accepted   int64 `json:"accepted"`
		Duplicates int64 `json:"duplicates"`
		Ignored    int64 `json:"ignored"`
		Rejected   int64 `json:"rejected"`
	} `json:"inputs"`
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// batch returns an OpenFaaS body of n distinct events tagged with tag.
func batch(tag string, n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"actor":{"sub":"fed:e2e@example.com"},"path":"/system/function/fn-%s-%d","method":"POST","actions":["Function:Create"],"response_code":202,"time":"2024-03-01T10:00:00Z"}`, tag, i)
	}
	b.WriteByte(']')
	return b.String()
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
