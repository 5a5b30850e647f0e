package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

var testBase = time.Date(2025, 6, 18, 21, 2, 36, 0, time.UTC)

func testSpec(adapter string) Spec {
	return Spec{Adapter: adapter, Seed: 7, Unique: true, Base: testBase, KonnectFormat: konnectMixed}
}

func header(p Payload, name string) string {
	for _, h := range p.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// entries splits a body into its source events the way the relay's
// adapter would: array elements, one message, or non-blank lines.
func entries(t testing.TB, adapter string, body []byte) [][]byte {
	t.Helper()
	switch adapter {
	case adapterOpenFaaS, adapterKong:
		var arr []json.RawMessage
		if err := json.Unmarshal(body, &arr); err != nil {
			t.Fatalf("%s body is not a JSON array: %v\n%s", adapter, err, body)
		}
		out := make([][]byte, len(arr))
		for i, e := range arr {
			out[i] = e
		}
		return out
	case adapterStackRox, adapterKongHooks:
		if !json.Valid(body) {
			t.Fatalf("%s body is not JSON:\n%s", adapter, body)
		}
		return [][]byte{body}
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		t.Fatalf("%s body does not end with a newline", adapter)
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			t.Fatalf("%s body has a blank line", adapter)
		}
		out = append(out, l)
	}
	return out
}

// eventKey is what the relay's dedup would see: the source's own id where
// it has one, else the hash of the event's bytes (DESIGN.md id rule).
func eventKey(t testing.TB, adapter string, e []byte) string {
	t.Helper()
	switch adapter {
	case adapterKong:
		var v struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(e, &v); err != nil || len(v.RequestID) != 32 {
			t.Fatalf("kong record without a 32-character request_id: %v\n%s", err, e)
		}
		return v.RequestID
	case adapterKongHooks:
		var v struct {
			Entity struct {
				ID string `json:"id"`
			} `json:"entity"`
		}
		if err := json.Unmarshal(e, &v); err != nil || v.Entity.ID == "" {
			t.Fatalf("konghooks delivery without entity.id: %v\n%s", err, e)
		}
		return v.Entity.ID
	}
	sum := sha256.Sum256([]byte(adapter + "\n" + string(e)))
	return hex.EncodeToString(sum[:16])
}

func TestBuildValidBodies(t *testing.T) {
	for _, adapter := range adapterNames() {
		t.Run(adapter, func(t *testing.T) {
			s := testSpec(adapter)
			want := 50
			if s.MaxBatch() == 1 {
				want = 1
			}
			for first := uint64(0); first < 2000; first += 50 {
				p := s.Build(nil, first, 50)
				if p.Events != want {
					t.Fatalf("Events = %d, want %d", p.Events, want)
				}
				es := entries(t, adapter, p.Body)
				if len(es) != want {
					t.Fatalf("body carries %d events, want %d", len(es), want)
				}
				for _, e := range es {
					checkEntry(t, adapter, e)
				}
				if ct := header(p, "Content-Type"); ct != s.ContentType() {
					t.Fatalf("Content-Type = %q", ct)
				}
			}
		})
	}
}

// checkEntry checks the fields each source event must have.
func checkEntry(t *testing.T, adapter string, e []byte) {
	t.Helper()
	switch adapter {
	case adapterOpenFaaS:
		var v struct {
			Actor *struct {
				Sub string `json:"sub"`
			} `json:"actor"`
			Path         string    `json:"path"`
			Method       string    `json:"method"`
			Actions      []string  `json:"actions"`
			ResponseCode int       `json:"response_code"`
			Time         time.Time `json:"time"`
		}
		mustDecode(t, e, &v)
		if v.Path == "" || v.Method == "" || v.ResponseCode == 0 || v.Time.Before(testBase) {
			t.Fatalf("openfaas event misses fields: %s", e)
		}
		if v.Actor == nil && (v.ResponseCode != 401 || v.Actions != nil) {
			t.Fatalf("unauthenticated openfaas event must be 401 with null actions: %s", e)
		}
		if v.Actor != nil && (v.Actor.Sub == "" || len(v.Actions) != 1) {
			t.Fatalf("authenticated openfaas event needs sub and one action: %s", e)
		}
	case adapterStackRox:
		var v struct {
			Audit *struct {
				Time        time.Time `json:"time"`
				Interaction string    `json:"interaction"`
				Request     struct {
					Endpoint string                     `json:"endpoint"`
					Method   string                     `json:"method"`
					Payload  map[string]json.RawMessage `json:"payload"`
					SourceIP string                     `json:"sourceIp"`
				} `json:"request"`
			} `json:"audit"`
		}
		mustDecode(t, e, &v)
		if v.Audit == nil || v.Audit.Interaction == "" || v.Audit.Request.Endpoint == "" ||
			v.Audit.Request.Payload["@type"] == nil || !strings.Contains(v.Audit.Request.SourceIP, ":") {
			t.Fatalf("stackrox message misses fields: %s", e)
		}
	case adapterKong:
		var v struct {
			RequestTimestamp int64   `json:"request_timestamp"`
			ClientIP         string  `json:"client_ip"`
			Path             string  `json:"path"`
			Method           string  `json:"method"`
			Status           int     `json:"status"`
			Workspace        string  `json:"workspace"`
			Payload          *string `json:"payload"`
			Signature        string  `json:"signature"`
			TTL              int     `json:"ttl"`
		}
		mustDecode(t, e, &v)
		if v.RequestTimestamp != testBase.Unix() || v.ClientIP == "" || v.Path == "" || v.Status == 0 ||
			len(v.Workspace) != 36 || len(v.Signature) != 344 || v.TTL <= 0 {
			t.Fatalf("kong record misses fields: %s", e)
		}
		if v.Payload != nil && !json.Valid([]byte(*v.Payload)) {
			t.Fatalf("kong payload is not a JSON string: %s", e)
		}
	case adapterKongHooks:
		var v struct {
			Source    string         `json:"source"`
			Event     string         `json:"event"`
			Operation string         `json:"operation"`
			Schema    string         `json:"schema"`
			Entity    map[string]any `json:"entity"`
			Old       map[string]any `json:"old_entity"`
		}
		mustDecode(t, e, &v)
		if v.Source != "crud" || v.Schema == "" || v.Event != v.Schema || v.Entity["ws_id"] == nil || v.Entity["updated_at"] == nil {
			t.Fatalf("konghooks delivery misses fields: %s", e)
		}
		if (v.Operation == "update") != (v.Old != nil) {
			t.Fatalf("old_entity must come with updates only: %s", e)
		}
	case adapterKonnect:
		checkKonnect(t, e)
	case adapterLines:
		line := string(e)
		if _, err := time.Parse(time.Stamp, line[:15]); err != nil || !strings.Contains(line, " sshd[") || !strings.Contains(line, " from ") {
			t.Fatalf("not an sshd line: %q", line)
		}
	}
}

func checkKonnect(t *testing.T, e []byte) {
	t.Helper()
	if e[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(e))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("konnect JSON entry: %v\n%s", err, e)
		}
		for _, k := range []string{"name", "rt", "org_id", "principal_id", "sig", "src"} {
			if v[k] == nil {
				t.Fatalf("konnect JSON entry misses %q: %s", k, e)
			}
		}
		if tid, ok := v["trace_id"].(json.Number); ok {
			n, err := strconv.ParseUint(tid.String(), 10, 64)
			if err != nil || n <= 1<<53 {
				t.Fatalf("trace_id %s must be an integer above 2^53", tid)
			}
		}
		return
	}
	i := strings.Index(string(e), " konghq.com CEF:0|")
	if i < 0 {
		t.Fatalf("konnect CEF entry without timestamp/host prefix: %s", e)
	}
	stamp := string(e[:i])
	if _, err := time.Parse(time.RFC3339, stamp); err != nil {
		if _, err := time.Parse(time.Stamp, stamp); err != nil {
			t.Fatalf("konnect CEF prefix %q is neither RFC 3339 nor syslog", stamp)
		}
	}
	fields := strings.SplitN(string(e[i+len(" konghq.com "):]), "|", 8)
	if len(fields) != 8 || fields[1] != "KongInc" || fields[2] != "Konnect" || !strings.HasPrefix(fields[7], "rt=") {
		t.Fatalf("konnect CEF entry has a bad header: %s", e)
	}
}

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
}

func TestBuildUniqueAndRepeated(t *testing.T) {
	for _, adapter := range adapterNames() {
		t.Run(adapter, func(t *testing.T) {
			s := testSpec(adapter)
			batch := 100
			if s.MaxBatch() == 1 {
				batch = 1
			}
			seen := map[string]uint64{}
			for first := uint64(0); first < 4000; first += uint64(batch) {
				for _, e := range entries(t, adapter, s.Build(nil, first, batch).Body) {
					k := eventKey(t, adapter, e)
					if prev, dup := seen[k]; dup {
						t.Fatalf("events near %d and %d share the key %s", prev, first, k)
					}
					seen[k] = first
				}
			}
			s.Unique = false
			a := s.Build(nil, 0, batch)
			a.Body = bytes.Clone(a.Body)
			b := s.Build(nil, 12345, batch)
			if !bytes.Equal(a.Body, b.Body) {
				t.Fatal("with Unique false every POST must repeat the first")
			}
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	for _, adapter := range adapterNames() {
		s := testSpec(adapter)
		a := s.Build(nil, 77, 10)
		b := s.Build(make([]byte, 0, 1), 77, 10)
		if !bytes.Equal(a.Body, b.Body) {
			t.Fatalf("%s: same spec and index gave different bodies", adapter)
		}
		s.Seed++
		if c := s.Build(nil, 77, 10); bytes.Equal(a.Body, c.Body) {
			t.Fatalf("%s: another seed gave the same body", adapter)
		}
	}
}

func TestOpenFaaSHeadersAndSignature(t *testing.T) {
	s := testSpec(adapterOpenFaaS)
	unsigned := s.Build(nil, 0, 3)
	if header(unsigned, "X-Openfaas-Signature-256") != "" {
		t.Fatal("signed without a secret")
	}
	if header(unsigned, "X-Openfaas-Event") != "api_access" {
		t.Fatal("missing X-Openfaas-Event: api_access")
	}
	d1 := header(unsigned, "X-Openfaas-Delivery")
	if d2 := header(s.Build(nil, 3, 3), "X-Openfaas-Delivery"); len(d1) != 36 || d1 == d2 {
		t.Fatalf("delivery ids %q, %q: want distinct UUIDs", d1, d2)
	}
	s.Secret = []byte("openfaas-secret")
	p := s.Build(nil, 0, 3)
	sig, ok := strings.CutPrefix(header(p, "X-Openfaas-Signature-256"), "sha256=")
	if !ok || sig != signSHA256([]byte("openfaas-secret"), p.Body) {
		t.Fatalf("signature %q does not verify", sig)
	}
	// Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := signSHA256([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Fatalf("signSHA256 = %s", got)
	}
}

func TestKongHooksSignature(t *testing.T) {
	// Kong's own test vector (DESIGN.md).
	if got := signSHA1([]byte("hunter2"), []byte("foobar")); got != "47632029fcc7936dc59ff90b5bb736a44c74ab62" {
		t.Fatalf("signSHA1 = %s", got)
	}
	s := testSpec(adapterKongHooks)
	s.Secret = []byte("hunter2")
	p := s.Build(nil, 9, 100)
	if p.Events != 1 {
		t.Fatalf("konghooks POST carries %d events, want 1", p.Events)
	}
	sig, ok := strings.CutPrefix(header(p, "X-Kong-Signature"), "sha1=")
	if !ok || sig != signSHA1([]byte("hunter2"), p.Body) {
		t.Fatalf("X-Kong-Signature %q does not verify", sig)
	}
}

func TestKonnectFormats(t *testing.T) {
	count := func(format string) (jsonLines, cefLines int) {
		s := testSpec(adapterKonnect)
		s.KonnectFormat = format
		for _, l := range entries(t, adapterKonnect, s.Build(nil, 0, 200).Body) {
			if l[0] == '{' {
				jsonLines++
			} else {
				cefLines++
			}
		}
		return
	}
	if j, c := count(konnectJSON); j != 200 || c != 0 {
		t.Fatalf("json: %d JSON, %d CEF", j, c)
	}
	if j, c := count(konnectCEF); j != 0 || c != 200 {
		t.Fatalf("cef: %d JSON, %d CEF", j, c)
	}
	if j, c := count(konnectMixed); j != 100 || c != 100 {
		t.Fatalf("mixed: %d JSON, %d CEF", j, c)
	}
	// Every entry kind and the type drift of real releases appear.
	body := string(testSpec(adapterKonnect).Build(nil, 0, 2000).Body)
	for _, want := range []string{`"name":"AUTHENTICATION_OUTCOME_`, `"name":"Authz.`, `"name":"Ingress"`,
		`|KongGateway|Ingress|`, `"rt":"`, `"rt":1`, `"granted":true`, `"granted":"true"`, `"success":"`, `"success":true`} {
		if !strings.Contains(body, want) {
			t.Errorf("2000 konnect entries never contain %s", want)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	if err := (Spec{Adapter: "splunk"}).Validate(); err == nil || !strings.Contains(err.Error(), "openfaas") {
		t.Fatalf("unknown adapter: %v", err)
	}
	if err := (Spec{Adapter: adapterKonnect, KonnectFormat: "cps"}).Validate(); err == nil {
		t.Fatal("unknown konnect format accepted")
	}
	if err := testSpec(adapterKonnect).Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint8(0), uint8(10), true)
	f.Add(uint64(99), uint64(1<<47), uint8(4), uint8(3), false)
	f.Add(uint64(0), uint64(1<<63), uint8(5), uint8(1), true)
	f.Fuzz(func(t *testing.T, seed, first uint64, adapter, n uint8, unique bool) {
		names := adapterNames()
		s := Spec{Adapter: names[int(adapter)%len(names)], Seed: seed, Unique: unique, Base: testBase, KonnectFormat: konnectMixed, Secret: []byte("k")}
		p := s.Build(nil, first, int(n%32)+1)
		es := entries(t, s.Adapter, p.Body)
		if len(es) != p.Events {
			t.Fatalf("%d entries, Events %d", len(es), p.Events)
		}
		for _, e := range es {
			if s.Adapter != adapterLines && e[0] == '{' && !json.Valid(e) {
				t.Fatalf("invalid JSON entry %s", e)
			}
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	for _, adapter := range adapterNames() {
		b.Run(adapter, func(b *testing.B) {
			s := testSpec(adapter)
			s.Secret = []byte("bench-secret")
			batch := 100
			if s.MaxBatch() == 1 {
				batch = 1
			}
			var buf []byte
			events, size := 0, 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := s.Build(buf, uint64(i*batch), batch)
				buf = p.Body
				events += p.Events
				size += len(p.Body)
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(size)/float64(events), "bytes/event")
		})
	}
}
