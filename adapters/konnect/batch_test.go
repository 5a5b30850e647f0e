package konnect

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// The 1000-entry batch is generated here (deterministically) and committed
// gzip-compressed as testdata/batch-1000.gz; go test -update rewrites it.
// Its golden is a readable summary, not 1000 events.
const (
	batchFile   = "testdata/batch-1000.gz"
	summaryFile = "testdata/batch-1000.summary.json"
)

// generateBatch writes n entries mixing the three entry types, the three
// formats (JSON, CPS, CEF with RFC 3339 or syslog prefix) and the type
// drift between releases.
func generateBatch(n int) []byte {
	rng := rand.New(rand.NewPCG(2025, 6))
	const org = "b065b594-6afc-4658-9101-5d9cf3f36b7b"
	users := []string{"87655c36-8d63-48fe-9a1e-53b28dfbc19b", "a3d2699a-0ed3-4417-bb10-d8e74a1513a4", ""}
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	statuses := []int{200, 201, 204, 400, 401, 403, 404, 500}
	actions := []string{"list", "retrieve", "edit", "create", "delete"}
	outcomes := []string{"SUCCESS", "SUCCESS", "SUCCESS", "INVALID_PASSWORD", "NOT_FOUND", "LOCKED"}
	var buf bytes.Buffer
	rt := int64(1750280556000)
	for i := range n {
		rt += int64(rng.IntN(5000))
		user := users[rng.IntN(len(users))]
		trace := fmt.Sprint(rng.Uint64())
		src := fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))
		f := map[string]any{"org_id": org, "src": src, "trace_id": json.Number(trace), "sig": "N_4q2pCgeg0Fg4oGJSfUWKScnTCiC79vq8PIX6Sc_rwaxdWKpVfPwkW45yK_oOFV9gHOmnJBffcB1NmTSwRRDg"}
		if user != "" {
			f["principal_id"] = user
		}
		var class string
		switch i % 3 {
		case 0:
			out := outcomes[rng.IntN(len(outcomes))]
			class = "AUTHENTICATION_TYPE_BASIC"
			f["name"], f["request"], f["user_agent"] = "AUTHENTICATION_OUTCOME_"+out, "/api/v1/authenticate", "Mozilla/5.0 (X11; Linux x86_64)"
			f["success"] = drift(rng, out == "SUCCESS")
		case 1:
			class = "konnect"
			f["name"], f["action"] = "Authz.control-planes/*", actions[rng.IntN(len(actions))]
			f["granted"] = drift(rng, rng.IntN(5) > 0)
			f["user_agent"] = "grpc-node/1.24.11 grpc-c/8.0.0 (linux; chttp2; ganges)"
		default:
			class = "KongGateway"
			f["name"], f["act"], f["request"] = "Ingress", methods[rng.IntN(len(methods))], fmt.Sprintf("/v2/teams/%d", rng.IntN(100))
			f["status"] = drift(rng, statuses[rng.IntN(len(statuses))])
			f["query"] = `{"page[size]":"100"}`
			f["user_agent"] = "kongctl/0.3.0"
		}
		f["event_class_id"] = class
		f["rt"] = drift(rng, rt)
		switch rng.IntN(4) {
		case 0:
			writeJSON(&buf, f)
		case 1:
			buf.WriteString(`{"event":`)
			writeJSON(&buf, f)
			buf.Truncate(buf.Len() - 1)
			buf.WriteString("}\n")
		default:
			writeCEF(&buf, f, class, rng.IntN(2) == 0)
		}
	}
	return buf.Bytes()
}

// drift writes a number or bool as itself or as a string, as Konnect's
// releases did.
func drift(rng *rand.Rand, v any) any {
	if rng.IntN(2) == 0 {
		return v
	}
	return fmt.Sprint(v)
}

func writeJSON(buf *bytes.Buffer, f map[string]any) {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	buf.Write(b)
	buf.WriteByte('\n')
}

func writeCEF(buf *bytes.Buffer, f map[string]any, class string, syslog bool) {
	if syslog {
		buf.WriteString("Jun 18 21:02:36 konghq.com ")
	} else {
		buf.WriteString("2025-06-18T21:02:36Z konghq.com ")
	}
	fmt.Fprintf(buf, "CEF:0|KongInc|Konnect|1.0|%s|%s|1|", class, f["name"])
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != "name" && k != "event_class_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(' ')
		}
		fmt.Fprintf(buf, "%s=%v", k, f[k])
	}
	buf.WriteByte('\n')
}

func TestGeneratedBatch(t *testing.T) {
	want := generateBatch(1000)
	if *golden.Update {
		if err := os.WriteFile(batchFile, gz(t, want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	body, err := os.ReadFile(batchFile)
	if err != nil {
		t.Fatalf("%v (run go test ./adapters/konnect -update)", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, want) {
		t.Fatalf("%s is not what the generator writes (run go test ./adapters/konnect -update)", batchFile)
	}

	a, _ := New(DefaultConfig())
	p, err := a.Parse(body, auditrelay.Meta{Input: golden.Input, ReceivedAt: golden.ReceivedAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1000 || len(p.Rejected) != 0 {
		t.Fatalf("%d events, rejected %+v", len(p.Events), p.Rejected)
	}
	golden.File(t, summaryFile, summarize(t, p.Events))
}

// summarize counts events by name pattern, result and severity, checks
// ids are unique, and hashes the JSON goldens of all events.
func summarize(t *testing.T, events []auditrelay.Event) []byte {
	s := struct {
		Events     int            `json:"events"`
		UniqueIDs  int            `json:"unique_ids"`
		ByType     map[string]int `json:"by_entry_type"`
		ByResult   map[string]int `json:"by_result"`
		BySeverity map[string]int `json:"by_severity"`
		ByActor    map[string]int `json:"by_actor_type"`
		EventsHash string         `json:"event_json_sha256"`
	}{Events: len(events), ByType: map[string]int{}, ByResult: map[string]int{}, BySeverity: map[string]int{}, ByActor: map[string]int{}}
	ids := map[string]bool{}
	for i := range events {
		e := &events[i]
		ids[e.ID] = true
		r := record{name: e.Action.Name}
		s.ByType[r.entryType()]++
		s.ByResult[e.Outcome.Result]++
		s.BySeverity[fmt.Sprint(e.Severity)]++
		s.ByActor[e.Actor.Type]++
		if e.Time.IsZero() || e.Request.ID == "" {
			t.Errorf("event %d: time %v, request.id %q", i+1, e.Time, e.Request.ID)
		}
	}
	s.UniqueIDs = len(ids)
	sum := sha256.Sum256(golden.Lines(golden.Formats["event.json"], events))
	s.EventsHash = hex.EncodeToString(sum[:])
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
