package relay

import (
	"sort"

	"github.com/auditrelay/auditrelay/internal/metrics"
	"github.com/auditrelay/auditrelay/internal/status"
)

// registerMetrics exposes the spool and the outputs' status as metrics,
// read at every scrape. Ingest registers its own request metrics.
func (r *Relay) registerMetrics() {
	m := r.metrics
	m.Gauge("auditrelay_spool_bytes", "Bytes the spool holds on disk.", func() []metrics.Sample {
		return []metrics.Sample{{Value: float64(r.spool.Size())}}
	})
	m.Gauge("auditrelay_spool_records", "Records the spool holds (its depth).", func() []metrics.Sample {
		return []metrics.Sample{{Value: float64(r.spool.Depth())}}
	})
	perOutput := func(v func(status.OutputSnapshot) float64) func() []metrics.Sample {
		return func() []metrics.Sample {
			snap := r.status.Snapshot().Outputs
			names := sortedNames(snap)
			out := make([]metrics.Sample, len(names))
			for i, n := range names {
				out[i] = metrics.Sample{Labels: []string{n}, Value: v(snap[n])}
			}
			return out
		}
	}
	m.CounterFunc("auditrelay_output_delivered_events_total", "Events delivered per output.",
		perOutput(func(s status.OutputSnapshot) float64 { return float64(s.Delivered) }), "output")
	m.CounterFunc("auditrelay_output_retries_total", "Requests retried per output.",
		perOutput(func(s status.OutputSnapshot) float64 { return float64(s.Retries) }), "output")
	m.CounterFunc("auditrelay_output_dead_lettered_events_total", "Events moved to dead letter per output.",
		perOutput(func(s status.OutputSnapshot) float64 { return float64(s.DeadLettered) }), "output")
	m.Gauge("auditrelay_output_queued_events", "Events in the spool not yet delivered per output.",
		perOutput(func(s status.OutputSnapshot) float64 { return float64(s.Queued) }), "output")
	pullInputs := func(v func(status.InputSnapshot) float64) func() []metrics.Sample {
		return func() []metrics.Sample {
			snap := r.status.Snapshot().Inputs
			var out []metrics.Sample
			for _, n := range sortedNames(snap) {
				if s := snap[n]; s.Status != "" {
					out = append(out, metrics.Sample{Labels: []string{n}, Value: v(s)})
				}
			}
			return out
		}
	}
	m.Gauge("auditrelay_input_active", "Pull inputs: 1 when the last request to the source succeeded, 0 when it failed.",
		pullInputs(func(s status.InputSnapshot) float64 {
			if s.Status == status.Active {
				return 1
			}
			return 0
		}), "input")
	m.Gauge("auditrelay_input_last_response_code", "Pull inputs: the last HTTP status the source answered (0: no answer).",
		pullInputs(func(s status.InputSnapshot) float64 { return float64(s.LastResponseCode) }), "input")
	m.Gauge("auditrelay_output_active", "1 when the output's last round succeeded, 0 when inactive or paused.",
		perOutput(func(s status.OutputSnapshot) float64 {
			if s.Status == status.Active {
				return 1
			}
			return 0
		}), "output")
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
