//go:build bench

// Package bench_test runs the relay in-process under the same load as
// bench/e2e.sh "throughput", so that go test's profiling flags see only the
// relay (the load tool and its HEC sink run as child processes):
//
//	go test -tags bench -run TestE2E -count 1 -v ./bench \
//	    -cpuprofile /tmp/cpu.out -memprofile /tmp/mem.out -total 1000000
//	go tool pprof -top bench.test /tmp/cpu.out
//
// Loopback only; the run is bounded by -total and -duration.
package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/conf"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/relay"
)

var _ = golden.Update // accept go test ./... -update

var (
	total       = flag.Int("total", 1_000_000, "events to send")
	batch       = flag.Int("batch", 100, "events per POST")
	concurrency = flag.Int("concurrency", 4, "POSTs in flight")
	rate        = flag.Int("rate", 0, "events per second offered (0: as fast as answered)")
	input       = flag.String("input", "openfaas", "input to load: openfaas or konnect (newline JSON)")
	duration    = flag.Duration("duration", 120*time.Second, "hard stop of the load")
)

const (
	secret = "bench-hmac-secret"
	token  = "bench-hec-token"
)

func TestE2E(t *testing.T) {
	tools := t.TempDir()
	load := filepath.Join(tools, "auditrelay-load")
	build := exec.Command("go", "build", "-o", load, "./cmd/auditrelay-load")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the load tool: %v\n%s", err, out)
	}
	sinkAddr, relayAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), *duration+2*time.Minute)
	defer cancel()

	var sinkOut bytes.Buffer
	sink := exec.CommandContext(ctx, load, "sink", "-listen", sinkAddr, "-token", token, "-report", "0",
		"-expect", fmt.Sprint(*total), "-exit-after-idle", "1s", "-json")
	sink.Stdout, sink.Stderr = &sinkOut, os.Stderr
	sink.Env = toolEnv()
	if err := sink.Start(); err != nil {
		t.Fatalf("start sink: %v", err)
	}
	defer func() { _ = sink.Process.Kill() }()

	cfg, err := conf.Parse([]conf.Source{{Name: "bench.toml", Text: config(relayAddr, sinkAddr, t.TempDir())}}, os.LookupEnv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	r, err := relay.Open(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatalf("open relay: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- r.Run(runCtx) }()
	waitListening(t, relayAddr)

	args := []string{"post", "-url", "http://" + relayAddr, "-input", *input, "-batch", fmt.Sprint(*batch),
		"-concurrency", fmt.Sprint(*concurrency), "-rate", fmt.Sprint(*rate), "-total", fmt.Sprint(*total),
		"-duration", duration.String(), "-json"}
	if *input == "konnect" {
		args = append(args, "-konnect-format", "json", "-authorization", "Bearer "+secret)
	} else {
		args = append(args, "-secret", secret)
	}
	post := exec.CommandContext(ctx, load, args...)
	post.Stderr = os.Stderr
	post.Env = toolEnv()
	loadOut, err := post.Output()
	if err != nil {
		t.Errorf("load: %v", err)
	}
	if err := sink.Wait(); err != nil {
		t.Errorf("sink: %v", err)
	}
	stop()
	if err := <-ran; err != nil {
		t.Errorf("relay: %v", err)
	}
	var l struct {
		EventsPerSec float64 `json:"events_per_s"`
		Latency      struct {
			P50 float64 `json:"p50_ms"`
			P99 float64 `json:"p99_ms"`
			Max float64 `json:"max_ms"`
		} `json:"ack_latency"`
	}
	var s struct {
		Events       int64   `json:"events"`
		EventsPerSec float64 `json:"events_per_s"`
	}
	if err := json.Unmarshal(loadOut, &l); err != nil {
		t.Fatalf("load result %q: %v", loadOut, err)
	}
	if err := json.Unmarshal(sinkOut.Bytes(), &s); err != nil {
		t.Fatalf("sink result %q: %v", sinkOut.String(), err)
	}
	t.Logf("delivered %d events at %.0f events/s (ingest %.0f events/s); ack p50 %.1f ms p99 %.1f ms max %.1f ms",
		s.Events, s.EventsPerSec, l.EventsPerSec, l.Latency.P50, l.Latency.P99, l.Latency.Max)
	if s.Events < int64(*total) {
		t.Errorf("sink counted %d events, want %d", s.Events, *total)
	}
}

// toolEnv is the environment of the load tool and its sink: one P each, as
// bench/e2e.sh runs them, so that they leave the cores to the relay.
func toolEnv() []string { return append(os.Environ(), "GOMAXPROCS=1") }

func config(listen, sink, dataDir string) string {
	return fmt.Sprintf(`
[relay]
listen = %q
data_dir = %q
spool_max_bytes = "4GiB"

[inputs.openfaas]
adapter = "openfaas"
secret = %q

[inputs.konnect]
adapter = "konnect"
authorization = "Bearer %s"

[outputs.splunk]
type = "splunkhec"
format = "json"
url = "http://%s"
allow_http = true
token = %q
gzip = true
sourcetype = "auditrelay:json"
`, listen, dataDir, secret, secret, sink, token)
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("relay did not listen on %s", addr)
}
