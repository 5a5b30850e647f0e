//go:build soak

package main

import (
	"testing"
	"time"
)

// TestSinkDownSixtySeconds is issue 8's literal case: the sink is down for
// 60 s while senders keep posting; nothing is lost, and the output goes
// inactive, then active. Run with: go test -tags soak -run Sixty ./cmd/auditrelay
func TestSinkDownSixtySeconds(t *testing.T) {
	sinkOutage(t, 60*time.Second)
}

// TestKillNineSoak kills the relay 40 times under load.
func TestKillNineSoak(t *testing.T) {
	killUnderLoad(t, 40)
}
