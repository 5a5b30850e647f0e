// Package metrics is a small Prometheus text-format registry: labelled
// counters, histograms and gauges read at scrape time. It writes the text
// exposition format 0.0.4 (what /metrics serves) and needs no client
// library.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families by name.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// New returns an empty registry.
func New() *Registry { return &Registry{families: map[string]*family{}} }

type family struct {
	name, help, kind string
	labels           []string
	mu               sync.Mutex
	series           map[string]*series // by joined label values
	gauge            func() []Sample    // gauges: read at scrape
	buckets          []float64
}

type series struct {
	values  []string
	count   atomic.Uint64 // counter value, or histogram count
	sumBits atomic.Uint64 // histogram sum (float64 bits)
	buckets []atomic.Uint64
}

// Sample is one gauge value with its label values.
type Sample struct {
	Labels []string
	Value  float64
}

func (r *Registry) family(name, help, kind string, labels []string) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.families[name]
	if !ok {
		f = &family{name: name, help: help, kind: kind, labels: labels, series: map[string]*series{}}
		r.families[name] = f
	}
	return f
}

// Counter is a labelled counter family.
type Counter struct{ f *family }

// Counter registers (or returns) a counter family.
func (r *Registry) Counter(name, help string, labels ...string) Counter {
	return Counter{r.family(name, help, "counter", labels)}
}

// Add adds n to the series with the given label values.
func (c Counter) Add(n int, values ...string) {
	if n <= 0 {
		return
	}
	c.f.get(values).count.Add(uint64(n))
}

// Value returns the series' value, for tests.
func (c Counter) Value(values ...string) uint64 { return c.f.get(values).count.Load() }

// Histogram is a labelled histogram family.
type Histogram struct{ f *family }

// Histogram registers (or returns) a histogram family with upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) Histogram {
	f := r.family(name, help, "histogram", labels)
	f.buckets = buckets
	return Histogram{f}
}

// Observe records v in the series with the given label values.
func (h Histogram) Observe(v float64, values ...string) {
	s := h.f.get(values)
	s.count.Add(1)
	for {
		old := s.sumBits.Load()
		if s.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	for i, b := range h.f.buckets {
		if v <= b {
			s.buckets[i].Add(1)
		}
	}
}

// Gauge registers a gauge family read by fn at every scrape.
func (r *Registry) Gauge(name, help string, fn func() []Sample, labels ...string) {
	f := r.family(name, help, "gauge", labels)
	f.gauge = fn
}

// CounterFunc registers a counter family whose values fn reads at every
// scrape from counts kept elsewhere (internal/status).
func (r *Registry) CounterFunc(name, help string, fn func() []Sample, labels ...string) {
	f := r.family(name, help, "counter", labels)
	f.gauge = fn
}

func (f *family) get(values []string) *series {
	key := strings.Join(values, "\xff")
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.series[key]
	if !ok {
		s = &series{values: append([]string(nil), values...), buckets: make([]atomic.Uint64, len(f.buckets))}
		f.series[key] = s
	}
	return s
}

// WriteText writes every family in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	r.mu.Unlock()
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		r.mu.Lock()
		f := r.families[n]
		r.mu.Unlock()
		f.write(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f *family) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	if f.gauge != nil {
		for _, s := range f.gauge() {
			fmt.Fprintf(b, "%s%s %s\n", f.name, labelText(f.labels, s.Labels, "", ""), formatFloat(s.Value))
		}
		return
	}
	f.mu.Lock()
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	all := make([]*series, len(keys))
	for i, k := range keys {
		all[i] = f.series[k]
	}
	f.mu.Unlock()
	for _, s := range all {
		if f.kind == "counter" {
			fmt.Fprintf(b, "%s%s %d\n", f.name, labelText(f.labels, s.values, "", ""), s.count.Load())
			continue
		}
		for i, ub := range f.buckets {
			fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", formatFloat(ub)), s.buckets[i].Load())
		}
		fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", "+Inf"), s.count.Load())
		fmt.Fprintf(b, "%s_sum%s %s\n", f.name, labelText(f.labels, s.values, "", ""), formatFloat(math.Float64frombits(s.sumBits.Load())))
		fmt.Fprintf(b, "%s_count%s %d\n", f.name, labelText(f.labels, s.values, "", ""), s.count.Load())
	}
}

func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var parts []string
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		parts = append(parts, n+`="`+escapeLabel(v)+`"`)
	}
	if extraName != "" {
		parts = append(parts, extraName+`="`+extraValue+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// LatencyBuckets are request-duration bounds in seconds, 0.5 ms to 10 s.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
