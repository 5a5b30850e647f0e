package openfaas

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// quirks are bodies on which encoding/json's struct decoding behaves in
// ways Parse must reproduce.
var quirks = []string{
	`[{"PATH":"/system/functions","Method":"get","ſub":1}]`,
	`[{"actor":{"ſub":"x","NAME":"n"},"actıons":["Function:Create"],"Key":1,"ACTIONS":["Kind:Create"]}]`,
	`[{"p\u0061th":"/system/function/f","\u0061ctor":{"sub":"a\u0000b"}}]`,
	`[{"path":"/a","path":null,"response_code":200,"response_code":null}]`,
	`[{"actor":{"sub":"a"},"actor":{"name":"b"}},{"actor":{"sub":"a"},"actor":null,"actor":{"name":"c"}}]`,
	`[{"actions":["a","b"],"actions":[null]},{"actions":["a","b"],"actions":["x"],"actions":[null,null,null]}]`,
	`[{"actions":["a"],"actions":[],"actions":[null]},{"actions":[]},{"actions":null},{"actions":[null,"x"]}]`,
	`[{"response_code":"x","time":"y"},{"time":5}]`,
	`[{"response_code":1.5}]`, `[{"response_code":1e2}]`, `[{"response_code":-99999999999999999999}]`,
	`[{"response_code":-0,"time":null}]`, `[{"actor":true}]`, `[{"actions":[1]}]`, `[{"actions":{}}]`,
	`[{"time":"2020-01-01T00:00:00+25:00"}]`, `[{"time":"2020-01-01T01:00:00+01:00"}]`, `[{"time":"\u0032020-01-01T00:00:00Z"}]`,
	`[{"path":"\ud800","method":"` + "\xff" + `"}]`, `[{"event":"function_usage"},{"event":"api\u005faccess"}]`,
	`[{"path":"/system/secrets?namespace=a&namespace=b"}]`, `[{"path":"/x?namespace=a%2"}]`, `[{"path":"/x?a=1;b&namespace=c"}]`,
	`[{"path":"/x?namespace=a+b%20c"}]`, "[\n {\"path\": \"/a\" ,\n \"method\" : \"GET\"}\t]\n", "\u00a0[{}]\u2028",
	`[{"response_code":"x"}, 1`, `[{"time":"x"},]`, `[{},{"a":}]`, `[1,{"time":"x"}]`, `[{"time":"x"}] x`,
}

// FuzzParseMatchesReference compares Parse with the encoding/json
// implementation it replaced: the same events, ignored counts and errors,
// with and without include_raw and a function_usage header.
func FuzzParseMatchesReference(f *testing.F) {
	golden.Seeds(f, fixtures)
	for _, q := range quirks {
		f.Add([]byte(q))
	}
	a, _ := New(DefaultConfig())
	f.Fuzz(func(t *testing.T, body []byte) { compareWithReference(t, a, body) })
}

func compareWithReference(t *testing.T, a *Adapter, body []byte) {
	t.Helper()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, meta := range []auditrelay.Meta{
		{Input: "fuzz", ReceivedAt: at, Header: http.Header{"X-Openfaas-Delivery": {"d-1"}}},
		{Input: "fuzz", ReceivedAt: at, IncludeRaw: true},
		{Input: "fuzz", Header: http.Header{"X-Openfaas-Event": {"function_usage"}}},
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
	for _, c := range golden.Cases(t, fixtures) {
		compareWithReference(t, a, c.Input)
	}
}

func TestParseAllocations(t *testing.T) {
	a, _ := New(DefaultConfig())
	body := benchBody(100)
	meta := auditrelay.Meta{Input: "bench"}
	if _, err := a.Parse(body, meta); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _, _ = a.Parse(body, meta) }) / 100; n > 5 {
		t.Errorf("%.2f allocations per event, want at most 5", n)
	}
}
