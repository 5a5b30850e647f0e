package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

// seeds are inputs that exercise every state of encoding/json's scanner:
// each truncation of them is tried too.
var seeds = []string{
	`{"a":[1,-2.5e+3,0,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{}}`,
	` [ {"k" : "v" } , [ ] , -0.0E-0 ] `,
	`"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, "\"\xff\xfe\"", "\"\xed\xa0\x80\"", "\"é\"",
	`{"a":1,"a":2}`, `01`, `1.`, `-`, `1e`, `1e+`, `.5`, `+1`, `tru`, `nul`, `fals`, `[1,]`, `{"a":1,}`,
	`{"a" 1}`, `{1:2}`, `[1 2]`, `{"a":1 "b":2}`, `"\x"`, `"\u12g4"`, "\"\x01\"", `{} x`, `'a'`, "\u00a0[]",
	`[[[[[[]]]]]]`, `"abcdefghijklmnopqrstuvwxyz\"0123456789"`, `"0123456789abcdef\\"`,
}

// reference returns encoding/json's verdict on data: nil or its
// *json.SyntaxError.
func reference(data []byte) error {
	var raw json.RawMessage
	return json.Unmarshal(data, &raw)
}

func sameError(t *testing.T, data []byte, got, want error) {
	t.Helper()
	var se *json.SyntaxError
	if want != nil && !errors.As(want, &se) {
		t.Fatalf("%q: reference error %T %v", data, want, want)
	}
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Fatalf("%q: got %v, encoding/json %v", data, got, want)
	default:
		var mine *SyntaxError
		if !errors.As(got, &mine) || mine.Error() != se.Error() || mine.Offset != se.Offset {
			t.Fatalf("%q: got %q at %d, encoding/json %q at %d", data, got, mine.Offset, se, se.Offset)
		}
	}
}

// tree builds a value from a Reader the way json.Decoder with UseNumber
// builds one into an any.
func tree(r *Reader) any {
	switch r.Peek() {
	case Object:
		m := map[string]any{}
		it := r.Object()
		for it.Next() {
			k, dec := it.Key()
			m[Decode(k, dec)] = tree(r)
		}
		return m
	case Array:
		s := []any{}
		it := r.Array()
		for it.Next() {
			s = append(s, tree(r))
		}
		return s
	case String:
		return Decode(r.String())
	case Number:
		return json.Number(r.Number())
	case Bool:
		return r.Bool()
	case Null:
		r.Null()
	}
	return nil
}

func check(t *testing.T, data []byte) {
	err := Validate(data)
	sameError(t, data, err, reference(data))
	if (err == nil) != json.Valid(data) {
		t.Fatalf("%q: Validate %v, json.Valid %v", data, err, json.Valid(data))
	}
	var want bytes.Buffer
	got, cerr := Compact([]byte("prefix"), data)
	if werr := json.Compact(&want, data); (cerr == nil) != (werr == nil) {
		t.Fatalf("%q: Compact %v, json.Compact %v", data, cerr, werr)
	}
	if cerr != nil {
		if string(got) != "prefix" {
			t.Fatalf("%q: Compact changed dst on error: %q", data, got)
		}
		return
	}
	if !bytes.Equal(got[len("prefix"):], want.Bytes()) {
		t.Fatalf("%q: Compact %q, json.Compact %q", data, got[6:], want.Bytes())
	}
	r := NewReader(data)
	r.Peek()
	before := r.Spaces()
	start := r.Pos()
	v := tree(&r)
	if err := r.End(); err != nil {
		t.Fatalf("%q: tree: %v", data, err)
	}
	if r.Spaces() == before && !bytes.Equal(bytes.TrimSpace(data[start:]), want.Bytes()) {
		t.Fatalf("%q: no spaces seen but the value is not compact", data)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var ref any
	if err := d.Decode(&ref); err != nil {
		t.Fatalf("%q: reference decode: %v", data, err)
	}
	if !reflect.DeepEqual(v, ref) {
		t.Fatalf("%q: decoded %#v, encoding/json %#v", data, v, ref)
	}
	r = NewReader(data)
	if raw := r.Value(); r.End() != nil || !bytes.Equal(raw, bytes.TrimSpace(data)) {
		t.Fatalf("%q: Value %q", data, raw)
	}
}

func TestSeedsAndTruncations(t *testing.T) {
	for _, s := range seeds {
		for i := 0; i <= len(s); i++ {
			check(t, []byte(s[:i]))
		}
	}
}

func TestErrors(t *testing.T) {
	for in, want := range map[string]string{
		``:          "unexpected end of JSON input",
		`[1,]`:      "invalid character ']' looking for beginning of value",
		`{"a" 1}`:   "invalid character '1' after object key",
		`[1 2]`:     "invalid character '2' after array element",
		`-`:         "invalid character ' ' in numeric literal",
		`1.x`:       "invalid character 'x' after decimal point in numeric literal",
		"\"\x01\"":  `invalid character '\x01' in string literal`,
		`{} x`:      "invalid character 'x' after top-level value",
		`nulL`:      "invalid character 'L' in literal null (expecting 'l')",
		`"\u00zz"`:  `invalid character 'z' in \u hexadecimal character escape`,
		`{"a":1,}`:  "invalid character '}' looking for beginning of object key string",
		"\xff":      `invalid character 'ÿ' looking for beginning of value`,
		`{"a":1 2}`: "invalid character '2' after object key:value pair",
	} {
		err := Validate([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
		sameError(t, []byte(in), err, reference([]byte(in)))
	}
}

func TestMaxDepth(t *testing.T) {
	for _, n := range []int{maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			data := []byte(strings.Repeat(open, n-1) + "[]" + strings.Repeat(close, n-1))
			err := Validate(data)
			sameError(t, data[:40], err, reference(data))
			if (err == nil) != (n == maxDepth) {
				t.Errorf("depth %d: %v", n, err)
			}
		}
	}
}

func TestStringNoCopy(t *testing.T) {
	data := []byte(`{"plain":"abc","esc":"a\nb","bad":"` + "\xff" + `","utf8":"é"}`)
	r := NewReader(data)
	it := r.Object()
	want := map[string]bool{"plain": false, "esc": true, "bad": true, "utf8": false}
	for it.Next() {
		k, _ := it.Key()
		raw, dec := r.String()
		if dec != want[string(k)] {
			t.Errorf("%s: decode = %v", k, dec)
		}
		if !dec && &raw[0] != &data[bytes.Index(data, raw)] {
			t.Errorf("%s: content was copied", k)
		}
	}
	if r.End() != nil {
		t.Fatal(r.Err())
	}
	if n := testing.AllocsPerRun(100, func() {
		r := NewReader(data)
		r.Skip()
	}); n != 0 {
		t.Errorf("Skip allocates %v times", n)
	}
}

func TestNumberKeepsDigits(t *testing.T) {
	r := NewReader([]byte(`{"trace_id": 12345678901234567890123}`))
	it := r.Object()
	it.Next()
	if got := string(r.Number()); got != "12345678901234567890123" {
		t.Errorf("number %s", got)
	}
}

// FuzzScan compares Validate, Compact and decoding with encoding/json on
// arbitrary input: the same verdict, error text and offset, the same
// compact bytes, the same decoded strings, numbers and structure.
func FuzzScan(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { check(t, data) })
}

// FuzzDecode compares string decoding with encoding/json on arbitrary
// string content.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`a`, `\ud800\udc00`, `\ud800x`, "\xff\xc3", `\u0000\/`, "é\xe2\x82"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		lit := append(append([]byte{'"'}, content...), '"')
		var want string
		werr := json.Unmarshal(lit, &want)
		r := NewReader(lit)
		raw, dec := r.String()
		if err := r.End(); (err == nil) != (werr == nil) {
			t.Fatalf("%q: %v, encoding/json %v", lit, err, werr)
		}
		if werr != nil {
			return
		}
		if got := Decode(raw, dec); got != want {
			t.Fatalf("%q: decoded %q, encoding/json %q", lit, got, want)
		}
		if !dec && string(raw) != want {
			t.Fatalf("%q: no decoding needed but %q != %q", lit, raw, want)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	data := []byte(`[` + strings.Repeat(`{"actor":{"sub":"fed:alice@example.com","name":"Alice"},"path":"/system/function/fn-1?namespace=openfaas-fn","method":"POST","actions":["Function:Create"],"response_code":202,"time":"2023-12-04T17:09:28.710118072Z"},`, 99) + `{}]`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseIntMatchesStrconv(t *testing.T) {
	for _, lit := range []string{"0", "-0", "7", "-42", "202", "999999999999999999", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "1.5", "1e3", "", "-", "01x"} {
		n, ok := ParseInt([]byte(lit))
		want, err := strconv.ParseInt(lit, 10, 0)
		if ok != (err == nil) || ok && n != int(want) {
			t.Errorf("ParseInt(%q) = %d, %v; strconv says %d, %v", lit, n, ok, want, err)
		}
	}
}
