package konghooks

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/konghooks"

func config(t *testing.T, c golden.Case) Config {
	cfg := DefaultConfig()
	if len(c.Config) > 0 {
		if _, err := toml.Decode(string(c.Config), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func build(t *testing.T, c golden.Case) auditrelay.Adapter {
	a, err := New(config(t, c))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

// Every fixture that carries X-Kong-Signature is signed with its config's
// secret, as Kong would sign it.
func TestFixtureSignatures(t *testing.T) {
	n := 0
	for _, c := range golden.Cases(t, fixtures) {
		if c.Header.Get(SignatureHeader) == "" {
			continue
		}
		n++
		a, _ := New(config(t, c))
		if err := a.Verify(c.Input, c.Header); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	if n == 0 {
		t.Fatal("no signed fixture")
	}
}

var _ auditrelay.Verifier = (*Adapter)(nil)

func TestVerify(t *testing.T) {
	a, _ := New(Config{Secret: auditrelay.NewSecret("hunter2")})
	body := []byte("foobar")
	for _, tc := range []struct {
		name   string
		header string
		want   error
	}{
		// Kong's own test vector (DESIGN.md, "Kong event hooks").
		{"kong vector", "sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62", nil},
		{"upper-case hex", "sha1=47632029FCC7936DC59FF90B5BB736A44C74AB62", nil},
		{"missing", "", auditrelay.ErrUnsigned},
		{"wrong digest", "sha1=47632029fcc7936dc59ff90b5bb736a44c74ab63", auditrelay.ErrBadSignature},
		{"not hex", "sha1=zz", auditrelay.ErrBadSignature},
		{"no prefix", "47632029fcc7936dc59ff90b5bb736a44c74ab62", auditrelay.ErrBadSignature},
		{"sha256 prefix", "sha256=47632029fcc7936dc59ff90b5bb736a44c74ab62", auditrelay.ErrBadSignature},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("x-kong-signature", tc.header)
		}
		err := a.Verify(body, h)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the secret: %v", tc.name, err)
		}
	}
	other, _ := New(Config{Secret: auditrelay.NewSecret("hunter3")})
	h := http.Header{SignatureHeader: {"sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62"}}
	if err := other.Verify(body, h); !errors.Is(err, auditrelay.ErrBadSignature) {
		t.Errorf("other key: Verify = %v", err)
	}
	if !a.HasKey() {
		t.Error("HasKey() = false with a secret")
	}
	if b, _ := New(DefaultConfig()); b.HasKey() {
		t.Error("HasKey() = true without a secret")
	}
}

func TestValidate(t *testing.T) {
	// The loader has read secret_file into Secret by the time Validate runs.
	for _, c := range []Config{{}, {Secret: auditrelay.NewSecret("x"), SecretFile: "/f"}, {SecretFile: "/f"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%v) = %v", c, err)
		}
	}
}

func TestSecretNotPrinted(t *testing.T) {
	c := Config{Secret: auditrelay.NewSecret("hunter2")}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "hunter2") {
		t.Errorf("config prints its secret: %s", s)
	}
}

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

func TestMapping(t *testing.T) {
	e := parseCase(t, "doc-consumer-create").Events[0]
	want := auditrelay.Resource{Type: "consumers", ID: "0fd2319f-13ea-4582-a448-8d11893026a8", Name: "Ada Lovelace"}
	if e.Resource != want || e.Action.Name != "create" || e.Action.Verb != "create" || e.Actor.Type != "anonymous" {
		t.Errorf("doc example: %+v", e)
	}
	if got := e.Time.Format(time.RFC3339); got != "2021-07-29T18:04:38Z" {
		t.Errorf("create time = %s, want created_at", got)
	}
	if !strings.HasPrefix(e.ID, "sha256:") || len(e.ID) != 39 {
		t.Errorf("id %q is not a content id", e.ID)
	}
	e = parseCase(t, "crud-service-update-old-entity").Events[0]
	if got := e.Time.Format(time.RFC3339); got != "2024-05-29T16:36:40Z" {
		t.Errorf("update time = %s, want updated_at", got)
	}
	e = parseCase(t, "crud-route-delete").Events[0]
	if !e.Time.Equal(golden.ReceivedAt) || e.Action.Verb != "delete" || e.Severity != 5 {
		t.Errorf("delete: time %v verb %s severity %d", e.Time, e.Action.Verb, e.Severity)
	}
	e = parseCase(t, "crud-missing-schema").Events[0]
	if e.Resource.Type != "consumers" || e.Action.Name != "update" {
		t.Errorf("missing schema: %+v", e.Resource)
	}
	e = parseCase(t, "rate-limit-exceeded").Events[0]
	if e.Actor.Username != "grace" || e.Resource.Name != "billing" || e.Outcome.StatusCode != 429 || e.Request.ClientIP != "203.0.113.7" {
		t.Errorf("rate limit: %+v", e)
	}
	if p := parseCase(t, "ping"); p.Ignored != 1 || len(p.Events) != 0 {
		t.Errorf("ping: %+v", p)
	}
}

func TestIDStable(t *testing.T) {
	a, _ := New(DefaultConfig())
	parse := func(body string) string {
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Events[0].ID
	}
	x := parse(`{"source":"crud","event":"consumers","operation":"delete","entity":{"id":"a"}}`)
	if y := parse("{ \"source\": \"crud\",\n \"event\":\"consumers\", \"operation\":\"delete\", \"entity\": {\"id\":\"a\"} }"); x != y {
		t.Errorf("whitespace changed the id: %s vs %s", x, y)
	}
	if y := parse(`{"source":"crud","event":"consumers","operation":"delete","entity":{"id":"b"}}`); x == y {
		t.Errorf("different deliveries share id %s", x)
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
			Adapter    string `toml:"adapter"`
			IncludeRaw bool   `toml:"include_raw"`
			Config
		}
		if err := md.PrimitiveDecode(prim, &in); err != nil {
			t.Fatal(err)
		}
		if in.Adapter != Kind {
			t.Errorf("inputs.%s: adapter %q", name, in.Adapter)
		}
		if err := in.Config.Validate(); err != nil {
			t.Errorf("inputs.%s: %v", name, err)
		}
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("sample.toml has keys nothing reads: %v", u)
	}
}

func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz", ReceivedAt: golden.ReceivedAt})
		if err != nil && (len(p.Events) > 0 || p.Ignored > 0) {
			t.Fatalf("error %v with %d events", err, len(p.Events))
		}
		if len(p.Events)+p.Ignored > 1 {
			t.Fatalf("one delivery gave %d events and %d ignored", len(p.Events), p.Ignored)
		}
		for _, e := range p.Events {
			if !strings.HasPrefix(e.ID, "sha256:") || e.Source.Kind != Kind || e.Actor.Type == "" || e.Action.Verb == "" || e.Time.IsZero() {
				t.Fatalf("incomplete event %+v", e)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = []byte(benchDelivery(i))
	}
	a, _ := New(DefaultConfig())
	meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, body := range bodies {
			p, err := a.Parse(body, meta)
			if err != nil {
				b.Fatal(err)
			}
			meta.Events = p.Events // lent back, as ingest does
		}
		n += len(bodies)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(testing.AllocsPerRun(10, func() { p, _ := a.Parse(bodies[0], meta); meta.Events = p.Events }), "allocs/event")
}

// benchDelivery is a crud update of consumer i, as Kong's webhook handler
// sends it.
func benchDelivery(i int) string {
	return fmt.Sprintf(`{"entity":{"id":"8c1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e%04d","username":"user-%d","custom_id":null,"tags":null,"type":0,"created_at":1717000000,"updated_at":1717000%03d,"ws_id":"6f2b8c3e-9d1a-4e7b-a5c4-2f0e1d3c4b5a"},"old_entity":null,"schema":"consumers","operation":"update","event":"consumers","source":"crud"}`, i, i, i)
}
