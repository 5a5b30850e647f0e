package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/spool"
	"github.com/auditrelay/auditrelay/internal/status"
)

// counting is an Output that counts events and cancels once it has seen
// want of them.
type counting struct {
	n, want int
	done    context.CancelFunc
}

func (c *counting) Write(_ context.Context, events []auditrelay.Event) error {
	if c.n += len(events); c.n >= c.want {
		c.done()
	}
	return nil
}

func (c *counting) Close() error { return nil }

// BenchmarkLoop drains a spool of 100,000 typical events through a loop
// (read, decode, route, hand to the output, commit with fsync'd cursor
// writes), in batches of 1000: the runtime's cost per delivered event
// without the output's own encoding.
func BenchmarkLoop(b *testing.B) {
	const events = 100_000
	sp, err := spool.Open(spool.Options{Dir: b.TempDir(), MaxBytes: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	records := make([][]byte, 0, 1000)
	for i := range events {
		e := benchEvent(i)
		records = append(records, spool.AppendEvent([]byte{0}, &e)) // journal kind 0: routed by input
		if len(records) == cap(records) {
			if err := sp.Append(context.Background(), records); err != nil {
				b.Fatal(err)
			}
			records = records[:0]
		}
	}
	st := status.New(time.Now)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		q, err := sp.Reader(fmt.Sprint("out-", n))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out := &counting{want: events, done: cancel}
		l := New(Options{
			Name: "out", Output: out, Queue: q, Takes: func(string) bool { return true },
			BatchMaxEvents: 1000, BatchMaxBytes: 1 << 20, FlushInterval: time.Second, RoundWait: time.Second,
			Status: st.Output("out"), Logger: slog.New(slog.DiscardHandler),
		})
		if err := l.Run(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		if out.n < events {
			b.Fatalf("delivered %d of %d events", out.n, events)
		}
		n++
		q.Close()
	}
	b.ReportMetric(float64(n*events)/b.Elapsed().Seconds(), "events/s")
}

func benchEvent(i int) auditrelay.Event {
	at := time.Date(2025, 6, 1, 12, 0, 0, i*1000, time.UTC)
	return auditrelay.Event{
		ID: fmt.Sprintf("sha256:%032x", i), Time: at, ReceivedAt: at.Add(time.Millisecond),
		Source:   auditrelay.Source{Kind: "openfaas", Input: "openfaas", DeliveryID: "5f0c7d1e-3b1a-4c7e-9d7a-2f4b8e6a1c3d"},
		Actor:    auditrelay.Actor{ID: "user-42", Name: "alice", Issuer: "https://idp.example.com", Type: "user", Roles: []string{"admin"}},
		Action:   auditrelay.Action{Name: "Function:Deploy", All: []string{"Function:Deploy"}, Verb: "create"},
		Resource: auditrelay.Resource{Type: "function", Name: "nodeinfo", Namespace: "openfaas-fn"},
		Request:  auditrelay.Request{Method: "POST", Path: "/system/functions", ClientIP: "10.0.0.7", UserAgent: "faas-cli/0.17"},
		Outcome:  auditrelay.Outcome{Result: "success", StatusCode: 202},
		Severity: 3,
	}
}
