package openfaas

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/openfaas"

var build = golden.Build(DefaultConfig, New)

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

func TestSeedExample(t *testing.T) {
	c := findCase(t, "seed-000")
	p, err := build(t, c).Parse(c.Input, c.Meta())
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("parse: %v, %d events", err, len(p.Events))
	}
	e := p.Events[0]
	checks := map[string][2]string{
		"actor.id":                 {e.Actor.ID, "fed:system:serviceaccount:openfaas:cron-connector"},
		"actor.federated_issuer":   {e.Actor.FederatedIssuer, "https://kubernetes.default.svc.cluster.local"},
		"actor.issuer (empty)":     {e.Actor.Issuer, ""},
		"actor.type":               {e.Actor.Type, "service"},
		"action.name":              {e.Action.Name, "Namespace:List"},
		"action.verb":              {e.Action.Verb, "read"},
		"request.method":           {e.Request.Method, "GET"},
		"request.path":             {e.Request.Path, "/system/namespaces"},
		"outcome.result":           {e.Outcome.Result, "success"},
		"time":                     {e.Time.Format(time.RFC3339Nano), "2023-12-04T17:09:28.710118072Z"},
		"source.delivery_id":       {e.Source.DeliveryID, "fe0f677c-c431-498e-8ace-9ba857434334"},
		"resource.type":            {e.Resource.Type, "Namespace"},
		"id prefix":                {e.ID[:7], "sha256:"},
		fmt.Sprint("status ", 200): {fmt.Sprint(e.Outcome.StatusCode), "200"},
		"severity":                 {fmt.Sprint(e.Severity), "1"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if len(e.ID) != 7+32 {
		t.Errorf("id %q is not sha256: + 32 hex digits", e.ID)
	}
	again, _ := build(t, c).Parse(c.Input, c.Meta())
	if again.Events[0].ID != e.ID {
		t.Errorf("id not stable: %s then %s", e.ID, again.Events[0].ID)
	}
}

func TestIDIgnoresWhitespaceButNotContent(t *testing.T) {
	a, _ := New(DefaultConfig())
	parse := func(body string) string {
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Events[0].ID
	}
	x := parse(`[{"path":"/a","method":"GET"}]`)
	if y := parse("[ {\n \"path\" : \"/a\", \"method\":\"GET\" } ]"); x != y {
		t.Errorf("indentation changed the id: %s vs %s", x, y)
	}
	if y := parse(`[{"path":"/b","method":"GET"}]`); x == y {
		t.Errorf("different events share id %s", x)
	}
}

func TestVerify(t *testing.T) {
	a, _ := New(Config{Secret: auditrelay.NewSecret("secret")})
	body := []byte(`[]`)
	sig := sign([]byte("secret"), body)
	for _, tc := range []struct {
		name   string
		header string
		want   error
	}{
		{"valid", sig, nil},
		// computed independently: printf '[]' | openssl dgst -sha256 -hmac secret
		{"openssl vector", "sha256=53364a07fcc563e712f42cfc9de1e28e1e2d39f236cee430f112203e557aea3f", nil},
		{"missing", "", auditrelay.ErrUnsigned},
		{"wrong key", sign([]byte("other"), body), auditrelay.ErrBadSignature},
		{"not hex", "sha256=zz", auditrelay.ErrBadSignature},
		{"no prefix", strings.TrimPrefix(sig, "sha256="), auditrelay.ErrBadSignature},
		{"sha1 prefix", "sha1=" + strings.TrimPrefix(sig, "sha256="), auditrelay.ErrBadSignature},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set(SignatureHeader, tc.header)
		}
		err := a.Verify(body, h)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret\"") {
			t.Errorf("%s: error leaks the secret: %v", tc.name, err)
		}
	}
	if !a.HasKey() {
		t.Error("HasKey() = false with a secret")
	}
	if b, _ := New(DefaultConfig()); b.HasKey() {
		t.Error("HasKey() = true without a secret")
	}
}

func findCase(t *testing.T, name string) golden.Case {
	for _, c := range golden.Cases(t, fixtures) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no fixture %s", name)
	return golden.Case{}
}

func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz"})
		if err != nil && (len(p.Events) > 0 || p.Ignored > 0) {
			t.Fatalf("error %v with %d events", err, len(p.Events))
		}
		for _, e := range p.Events {
			if !strings.HasPrefix(e.ID, "sha256:") || e.Source.Kind != Kind || e.Actor.Type == "" {
				t.Fatalf("incomplete event %+v", e)
			}
		}
	})
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

// BenchmarkParseReference measures the encoding/json implementation Parse
// replaced, on the same body.
func BenchmarkParseReference(b *testing.B) {
	const n = 100
	body := benchBody(n)
	a, _ := New(DefaultConfig())
	meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.refParse(body, meta); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// benchBody is a delivery of n api_access events as OpenFaaS sends them.
func benchBody(n int) []byte {
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"actor":{"sub":"fed:alice@example.com","name":"Alice","issuer":"https://openfaas.example.com","fed_issuer":"https://accounts.example.com"},"path":"/system/function/fn-%d?namespace=openfaas-fn","method":"POST","actions":["Function:Create"],"response_code":202,"time":"2023-12-04T17:09:28.710118072Z"}`, i)
	}
	body.WriteByte(']')
	return body.Bytes()
}
