package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
)

// fakeRelay answers like the relay's ingest: it checks the adapter's
// authenticity, counts the events of each body and answers
// {"accepted":N,"duplicates":M,"ignored":0}, deduplicating by event key.
type fakeRelay struct {
	t       *testing.T
	adapter string
	secret  string
	auth    string
	// answer, when set, may answer a request instead (n is the request
	// number from 1); it returns false to let the relay answer.
	answer func(w http.ResponseWriter, r *http.Request, n int64) bool

	requests atomic.Int64
	mu       sync.Mutex
	events   int
	seen     map[string]bool
}

func (f *fakeRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if f.answer != nil && f.answer(w, r, n) {
		return
	}
	if r.URL.Path != "/ingest/"+f.adapter {
		http.Error(w, `{"error":"unknown input"}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
		return
	}
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		http.Error(w, `{"error":"bad credential"}`, http.StatusUnauthorized)
		return
	}
	if !f.signed(r, body) {
		http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, `{"error":"gzip"}`, http.StatusBadRequest)
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			http.Error(w, `{"error":"gzip"}`, http.StatusBadRequest)
			return
		}
	}
	es := entries(f.t, f.adapter, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	dups := 0
	for _, e := range es {
		k := eventKey(f.t, f.adapter, e)
		if f.seen[k] {
			dups++
		}
		f.seen[k] = true
	}
	f.events += len(es)
	fmt.Fprintf(w, `{"accepted":%d,"duplicates":%d,"ignored":0}`, len(es)-dups, dups)
}

func (f *fakeRelay) signed(r *http.Request, body []byte) bool {
	if f.secret == "" {
		return true
	}
	switch f.adapter {
	case adapterOpenFaaS:
		return r.Header.Get("X-Openfaas-Signature-256") == "sha256="+signSHA256([]byte(f.secret), body)
	case adapterKongHooks:
		return r.Header.Get("X-Kong-Signature") == "sha1="+signSHA1([]byte(f.secret), body)
	}
	return true
}

func (f *fakeRelay) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events
}

func testPostConfig(url, adapter string) postConfig {
	c := defaultPostConfig()
	c.URL, c.Input, c.Seed, c.Base = url, adapter, 3, testBase
	c.Duration = 10 * time.Second
	c.Timeout = 5 * time.Second
	return c
}

func TestPostCountsEveryEvent(t *testing.T) {
	for _, adapter := range adapterNames() {
		t.Run(adapter, func(t *testing.T) {
			relay := &fakeRelay{t: t, adapter: adapter, secret: "s3cret", auth: "Bearer load"}
			srv := httptest.NewServer(relay)
			defer srv.Close()
			c := testPostConfig(srv.URL, adapter)
			c.Total, c.Batch, c.Concurrency = 1050, 100, 3
			wantPosts := int64(11)
			if adapter == adapterStackRox || adapter == adapterKongHooks {
				c.Total, wantPosts = 60, 60
			}
			c.Secret = auditrelay.NewSecret("s3cret")
			c.Authorization = auditrelay.NewSecret("Bearer load")
			c.Gzip = adapter == adapterKonnect
			res, err := runPost(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 || res.Stopped != "total" {
				t.Fatalf("errors %v, stopped %s", res.Errors, res.Stopped)
			}
			if res.EventsSent != c.Total || res.EventsAcked != c.Total || res.Accepted != c.Total || res.Duplicates != 0 {
				t.Fatalf("sent %d acked %d accepted %d duplicates %d, want %d", res.EventsSent, res.EventsAcked, res.Accepted, res.Duplicates, c.Total)
			}
			if got := relay.total(); int64(got) != c.Total {
				t.Fatalf("relay counted %d events, want %d", got, c.Total)
			}
			if res.Posts != wantPosts || relay.requests.Load() != wantPosts || res.Latency.Samples != uint64(wantPosts) {
				t.Fatalf("posts %d, relay requests %d, latency samples %d, want %d", res.Posts, relay.requests.Load(), res.Latency.Samples, wantPosts)
			}
			if res.EventsPerSec <= 0 || res.Latency.Max <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
				t.Fatalf("implausible measures: %+v", res)
			}
		})
	}
}

func TestPostRepeatedEventsAreDuplicates(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterOpenFaaS}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterOpenFaaS)
	c.Total, c.Batch, c.Concurrency, c.Unique = 500, 50, 1, false
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 50 || res.Duplicates != 450 {
		t.Fatalf("accepted %d duplicates %d, want 50 and 450", res.Accepted, res.Duplicates)
	}
}

func TestPostStopsAtDuration(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterLines, answer: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		select {                           // a relay that never answers
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterLines)
	c.Total, c.Concurrency, c.Duration = 1_000_000, 2, 150*time.Millisecond
	start := time.Now()
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("run took %s, want about -duration", took)
	}
	if res.Stopped != "duration" || res.Aborted != 200 || len(res.Errors) != 0 || res.EventsAcked != 0 {
		t.Fatalf("stopped %s aborted %d errors %v acked %d", res.Stopped, res.Aborted, res.Errors, res.EventsAcked)
	}
}

func TestPostRetries503AfterRetryAfter(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterKong}
	relay.answer = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n > 3 {
			return false
		}
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":"spool full"}`, http.StatusServiceUnavailable)
		return true
	}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterKong)
	c.Total, c.Batch, c.Concurrency = 300, 100, 1
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backpressure != 3 || len(res.Errors) != 0 || res.Accepted != 300 || relay.requests.Load() != 6 {
		t.Fatalf("backpressure %d errors %v accepted %d requests %d", res.Backpressure, res.Errors, res.Accepted, relay.requests.Load())
	}
}

func TestPostHonorsLongRetryAfter(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterKonnect, answer: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, `{"error":"busy"}`, http.StatusTooManyRequests)
		return true
	}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterKonnect)
	c.Total, c.Batch, c.Concurrency, c.Duration = 100, 100, 1, 200*time.Millisecond
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if relay.requests.Load() != 1 || res.Backpressure != 1 || res.Aborted != 100 || len(res.Errors) != 0 || res.Stopped != "duration" {
		t.Fatalf("requests %d backpressure %d aborted %d errors %v stopped %s",
			relay.requests.Load(), res.Backpressure, res.Aborted, res.Errors, res.Stopped)
	}
}

func TestPostRetriesAreBounded(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterOpenFaaS, answer: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		return true
	}}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterOpenFaaS)
	c.Total, c.Batch, c.Concurrency, c.Retries = 200, 100, 1, 3
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if relay.requests.Load() != 8 || res.Errors["503"] != 2 || res.ErrorEvents != 200 || res.Backpressure != 6 || res.Stopped != "total" {
		t.Fatalf("requests %d errors %v error events %d backpressure %d stopped %s",
			relay.requests.Load(), res.Errors, res.ErrorEvents, res.Backpressure, res.Stopped)
	}
}

func TestPostCountsErrorsByStatus(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterOpenFaaS}
	relay.answer = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		switch n % 4 {
		case 1:
			http.Error(w, `{"error":"malformed"}`, http.StatusBadRequest)
			return true
		case 2:
			http.Error(w, `{"error":"too big"}`, http.StatusRequestEntityTooLarge)
			return true
		}
		return false
	}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterOpenFaaS)
	c.Total, c.Batch, c.Concurrency = 800, 100, 1
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["400"] != 2 || res.Errors["413"] != 2 || res.ErrorEvents != 400 || res.Accepted != 400 || res.Posts != 8 {
		t.Fatalf("errors %v error events %d accepted %d posts %d", res.Errors, res.ErrorEvents, res.Accepted, res.Posts)
	}
}

func TestPostConnectionErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c := testPostConfig("http://"+addr, adapterLines)
	c.Total, c.Batch, c.Concurrency = 300, 100, 1
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["connection"] != 3 || res.ErrorEvents != 300 || res.Backpressure != 0 {
		t.Fatalf("errors %v error events %d backpressure %d", res.Errors, res.ErrorEvents, res.Backpressure)
	}
}

func TestPostKongHooksRetriesClosedConnections(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterKongHooks}
	relay.answer = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n > 2 {
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return true
		}
		conn.Close() // the relay's konghooks backpressure: no answer
		return true
	}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterKongHooks)
	c.Total, c.Concurrency = 5, 1
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backpressure != 2 || len(res.Errors) != 0 || res.Accepted != 5 {
		t.Fatalf("backpressure %d errors %v accepted %d", res.Backpressure, res.Errors, res.Accepted)
	}
}

func TestPostRate(t *testing.T) {
	relay := &fakeRelay{t: t, adapter: adapterLines}
	srv := httptest.NewServer(relay)
	defer srv.Close()
	c := testPostConfig(srv.URL, adapterLines)
	c.Total, c.Batch, c.Concurrency, c.Rate = 100, 10, 4, 400 // 10 POSTs, 25ms apart
	res, err := runPost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed < 0.2 || res.Elapsed > 3 || res.Accepted != 100 {
		t.Fatalf("elapsed %.3fs accepted %d: want about 0.225s for 100 events at 400/s", res.Elapsed, res.Accepted)
	}
	if res.EventsPerSec > 500 {
		t.Fatalf("%.0f events/s exceeds the offered rate", res.EventsPerSec)
	}
}

func TestPostRefusesRemoteTargets(t *testing.T) {
	c := testPostConfig("http://192.0.2.1:9780", adapterOpenFaaS)
	_, err := runPost(context.Background(), c, nil)
	if err == nil || !strings.Contains(err.Error(), "-allow-remote") {
		t.Fatalf("non-loopback target: %v", err)
	}
	// A name is judged by what it resolves to.
	lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
		return []net.IPAddr{{IP: net.ParseIP("127.0.0.1")}, {IP: net.ParseIP("10.1.2.3")}}, nil
	}
	c.URL = "http://relay.internal:9780"
	if _, err := runPost(context.Background(), c, lookup); err == nil || !strings.Contains(err.Error(), "10.1.2.3") {
		t.Fatalf("name resolving to a remote address: %v", err)
	}
}

func TestCheckLoopback(t *testing.T) {
	resolve := map[string][]string{
		"localhost":   {"127.0.0.1", "::1"},
		"loop.test":   {"127.0.1.1"},
		"mixed.test":  {"127.0.0.1", "192.0.2.7"},
		"remote.test": {"2001:db8::1"},
		"empty.test":  {},
	}
	lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
		ips, ok := resolve[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []net.IPAddr
		for _, ip := range ips {
			out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
		}
		return out, nil
	}
	for host, ok := range map[string]bool{
		"127.0.0.1": true, "127.3.2.1": true, "::1": true, "[::1]": true, "localhost": true, "loop.test": true,
		"192.0.2.1": false, "0.0.0.0": false, "::": false, "mixed.test": false, "remote.test": false,
		"empty.test": false, "unknown.test": false, "::ffff:10.0.0.1": false,
	} {
		if err := checkLoopback(context.Background(), host, lookup); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%t", host, err, ok)
		}
	}
}

func TestDialerRefusesRemote(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "192.0.2.1:80": false, "[2001:db8::1]:80": false, "nohost": false} {
		if err := loopbackOnly("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok=%t", addr, err, ok)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              time.Second,
		"0":                             0,
		"7":                             7 * time.Second,
		" 2 ":                           2 * time.Second,
		"-4":                            time.Second,
		"9999":                          time.Minute,
		"soon":                          time.Second,
		"Wed, 18 Jun 2025 12:00:05 GMT": 5 * time.Second,
		"Wed, 18 Jun 2025 11:00:00 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Fatal("empty histogram has a quantile")
	}
	for ms := 1; ms <= 1000; ms++ {
		h.record(time.Duration(ms) * time.Millisecond)
	}
	near := func(got time.Duration, want float64) bool {
		return math.Abs(float64(got.Microseconds())-want*1000)/(want*1000) < 0.033
	}
	if p := h.quantile(0.5); !near(p, 500) {
		t.Errorf("p50 = %s", p)
	}
	if p := h.quantile(0.99); !near(p, 990) {
		t.Errorf("p99 = %s", p)
	}
	if r := h.report(); r.Max != 1000 || r.Samples != 1000 {
		t.Errorf("report = %+v", r)
	}
	var o histogram
	o.record(5 * time.Second)
	h.merge(&o)
	if h.quantile(1) != 5*time.Second || h.n != 1001 {
		t.Errorf("after merge: max quantile %s, n %d", h.quantile(1), h.n)
	}
	for _, v := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 1 << 20, 1<<40 + 12345, math.MaxUint64} {
		i := bucketOf(v)
		if bucketHigh(i) < v || (i > 0 && bucketHigh(i-1) >= v) {
			t.Errorf("value %d in bucket %d [%d, %d]", v, i, bucketHigh(i-1)+1, bucketHigh(i))
		}
	}
}

func TestPostConfigValidate(t *testing.T) {
	c := defaultPostConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.URL, c.Input, c.Batch, c.Concurrency, c.Total, c.Duration, c.Rate = "ftp://x", "payments", 0, 0, 0, 0, -1
	c.Gzip, c.KonnectFormat = true, "xml"
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"-url", "-adapter", "-batch", "-concurrency", "-total", "-duration", "-rate", "-gzip", "-konnect-format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	c = defaultPostConfig()
	c.Input, c.Adapter = "payments", adapterKong
	if err := c.Validate(); err != nil || c.adapter() != adapterKong || c.target() != "http://127.0.0.1:9780/ingest/payments" {
		t.Fatalf("named input with -adapter: %v, %s", err, c.target())
	}
}
