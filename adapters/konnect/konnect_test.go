package konnect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/konnect"

var build = golden.Build(DefaultConfig, New)

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

func parseCase(t *testing.T, name string) auditrelay.Parsed {
	t.Helper()
	for _, c := range golden.Cases(t, fixtures) {
		if c.Name == name {
			p, err := build(t, c).Parse(c.Input, c.Meta())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return p
		}
	}
	t.Fatalf("no fixture %s", name)
	return auditrelay.Parsed{}
}

// The reference's three entry types, each in JSON, CEF and CPS, map to the
// same fields.
func TestEntryTypes(t *testing.T) {
	for _, tc := range []struct {
		cases        []string
		name, verb   string
		result, rtyp string
		severity     int
	}{
		{[]string{"authn-json", "authn-cef", "authn-cps"}, "AUTHENTICATION_OUTCOME_SUCCESS", "other", "success", "", 3},
		{[]string{"authz-json", "authz-cef"}, "Authz.portals", "read", "success", "portals", 1},
		{[]string{"authz-cps"}, "Authz.control-planes/1c026712-c17d-4e30-ac27-53a6cdc56b9c", "update", "success", "control-planes", 3},
		{[]string{"access-json"}, "Ingress", "create", "success", "services", 3},
		{[]string{"access-cef"}, "Ingress", "create", "success", "explore", 3},
		{[]string{"access-cps"}, "Ingress", "delete", "success", "control-planes", 5},
	} {
		for _, name := range tc.cases {
			p := parseCase(t, name)
			if len(p.Events) != 1 || len(p.Rejected) != 0 {
				t.Fatalf("%s: %d events, rejected %+v", name, len(p.Events), p.Rejected)
			}
			e := p.Events[0]
			got := [...]string{e.Action.Name, e.Action.Verb, e.Outcome.Result, e.Resource.Type, e.Actor.ID, e.Resource.Namespace}
			want := [...]string{tc.name, tc.verb, tc.result, tc.rtyp, "87655c36-8d63-48fe-9a1e-53b28dfbc19b", "b065b594-6afc-4658-9101-5d9cf3f36b7b"}
			if got != want || e.Severity != tc.severity {
				t.Errorf("%s: got %q severity %d, want %q severity %d", name, got, e.Severity, want, tc.severity)
			}
			if e.Time.IsZero() || e.Request.ID == "" || e.Actor.Type != auditrelay.ActorUser {
				t.Errorf("%s: time %v, request.id %q, actor.type %q", name, e.Time, e.Request.ID, e.Actor.Type)
			}
		}
	}
}

func TestTraceIDKeptToTheDigit(t *testing.T) {
	p := parseCase(t, "trace-id-big")
	want := []string{"18446744073709551615", "9007199254740993", "18446744073709551615", "9007199254740993"}
	if len(p.Events) != len(want) {
		t.Fatalf("%d events", len(p.Events))
	}
	for i, e := range p.Events {
		if e.Request.ID != want[i] {
			t.Errorf("event %d: request.id %s, want %s", i+1, e.Request.ID, want[i])
		}
	}
}

// Every drifted spelling of the same entry maps to the same event.
func TestTypeDrift(t *testing.T) {
	p := parseCase(t, "type-drift")
	if len(p.Events) != 5 || len(p.Rejected) != 0 {
		t.Fatalf("%d events, rejected %+v", len(p.Events), p.Rejected)
	}
	a, b := p.Events[0], p.Events[1]
	a.ID, b.ID = "", ""
	if !sameJSON(t, a, b) {
		t.Errorf("number and string spellings differ:\n%+v\n%+v", a, b)
	}
	if p.Events[2].Outcome.Result != "success" || p.Events[3].Outcome.Result != "failure" || p.Events[3].Severity != 7 {
		t.Errorf("granted \"true\"/\"false\": %+v / %+v", p.Events[2].Outcome, p.Events[3])
	}
	if p.Events[4].Outcome.StatusCode != 200 {
		t.Errorf("status \"200\" → %d", p.Events[4].Outcome.StatusCode)
	}
}

func sameJSON(t *testing.T, a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(x, y)
}

func TestBadLinesDoNotCostGoodOnes(t *testing.T) {
	p := parseCase(t, "one-bad-line")
	if len(p.Events) != 2 || len(p.Rejected) != 1 {
		t.Fatalf("%d events, %d rejected", len(p.Events), len(p.Rejected))
	}
	r := p.Rejected[0]
	if r.Line != 2 || !strings.Contains(r.Reason, "rt") || !bytes.Contains(r.Entry, []byte("rt=3958q3097698")) {
		t.Errorf("rejection %+v", r)
	}
	all := parseCase(t, "all-bad")
	if len(all.Events) != 0 || len(all.Rejected) != 8 {
		t.Fatalf("all-bad: %d events, %d rejected", len(all.Events), len(all.Rejected))
	}
	for i, r := range all.Rejected {
		if r.Line != i+1 || r.Reason == "" || len(r.Entry) == 0 {
			t.Errorf("rejection %d: %+v", i+1, r)
		}
	}
}

func TestLineNumbersCountBlankLines(t *testing.T) {
	a, _ := New(DefaultConfig())
	p, err := a.Parse([]byte("\r\n\nnope\r\n  \n{\"name\":\"Ingress\",\"status\":\"x\"}"), auditrelay.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rejected) != 2 || p.Rejected[0].Line != 3 || p.Rejected[1].Line != 5 {
		t.Fatalf("rejected %+v", p.Rejected)
	}
	if string(p.Rejected[0].Entry) != "nope" {
		t.Errorf("entry %q kept its line ending", p.Rejected[0].Entry)
	}
}

// The id rule: JSON entries as json.Compact leaves them, CEF lines without
// their line ending; CRLF and LF give the same id.
func TestIDRule(t *testing.T) {
	a, _ := New(DefaultConfig())
	jsonEntry := `{ "name": "Ingress", "act": "GET", "status": 200, "rt": 1750280556000 }`
	cefEntry := `2025-06-18T21:02:36Z konghq.com CEF:0|KongInc|Konnect|1.0|KongGateway|Ingress|1|rt=1750280556000 act=GET status=200`
	p, err := a.Parse([]byte(jsonEntry+"\r\n"+cefEntry+"\r\n"), auditrelay.Meta{})
	if err != nil || len(p.Events) != 2 {
		t.Fatalf("%v, %d events", err, len(p.Events))
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, []byte(jsonEntry))
	if want := auditrelay.ContentID(Kind, compact.Bytes()); p.Events[0].ID != want {
		t.Errorf("json id %s, want %s", p.Events[0].ID, want)
	}
	if want := auditrelay.ContentID(Kind, []byte(cefEntry)); p.Events[1].ID != want {
		t.Errorf("cef id %s, want %s", p.Events[1].ID, want)
	}
}

func TestGzip(t *testing.T) {
	line := []byte(`{"name":"Ingress","act":"GET","status":200,"rt":1750280556000}` + "\n")
	zipped := gz(t, line)
	a, _ := New(DefaultConfig())
	for _, tc := range []struct {
		name   string
		body   []byte
		header string
		ok     bool
	}{
		{"plain", line, "", true},
		{"gzip sniffed", zipped, "", true},
		{"gzip header", zipped, "gzip", true},
		{"application/gzip", zipped, "application/gzip", true},
		{"x-gzip list", zipped, "identity, X-Gzip", true},
		{"header but plain", line, "gzip", false},
		{"truncated", zipped[:len(zipped)-6], "", false},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Content-Encoding", tc.header)
		}
		p, err := a.Parse(tc.body, auditrelay.Meta{Header: h})
		if tc.ok != (err == nil) || (tc.ok && len(p.Events) != 1) {
			t.Errorf("%s: err %v, %d events", tc.name, err, len(p.Events))
		}
		if err != nil && !strings.HasPrefix(err.Error(), "gunzip body: ") {
			t.Errorf("%s: error %q does not say the step", tc.name, err)
		}
	}
}

func TestDecompressedSizeCap(t *testing.T) {
	bomb := gz(t, bytes.Repeat([]byte("\n"), 1<<20))
	a, _ := New(Config{MaxDecompressedBytes: 1 << 20})
	if _, err := a.Parse(bomb, auditrelay.Meta{}); err != nil {
		t.Fatalf("exactly at the cap: %v", err)
	}
	a, _ = New(Config{MaxDecompressedBytes: 1<<20 - 1})
	_, err := a.Parse(bomb, auditrelay.Meta{})
	if err == nil || !strings.Contains(err.Error(), "max_decompressed_bytes") {
		t.Fatalf("over the cap: %v", err)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default: %v", err)
	}
	if DefaultConfig().MaxDecompressedBytes != 64<<20 {
		t.Errorf("default cap %v", DefaultConfig().MaxDecompressedBytes)
	}
	err := Config{}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"max_decompressed_bytes"`) {
		t.Errorf("zero cap: %v", err)
	}
}

func TestSampleConfigDecodesStrictly(t *testing.T) {
	var doc struct {
		Inputs map[string]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.DecodeFile("sample.toml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	var in struct {
		Config
		Adapter           string `toml:"adapter"`
		Authorization     string `toml:"authorization"`
		AuthorizationFile string `toml:"authorization_file"`
		IncludeRaw        bool   `toml:"include_raw"`
	}
	in.Config = cfg
	if err := md.PrimitiveDecode(doc.Inputs["konnect"], &in); err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	if in.Adapter != Kind || in.Config.Validate() != nil {
		t.Errorf("sample: %+v", in)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	a, _ := New(Config{MaxDecompressedBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz", ReceivedAt: golden.ReceivedAt})
		if err != nil {
			if len(p.Events) > 0 || len(p.Rejected) > 0 {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		for _, e := range p.Events {
			if !strings.HasPrefix(e.ID, "sha256:") || e.Source.Kind != Kind || e.Actor.Type == "" || e.Action.Name == "" || e.Outcome.Result == "" {
				t.Fatalf("incomplete event %+v", e)
			}
		}
		for _, r := range p.Rejected {
			if r.Line < 1 || r.Reason == "" || len(bytes.TrimSpace(r.Entry)) == 0 || bytes.ContainsAny(r.Entry, "\n") {
				t.Fatalf("bad rejection %+v", r)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	batch := generateBatch(1000)
	for _, bc := range []struct {
		name string
		body []byte
	}{{"plain", batch}, {"gzip", gz(b, batch)}} {
		b.Run(bc.name, func(b *testing.B) {
			a, _ := New(DefaultConfig())
			meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
			n := 0
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := a.Parse(bc.body, meta)
				if err != nil || len(p.Rejected) > 0 {
					b.Fatal(err, p.Rejected)
				}
				n += len(p.Events)
				meta.Events = p.Events // lent back, as ingest does
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(testing.AllocsPerRun(5, func() { p, _ := a.Parse(bc.body, meta); meta.Events = p.Events })/1000, "allocs/event")
		})
	}
}
