package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strings"
	"time"
)

// histogram is a log-linear latency histogram in microseconds: exact below
// 32 µs, then 32 buckets per power of two (relative error under 3.2%). It
// takes constant memory (15 KiB) whatever the number of samples.
type histogram struct {
	counts [32 + 59*32]uint64
	n      uint64
	max    uint64
}

func bucketOf(v uint64) int {
	if v < 32 {
		return int(v)
	}
	shift := bits.Len64(v) - 6
	return 32 + shift*32 + int(v>>uint(shift)) - 32
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < 32 {
		return uint64(i)
	}
	shift := (i - 32) / 32
	m := uint64((i-32)%32 + 32)
	return (m+1)<<uint(shift) - 1
}

// record adds one sample.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

// merge adds o's samples.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile is the value at or below which a fraction q of the samples lie
// (the upper edge of its bucket, never above the maximum seen).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}

// latencyReport is the ack latency summary, in milliseconds.
type latencyReport struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

func (h *histogram) report() latencyReport {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latencyReport{
		Samples: h.n,
		P50:     ms(h.quantile(0.50)),
		P99:     ms(h.quantile(0.99)),
		Max:     ms(time.Duration(h.max) * time.Microsecond),
	}
}

// postResult is what a post run measured.
type postResult struct {
	Mode        string `json:"mode"`
	URL         string `json:"url"`
	Adapter     string `json:"adapter"`
	Batch       int    `json:"batch"`
	Concurrency int    `json:"concurrency"`
	Rate        int    `json:"rate"`
	Gzip        bool   `json:"gzip"`
	// Posts counts POSTs that got a final answer or error.
	Posts int64 `json:"posts"`
	// EventsSent counts events in POSTs that were sent at least once.
	EventsSent int64 `json:"events_sent"`
	// EventsAcked counts events in POSTs answered 2xx.
	EventsAcked int64 `json:"events_acked"`
	Accepted    int64 `json:"accepted"`
	Duplicates  int64 `json:"duplicates"`
	Ignored     int64 `json:"ignored"`
	Rejected    int64 `json:"rejected"`
	// Unparsed counts 2xx answers without the relay's JSON counts.
	Unparsed int64 `json:"unparsed_answers"`
	// Backpressure counts 503/429 answers (and, for konghooks, closed
	// connections) that were retried.
	Backpressure int64 `json:"backpressure"`
	// Errors counts failed POSTs by status code, "connection" or "timeout".
	Errors      map[string]int64 `json:"errors"`
	ErrorEvents int64            `json:"error_events"`
	// Aborted counts events whose POST was cut off by -duration or a signal.
	Aborted      int64         `json:"aborted_events"`
	Bytes        int64         `json:"bytes_sent"`
	Elapsed      float64       `json:"elapsed_s"`
	EventsPerSec float64       `json:"events_per_s"`
	Latency      latencyReport `json:"ack_latency"`
	// Stopped says why the run ended: total, duration or interrupted.
	Stopped string `json:"stopped"`
}

func (r *postResult) errorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// writeText prints the result for a person.
func (r *postResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "target        %s (adapter %s, batch %d, concurrency %d, rate %s, gzip %t)\n",
		r.URL, r.Adapter, r.Batch, r.Concurrency, rateText(r.Rate), r.Gzip)
	fmt.Fprintf(w, "stopped by    %s after %.3fs\n", r.Stopped, r.Elapsed)
	fmt.Fprintf(w, "posts         %d (%s sent)\n", r.Posts, byteText(r.Bytes))
	fmt.Fprintf(w, "events        sent %d, acked %d, accepted %d, duplicates %d, ignored %d, rejected %d\n",
		r.EventsSent, r.EventsAcked, r.Accepted, r.Duplicates, r.Ignored, r.Rejected)
	fmt.Fprintf(w, "throughput    %.0f events/s (acked events / elapsed)\n", r.EventsPerSec)
	fmt.Fprintf(w, "ack latency   p50 %.3fms  p99 %.3fms  max %.3fms  (%d POSTs)\n",
		r.Latency.P50, r.Latency.P99, r.Latency.Max, r.Latency.Samples)
	fmt.Fprintf(w, "backpressure  %d retried 503/429 answers\n", r.Backpressure)
	fmt.Fprintf(w, "errors        %s (%d events)", mapText(r.Errors), r.ErrorEvents)
	if r.Aborted > 0 {
		fmt.Fprintf(w, ", %d events aborted at stop", r.Aborted)
	}
	if r.Unparsed > 0 {
		fmt.Fprintf(w, ", %d 2xx answers without counts", r.Unparsed)
	}
	fmt.Fprintln(w)
}

// sinkResult is what a sink run counted.
type sinkResult struct {
	Mode     string `json:"mode"`
	Listen   string `json:"listen"`
	Events   int64  `json:"events"`
	Requests int64  `json:"requests"`
	// HECEvents and HTTPEvents split Events by endpoint.
	HECEvents  int64 `json:"hec_events"`
	HTTPEvents int64 `json:"http_events"`
	Bytes      int64 `json:"bytes"`
	// Refused counts requests answered with an error, by status code
	// (injected -fail-first answers included).
	Refused      map[string]int64 `json:"refused"`
	DistinctIDs  int64            `json:"distinct_ids,omitempty"`
	DuplicateIDs int64            `json:"duplicate_ids,omitempty"`
	IDsTruncated bool             `json:"ids_truncated,omitempty"`
	FirstEvent   string           `json:"first_event_at,omitempty"`
	LastEvent    string           `json:"last_event_at,omitempty"`
	Active       float64          `json:"active_s"`
	EventsPerSec float64          `json:"events_per_s"`
	Expect       int64            `json:"expect,omitempty"`
	Stopped      string           `json:"stopped"`
}

func (r *sinkResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "sink          %s stopped by %s\n", r.Listen, r.Stopped)
	fmt.Fprintf(w, "events        %d (hec %d, http %d) in %d requests (%s)\n",
		r.Events, r.HECEvents, r.HTTPEvents, r.Requests, byteText(r.Bytes))
	fmt.Fprintf(w, "throughput    %.0f events/s over %.3fs from first to last event\n", r.EventsPerSec, r.Active)
	if r.FirstEvent != "" {
		fmt.Fprintf(w, "first/last    %s / %s\n", r.FirstEvent, r.LastEvent)
	}
	fmt.Fprintf(w, "refused       %s\n", mapText(r.Refused))
	if r.DistinctIDs > 0 || r.DuplicateIDs > 0 {
		fmt.Fprintf(w, "ids           %d distinct, %d duplicates", r.DistinctIDs, r.DuplicateIDs)
		if r.IDsTruncated {
			fmt.Fprint(w, " (stopped tracking at the limit)")
		}
		fmt.Fprintln(w)
	}
	if r.Expect > 0 {
		fmt.Fprintf(w, "expected      %d events: %s\n", r.Expect, expectText(r.Events, r.Expect))
	}
}

func expectText(got, want int64) string {
	if got >= want {
		return "reached"
	}
	return fmt.Sprintf("missing %d", want-got)
}

// writeJSON prints v as one JSON line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func rateText(r int) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d/s", r)
}

func mapText(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func byteText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
