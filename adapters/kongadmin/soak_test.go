//go:build soak

package kongadmin

import (
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
)

// TestSoakMustShow is the "must show" at full scale: 10 000
// records in bursts of 50 per second, still growing while polled, three
// restarts in the middle of paging and a 12-second outage, with the
// shipped retry policy (4 retries, 1–30 s) and lookback.
//
//	go test -tags soak -run TestSoakMustShow -v ./adapters/kongadmin/
func TestSoakMustShow(t *testing.T) {
	runScenario(t, scenario{
		total: 10_000, burst: 50, late: 5, preload: 100,
		growEvery: 150 * time.Millisecond, outage: 12 * time.Second,
		config: func(c *Config) {
			c.Interval = auditrelay.Duration(time.Second)
			c.Retry = auditrelay.DefaultRetryPolicy()
			c.Lookback = DefaultConfig().Lookback
		},
	})
}
