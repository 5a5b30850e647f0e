package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSignedBatchReachesHEC is the main job: a signed OpenFaaS batch arrives
// at a local HEC sink with the token, and /status reports the output active.
func TestSignedBatchReachesHEC(t *testing.T) {
	s := newSink(t)
	addr := freeAddr(t)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), s.srv.URL, ""))
	a := post(t, addr, "openfaas", seedBody, map[string]string{"X-Openfaas-Signature-256": sign(seedBody), "X-Openfaas-Delivery": "d-1"})
	if a.Code != 200 || a.Body["accepted"] != 1.0 {
		t.Fatalf("post: %d %v", a.Code, a.Body)
	}
	eventually(t, 5*time.Second, "the event at the sink", func() bool { return s.count() == 1 })
	s.mu.Lock()
	ev := s.events[0]["event"].(map[string]any)
	auth := s.auth[0]
	s.mu.Unlock()
	if auth != "Splunk "+hecToken {
		t.Errorf("Authorization at the sink = %q", auth)
	}
	actor := ev["actor"].(map[string]any)
	if actor["id"] != "fed:system:serviceaccount:openfaas:cron-connector" || ev["source"].(map[string]any)["delivery_id"] != "d-1" {
		t.Errorf("event at the sink: %v", ev)
	}
	var st statusDoc
	getJSON(t, "http://"+addr+"/status", &st)
	o := st.Outputs["hec"]
	if o.Status != "active" || o.LastResponseCode != 200 || o.Delivered != 1 || st.Inputs["openfaas"].Accepted != 1 {
		t.Errorf("status: %+v", st)
	}
	p.stop(t)
	for _, secret := range []string{hecToken, hmacSecret} {
		if strings.Contains(p.stderr.String(), secret) || strings.Contains(p.stdout.String(), secret) {
			t.Errorf("a secret reached the logs:\n%s", p.stderr.String())
		}
	}
}

// TestRefusedRequestsForwardNothing: each bad request gets its answer,
// nothing reaches the sink, the relay keeps serving.
func TestRefusedRequestsForwardNothing(t *testing.T) {
	s := newSink(t)
	addr := freeAddr(t)
	extra := `[inputs.stackrox]
adapter = "stackrox"
authorization = "Basic c3RhY2tyb3g6cGFzcw=="
`
	dataDir := t.TempDir()
	p := start(t, addr, "run", "-c", writeConfig(t, addr, dataDir, s.srv.URL, extra))
	stackrox := `{"audit":{"interaction":"CREATE","method":"UI","request":{"endpoint":"/v1/notifiers","method":"POST"},"status":"REQUEST_SUCCEEDED","time":"2019-05-28T16:07:05.5Z","user":{"username":"john.doe@example.com"}}}`
	for _, tc := range []struct {
		name, input, body string
		hdr               map[string]string
		code              int
	}{
		{"bad signature", "openfaas", seedBody, map[string]string{"X-Openfaas-Signature-256": sign(seedBody + "x")}, 401},
		{"no signature", "openfaas", seedBody, nil, 401},
		{"wrong authorization", "stackrox", stackrox, map[string]string{"Authorization": "Basic d3Jvbmc6cGFzcw=="}, 401},
		{"malformed JSON", "openfaas", `[{"path":`, map[string]string{"X-Openfaas-Signature-256": sign(`[{"path":`)}, 400},
		{"oversized", "openfaas", "[" + strings.Repeat(" ", 70<<10) + "]", nil, 413},
		{"unknown input", "nope", seedBody, nil, 404},
	} {
		a := post(t, addr, tc.input, tc.body, tc.hdr)
		if a.Code != tc.code {
			t.Errorf("%s: got %d %v, want %d", tc.name, a.Code, a.Body, tc.code)
		}
		if msg, _ := a.Body["error"].(string); msg == "" || strings.Contains(msg, "c3RhY2tyb3g6cGFzcw") || strings.Contains(msg, hmacSecret) {
			t.Errorf("%s: error body %v", tc.name, a.Body)
		}
	}
	if a := post(t, addr, "stackrox", stackrox, map[string]string{"Authorization": "Basic c3RhY2tyb3g6cGFzcw=="}); a.Code != 200 {
		t.Fatalf("relay stopped serving after the refusals: %d %v", a.Code, a.Body)
	}
	eventually(t, 5*time.Second, "the one good event", func() bool { return s.count() == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := s.count(); n != 1 {
		t.Fatalf("sink got %d events; only the good request should arrive", n)
	}
	kept, _ := filepath.Glob(filepath.Join(dataDir, "rejected", "*.body"))
	if len(kept) != 1 {
		t.Errorf("rejected store holds %d bodies; want the one malformed body from the signed sender", len(kept))
	}
	p.stop(t)
}

// TestDefaultConfigPrintsToStdout: `auditrelay run` with no -c serves the
// embedded default on 127.0.0.1:9780 and prints events on stdout.
func TestDefaultConfigPrintsToStdout(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:9780"); err != nil {
		t.Skipf("127.0.0.1:9780 is busy: %v", err)
	} else {
		ln.Close()
	}
	dir := t.TempDir()
	cwd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(cwd) })
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	p := start(t, "127.0.0.1:9780", "run")
	_ = os.Chdir(cwd)
	if a := post(t, "127.0.0.1:9780", "openfaas", seedBody, nil); a.Code != 200 {
		t.Fatalf("post: %d %v", a.Code, a.Body)
	}
	p.stop(t)
	out := p.stdout.String()
	if !strings.Contains(out, `"id":"fed:system:serviceaccount:openfaas:cron-connector"`) || len(lines(out)) != 1 {
		t.Fatalf("stdout: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "auditrelay-data", "spool")); err != nil {
		t.Errorf("spool not in ./auditrelay-data: %v", err)
	}
}

// TestSinkOutageThenRecovery: while the sink answers 503 the output turns
// inactive and keeps the events; once it answers again everything arrives
// and the output is active.
func TestSinkOutageThenRecovery(t *testing.T) {
	s := newSink(t)
	s.setFailing(-1)
	addr := freeAddr(t)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), s.srv.URL, ""))
	body := batch("outage", 20)
	if a := post(t, addr, "openfaas", body, map[string]string{"X-Openfaas-Signature-256": sign(body)}); a.Code != 200 {
		t.Fatalf("post: %d", a.Code)
	}
	var st statusDoc
	eventually(t, 5*time.Second, "output inactive", func() bool {
		getJSON(t, "http://"+addr+"/status", &st)
		return st.Outputs["hec"].Status == "inactive"
	})
	if o := st.Outputs["hec"]; o.LastResponseCode != 503 || o.Delivered != 0 || o.Queued != 20 {
		t.Fatalf("during the outage: %+v", o)
	}
	s.setFailing(0)
	eventually(t, 10*time.Second, "all 20 delivered", func() bool { return len(s.ids()) == 20 })
	eventually(t, 5*time.Second, "output active", func() bool {
		getJSON(t, "http://"+addr+"/status", &st)
		return st.Outputs["hec"].Status == "active" && st.Outputs["hec"].Queued == 0
	})
	p.stop(t)
	logs := p.stderr.String()
	if strings.Count(logs, "output inactive") < 1 || strings.Count(logs, "output active again") != 1 {
		t.Errorf("want a line per failed round and one for the recovery:\n%s", logs)
	}
}

// TestRestartKeepsUndeliveredAndDedup: events accepted while the sink is
// down survive a SIGTERM restart and are delivered after it; a batch resent
// after the restart is counted as duplicates.
func TestRestartKeepsUndeliveredAndDedup(t *testing.T) {
	s := newSink(t)
	s.setFailing(-1)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, t.TempDir(), s.srv.URL, "")
	p := start(t, addr, "run", "-c", cfg)
	body := batch("restart", 10)
	hdr := map[string]string{"X-Openfaas-Signature-256": sign(body)}
	if a := post(t, addr, "openfaas", body, hdr); a.Code != 200 || a.Body["accepted"] != 10.0 {
		t.Fatalf("post: %d %v", a.Code, a.Body)
	}
	p.stop(t)
	s.setFailing(0)
	p = start(t, addr, "run", "-c", cfg)
	if a := post(t, addr, "openfaas", body, hdr); a.Code != 200 || a.Body["duplicates"] != 10.0 {
		t.Fatalf("resent after restart: %d %v", a.Code, a.Body)
	}
	eventually(t, 10*time.Second, "the 10 events after the restart", func() bool { return len(s.ids()) == 10 })
	p.stop(t)
	for id, n := range s.ids() {
		if n != 1 {
			t.Errorf("event %s arrived %d times", id, n)
		}
	}
}

// TestCheckMasksSecrets: check prints the resolved config without a
// secret, and exits 2 on a bad config.
func TestCheckMasksSecrets(t *testing.T) {
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, t.TempDir(), "http://127.0.0.1:1", `[inputs.stackrox]
adapter = "stackrox"
authorization = "Basic c2VjcmV0LXZhbHVl"
`)
	cmd := exec.Command(binary, "check", "-c", cfg)
	cmd.Env = append(os.Environ(), "E2E_OPENFAAS_SECRET="+hmacSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	text := string(out)
	for _, secret := range []string{hecToken, hmacSecret, "c2VjcmV0LXZhbHVl"} {
		if strings.Contains(text, secret) {
			t.Errorf("check printed a secret (%s):\n%s", secret, text)
		}
	}
	if !strings.Contains(text, `[redacted]`) || !strings.Contains(text, `[outputs.hec]`) || !strings.Contains(text, `wait_max = "200ms"`) {
		t.Errorf("check output:\n%s", text)
	}
	writeFile(t, filepath.Join(cfg, "40-bad.toml"), "[outputs.hec2]\ntype = \"splunkhec\"\nurll = \"x\"\n")
	cmd = exec.Command(binary, "check", "-c", cfg)
	cmd.Env = append(os.Environ(), "E2E_OPENFAAS_SECRET="+hmacSecret)
	out, err = cmd.CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), `40-bad.toml:3: unknown key "outputs.hec2.urll"`) {
		t.Fatalf("bad config: exit %d\n%s", code, out)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newSink(t)
	addr := freeAddr(t)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), s.srv.URL, ""))
	if a := post(t, addr, "openfaas", seedBody, map[string]string{"X-Openfaas-Signature-256": sign(seedBody)}); a.Code != 200 {
		t.Fatal(a.Code)
	}
	eventually(t, 5*time.Second, "delivered", func() bool { return s.count() == 1 })
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = io.Copy(b, resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`auditrelay_input_events_total{input="openfaas",result="accepted"} 1`,
		`auditrelay_ingest_requests_total{input="openfaas",code="200"} 1`,
		`auditrelay_output_delivered_events_total{output="hec"} 1`,
		`auditrelay_ingest_request_duration_seconds_count{input="openfaas"} 1`,
		`auditrelay_spool_bytes `,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	p.stop(t)
}
