package main

// End-to-end proofs of the delivery guarantee (DESIGN.md "Delivery
// guarantee") against the real relay binary: kill -9 under load, a sink
// that goes away, a full spool, dedup of resent batches, dead letters and
// both replay commands.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

// hecSink is a Splunk HEC collector on a fixed loopback port that can stop
// listening (down) and come back on the same port (up), pause after it has
// indexed a request before it answers (so a relay killed then never hears
// the answer), and refuse one chosen event the way HEC does: code 6 with
// "invalid-event-number", the events before it indexed.
type hecSink struct {
	*sink // what was indexed: ids(), count()
	addr  string

	mu       sync.Mutex
	srv      *http.Server
	maxDelay time.Duration
	poison   string // request.path of the event to refuse; "" refuses none

	requests atomic.Int64
	inflight atomic.Int64
}

func newHECSink(t *testing.T) *hecSink {
	t.Helper()
	h := &hecSink{sink: &sink{}, addr: freeAddr(t)}
	h.up(t)
	t.Cleanup(h.down)
	return h
}

func (h *hecSink) url() string { return "http://" + h.addr }

// up listens on the sink's address again (bounded retries while the port
// is released).
func (h *hecSink) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", h.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("sink: listen on %s again: %v", h.addr, err)
	}
	srv := &http.Server{Handler: h}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// down closes the listener and every connection: the relay sees
// connection refused until up.
func (h *hecSink) down() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (h *hecSink) setDelay(d time.Duration) {
	h.mu.Lock()
	h.maxDelay = d
	h.mu.Unlock()
}

func (h *hecSink) setPoison(path string) {
	h.mu.Lock()
	h.poison = path
	h.mu.Unlock()
}

func (h *hecSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	h.mu.Lock()
	delay, poison := h.maxDelay, h.poison
	h.mu.Unlock()
	if r.URL.Path != "/services/collector/event" || r.Header.Get("Authorization") != "Splunk "+hecToken {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"text":"Invalid token","code":4}`))
		return
	}
	var objs []map[string]any
	dec := json.NewDecoder(r.Body)
	for dec.More() {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"text":"Invalid data format","code":6}`))
			return
		}
		objs = append(objs, obj)
	}
	refuse := -1
	for i, o := range objs {
		if poison != "" && eventPath(o) == poison {
			refuse = i
			break
		}
	}
	indexed := objs
	if refuse >= 0 {
		indexed = objs[:refuse]
	}
	h.sink.mu.Lock()
	h.sink.events = append(h.sink.events, indexed...)
	h.sink.mu.Unlock()
	if delay > 0 {
		time.Sleep(rand.N(delay)) // indexed, not yet answered
	}
	if refuse >= 0 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, refuse)
		return
	}
	_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
}

// eventPath is the request.path of one HEC object's event.
func eventPath(obj map[string]any) string {
	ev, _ := obj["event"].(map[string]any)
	req, _ := ev["request"].(map[string]any)
	p, _ := req["path"].(string)
	return p
}

// batchIDs are the ids the openfaas adapter gives the events of body:
// "sha256:" and the first 32 hex digits of SHA-256 over "openfaas\n" and
// the compacted element (DESIGN.md, the id rule).
func batchIDs(t testing.TB, body string) []string {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(body), &elems); err != nil {
		t.Fatalf("batch body: %v", err)
	}
	ids := make([]string, len(elems))
	for i, e := range elems {
		var c bytes.Buffer
		if err := json.Compact(&c, e); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append([]byte("openfaas\n"), c.Bytes()...))
		ids[i] = "sha256:" + hex.EncodeToString(sum[:])[:32]
	}
	return ids
}

// tryPost posts a signed openfaas batch without failing the test: what a
// sender sees (code 0 with err on a connection error).
func tryPost(c *http.Client, addr, body string) (int, http.Header, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/ingest/openfaas", strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("X-Openfaas-Signature-256", sign(body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var ans map[string]any
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	_ = json.Unmarshal(b, &ans)
	return resp.StatusCode, resp.Header, ans, nil
}

func relayStatus(t *testing.T, addr string) statusDoc {
	t.Helper()
	var st statusDoc
	getJSON(t, "http://"+addr+"/status", &st)
	return st
}

// waitDrained waits until the hec output has nothing queued.
func waitDrained(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	eventually(t, within, "hec queued 0", func() bool {
		return relayStatus(t, addr).Outputs["hec"].Queued == 0
	})
}

// setRelayKeys appends keys to the [relay] section writeConfig wrote.
func setRelayKeys(t *testing.T, cfgDir, keys string) {
	t.Helper()
	path := filepath.Join(cfgDir, "00-relay.toml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b)+keys)
}

// runCLI runs the binary to completion (replay, deadletter replay).
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "E2E_OPENFAAS_SECRET="+hmacSecret)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(err), out.String(), errb.String()
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not finish within 30s", args)
	}
	return -1, "", ""
}

// loadGen is a set of concurrent senders posting signed batches of
// distinct events. A batch counts as acknowledged only on a 200 whose
// accepted+duplicates cover it; any other outcome (connection error, 503)
// is retried with the same body until the generator stops.
type loadGen struct {
	t       *testing.T
	addr    string
	size    int
	client  *http.Client
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup

	mu    sync.Mutex
	sent  map[string]bool // every id ever posted
	acked map[string]bool // ids of batches answered 200

	posts, failures, retried, dupAnswers, inflight atomic.Int64
	bad                                            atomic.Pointer[string]
}

func startLoad(t *testing.T, addr string, posters, size int) *loadGen {
	l := &loadGen{
		t: t, addr: addr, size: size, stop: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second},
		sent:   map[string]bool{}, acked: map[string]bool{},
	}
	t.Cleanup(l.halt)
	for g := range posters {
		l.wg.Go(func() { l.poster(g) })
	}
	return l
}

func (l *loadGen) halt() {
	l.stopped.Do(func() { close(l.stop) })
	l.wg.Wait()
}

func (l *loadGen) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *loadGen) poster(g int) {
	for seq := 0; !l.stopping(); seq++ {
		body := batch(fmt.Sprintf("kill%d-%d", g, seq), l.size)
		ids := batchIDs(l.t, body)
		l.mu.Lock()
		for _, id := range ids {
			l.sent[id] = true
		}
		l.mu.Unlock()
		for attempt := 0; !l.stopping(); attempt++ {
			if attempt > 0 {
				l.retried.Add(1)
			}
			l.posts.Add(1)
			l.inflight.Add(1)
			code, _, ans, err := tryPost(l.client, l.addr, body)
			l.inflight.Add(-1)
			if err != nil || code != http.StatusOK {
				l.failures.Add(1)
				time.Sleep(5 * time.Millisecond)
				continue
			}
			acc, _ := ans["accepted"].(float64)
			dup, _ := ans["duplicates"].(float64)
			if int(acc)+int(dup) != l.size {
				msg := fmt.Sprintf("batch %d-%d: 200 with %v, want accepted+duplicates = %d", g, seq, ans, l.size)
				l.bad.Store(&msg)
			}
			if dup > 0 {
				l.dupAnswers.Add(int64(dup))
			}
			l.mu.Lock()
			for _, id := range ids {
				l.acked[id] = true
			}
			l.mu.Unlock()
			break
		}
	}
}

// TestKillNineUnderLoadLosesNoAcknowledgedEvent: four senders post signed
// batches while the relay is killed with SIGKILL three times at random
// moments (with requests in ingest, group-commit fsyncs running and
// deliveries in flight at a slow sink) and restarted on the same data_dir.
// Every id answered 200 reaches the sink at least once, and the sink holds
// no id that was never posted.
func TestKillNineUnderLoadLosesNoAcknowledgedEvent(t *testing.T) {
	killUnderLoad(t, 3)
}

// killUnderLoad runs the kill -9 proof with the given number of kills.
func killUnderLoad(t *testing.T, kills int) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 8))
	t.Logf("random seed %d", seed)
	h := newHECSink(t)
	h.setDelay(120 * time.Millisecond)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, t.TempDir(), h.url(), "")
	p := start(t, addr, "run", "-c", cfg)
	load := startLoad(t, addr, 4, 20)
	var logs []string
	for k := range kills {
		time.Sleep(50*time.Millisecond + time.Duration(rng.Int64N(int64(350*time.Millisecond))))
		ingesting, delivering := load.inflight.Load(), h.inflight.Load()
		p.kill()
		t.Logf("kill %d: %d posts in ingest, %d deliveries in flight at the sink", k+1, ingesting, delivering)
		logs = append(logs, p.stderr.String())
		p = start(t, addr, "run", "-c", cfg)
	}
	time.Sleep(300 * time.Millisecond)
	load.halt()
	if msg := load.bad.Load(); msg != nil {
		t.Error(*msg)
	}
	h.setDelay(0)
	waitDrained(t, addr, 15*time.Second)
	p.stop(t)
	logs = append(logs, p.stderr.String())

	got := h.ids()
	missing, invented, dups := 0, 0, 0
	for id := range load.acked {
		if got[id] == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged event %s never reached the sink", id)
			}
		}
	}
	for id, n := range got {
		if !load.sent[id] {
			invented++
			t.Errorf("the sink got event %s that no sender posted", id)
		}
		dups += n - 1
	}
	torn := strings.Count(strings.Join(logs, ""), "truncated a torn tail")
	t.Logf("posts %d (failed %d, retried %d); ids sent %d, acknowledged %d; at the sink %d distinct, %d extra copies; "+
		"ingest answered %d ids as duplicates; torn spool tails repaired %d; sink requests %d",
		load.posts.Load(), load.failures.Load(), load.retried.Load(), len(load.sent), len(load.acked),
		len(got), dups, load.dupAnswers.Load(), torn, h.requests.Load())
	if missing > 0 || invented > 0 {
		t.Fatalf("%d acknowledged events lost, %d invented", missing, invented)
	}
	if len(load.acked) < 100*kills {
		t.Fatalf("only %d events acknowledged: the load was too thin to prove anything", len(load.acked))
	}
}

// sinkOutage: the sink stops listening for outage while senders keep
// posting; the output goes inactive and keeps everything, and once the
// sink is back every acknowledged event arrives exactly once and the
// output is active again.
func sinkOutage(t *testing.T, outage time.Duration) {
	h := newHECSink(t)
	addr := freeAddr(t)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), h.url(), ""))
	c := &http.Client{Timeout: 5 * time.Second}
	var acked []string
	send := func(tag string) {
		t.Helper()
		body := batch(tag, 10)
		code, _, ans, err := tryPost(c, addr, body)
		if err != nil || code != 200 || ans["accepted"] != 10.0 {
			t.Fatalf("post %s: %d %v %v", tag, code, ans, err)
		}
		acked = append(acked, batchIDs(t, body)...)
	}
	send("before")
	eventually(t, 5*time.Second, "the first batch at the sink", func() bool { return h.count() == 10 })
	eventually(t, 5*time.Second, "output active", func() bool { return relayStatus(t, addr).Outputs["hec"].Status == "active" })

	h.down()
	down := time.Now()
	send("during-0")
	eventually(t, 5*time.Second, "output inactive", func() bool { return relayStatus(t, addr).Outputs["hec"].Status == "inactive" })
	for i := 1; time.Since(down) < outage && i < 1000; i++ {
		send(fmt.Sprintf("during-%d", i))
		time.Sleep(min(outage/10, time.Second))
	}
	st := relayStatus(t, addr).Outputs["hec"]
	if st.Status != "inactive" || st.Queued != int64(len(acked)-10) || st.Delivered != 10 || h.count() != 10 {
		t.Fatalf("after %v down: %+v, sink has %d", time.Since(down).Round(time.Millisecond), st, h.count())
	}
	t.Logf("down %v: %d events queued, output %s, last_response_code %d, retries %d",
		time.Since(down).Round(time.Millisecond), st.Queued, st.Status, st.LastResponseCode, st.Retries)

	h.up(t)
	eventually(t, 15*time.Second, "output active and queue empty after the outage", func() bool {
		o := relayStatus(t, addr).Outputs["hec"]
		return o.Status == "active" && o.Queued == 0
	})
	send("after")
	eventually(t, 5*time.Second, "every event at the sink", func() bool { return h.count() >= len(acked) })
	p.stop(t)
	got := h.ids()
	for _, id := range acked {
		if got[id] != 1 {
			t.Errorf("event %s arrived %d times, want once", id, got[id])
		}
	}
	if len(got) != len(acked) {
		t.Errorf("sink has %d distinct events, %d were acknowledged", len(got), len(acked))
	}
}

func TestSinkDownThenUpLosesNothing(t *testing.T) {
	sinkOutage(t, 3*time.Second)
}

// TestFullSpoolAnswers503ThenAcceptsAfterDrain: with spool_max_bytes at its
// 1MiB minimum and the sink down, posts are accepted until the spool is
// full, then answered 503 with Retry-After; once the sink is back and the
// queue drained, delivered segments are deleted and the refused batch is
// accepted (not counted as duplicates: a refusal forgets its ids).
func TestFullSpoolAnswers503ThenAcceptsAfterDrain(t *testing.T) {
	h := newHECSink(t)
	h.down()
	addr := freeAddr(t)
	dataDir := t.TempDir()
	cfg := writeConfig(t, addr, dataDir, h.url(), "")
	setRelayKeys(t, cfg, "spool_max_bytes = \"1MiB\"\n")
	p := start(t, addr, "run", "-c", cfg)
	c := &http.Client{Timeout: 5 * time.Second}
	long := strings.Repeat("x", 160)
	var acked []string
	var refused string
	for i := 0; i < 200 && refused == ""; i++ {
		body := batch(fmt.Sprintf("full-%s-%d", long, i), 100)
		code, hdr, ans, err := tryPost(c, addr, body)
		switch {
		case err != nil:
			t.Fatalf("post %d: %v", i, err)
		case code == 200 && ans["accepted"] == 100.0:
			acked = append(acked, batchIDs(t, body)...)
		case code == http.StatusServiceUnavailable:
			if hdr.Get("Retry-After") == "" || ans["error"] == nil {
				t.Fatalf("503 without Retry-After or error: %v %v", hdr, ans)
			}
			t.Logf("post %d refused: 503 Retry-After %s %v", i, hdr.Get("Retry-After"), ans["error"])
			refused = body
		default:
			t.Fatalf("post %d: %d %v", i, code, ans)
		}
	}
	if refused == "" {
		t.Fatalf("spool never filled after %d events", len(acked))
	}
	full := spoolBytes(t, dataDir)
	if full > 1<<20 {
		t.Errorf("spool holds %d bytes on disk, over spool_max_bytes 1MiB", full)
	}
	if code, _, _, _ := tryPost(c, addr, refused); code != http.StatusServiceUnavailable {
		t.Fatalf("spool still full but the resent batch got %d", code)
	}
	if st := relayStatus(t, addr); st.Outputs["hec"].Queued != int64(len(acked)) || st.Inputs["openfaas"].Accepted != int64(len(acked)) {
		t.Fatalf("while full: %+v, %d acknowledged", st, len(acked))
	}

	h.up(t)
	waitDrained(t, addr, 15*time.Second)
	eventually(t, 5*time.Second, "delivered segments deleted", func() bool { return spoolBytes(t, dataDir) <= 1<<20/4+1024 })
	drained := spoolBytes(t, dataDir)
	code, _, ans, err := tryPost(c, addr, refused)
	if err != nil || code != 200 || ans["accepted"] != 100.0 || ans["duplicates"] != 0.0 {
		t.Fatalf("after draining, the refused batch: %d %v %v", code, ans, err)
	}
	acked = append(acked, batchIDs(t, refused)...)
	waitDrained(t, addr, 10*time.Second)
	p.stop(t)
	got := h.ids()
	for _, id := range acked {
		if got[id] != 1 {
			t.Fatalf("event %s arrived %d times, want once", id, got[id])
		}
	}
	t.Logf("%d events acknowledged before the 503; spool %d bytes full, %d after draining; all %d delivered once",
		len(acked)-100, full, drained, len(acked))
}

// spoolBytes is the size of the spool's segment files.
func spoolBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dataDir, "spool", "seg-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range segs {
		if fi, err := os.Stat(s); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestResentBatchCountsDuplicates: a batch sent again (whole, twice at the
// same moment, and overlapping a larger one) is answered 200 with its events
// counted as duplicates, and the sink gets each event once.
func TestResentBatchCountsDuplicates(t *testing.T) {
	h := newHECSink(t)
	addr := freeAddr(t)
	p := start(t, addr, "run", "-c", writeConfig(t, addr, t.TempDir(), h.url(), ""))
	c := &http.Client{Timeout: 5 * time.Second}
	body := batch("dup", 8)
	if code, _, ans, err := tryPost(c, addr, body); err != nil || code != 200 || ans["accepted"] != 8.0 || ans["duplicates"] != 0.0 {
		t.Fatalf("first post: %d %v %v", code, ans, err)
	}
	eventually(t, 5*time.Second, "8 events at the sink", func() bool { return h.count() == 8 })
	if code, _, ans, err := tryPost(c, addr, body); err != nil || code != 200 || ans["accepted"] != 0.0 || ans["duplicates"] != 8.0 {
		t.Fatalf("resent after delivery: %d %v %v", code, ans, err)
	}
	twin := batch("twin", 8)
	var wg sync.WaitGroup
	answers := make([]map[string]any, 2)
	for i := range answers {
		wg.Go(func() {
			code, _, ans, err := tryPost(c, addr, twin)
			if err != nil || code != 200 {
				t.Errorf("concurrent post %d: %d %v", i, code, err)
			}
			answers[i] = ans
		})
	}
	wg.Wait()
	a0, _ := answers[0]["accepted"].(float64)
	a1, _ := answers[1]["accepted"].(float64)
	if a0+a1 != 8 {
		t.Errorf("the same batch posted twice at once: answers %v, want 8 accepted in all", answers)
	}
	if code, _, ans, err := tryPost(c, addr, batch("dup", 12)); err != nil || code != 200 || ans["accepted"] != 4.0 || ans["duplicates"] != 8.0 {
		t.Fatalf("overlapping batch: %d %v %v", code, ans, err)
	}
	waitDrained(t, addr, 5*time.Second)
	time.Sleep(200 * time.Millisecond) // four flush intervals: a stray copy would be sent by now
	st := relayStatus(t, addr)
	p.stop(t)
	want := append(batchIDs(t, batch("dup", 12)), batchIDs(t, twin)...)
	got := h.ids()
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("event %s arrived %d times, want once", id, got[id])
		}
	}
	if h.count() != len(want) {
		t.Errorf("sink got %d events, want %d", h.count(), len(want))
	}
	if in := st.Inputs["openfaas"]; in.Accepted != 20 || in.Duplicates != 24 || st.Outputs["hec"].Delivered != 20 {
		t.Errorf("status: %+v", st)
	}
}

// deadLetterLine is one line of data_dir/deadletter/<output>.ndjson.
type deadLetterLine struct {
	Output     string         `json:"output"`
	StatusCode int            `json:"status_code"`
	Response   string         `json:"response"`
	Event      map[string]any `json:"event"`
}

// TestDeadLetterThenReplay: HEC refuses event 3 of a batch with code 6 and
// "invalid-event-number": 3. Events 0–2 are delivered once (never resent),
// event 3 is dead-lettered with the answer, 4–9 are delivered. With the
// relay stopped, `deadletter replay` re-queues it and the next run
// delivers it to the sink, which now takes it.
func TestDeadLetterThenReplay(t *testing.T) {
	h := newHECSink(t)
	poison := "/system/function/fn-dl-3"
	h.setPoison(poison)
	addr := freeAddr(t)
	dataDir := t.TempDir()
	cfg := writeConfig(t, addr, dataDir, h.url(), "")
	p := start(t, addr, "run", "-c", cfg)
	body := batch("dl", 10)
	ids := batchIDs(t, body)
	if a := post(t, addr, "openfaas", body, map[string]string{"X-Openfaas-Signature-256": sign(body)}); a.Code != 200 || a.Body["accepted"] != 10.0 {
		t.Fatalf("post: %d %v", a.Code, a.Body)
	}
	eventually(t, 5*time.Second, "9 delivered and 1 dead-lettered", func() bool {
		o := relayStatus(t, addr).Outputs["hec"]
		return o.Delivered == 9 && o.DeadLettered == 1 && o.Queued == 0
	})
	time.Sleep(200 * time.Millisecond) // a resend of 0–2 would have happened by now
	p.stop(t)
	got := h.ids()
	for i, id := range ids {
		want := 1
		if i == 3 {
			want = 0
		}
		if got[id] != want {
			t.Errorf("event %d (%s) arrived %d times, want %d", i, id, got[id], want)
		}
	}
	dlPath := filepath.Join(dataDir, "deadletter", "hec.ndjson")
	b, err := os.ReadFile(dlPath)
	if err != nil {
		t.Fatalf("dead letter file: %v", err)
	}
	var dl []deadLetterLine
	for _, line := range lines(string(b)) {
		var e deadLetterLine
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("dead letter line %q: %v", line, err)
		}
		dl = append(dl, e)
	}
	if len(dl) != 1 || dl[0].Output != "hec" || dl[0].StatusCode != 400 || dl[0].Event["id"] != ids[3] ||
		!strings.Contains(dl[0].Response, `"Invalid data format"`) || !strings.Contains(dl[0].Response, `"invalid-event-number":3`) {
		t.Fatalf("dead letter: %s", b)
	}

	h.setPoison("")
	code, out, errOut := runCLI(t, "deadletter", "replay", "-c", cfg, "--output", "hec")
	if code != 0 || !strings.Contains(out, "re-queued 1 events for output hec") {
		t.Fatalf("deadletter replay: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(dlPath); !os.IsNotExist(err) {
		t.Errorf("dead letter file still there after replay: %v", err)
	}
	if code, out, errOut := runCLI(t, "deadletter", "replay", "-c", cfg, "--output", "hec"); code == 0 {
		t.Errorf("a second replay with nothing dead-lettered exited 0:\n%s%s", out, errOut)
	}
	p = start(t, addr, "run", "-c", cfg)
	eventually(t, 5*time.Second, "the replayed event at the sink", func() bool { return h.ids()[ids[3]] == 1 })
	waitDrained(t, addr, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	p.stop(t)
	got = h.ids()
	for i, id := range ids {
		if got[id] != 1 {
			t.Errorf("after the replay event %d arrived %d times, want once", i, got[id])
		}
	}
}

// TestReplayFileIntoStoppedRelay: `auditrelay replay --input openfaas FILE`
// refuses while the relay runs (the spool is locked), stores the file's
// events in the spool of the stopped relay, and the next run delivers them.
func TestReplayFileIntoStoppedRelay(t *testing.T) {
	h := newHECSink(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, addr, t.TempDir(), h.url(), "")
	body := batch("replayed", 5)
	file := writeFile(t, filepath.Join(t.TempDir(), "payload.json"), body)
	p := start(t, addr, "run", "-c", cfg)
	if code, out, errOut := runCLI(t, "replay", "-c", cfg, "--input", "openfaas", file); code == 0 || !strings.Contains(errOut, "stop the running relay") {
		t.Errorf("replay while the relay runs: exit %d\n%s%s", code, out, errOut)
	}
	p.stop(t)
	code, out, errOut := runCLI(t, "replay", "-c", cfg, "--input", "openfaas", file)
	if code != 0 || !strings.Contains(out, "accepted 5, duplicates 0") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errOut)
	}
	if h.count() != 0 {
		t.Fatalf("sink got %d events before the relay ran", h.count())
	}
	p = start(t, addr, "run", "-c", cfg)
	eventually(t, 5*time.Second, "the replayed events at the sink", func() bool { return h.count() == 5 })
	if code, _, ans, err := tryPost(&http.Client{Timeout: 5 * time.Second}, addr, body); err != nil || code != 200 || ans["duplicates"] != 5.0 {
		t.Errorf("posting the replayed batch again: %d %v %v", code, ans, err)
	}
	p.stop(t)
	got := h.ids()
	for _, id := range batchIDs(t, body) {
		if got[id] != 1 {
			t.Errorf("event %s arrived %d times, want once", id, got[id])
		}
	}
}
