//go:build soak

package splunkhec

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/internal/status"
)

// TestDefaultPolicyAgainstFailingSink runs the real default policy (4
// retries, 1–30 s): a sink answering 503 four times then 200 gets the batch
// on the fifth attempt with every wait inside [1 s, 30 s]; five 503s leave
// the output inactive with last_response_code 503 and nothing delivered.
// About 15–60 s; run with: go test -tags soak -run DefaultPolicy ./outputs/splunkhec -v
func TestDefaultPolicyAgainstFailingSink(t *testing.T) {
	for _, failures := range []int{4, 5} {
		t.Run(fmt.Sprint(failures, "x503"), func(t *testing.T) {
			var mu sync.Mutex
			var at []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at = append(at, time.Now())
				n := len(at)
				mu.Unlock()
				if n <= failures {
					w.WriteHeader(503)
					return
				}
				_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
			}))
			defer srv.Close()
			reg := status.New(nil)
			st := reg.Output("hec")
			cfg := DefaultConfig()
			cfg.URL, cfg.AllowHTTP, cfg.Token = srv.URL, true, auditrelay.NewSecret("t")
			out, err := New(cfg, auditrelay.OutputSettings{Name: "hec", Format: json.New(), FormatName: "json",
				Retry: auditrelay.DefaultRetryPolicy(), Observe: st.Observe})
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			err = out.Write(context.Background(), []auditrelay.Event{{ID: "e1"}})
			if err != nil {
				st.Failed(err)
			} else {
				st.Delivered(1)
				st.Succeeded()
			}
			for i := 1; i < len(at); i++ {
				gap := at[i].Sub(at[i-1])
				t.Logf("wait before attempt %d: %v", i+1, gap.Round(time.Millisecond))
				if gap < time.Second || gap > 30*time.Second+200*time.Millisecond {
					t.Errorf("wait %v outside [1s, 30s]", gap)
				}
			}
			snap := st.Snapshot()
			if failures == 4 && (err != nil || len(at) != 5 || snap.Delivered != 1 || snap.Status != "active") {
				t.Fatalf("4×503: err %v after %d attempts, status %+v", err, len(at), snap)
			}
			if failures == 5 && (err == nil || len(at) != 5 || snap.Status != "inactive" || snap.LastResponseCode != 503 || snap.Delivered != 0) {
				t.Fatalf("5×503: err %v after %d attempts, status %+v", err, len(at), snap)
			}
		})
	}
}
