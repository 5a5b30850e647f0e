package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// hecReference is decodeHEC written with encoding/json: the semantics the
// scanner must match on valid JSON. Every top-level value must be an
// object; its "event" member (exact name, the last one when repeated, as
// encoding/json keeps) must be present and neither "" nor null.
func hecReference(body []byte) (events [][]byte, bad string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return events, ""
		}
		if err != nil || raw[0] != '{' {
			return events, hecBadFormat
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return events, hecBadFormat
		}
		ev, ok := obj["event"]
		switch {
		case !ok:
			return events, hecEventRequired
		case string(ev) == `""` || string(ev) == "null":
			return events, hecEventBlank
		}
		events = append(events, ev)
	}
}

// checkHECAgainstReference fails unless decodeHEC agrees with
// hecReference: exactly when the reference read every object it judged,
// and on the objects before the first malformed one otherwise (the
// scanner may count a malformed object encoding/json refuses).
func checkHECAgainstReference(t *testing.T, body []byte) {
	t.Helper()
	got, bad := decodeHEC(body, nil)
	want, wantBad := hecReference(body)
	if wantBad != hecBadFormat && (bad != wantBad || len(got) != len(want)) {
		t.Fatalf("scanner: %d events, bad %q; encoding/json: %d events, bad %q\nbody %q", len(got), bad, len(want), wantBad, body)
	}
	if len(got) < len(want) {
		t.Fatalf("scanner stopped at event %d (%q), encoding/json read %d\nbody %q", len(got), bad, len(want), body)
	}
	for i, w := range want {
		if !bytes.Equal(got[i].data, w) {
			t.Fatalf("event %d: scanner %q, encoding/json %q", i, got[i].data, w)
		}
	}
	for i, e := range got {
		if (e.kind == entryString) != (e.data[0] == '"') {
			t.Fatalf("event %d %q has kind %d", i, e.data, e.kind)
		}
	}
}

func TestDecodeHECScanner(t *testing.T) {
	for _, tc := range []struct {
		body   string
		events []string
		bad    string
	}{
		{`{"event":{"id":"a"}}`, []string{`{"id":"a"}`}, ""},
		{" \r\n\t{\"event\" : \"x\" }\n\n{ \"event\":1}", []string{`"x"`, "1"}, ""},
		{`{"event":"a \"}{ quoted\\"}{"event":"b\\\\"}`, []string{`"a \"}{ quoted\\"`, `"b\\\\"`}, ""},
		{`{"a":{"event":1},"b":[{"event":2}],"c":"event"}`, nil, hecEventRequired},
		{`{"a":"event","event":[1,{"x":"]"}],"z":null}`, []string{`[1,{"x":"]"}]`}, ""},
		{`{"event":1,"event":2}`, []string{"2"}, ""},
		{`{"event":1,"event":null}`, nil, hecEventBlank},
		{`{"\u0065vent":"escaped key"}`, []string{`"escaped key"`}, ""},
		{`{"Event":1}`, nil, hecEventRequired},
		{`{"event":"x"}[{"event":"y"}]`, []string{`"x"`}, hecBadFormat},
		{`{"event":"x"} null`, []string{`"x"`}, hecBadFormat},
		{`{"event":{"a":[1}]}}`, nil, hecBadFormat},
		{`{"event":"x"}{"event":"unclosed}`, []string{`"x"`}, hecBadFormat},
		{`{"event":}`, nil, hecBadFormat},
		{`{"event":"x"}}`, []string{`"x"`}, hecBadFormat},
		{strings.Repeat("[", 70) + strings.Repeat("]", 70), nil, hecBadFormat},
		{`{"event":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, []string{strings.Repeat("[", 70) + strings.Repeat("]", 70)}, ""},
		{"", nil, ""},
	} {
		got, bad := decodeHEC([]byte(tc.body), nil)
		var texts []string
		for _, e := range got {
			texts = append(texts, string(e.data))
		}
		if bad != tc.bad || fmt.Sprint(texts) != fmt.Sprint(tc.events) {
			t.Errorf("decodeHEC(%s) = %q, %q; want %q, %q", tc.body, texts, bad, tc.events, tc.bad)
		}
		checkHECAgainstReference(t, []byte(tc.body))
	}
}

func TestStringEnd(t *testing.T) {
	for s, want := range map[string]int{
		`"abc"x`:       5,
		`"a\"b"x`:      6,
		`"a\\"x`:       5,
		`"a\\\"b"x`:    8,
		`"\\\\"`:       6,
		`"unclosed\"`:  -1,
		`"`:            -1,
		`""`:           2,
		`"\u0022"tail`: 8,
	} {
		if got := stringEnd([]byte(s), 0); got != want {
			t.Errorf("stringEnd(%s) = %d, want %d", s, got, want)
		}
	}
}

func TestEntryID(t *testing.T) {
	for _, tc := range []struct {
		e    sinkEntry
		want string
	}{
		{sinkEntry{[]byte(`{"id":"sha256:ab","time":"t"}`), entryJSON}, "sha256:ab"},
		{sinkEntry{[]byte(`{"time":"t","source":{"id":"inner"},"id":"later"}`), entryJSON}, "later"},
		{sinkEntry{[]byte(`{"id":"a\"b"}`), entryJSON}, `a"b`},
		{sinkEntry{[]byte(`{ "id" : 7 }`), entryJSON}, "7"},
		{sinkEntry{[]byte(`{"id":null}`), entryJSON}, ""},
		{sinkEntry{[]byte(`{"id":""}`), entryJSON}, ""},
		{sinkEntry{[]byte(`{"noid":1}`), entryJSON}, ""},
		{sinkEntry{[]byte(`7`), entryJSON}, ""},
		{sinkEntry{[]byte(`"CEF:0|a|b|1|x|y|1|rt=1 externalId=req-1 src=1.2.3.4"`), entryString}, "req-1"},
		{sinkEntry{[]byte(`"CEF:0|a|b|1|x|y|1|msg=\"q\" externalId=req-2"`), entryString}, "req-2"},
		{sinkEntry{[]byte(`"CEF:0|a|b|1|x|y|1|rt=1"`), entryString}, ""},
		{sinkEntry{[]byte(`CEF:0|a|b|1|x|y|1|externalId=k1`), entryText}, "k1"},
	} {
		if got := string(entryID(tc.e)); got != tc.want {
			t.Errorf("entryID(%s) = %q, want %q", tc.e.data, got, tc.want)
		}
	}
}

func TestSplitGenericScanner(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string
		kind []entryKind
		err  string
	}{
		{` [ {"a":"]"} , 1,"s",[2,[3]],true,null ] `, []string{`{"a":"]"}`, "1", `"s"`, "[2,[3]]", "true", "null"}, nil, ""},
		{`[]`, nil, nil, ""},
		{`[ ]`, nil, nil, ""},
		{`[1,]`, nil, nil, "element 2"},
		{`[,1]`, nil, nil, "element 1"},
		{`[1 2]`, nil, nil, "comma"},
		{`[1] [2]`, nil, nil, "after the closing bracket"},
		{`[{"a":1}`, nil, nil, "closing bracket is missing"},
		{`[{"a":1]`, nil, nil, "element 1"},
		{"{\"a\":\"}\\n{\"}\n{\"b\":2}", []string{`{"a":"}\n{"}`, `{"b":2}`}, []entryKind{entryJSON, entryJSON}, ""},
		{"{\"a\":1}\nCEF:0|a|b|1|x|y|1|k=v\n{\"b\":\n", []string{`{"a":1}`, "CEF:0|a|b|1|x|y|1|k=v", `{"b":`}, []entryKind{entryJSON, entryText, entryText}, ""},
		{"{\"a\":1} 5\n", []string{`{"a":1} 5`}, []entryKind{entryText}, ""},
	} {
		got, err := splitGeneric([]byte(tc.body), nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || len(got) != 0 {
				t.Errorf("splitGeneric(%s) = %d entries, %v; want an error about %q", tc.body, len(got), err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("splitGeneric(%s) = %d entries, %v; want %d", tc.body, len(got), err, len(tc.want))
			continue
		}
		for i, e := range got {
			if string(e.data) != tc.want[i] || (tc.kind != nil && e.kind != tc.kind[i]) {
				t.Errorf("splitGeneric(%s) entry %d = %s (kind %d), want %s", tc.body, i, e.data, e.kind, tc.want[i])
			}
		}
	}
}

func FuzzDecodeHEC(f *testing.F) {
	f.Add(hecBody(4, 0))
	f.Add(relayHECBody(2))
	f.Add([]byte(`{"event":{"id":1}}{"event":""}`))
	f.Add([]byte(`{"event":`))
	f.Add([]byte(`{"a":"event","event":"x\"}{\\","event":[1,{"}":"{"}]} {"\u0065vent":null}`))
	f.Add([]byte(`{"event":1,"event":2}{"Event":3}`))
	f.Add([]byte(`{"event":{"a":[1}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkHECAgainstReference(t, body)
	})
}

// objectsReference reads a body as concatenated JSON values with
// encoding/json; ok is false unless every value is an object.
func objectsReference(body []byte) (objects [][]byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return objects, len(objects) > 0
		}
		if err != nil || raw[0] != '{' {
			return nil, false
		}
		objects = append(objects, raw)
	}
}

func FuzzSplitGeneric(f *testing.F) {
	f.Add([]byte(`[{"id":"a"},{"id":"b"}]`))
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte("CEF:0|a|b|1|x|y|1|k=v\r\n\n{\"x\":1}\nnot json {\n"))
	f.Add([]byte(`[1,2`))
	f.Add([]byte(` [ "]" , {"a":["[",1]} , -1.5e3, true ] `))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, err := splitGeneric(body, nil)
		var want [][]byte
		trimmed := trimSpace(body)
		switch {
		case len(trimmed) > 0 && trimmed[0] == '[' && json.Valid(body):
			var arr []json.RawMessage
			if json.Unmarshal(body, &arr) != nil {
				t.Fatalf("valid array %q does not unmarshal", body)
			}
			for _, v := range arr {
				want = append(want, v)
			}
		default:
			objects, ok := objectsReference(body)
			if !ok {
				want = nil
				break
			}
			want = objects
		}
		if want != nil || (len(trimmed) > 0 && trimmed[0] == '[' && json.Valid(body)) {
			if err != nil || len(entries) != len(want) {
				t.Fatalf("encoding/json reads %d values, the scanner %d (%v)\nbody %q", len(want), len(entries), err, body)
			}
			for i := range want {
				if !bytes.Equal(entries[i].data, want[i]) || entries[i].kind != entryJSON {
					t.Fatalf("value %d: scanner %q (kind %d), encoding/json %q", i, entries[i].data, entries[i].kind, want[i])
				}
			}
		}
		for _, e := range entries {
			if len(trimSpace(e.data)) == 0 { // JSON whitespace: "[\f]" counts "\f", a malformed literal
				t.Fatal("blank entry counted")
			}
		}
	})
}

// idReference is a JSON object's "id" read with encoding/json; ok is
// false when obj is not an object without repeated keys.
func idReference(obj []byte) (id string, ok bool) {
	if !utf8.Valid(obj) {
		return "", false // the scanner keeps raw bytes, encoding/json replaces them
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key := tok.(string)
		if seen[key] {
			return "", false
		}
		seen[key] = true
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return "", false
		}
		if key != "id" {
			continue
		}
		var s string
		switch {
		case string(v) == "null":
		case v[0] == '"':
			if json.Unmarshal(v, &s) != nil {
				return "", false
			}
			id = s
		default:
			id = string(v)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false
	}
	return id, true
}

func FuzzJSONID(f *testing.F) {
	f.Add([]byte(`{"id":"sha256:ab","time":"t"}`))
	f.Add([]byte(`{"time":"t","source":{"id":"inner"},"id":"later"}`))
	f.Add([]byte(`{"id":"a\"b\u00e9"}`))
	f.Add([]byte(`{ "\u0069d" : 7.5e1 }`))
	f.Add([]byte(`{"id":null,"x":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, obj []byte) {
		want, ok := idReference(obj)
		if !ok {
			_ = jsonID(obj) // must not panic
			return
		}
		if got := string(jsonID(obj)); got != want {
			t.Fatalf("jsonID(%q) = %q, encoding/json %q", obj, got, want)
		}
	})
}

func BenchmarkSinkEntryID(b *testing.B) {
	events, bad := decodeHEC(relayHECBody(1000), nil)
	if bad != "" {
		b.Fatal(bad)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, e := range events {
			if entryID(e) == nil {
				b.Fatal("no id")
			}
		}
		n += len(events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
