package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

func TestTextExposition(t *testing.T) {
	r := New()
	c := r.Counter("auditrelay_input_events_total", "Events by input and result.", "input", "result")
	c.Add(3, "openfaas", "accepted")
	c.Add(1, "open\"faas", "duplicate")
	c.Add(0, "never", "shown")
	h := r.Histogram("auditrelay_ingest_request_duration_seconds", "Ingest latency.", []float64{0.01, 0.1}, "input")
	h.Observe(0.005, "openfaas")
	h.Observe(0.05, "openfaas")
	r.Gauge("auditrelay_spool_bytes", "Spool size.", func() []Sample { return []Sample{{Value: 4096}} })
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP auditrelay_ingest_request_duration_seconds Ingest latency.
# TYPE auditrelay_ingest_request_duration_seconds histogram
auditrelay_ingest_request_duration_seconds_bucket{input="openfaas",le="0.01"} 1
auditrelay_ingest_request_duration_seconds_bucket{input="openfaas",le="0.1"} 2
auditrelay_ingest_request_duration_seconds_bucket{input="openfaas",le="+Inf"} 2
auditrelay_ingest_request_duration_seconds_sum{input="openfaas"} 0.055
auditrelay_ingest_request_duration_seconds_count{input="openfaas"} 2
# HELP auditrelay_input_events_total Events by input and result.
# TYPE auditrelay_input_events_total counter
auditrelay_input_events_total{input="open\"faas",result="duplicate"} 1
auditrelay_input_events_total{input="openfaas",result="accepted"} 3
# HELP auditrelay_spool_bytes Spool size.
# TYPE auditrelay_spool_bytes gauge
auditrelay_spool_bytes 4096
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestConcurrentCounting(t *testing.T) {
	r := New()
	c := r.Counter("x_total", "x", "k")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add(1, "a")
			}
		})
	}
	wg.Wait()
	if got := c.Value("a"); got != 8000 {
		t.Fatalf("got %d, want 8000", got)
	}
}
