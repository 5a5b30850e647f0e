package kong

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/kong"

var build = golden.Build(DefaultConfig, New)

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

func parseCase(t *testing.T, name string) []auditrelay.Event {
	t.Helper()
	for _, c := range golden.Cases(t, fixtures) {
		if c.Name == name {
			p, err := build(t, c).Parse(c.Input, c.Meta())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return p.Events
		}
	}
	t.Fatalf("no fixture %s", name)
	return nil
}

func check(t *testing.T, name string, checks map[string][2]string) {
	t.Helper()
	for field, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %s = %q, want %q", name, field, c[0], c[1])
		}
	}
}

func TestDocumentedRequestRecords(t *testing.T) {
	e := parseCase(t, "doc-3.1-status")[0]
	check(t, "3.1", map[string][2]string{
		"id":                 {e.ID, "OjOcUBvt6q6XJlX3dd6BSpy1uUkTyctC"},
		"request.id":         {e.Request.ID, "OjOcUBvt6q6XJlX3dd6BSpy1uUkTyctC"},
		"time":               {e.Time.Format(time.RFC3339), "2023-02-15T01:29:07Z"},
		"actor.type":         {e.Actor.Type, "anonymous"},
		"resource.namespace": {e.Resource.Namespace, "1065b6d6-219f-4002-b3e9-334fc3eff46c"},
		"request.client_ip":  {e.Request.ClientIP, "127.0.0.1"},
		"action.verb":        {e.Action.Verb, "read"},
		"severity":           {fmt.Sprint(e.Severity), "1"},
	})
	e = parseCase(t, "doc-3.2-rbac-kong-manager")[0]
	check(t, "3.2", map[string][2]string{
		"actor.id":          {e.Actor.ID, "2e959b45-0053-41cc-9c2c-5458d0964331"},
		"actor.name":        {e.Actor.Name, "admin"},
		"actor.type":        {e.Actor.Type, "user"},
		"request.interface": {e.Request.Interface, "ui"},
	})
	e = parseCase(t, "doc-3.2-login")[0]
	check(t, "login", map[string][2]string{"action.name": {e.Action.Name, "login"}})
	e = parseCase(t, "logout-query-string")[0]
	check(t, "logout", map[string][2]string{
		"action.name":  {e.Action.Name, "logout"},
		"request.path": {e.Request.Path, "/auth?session_logout=true"},
	})
	e = parseCase(t, "doc-payload-json")[0]
	check(t, "payload", map[string][2]string{
		"resource.type": {e.Resource.Type, "consumers"},
		"resource.name": {e.Resource.Name, "bob"},
		"action.verb":   {e.Action.Verb, "create"},
	})
}

func TestDocumentedObjectRecord(t *testing.T) {
	e := parseCase(t, "doc-objects-create")[0]
	check(t, "object", map[string][2]string{
		"id":            {e.ID, "7ebabee7-2b09-445d-bc1f-2092c4ddc4be"},
		"request.id":    {e.Request.ID, "59fpTWlpUtHJ0qnAWBzQRHRDv7i5DwK2"},
		"action.name":   {e.Action.Name, "create"},
		"action.verb":   {e.Action.Verb, "create"},
		"resource.type": {e.Resource.Type, "consumers"},
		"resource.id":   {e.Resource.ID, "16787ed7-d805-434a-9cec-5e5a3e5c9e4f"},
		"resource.name": {e.Resource.Name, "bob"},
		"time":          {e.Time.Format(time.RFC3339), "2020-02-13T18:11:03Z"},
		"actor.type":    {e.Actor.Type, "anonymous"},
	})
	// without request_timestamp, a 0.x entity's created_at in milliseconds
	e = parseCase(t, "object-create-0x-millis")[0]
	check(t, "0.x", map[string][2]string{"time": {e.Time.Format(time.RFC3339Nano), "2018-11-13T17:50:18Z"}})
	e = parseCase(t, "object-delete")[0]
	if !e.Time.IsZero() || e.EventTime() != golden.ReceivedAt {
		t.Errorf("delete without request_timestamp: time %v, want none (received_at)", e.Time)
	}
	e = parseCase(t, "object-target-fractional")[0]
	check(t, "target", map[string][2]string{"time": {e.Time.Format(time.RFC3339Nano), "2023-11-14T22:23:20.123Z"}})
}

func TestRawOnlyWithIncludeRaw(t *testing.T) {
	a, _ := New(DefaultConfig())
	body := []byte(`{"request_id":"r1","method":"GET","path":"/status","status":200,"signature":"c2ln","ttl":5}`)
	p, err := a.Parse(body, auditrelay.Meta{})
	if err != nil || len(p.Events[0].Raw) != 0 {
		t.Fatalf("without include_raw: %v, raw %s", err, p.Events[0].Raw)
	}
	p, _ = a.Parse(body, auditrelay.Meta{IncludeRaw: true})
	if got := string(p.Events[0].Raw); got != string(body) {
		t.Errorf("raw = %s, want the record unchanged", got)
	}
}

func TestIDRule(t *testing.T) {
	a, _ := New(DefaultConfig())
	parse := func(body string) string {
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Events[0].ID
	}
	x := parse(`[{"method":"GET","path":"/routes","status":200}]`)
	if !strings.HasPrefix(x, "sha256:") || len(x) != 39 {
		t.Errorf("record without request_id: id %q, want a content id", x)
	}
	if y := parse("[ {\n\"method\" : \"GET\", \"path\":\"/routes\",\"status\":200} ]"); x != y {
		t.Errorf("whitespace changed the id: %s vs %s", x, y)
	}
	if y := parse(`{"method":"GET","path":"/routes","status":200}`); x != y {
		t.Errorf("a single record and the same record in an array differ: %s vs %s", x, y)
	}
}

func TestPathPatternsConfig(t *testing.T) {
	a, err := New(Config{PathPatterns: []string{`^/custom/(?P<type>things)/%{KONGREF}$`}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Parse([]byte(`{"request_id":"r1","method":"GET","path":"/custom/things/t1","status":200}`), auditrelay.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Events[0].Resource; r.Type != "things" || r.Name != "t1" {
		t.Errorf("custom pattern gave %+v", r)
	}
	if _, err := New(Config{PathPatterns: []string{`^/(?P<type>broken`}}); err == nil || !strings.Contains(err.Error(), "path_patterns[0]") {
		t.Errorf("bad pattern: err = %v, want it named", err)
	}
	if err := (Config{PathPatterns: []string{"ok", " "}}).Validate(); err == nil || !strings.Contains(err.Error(), `"path_patterns" entry 2`) {
		t.Errorf("Validate = %v, want the empty entry named", err)
	}
}

func TestSampleConfig(t *testing.T) {
	var doc struct {
		Inputs map[string]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.DecodeFile("sample.toml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, prim := range doc.Inputs {
		var in struct {
			Adapter           string `toml:"adapter"`
			Authorization     string `toml:"authorization"`
			AuthorizationFile string `toml:"authorization_file"`
			IncludeRaw        bool   `toml:"include_raw"`
			Config
		}
		if err := md.PrimitiveDecode(prim, &in); err != nil {
			t.Fatal(err)
		}
		if in.Adapter != Kind {
			t.Errorf("inputs.%s: adapter %q", name, in.Adapter)
		}
		if _, err := New(in.Config); err != nil {
			t.Errorf("inputs.%s: %v", name, err)
		}
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("sample.toml has keys nothing reads: %v", u)
	}
}

func TestDecodePage(t *testing.T) {
	p, err := DecodePage([]byte(`{"data":[{"request_id":"a"},{"request_id":"b"}],"next":"/audit/requests?offset=abc","offset":"abc"}`))
	if err != nil || len(p.Records) != 2 || p.Next == nil || *p.Next != "/audit/requests?offset=abc" || p.Offset != "abc" {
		t.Fatalf("page with next: %+v, %v", p, err)
	}
	p, err = DecodePage([]byte(`{"data":[{"request_id":"a"}],"total":1}`))
	if err != nil || len(p.Records) != 1 || p.Next != nil || p.Offset != "" {
		t.Fatalf("old page: %+v, %v", p, err)
	}
	p, err = DecodePage([]byte(`{"data":{},"total":0}`))
	if err != nil || len(p.Records) != 0 {
		t.Fatalf("empty old page: %+v, %v", p, err)
	}
	for _, bad := range []string{``, `[]`, `{"request_id":"a"}`, `{"data":"x"}`, `{"data":[],"next":1}`, `{"data":[],"offset":{}}`, `{"data":[`} {
		if _, err := DecodePage([]byte(bad)); err == nil {
			t.Errorf("DecodePage(%q) accepted it", bad)
		}
	}
}

func TestRecordKey(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		id   string
		ts   int64
		fail bool
	}{
		{`{"request_id":"OjOc","request_timestamp":1676424547,"method":"GET"}`, "OjOc", 1676424547, false},
		{`{"request_id":"OjOc","request_timestamp":1676424547.9}`, "OjOc", 1676424547, false},
		{`{"id":"7eba","request_id":"59fp","dao_name":"consumers","operation":"create","request_timestamp":1581617463}`, "7eba", 1581617463, false},
		{`{"id":"7eba","request_id":"59fp","dao_name":"consumers","operation":"create"}`, "7eba", 0, false},
		{`{"request_timestamp":1}`, "", 0, true},
		{`{"request_id":"a","request_timestamp":"1"}`, "", 0, true},
		{`{"request_id":5}`, "", 0, true},
	} {
		id, ts, err := RecordKey([]byte(tc.raw))
		if (err != nil) != tc.fail || id != tc.id || ts != tc.ts {
			t.Errorf("RecordKey(%s) = %q, %d, %v", tc.raw, id, ts, err)
		}
	}
}

func TestEpoch(t *testing.T) {
	for raw, want := range map[string]string{
		"1676424547":           "2023-02-15T01:29:07Z",
		"1676424547.5":         "2023-02-15T01:29:07.5Z",
		"1676424547.123456789": "2023-02-15T01:29:07.123456789Z",
		"1.676424547e9":        "2023-02-15T01:29:07Z",
		"0":                    "1970-01-01T00:00:00Z",
	} {
		got, err := epoch(json.RawMessage(raw), "t")
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("epoch(%s) = %v, %v; want %s", raw, got, err, want)
		}
	}
	for _, raw := range []string{`"1"`, "-1", "1e300", "253402300800", "true", "{}"} {
		if _, err := epoch(json.RawMessage(raw), "t"); err == nil {
			t.Errorf("epoch(%s) accepted it", raw)
		}
	}
}

func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz", IncludeRaw: true})
		if err != nil && len(p.Events) > 0 {
			t.Fatalf("error %v with %d events", err, len(p.Events))
		}
		for _, e := range p.Events {
			if e.ID == "" || e.Source.Kind != Kind || e.Actor.Type == "" || e.Action.Verb == "" || !json.Valid(e.Raw) {
				t.Fatalf("incomplete event %+v", e)
			}
			if e.Severity < 0 || e.Severity > 10 {
				t.Fatalf("severity %d", e.Severity)
			}
		}
		meta := auditrelay.Meta{Input: "fuzz"}
		if fast, ok := a.parseFast(body, meta); ok {
			ref, rerr := a.parseEach(body, meta)
			if rerr != nil || !reflect.DeepEqual(fast, ref) {
				t.Fatalf("fast path %+v differs from reference %+v (%v)", fast, ref, rerr)
			}
		}
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			if pg, perr := DecodePage(body); perr == nil && len(pg.Records) != len(p.Events) {
				t.Fatalf("page has %d records, Parse made %d events", len(pg.Records), len(p.Events))
			}
		}
	})
}

// benchBody is a page of n request and object records, as a poll returns.
func benchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `{"client_ip":"192.0.2.%d","method":"POST","path":"/default/services/svc-%d/routes","payload":"{\"name\":\"route-%d\",\"paths\":[\"/v1\"]}","rbac_user_id":"2e959b45-0053-41cc-9c2c-5458d0964331","rbac_user_name":"admin","removed_from_payload":null,"request_id":"req%029d","request_source":"kong-manager","request_timestamp":1700000000,"signature":null,"status":201,"ttl":2591995,"workspace":"fd51ce6e-59c0-4b6b-b991-aa708a9ff4d2"}`, i%250, i%20, i, i)
		} else {
			fmt.Fprintf(&b, `{"dao_name":"routes","entity":"{\"id\":\"c6a8f1f2-1e5d-4c3b-9a7f-2d8e9b0c%04d\",\"name\":\"route-%d\",\"paths\":[\"/v1\"],\"created_at\":1700000000,\"updated_at\":1700000000,\"ws_id\":\"fd51ce6e-59c0-4b6b-b991-aa708a9ff4d2\"}","entity_key":"c6a8f1f2-1e5d-4c3b-9a7f-2d8e9b0c%04d","expire":1702592000000,"id":"3f1c9e0a-3b4d-4e5f-9a6b-7c8d9e0f%04d","operation":"create","rbac_user_id":"2e959b45-0053-41cc-9c2c-5458d0964331","request_id":"req%029d","request_timestamp":1700000000,"signature":null,"ttl":2591995}`, i, i, i, i, i)
		}
	}
	b.WriteString(`],"next":null}`)
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	const n = 100
	body := benchBody(n)
	a, _ := New(DefaultConfig())
	meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.Parse(body, meta)
		if err != nil {
			b.Fatal(err)
		}
		meta.Events = p.Events // lent back, as ingest does
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(testing.AllocsPerRun(10, func() { p, _ := a.Parse(body, meta); meta.Events = p.Events }))/n, "allocs/event")
}

// The one-pass path must give exactly what the record-by-record path gives.
func TestFastPathMatchesReference(t *testing.T) {
	a, _ := New(DefaultConfig())
	fast := 0
	for _, c := range golden.Cases(t, fixtures) {
		meta := c.Meta()
		meta.IncludeRaw = false
		got, ok := a.parseFast(c.Input, meta)
		if !ok {
			continue
		}
		fast++
		want, err := a.parseEach(c.Input, meta)
		if err != nil {
			t.Errorf("%s: fast path accepted what the reference refuses: %v", c.Name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fast path differs:\n got %+v\nwant %+v", c.Name, got, want)
		}
	}
	if fast < 10 {
		t.Errorf("only %d fixtures took the fast path", fast)
	}
	body := benchBody(50)
	got, ok := a.parseFast(body, auditrelay.Meta{Input: "x"})
	want, err := a.parseEach(body, auditrelay.Meta{Input: "x"})
	if !ok || err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("bench page: fast %v, reference %v; equal %v", ok, err, reflect.DeepEqual(got, want))
	}
}
