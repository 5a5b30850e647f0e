package splunkhec_test

import (
	"bytes"
	"fmt"

	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

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
	evs := loadEvents(1000)
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

// BenchmarkGzipLevel compresses one realistic 1000-event body at each
// level klauspost/compress offers for the gzip stream, to compare speed
// (MB/s of body) with size (wire-bytes/event, ratio).
func BenchmarkGzipLevel(b *testing.B) {
	enc := splunkhec.NewEncoder(splunkhec.Envelope{Sourcetype: "auditrelay:json"}, jsonformat.New(), false)
	evs := loadEvents(1000)
	body, _ := enc.Encode(nil, evs)
	for _, level := range []int{gzip.StatelessCompression, gzip.HuffmanOnly, 1, 2, 3, 4, 5, 6, 7, 9} {
		b.Run(fmt.Sprint("level=", level), func(b *testing.B) {
			zw, err := gzip.NewWriterLevel(nil, level)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				zw.Reset(&buf)
				if _, err := zw.Write(body); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(buf.Len())/float64(len(evs)), "wire-bytes/event")
			b.ReportMetric(float64(len(body))/float64(buf.Len()), "ratio")
		})
	}
}
