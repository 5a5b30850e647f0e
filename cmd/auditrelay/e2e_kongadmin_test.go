package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKongAdminPollerEndToEnd: the relay polls a fake Kong Admin API,
// delivers every record once to the HEC sink, reports the input inactive
// (503) while the API fails and active after, and exposes it in /metrics.
func TestKongAdminPollerEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var records []string
	var failing atomic.Bool
	kong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Kong-Admin-Token") != "kong-admin-secret" {
			w.WriteHeader(401)
			return
		}
		if failing.Load() {
			w.WriteHeader(503)
			return
		}
		if r.URL.Path != "/audit/requests" {
			_, _ = io.WriteString(w, `{"data":[],"next":null}`)
			return
		}
		mu.Lock()
		body := `{"data":[` + strings.Join(records, ",") + `],"next":null}`
		mu.Unlock()
		_, _ = io.WriteString(w, body)
	}))
	defer kong.Close()
	add := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		rec := fmt.Sprintf(`{"request_id":"req-%03d","request_timestamp":%d,"client_ip":"127.0.0.1","path":"/consumers","method":"POST","status":201,"rbac_user_id":"u1","rbac_user_name":"admin","workspace":"0da4afe7-44ad-4e81-a953-5d2923ce68ae","payload":null}`, i, time.Now().Unix())
		records = append([]string{rec}, records...) // newest first, as Kong pages
	}
	for i := range 5 {
		add(i)
	}
	s := newSink(t)
	addr := freeAddr(t)
	extra := fmt.Sprintf(`[inputs.kong_audit]
adapter = "kong_admin"
url = %q
allow_http = true
admin_token = "kong-admin-secret"
endpoints = ["requests"]
interval = "100ms"
start_from = "earliest"
[inputs.kong_audit.retry]
max_retries = 0
wait_min = "10ms"
wait_max = "50ms"
`, kong.URL)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), s.srv.URL, extra))
	eventually(t, 5*time.Second, "the first 5 records", func() bool { return len(s.ids()) == 5 })

	type pullStatus struct {
		Inputs map[string]struct {
			Accepted         int64  `json:"accepted"`
			Status           string `json:"status"`
			LastResponseCode int    `json:"last_response_code"`
		} `json:"inputs"`
	}
	var st pullStatus
	failing.Store(true)
	eventually(t, 5*time.Second, "input inactive during the outage", func() bool {
		getJSON(t, "http://"+addr+"/status", &st)
		return st.Inputs["kong_audit"].Status == "inactive" && st.Inputs["kong_audit"].LastResponseCode == 503
	})
	add(5)
	failing.Store(false)
	eventually(t, 5*time.Second, "active and caught up", func() bool {
		getJSON(t, "http://"+addr+"/status", &st)
		return st.Inputs["kong_audit"].Status == "active" && len(s.ids()) == 6
	})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`auditrelay_input_active{input="kong_audit"} 1`, `auditrelay_input_last_response_code{input="kong_audit"} 200`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	p.stop(t)
	for id, n := range s.ids() {
		if n != 1 || !strings.HasPrefix(id, "req-") {
			t.Errorf("record %s arrived %d times", id, n)
		}
	}
	if strings.Contains(p.stderr.String(), "kong-admin-secret") {
		t.Error("the admin token reached the logs")
	}
}
