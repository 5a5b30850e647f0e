package splunkhec_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/outputs/splunkhec"
)

func benchmarkWrite(b *testing.B, gz bool) {
	var bytesIn int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytesIn += n // one request at a time: Write is serialised
		_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	cfg := splunkhec.DefaultConfig()
	cfg.URL, cfg.AllowHTTP, cfg.Token, cfg.Gzip = srv.URL, true, auditrelay.NewSecret(token), gz
	out, err := splunkhec.New(cfg, auditrelay.OutputSettings{Name: "bench", Format: jsonformat.New(), FormatName: "json",
		Retry:           auditrelay.RetryPolicy{WaitMin: auditrelay.Duration(time.Millisecond), WaitMax: auditrelay.Duration(time.Millisecond)},
		MaxRequestBytes: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	evs := events(1000)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := out.Write(context.Background(), evs); err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(bytesIn)/float64(n), "wire-bytes/event")
}

func BenchmarkWrite(b *testing.B)     { benchmarkWrite(b, false) }
func BenchmarkWriteGzip(b *testing.B) { benchmarkWrite(b, true) }
