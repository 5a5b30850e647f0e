package kongadmin

import (
	"context"
	"testing"
)

// BenchmarkPass reads 10 000 records (5 000 per endpoint, 50 a second)
// from the fake Admin API, converts them and stores them in memory.
func BenchmarkPass(b *testing.B) {
	f := newFake(b)
	for ts := int64(1_700_000_000); ts < 1_700_000_100; ts++ {
		f.add(EndpointRequests, ts, 50)
		f.add(EndpointObjects, ts, 50)
	}
	n := f.count()
	c := testConfig(f)
	b.ReportAllocs()
	iterations := 0
	for b.Loop() {
		b.StopTimer()
		h := newHarness(b, newSink())
		p := h.poller(b, c)
		b.StartTimer()
		iterations++
		for _, ep := range c.Endpoints {
			if _, err := p.pass(context.Background(), ep); err != nil {
				b.Fatal(err)
			}
		}
		if got := h.sink.(*memSink).distinct(); got != n {
			b.Fatalf("stored %d of %d", got, n)
		}
	}
	b.ReportMetric(float64(n*iterations)/b.Elapsed().Seconds(), "events/s")
}
