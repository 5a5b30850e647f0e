package status_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/internal/status"
)

var _ = golden.Update // accept go test ./... -update

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSnapshotShape(t *testing.T) {
	r := status.New(func() time.Time { return t0 })
	r.Output("splunk")
	r.Input("openfaas")
	r.PullInput("kong_admin")
	got := marshal(t, r.Snapshot())
	want := `{"outputs":{"splunk":{"enabled":true,"status":"active","queued":0,"delivered":0,"retries":0,"failures":0,"dead_lettered":0}},` +
		`"inputs":{"kong_admin":{"accepted":0,"duplicates":0,"ignored":0,"rejected":0,"status":"active"},"openfaas":{"accepted":0,"duplicates":0,"ignored":0,"rejected":0}}}`
	if got != want {
		t.Errorf("fresh snapshot\n got %s\nwant %s", got, want)
	}
}

func TestOutputLifecycle(t *testing.T) {
	r := status.New(func() time.Time { return t0 })
	o := r.Output("splunk")
	for i := range 5 {
		o.Observe(auditrelay.Attempt{At: t0.Add(time.Duration(i) * time.Second), StatusCode: 503, Err: errors.New("status 503"), Retry: i > 0})
	}
	o.Failed(&auditrelay.DeliveryError{StatusCode: 503})
	o.SetQueued(120)
	got := marshal(t, r.Snapshot().Outputs["splunk"])
	want := `{"enabled":true,"status":"inactive","last_attempt_at":"2025-01-01T00:00:04Z","last_response_code":503,"queued":120,"delivered":0,"retries":4,"failures":1,"dead_lettered":0,"last_error":"delivery failed with status 503"}`
	if got != want {
		t.Errorf("after failed round\n got %s\nwant %s", got, want)
	}
	o.Observe(auditrelay.Attempt{At: t0.Add(35 * time.Second), StatusCode: 200})
	o.Delivered(100)
	o.DeadLettered(2)
	o.SetQueued(18)
	o.Succeeded()
	got = marshal(t, r.Snapshot().Outputs["splunk"])
	want = `{"enabled":true,"status":"active","last_attempt_at":"2025-01-01T00:00:35Z","last_response_code":200,"queued":18,"delivered":100,"retries":4,"failures":1,"dead_lettered":2}`
	if got != want {
		t.Errorf("after success\n got %s\nwant %s", got, want)
	}
	o.Observe(auditrelay.Attempt{StatusCode: 403})
	o.Paused(errors.New(`splunk rejected the token (code 4, invalid token): check "token"`))
	s := r.Snapshot().Outputs["splunk"]
	if s.Status != status.Inactive || !s.Paused || s.LastError == "" || s.LastAttemptAt != "2025-01-01T00:00:00Z" {
		t.Errorf("paused: %+v", s)
	}
	o.SetEnabled(false)
	if r.Snapshot().Outputs["splunk"].Enabled {
		t.Error("SetEnabled(false) ignored")
	}
	// a connection error leaves no response code
	o.Observe(auditrelay.Attempt{At: t0, Err: errors.New("connection refused")})
	if s := o.Snapshot(); s.LastResponseCode != 0 {
		t.Errorf("code after connection error = %d", s.LastResponseCode)
	}
}

func TestPullInput(t *testing.T) {
	r := status.New(nil)
	in := r.PullInput("kong_admin")
	in.Count(10, 1, 2, 0)
	in.Observe(auditrelay.Attempt{At: t0, StatusCode: 500, Err: errors.New("status 500")})
	s := in.Snapshot()
	if s.Status != status.Inactive || s.LastResponseCode != 500 || s.LastAttemptAt != "2025-01-01T00:00:00Z" || s.Accepted != 10 || s.Duplicates != 1 || s.Ignored != 2 {
		t.Errorf("after failure: %+v", s)
	}
	in.Observe(auditrelay.Attempt{At: t0.Add(time.Second), StatusCode: 200})
	if s := in.Snapshot(); s.Status != status.Active || s.LastError != "" {
		t.Errorf("after success: %+v", s)
	}
	if r.Input("kong_admin") != in {
		t.Error("Input returned a different status for the same name")
	}
	push := r.Input("openfaas")
	push.Count(3, 0, 0, 1)
	if got := marshal(t, push.Snapshot()); got != `{"accepted":3,"duplicates":0,"ignored":0,"rejected":1}` {
		t.Errorf("push input: %s", got)
	}
}

func TestConcurrent(t *testing.T) {
	r := status.New(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := r.Output("out")
			in := r.Input("in")
			for j := range 200 {
				o.Observe(auditrelay.Attempt{At: time.Now(), StatusCode: 200, Retry: j%2 == 0})
				o.Delivered(1)
				in.Count(1, 0, 0, 0)
				if j%50 == 0 {
					_ = r.Snapshot()
				}
			}
		}()
	}
	wg.Wait()
	s := r.Snapshot()
	if s.Outputs["out"].Delivered != 1600 || s.Outputs["out"].Retries != 800 || s.Inputs["in"].Accepted != 1600 {
		t.Errorf("counts: %+v %+v", s.Outputs["out"], s.Inputs["in"])
	}
}
