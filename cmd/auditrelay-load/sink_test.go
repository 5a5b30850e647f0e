package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
)

// hecBody is n concatenated HEC objects as the splunkhec output sends
// them: JSON events with an id, every third a CEF line instead.
func hecBody(n int, firstID int) []byte {
	var b bytes.Buffer
	for i := range n {
		id := firstID + i
		fmt.Fprintf(&b, `{"time":1750280556.%03d,"host":"relay-1","source":"auditrelay","sourcetype":"_json","index":"audit","event":`, i%1000)
		if i%3 == 2 {
			fmt.Fprintf(&b, `"CEF:0|Kong|Konnect|1.0|Ingress|GET /v2/control-planes|1|rt=1750280556000 externalId=id-%d src=10.0.0.1"`, id)
		} else {
			fmt.Fprintf(&b, `{"id":"id-%d","time":"2025-06-18T21:02:36Z","source":{"kind":"openfaas"},"severity":1}`, id)
		}
		b.WriteString("}")
		if i%2 == 0 {
			b.WriteString("\n") // concatenated, with and without separators
		}
	}
	return b.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

type answer struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, url string, body []byte, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func testSink(t *testing.T, c sinkConfig, out io.Writer) (*sink, *httptest.Server) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := newSink(c, out)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestSinkHECCountsConcatenatedObjects(t *testing.T) {
	plain := hecBody(250, 0)
	for _, tc := range []struct {
		name    string
		body    []byte
		headers []string
	}{
		{"plain", plain, nil},
		{"gzip", gzipped(t, plain), []string{"Content-Encoding", "gzip"}},
		{"application/gzip", gzipped(t, plain), []string{"Content-Encoding", "application/gzip"}},
		{"sniffed gzip", gzipped(t, plain), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			c := defaultSinkConfig()
			c.Token = auditrelay.NewSecret("hec-token")
			s, srv := testSink(t, c, &out)
			a := send(t, srv.URL+"/services/collector/event", tc.body, append(tc.headers, "Authorization", "Splunk hec-token")...)
			if a.status != http.StatusOK || a.body != `{"text":"Success","code":0}` {
				t.Fatalf("answer %d %s", a.status, a.body)
			}
			if err := s.flush(); err != nil {
				t.Fatal(err)
			}
			r := s.result()
			if r.Events != 250 || r.HECEvents != 250 || r.Requests != 1 || r.FirstEvent == "" {
				t.Fatalf("result %+v", r)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 250 || !strings.HasPrefix(lines[0], `{"id":"id-0"`) || !strings.HasPrefix(lines[2], "CEF:0|Kong|") {
				t.Fatalf("-out has %d lines: %q …", len(lines), lines[:3])
			}
		})
	}
}

func TestSinkHECToken(t *testing.T) {
	c := defaultSinkConfig()
	c.Token = auditrelay.NewSecret("right")
	s, srv := testSink(t, c, nil)
	body := hecBody(3, 0)
	if a := send(t, srv.URL+"/services/collector/event", body); a.status != 401 || !strings.Contains(a.body, `"code":2`) {
		t.Fatalf("no token: %d %s", a.status, a.body)
	}
	if a := send(t, srv.URL+"/services/collector/event", body, "Authorization", "Splunk wrong"); a.status != 401 || a.body != `{"text":"Invalid token","code":4}` {
		t.Fatalf("bad token: %d %s", a.status, a.body)
	}
	if a := send(t, srv.URL+"/services/collector", body, "Authorization", "Splunk right"); a.status != 200 {
		t.Fatalf("good token: %d %s", a.status, a.body)
	}
	// Without -authorization, generic paths take the HEC token too.
	if a := send(t, srv.URL+"/anything", []byte("a line\n"), "Authorization", "Bearer right"); a.status != 401 {
		t.Fatalf("generic path with a wrong credential: %d", a.status)
	}
	if r := s.result(); r.Events != 3 || r.Refused["401"] != 3 {
		t.Fatalf("events %d refused %v", r.Events, r.Refused)
	}
}

func TestSinkFailFirst(t *testing.T) {
	c := defaultSinkConfig()
	c.FailFirst, c.RetryAfter = 2, 0
	s, srv := testSink(t, c, nil)
	for i := range 2 {
		a := send(t, srv.URL+"/services/collector/event", hecBody(5, 0))
		if a.status != 503 || a.header.Get("Retry-After") != "0" || a.body != `{"text":"Server is busy","code":9}` {
			t.Fatalf("request %d: %d %q %s", i+1, a.status, a.header.Get("Retry-After"), a.body)
		}
	}
	if a := send(t, srv.URL+"/services/collector/event", hecBody(5, 0)); a.status != 200 {
		t.Fatalf("third request: %d %s", a.status, a.body)
	}
	if r := s.result(); r.Events != 5 || r.Refused["503"] != 2 || r.Requests != 3 {
		t.Fatalf("result %+v", r)
	}

	c.FailFirst, c.FailStatus = 1, 500
	_, srv = testSink(t, c, nil)
	if a := send(t, srv.URL+"/ingest/x", []byte("[1]")); a.status != 500 || a.header.Get("Retry-After") != "" || !strings.Contains(a.body, "fail-first") {
		t.Fatalf("generic injected 500: %d %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
}

func TestSinkHECBadEvents(t *testing.T) {
	s, srv := testSink(t, defaultSinkConfig(), nil)
	body := []byte(`{"event":{"id":"a"}}{"time":1}{"event":{"id":"c"}}`)
	a := send(t, srv.URL+"/services/collector/event", body)
	if a.status != 400 || a.body != `{"text":"Event field is required","code":12,"invalid-event-number":1}` {
		t.Fatalf("missing event: %d %s", a.status, a.body)
	}
	a = send(t, srv.URL+"/services/collector/event", []byte(`{"event":"x"}{"event":""}`))
	if a.status != 400 || !strings.Contains(a.body, `"code":13`) {
		t.Fatalf("blank event: %d %s", a.status, a.body)
	}
	a = send(t, srv.URL+"/services/collector/event", []byte(`{"event":"x"} {"event":`))
	if a.status != 400 || a.body != `{"text":"Invalid data format","code":6,"invalid-event-number":1}` {
		t.Fatalf("malformed: %d %s", a.status, a.body)
	}
	// As Splunk does, the events before the bad one were indexed.
	if r := s.result(); r.Events != 3 {
		t.Fatalf("events %d, want 3", r.Events)
	}
}

func TestSinkAck(t *testing.T) {
	_, srv := testSink(t, defaultSinkConfig(), nil)
	for want := range 2 {
		a := send(t, srv.URL+"/services/collector/event", hecBody(2, 0), "X-Splunk-Request-Channel", "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba")
		if a.body != fmt.Sprintf(`{"text":"Success","code":0,"ackId":%d}`, want) {
			t.Fatalf("answer %s", a.body)
		}
	}
	a := send(t, srv.URL+"/services/collector/ack", []byte(`{"acks":[0,1,7]}`))
	if a.status != 200 || a.body != `{"acks":{"0":true,"1":true,"7":true}}` {
		t.Fatalf("ack: %d %s", a.status, a.body)
	}
	if a := send(t, srv.URL+"/services/collector/ack", []byte(`nope`)); a.status != 400 {
		t.Fatalf("bad ack query: %d", a.status)
	}
}

func TestSinkGenericBodies(t *testing.T) {
	konnect := testSpec(adapterKonnect).Build(nil, 0, 40).Body
	for _, tc := range []struct {
		name    string
		body    []byte
		headers []string
		want    int
	}{
		{"array", []byte(` [{"id":"a"},{"id":"b"},{"x":[1,2]}] `), nil, 3},
		{"ndjson", []byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\r\n\n"), nil, 2},
		{"concatenated", []byte(`{"id":"a"}{"id":"b"}{"id":"c"}`), nil, 3},
		{"cef lines", []byte("CEF:0|a|b|1|x|y|1|externalId=1\nCEF:0|a|b|1|x|y|1|externalId=2\n"), nil, 2},
		{"konnect mixed", konnect, nil, 40},
		{"konnect gzip", gzipped(t, konnect), []string{"Content-Encoding", "gzip"}, 40},
		{"empty", nil, nil, 0},
		{"pretty multi-line object", []byte("{\n  \"id\": \"a\",\n  \"b\": 1\n}\n"), nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			c := defaultSinkConfig()
			c.Authorization = auditrelay.NewSecret("Bearer collector")
			s, srv := testSink(t, c, &out)
			a := send(t, srv.URL+"/ingest/anything", tc.body, append(tc.headers, "Authorization", "Bearer collector")...)
			if want := fmt.Sprintf(`{"accepted":%d,"duplicates":0,"ignored":0}`, tc.want); a.status != 200 || a.body != want {
				t.Fatalf("answer %d %s, want %s", a.status, a.body, want)
			}
			_ = s.flush()
			if r := s.result(); r.HTTPEvents != int64(tc.want) || strings.Count(out.String(), "\n") != tc.want {
				t.Fatalf("counted %d, -out has %d lines, want %d", r.HTTPEvents, strings.Count(out.String(), "\n"), tc.want)
			}
		})
	}
	s, srv := testSink(t, defaultSinkConfig(), nil)
	for _, bad := range []string{`[{"id":1},`, `[1] [2]`, `[1,]`} {
		if a := send(t, srv.URL+"/x", []byte(bad)); a.status != 400 || !strings.HasPrefix(a.body, `{"error":`) {
			t.Fatalf("%s: %d %s", bad, a.status, a.body)
		}
	}
	if a := send(t, srv.URL+"/x", gzipped(t, []byte("x"))[:8], "Content-Encoding", "gzip"); a.status != 400 {
		t.Fatalf("truncated gzip: %d", a.status)
	}
	if r := s.result(); r.Events != 0 || r.Refused["400"] != 4 {
		t.Fatalf("result %+v", r)
	}
}

func TestSinkLimitsBody(t *testing.T) {
	c := defaultSinkConfig()
	c.MaxBody = 1000
	s, srv := testSink(t, c, nil)
	big := bytes.Repeat([]byte("a line of text\n"), 200) // 3000 bytes, gzips small
	if a := send(t, srv.URL+"/x", big); a.status != 413 {
		t.Fatalf("raw body over the limit: %d", a.status)
	}
	if a := send(t, srv.URL+"/x", gzipped(t, big), "Content-Encoding", "gzip"); a.status != 413 {
		t.Fatalf("decompressed body over the limit: %d", a.status)
	}
	if r := s.result(); r.Events != 0 || r.Refused["413"] != 2 {
		t.Fatalf("result %+v", r)
	}
}

func TestSinkCountIDs(t *testing.T) {
	c := defaultSinkConfig()
	c.CountIDs = true
	s, srv := testSink(t, c, nil)
	if a := send(t, srv.URL+"/services/collector/event", hecBody(30, 0)); a.status != 200 {
		t.Fatal(a.body)
	}
	if a := send(t, srv.URL+"/services/collector/event", hecBody(30, 20)); a.status != 200 { // ids 20..29 again
		t.Fatal(a.body)
	}
	a := send(t, srv.URL+"/x", []byte("[{\"id\":\"id-1\"},{\"id\":\"new\"},{\"id\":7},{\"noid\":1}]"))
	if a.body != `{"accepted":4,"duplicates":1,"ignored":0}` {
		t.Fatalf("generic answer %s", a.body)
	}
	r := s.result()
	if r.Events != 64 || r.DistinctIDs != 52 || r.DuplicateIDs != 11 || r.IDsTruncated {
		t.Fatalf("events %d distinct %d duplicates %d truncated %t", r.Events, r.DistinctIDs, r.DuplicateIDs, r.IDsTruncated)
	}

	c.MaxIDs = 5
	s, srv = testSink(t, c, nil)
	send(t, srv.URL+"/services/collector/event", hecBody(10, 0))
	if r := s.result(); r.DistinctIDs != 5 || !r.IDsTruncated {
		t.Fatalf("bounded ids: %d truncated %t", r.DistinctIDs, r.IDsTruncated)
	}
}

func TestCEFExternalID(t *testing.T) {
	for line, want := range map[string]string{
		"CEF:0|a|b|1|x|y|1|rt=1 externalId=sha256:abc src=1.2.3.4": "sha256:abc",
		"CEF:0|a|b|1|x|y|1|externalId=k1":                          "k1",
		"CEF:0|a|b|1|x|y|1|cs1=notexternalId=x":                    "",
		"no id here":                                               "",
	} {
		if got := string(cefExternalID([]byte(line))); got != want {
			t.Errorf("cefExternalID(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestSinkMethodsAndHealth(t *testing.T) {
	_, srv := testSink(t, defaultSinkConfig(), nil)
	resp, err := http.Get(srv.URL + "/services/collector/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/ingest/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET on a collector path: %d", resp.StatusCode)
	}
}

func TestRunSinkStopsAfterExpectedEvents(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.ndjson")
	c := defaultSinkConfig()
	c.Listen, c.Expect, c.ExitAfterIdle, c.Out, c.Report = "127.0.0.1:0", 40, 50*time.Millisecond, out, 10*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan *sinkResult, 1)
	var progress bytes.Buffer
	go func() {
		r, err := runSink(ctx, c, nil, &progress, func(a string) { addr <- a })
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	url := "http://" + <-addr + "/services/collector/event"
	send(t, url, hecBody(25, 0))
	send(t, url, hecBody(15, 100))
	var r *sinkResult
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("sink did not stop after -expect and -exit-after-idle")
	}
	if r == nil || r.Stopped != "expect" || r.Events != 40 {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(progress.String(), " events (+") { // written before done was sent
		t.Fatalf("no progress line: %q", progress.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 40 {
		t.Fatalf("-out has %d lines, want 40", n)
	}
}

func TestRunSinkStopsOnCancel(t *testing.T) {
	c := defaultSinkConfig()
	c.Listen, c.Expect = "127.0.0.1:0", 10
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *sinkResult, 1)
	go func() {
		r, _ := runSink(ctx, c, nil, nil, func(string) { cancel() })
		done <- r
	}()
	select {
	case r := <-done:
		if r == nil || r.Stopped != "signal" || r.Events != 0 {
			t.Fatalf("result %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sink ignored cancellation")
	}
}

func TestRunSinkRefusesRemoteListen(t *testing.T) {
	for _, listen := range []string{":8088", "0.0.0.0:8088", "192.0.2.1:8088", "[::]:8088"} {
		c := defaultSinkConfig()
		c.Listen = listen
		_, err := runSink(context.Background(), c, nil, nil, nil)
		var usage *usageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "allow-remote") {
			t.Errorf("listen %s: %v", listen, err)
		}
	}
}

func TestSinkConfigValidate(t *testing.T) {
	c := defaultSinkConfig()
	c.Listen, c.FailFirst, c.FailStatus, c.MaxBody, c.Expect = "nohostport", -1, 200, 0, -1
	err := c.Validate()
	for _, want := range []string{"-listen", "-fail-first", "-fail-status", "-max-body", "-expect"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func BenchmarkSinkHEC(b *testing.B) {
	body := hecBody(1000, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	n := 0
	var entries []sinkEntry
	for b.Loop() {
		events, bad := decodeHEC(body, entries[:0])
		if bad != "" {
			b.Fatal(bad)
		}
		entries = events
		n += len(events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSinkGeneric(b *testing.B) {
	body := testSpec(adapterKonnect).Build(nil, 0, 1000).Body
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	n := 0
	var entries []sinkEntry
	for b.Loop() {
		var err error
		entries, err = splitGeneric(body, entries[:0])
		if err != nil {
			b.Fatal(err)
		}
		n += len(entries)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// relayHECBody is n HEC objects shaped like the relay's splunkhec output of
// OpenFaaS events (about 770 bytes each, compressing about as well), as
// bench/e2e.sh delivers them.
func relayHECBody(n int) []byte {
	var b bytes.Buffer
	actors := []string{"carol", "bob", "alice"}
	actions := []string{"Function:List", "Function:Logs", "Function:Deploy", "Secret:List"}
	namespaces := []string{"openfaas-fn", "staging-fn", "prod-fn"}
	x := uint64(0x9e3779b97f4a7c15)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for i := range n {
		actor, action, ns := actors[rnd()%3], actions[rnd()%4], namespaces[rnd()%3]
		fmt.Fprintf(&b, `{"time":1763910293.%03d,"host":"relay-1","sourcetype":"auditrelay:json","event":`+
			`{"id":"sha256:%016x%016x","time":"2026-11-23T15:04:53.%09dZ","received_at":"2026-11-23T15:04:53.%09dZ",`+
			`"source":{"kind":"openfaas","input":"openfaas","delivery_id":"c62271d7-d0f3-41c3-8346-%012x"},`+
			`"actor":{"id":"fed:%s@example.com","name":"%s Example","issuer":"https://gateway.openfaas.example.com",`+
			`"federated_issuer":"https://keycloak.example.com/realms/openfaas","type":"user"},`+
			`"action":{"name":"%s","all":["%s"],"verb":"read"},`+
			`"resource":{"type":"Function","namespace":"%s"},`+
			`"request":{"method":"GET","path":"/system/functions?namespace=%s"},`+
			`"outcome":{"result":"success","status_code":200},"severity":1}}`,
			i%1000, rnd(), rnd(), 362118947+i*1000+int(rnd()%1000), 363366671+i*1000, i/100,
			actor, actor, action, action, ns, ns)
	}
	return b.Bytes()
}

// BenchmarkSinkServeHEC is the sink's whole HEC path as bench/e2e.sh
// drives it: gzip bodies of 1000 relay events through ServeHTTP.
// allocs/op is per 1000 events.
func BenchmarkSinkServeHEC(b *testing.B) {
	plain := relayHECBody(1000)
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed) // as the relay compresses
	_, _ = zw.Write(plain)
	_ = zw.Close()
	body := z.Bytes()
	for _, countIDs := range []bool{false, true} {
		b.Run(fmt.Sprintf("count-ids=%t", countIDs), func(b *testing.B) {
			c := defaultSinkConfig()
			c.Token, c.CountIDs = auditrelay.NewSecret("hec-token"), countIDs
			s := newSink(c, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/services/collector/event", bytes.NewReader(body))
				req.Header.Set("Content-Encoding", "gzip")
				req.Header.Set("Authorization", "Splunk hec-token")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("answer %d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(s.events.Load())/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSinkHECRelay is decodeHEC alone on relay-shaped events.
func BenchmarkSinkHECRelay(b *testing.B) {
	body := relayHECBody(1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	n := 0
	var entries []sinkEntry
	for b.Loop() {
		events, bad := decodeHEC(body, entries[:0])
		if bad != "" {
			b.Fatal(bad)
		}
		entries = events
		n += len(events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
