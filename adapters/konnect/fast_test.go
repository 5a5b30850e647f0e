package konnect

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// quirks are entries on which decoding into map[string]any (and the CEF
// query's json.Decoder) behave in ways Parse must reproduce.
var quirks = []string{
	`{"name":"Ingress","name":null,"event":{"name":"Authz.portals","action":"list","granted":"true"}}`,
	`{"event":{"name":"a"},"event":1,"name":"x"}`, `{"event":1,"event":{"name":"a","rt":5}}`,
	`{"event":{"name":"a"},"event":{"act":"GET"}}`, `{"event":{"name":"a"},"name":""}`, `{"event":{"name":"a","event":{}}}`,
	`{"event":{"name":"a"},"bad":[],"sig":{}}`, `{"event":null,"name":"Ingress"}`, `{"ev\u0065nt":{"n\u0061me":"Ingress"}}`,
	`{"n\u0061me":"Ingress","rt":"1","\u0072t":2}`, `{"name":"Ingress","x":{},"x":1}`, `{"name":"Ingress","x":1,"x":[]}`,
	`{"name":"Ingress","rt":1,"rt":null}`, `{"name":"Ingress","status":"200","status":404.0}`, `{"name":"Ingress","rt":1.5e3}`,
	`{"name":"Ingress","query":"{\"a\":[1,\"b\",null,{},[2],true],\"a\":\"c\",\"b\":{}, \"d e\":\"f&g\",\"~\":\"é/\"}"}`,
	`{"name":"Ingress","query":{"z":"1","a":["x","y"],"a":["w"],"m":[],"m":null,"\u006d":false}}`,
	`{"name":"Ingress","query":{"b":[],"a":{}, "b":"1", "c":"x","c":[]}}`,
	`{"name":"Ingress","query":"  ?a=b "}`, `{"name":"Ingress","query":" {\"a\":1} x"}`, `{"name":"Ingress","query":"{\"a\":1"}`,
	`{"name":"Ingress","query":5}`, `{"name":"Ingress","query":[]}`, `{"name":"Ingress","query":null}`, `{"name":"Ingress","query":true}`,
	`{"name":"Ingress","query":"\u00a0{}\u00a0"}`, `{"name":"Ingress","query":"{} {}"}`, `{"name":"Ingress","query":"?"}`, `{"name":"Ingress","query":"   "}`,
	`{"name":"Ingress","query":"{\"\\ud800\":\"\\u0000\u00ff\"}"}`, `{"name":"Ingress","query":"{\"a\":\"b\"}","query":"x=1"}`,
	`{"name":"Ingress","trace_id":18446744073709551616123,"success":"true","granted":true,"kong_initiated":"1"}`,
	`{"name":"AUTHENTICATION_OUTCOME_INVALID_PASSWORD","success":false}`, `{"name":"AUTHENTICATION_OUTCOME_Ünknown_X"}`,
	"\v{\"name\":\"x\"}\u00a0", "{\"name\":\"\xff\",\"\xfe\":1}", `{ "name" : "Ingress" , "query" : { "a" : "b" } }`, `{"name":"Ingress"} x`,
	`{"name":"Ingress","request":"/v2/control-planes/1c026712-c17d-4e30-ac27-53a6cdc56b9c/core-entities/services/007","act":"PUT"}`,
	`{"name":"Authz.control-planes/*/services/x/routes","action":"Retrieve"}`, `{"name":"Authz./","action":"EDIT"}`,
	`{"name":"Ingress","request":"//v1/18446744073709551616/v2//","act":"get"}`, `{"name":"Ingress","request":"/a/00000000000000000000000001?x=/b"}`,
	`{}`, `{"name":null}`, `[{"name":"x"}]`, `{"name":"x"`, `{"name":"x","rt":"x"}`,
	`2025-06-18T21:02:36Z konghq.com CEF:0|KongInc|Konnect|1.0|KongGateway|Ingress|1|rt=1750280556000 query={"page[size]":"100","a":["1",2]} act=GET`,
	`Jun 18 21:02:36 konghq.com CEF:0|KongInc|Konnect|1.0|KongGateway|Ingress|1|query= ?x=1 status=200`,
	`CEF:0|KongInc|Konnect|1.0|KongGateway|Ingress|1|query=a query={"a": status=2`, `CEF:0|V|P|1|id|Ingress|1|query={"a":"b"} x`,
	`CEF:0|V|P|1|id|Ingress|1|query=  {"a":{"b":1},"c":"\u00e9"}  `, `CEF:0|V|P|1|id|n|1|`, `CEF:0|V|P|1|id|n|1|=x`,
}

// FuzzParseMatchesReference compares Parse with the implementation it
// replaced (reference_test.go): the same events, rejected lines and
// reasons, and errors, with and without include_raw.
func FuzzParseMatchesReference(f *testing.F) {
	golden.Seeds(f, fixtures)
	f.Add(generateBatch(24))
	f.Add([]byte(joinLines(quirks)))
	for _, q := range quirks {
		f.Add([]byte(q))
	}
	a, _ := New(Config{MaxDecompressedBytes: 64 << 10}) // small: fast executions
	f.Fuzz(func(t *testing.T, body []byte) { compareWithReference(t, a, body) })
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func compareWithReference(t *testing.T, a *Adapter, body []byte) {
	t.Helper()
	for _, meta := range []auditrelay.Meta{
		{Input: "fuzz", DeliveryID: "d", ReceivedAt: golden.ReceivedAt},
		{Input: "fuzz", IncludeRaw: true},
	} {
		got, err := a.Parse(body, meta)
		want, werr := a.refParse(body, meta)
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("%q: error %v, reference %v", body, err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q (include_raw %v):\n got %+v\nwant %+v", body, meta.IncludeRaw, got, want)
		}
	}
}

func TestQuirksMatchReference(t *testing.T) {
	a, _ := New(DefaultConfig())
	for _, q := range quirks {
		compareWithReference(t, a, []byte(q))
	}
	compareWithReference(t, a, []byte(joinLines(quirks)))
	for _, c := range golden.Cases(t, fixtures) {
		compareWithReference(t, a, c.Input)
	}
	compareWithReference(t, a, generateBatch(1000))
}

// Every JSON and CPS entry Konnect sends takes the one-pass path.
func TestOnePassTakesWhatKonnectSends(t *testing.T) {
	var p lineParser
	taken, json := 0, 0
	for line := range bytes.SplitSeq(generateBatch(300), []byte{'\n'}) {
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		json++
		var r record
		if _, ok := p.readJSON(line, &r); ok {
			taken++
		}
	}
	if json == 0 || taken != json {
		t.Errorf("%d of %d JSON entries took the one-pass path", taken, json)
	}
}

func TestParseAllocations(t *testing.T) {
	a, _ := New(DefaultConfig())
	body := generateBatch(300)
	meta := auditrelay.Meta{Input: "bench"}
	if _, err := a.Parse(body, meta); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10, func() { _, _ = a.Parse(body, meta) }) / 300; n > 6 {
		t.Errorf("%.2f allocations per event, want at most 6", n)
	}
}

func TestAppendQueryEscape(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "page[size]", "a b+c&d=e/f?g~h-i_j.k", "é\x00\xff", string(all)} {
		if got, want := string(appendQueryEscape(nil, []byte(s))), url.QueryEscape(s); got != want {
			t.Errorf("appendQueryEscape(%q) = %q, want %q", s, got, want)
		}
	}
}

// BenchmarkParseReference measures the implementation Parse replaced, on
// BenchmarkParse's plain batch.
func BenchmarkParseReference(b *testing.B) {
	a, _ := New(DefaultConfig())
	body := generateBatch(1000)
	meta := auditrelay.Meta{Input: "bench"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p, err := a.refParse(body, meta)
		if err != nil {
			b.Fatal(err)
		}
		n += len(p.Events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
