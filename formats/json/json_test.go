package json

import (
	"bytes"
	stdjson "encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay"
)

func sample() auditrelay.Event {
	return auditrelay.Event{
		ID:         "sha256:0123456789abcdef0123456789abcdef",
		Time:       time.Date(2023, 12, 4, 17, 9, 28, 710118072, time.UTC),
		ReceivedAt: time.Date(2023, 12, 4, 17, 9, 29, 0, time.UTC),
		Source:     auditrelay.Source{Kind: "openfaas", Input: "openfaas", DeliveryID: "fe0f677c"},
		Actor: auditrelay.Actor{ID: "fed:system:serviceaccount:openfaas:cron-connector",
			FederatedIssuer: "https://kubernetes.default.svc.cluster.local", Roles: []string{"a", "b"}, Type: "service"},
		Action:   auditrelay.Action{Name: "Namespace:List", All: []string{"Namespace:List"}, Verb: "read"},
		Resource: auditrelay.Resource{Type: "Namespace"},
		Request:  auditrelay.Request{Method: "GET", Path: "/system/namespaces", ClientIP: "10.0.0.1"},
		Outcome:  auditrelay.Outcome{Result: "success", StatusCode: 200},
		Severity: 1,
		Raw:      stdjson.RawMessage(`{"a":1}`),
	}
}

func TestAppendMatchesSchema(t *testing.T) {
	e := sample()
	got := string(New().Append(nil, &e))
	want := `{"id":"sha256:0123456789abcdef0123456789abcdef","time":"2023-12-04T17:09:28.710118072Z",` +
		`"received_at":"2023-12-04T17:09:29.000000000Z","source":{"kind":"openfaas","input":"openfaas","delivery_id":"fe0f677c"},` +
		`"actor":{"id":"fed:system:serviceaccount:openfaas:cron-connector","federated_issuer":"https://kubernetes.default.svc.cluster.local","roles":["a","b"],"type":"service"},` +
		`"action":{"name":"Namespace:List","all":["Namespace:List"],"verb":"read"},"resource":{"type":"Namespace"},` +
		`"request":{"method":"GET","path":"/system/namespaces","client_ip":"10.0.0.1"},` +
		`"outcome":{"result":"success","status_code":200},"severity":1,"raw":{"a":1}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestEmptyEventOmitsEverythingButSeverity(t *testing.T) {
	var e auditrelay.Event
	if got := string(New().Append(nil, &e)); got != `{"severity":0}` {
		t.Fatalf("got %s", got)
	}
}

// TestOnlyLastMembers: an object whose only member is its last (or an
// array, or a number) opens without a comma, and the next object follows
// with one.
func TestOnlyLastMembers(t *testing.T) {
	for _, tc := range []struct {
		e    auditrelay.Event
		want string
	}{{
		auditrelay.Event{Source: auditrelay.Source{DeliveryID: "d"}, Actor: auditrelay.Actor{Type: "user"},
			Action: auditrelay.Action{Verb: "read"}, Resource: auditrelay.Resource{Namespace: "n"},
			Request: auditrelay.Request{Interface: "ui"}, Outcome: auditrelay.Outcome{Reason: "r"}, Severity: 10},
		`{"source":{"delivery_id":"d"},"actor":{"type":"user"},"action":{"verb":"read"},"resource":{"namespace":"n"},` +
			`"request":{"interface":"ui"},"outcome":{"reason":"r"},"severity":10}`,
	}, {
		auditrelay.Event{ReceivedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), Actor: auditrelay.Actor{Roles: []string{"a", "b"}},
			Action: auditrelay.Action{All: []string{"x"}}, Outcome: auditrelay.Outcome{StatusCode: 42}, Severity: -3},
		`{"received_at":"2025-01-02T03:04:05.000000006Z","actor":{"roles":["a","b"]},"action":{"all":["x"]},` +
			`"outcome":{"status_code":42},"severity":-3}`,
	}} {
		if got := string(New().Append(nil, &tc.e)); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestTimeIsUTC(t *testing.T) {
	e := auditrelay.Event{Time: time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))}
	got := string(New().Append(nil, &e))
	if !strings.Contains(got, `"time":"2024-01-02T02:04:05.000000006Z"`) {
		t.Fatalf("got %s", got)
	}
}

func TestAppendStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            `"plain"`,
		"q\"b\\":           `"q\"b\\"`,
		"nl\nrt\rtab\t":    `"nl\nrt\rtab\t"`,
		"\x00\x1f":         `"\u0000\u001f"`,
		"bad\xffutf8":      `"bad\ufffdutf8"`,
		"ls\u2028ps\u2029": `"ls\u2028ps\u2029"`,
		"ünïcødé ✓":        `"ünïcødé ✓"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

// roundTrip checks that encoding/json reads our encoding back to e.
func roundTrip(t *testing.T, e auditrelay.Event) {
	t.Helper()
	b := New().Append(nil, &e)
	if !stdjson.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	var back auditrelay.Event
	if err := stdjson.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	want := e
	want.Time, want.ReceivedAt = want.Time.UTC(), want.ReceivedAt.UTC()
	for _, p := range []*string{&want.ID, &want.Actor.Name, &want.Request.Path, &want.Outcome.Reason} {
		*p = perByteReplacement(*p)
	}
	if len(want.Raw) == 0 {
		want.Raw = nil
	}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", back, want)
	}
}

// perByteReplacement replaces every invalid byte with U+FFFD, as
// encoding/json does.
func perByteReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) { roundTrip(t, sample()) }

func FuzzRoundTrip(f *testing.F) {
	f.Add("id", "name", "/p?q=1", "reason", int64(1701709768710118072), 200)
	f.Add("\"\\\n", "\xff\xfe", "\u2028", "", int64(0), -1)
	f.Fuzz(func(t *testing.T, id, name, path, reason string, nanos int64, code int) {
		e := sample()
		e.ID, e.Actor.Name, e.Request.Path, e.Outcome.Reason = id, name, path, reason
		e.Outcome.StatusCode = code
		e.Time = time.Unix(0, nanos).UTC()
		if e.Time.Year() < 0 || e.Time.Year() > 9999 {
			t.Skip("outside RFC 3339")
		}
		b := New().Append(nil, &e)
		if !utf8.Valid(b) || bytes.ContainsAny(b, "\n\r") {
			t.Fatalf("not one valid UTF-8 line: %q", b)
		}
		roundTrip(t, e)
	})
}

func BenchmarkAppend(b *testing.B) {
	e := sample()
	e.Raw = nil
	f := New()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestAppendTimeMatchesLayout: the hand-written formatter writes what
// TimeLayout writes, for times in and out of its fast range and in other
// zones.
func TestAppendTimeMatchesLayout(t *testing.T) {
	zone := time.FixedZone("x", -(3*3600 + 30*60))
	times := []time.Time{
		time.Date(2025, 6, 18, 21, 2, 36, 123456789, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, zone),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 3, 4, 5, 6, 7, 8, time.UTC),
		time.Unix(0, 0),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*7919*86400/3, int64(i)*999_983).In(zone))
	}
	for _, at := range times {
		got := string(AppendTime(nil, at))
		want := at.UTC().Format(TimeLayout)
		if got != want {
			t.Fatalf("AppendTime(%v) = %s, want %s", at, got, want)
		}
	}
}

// TestPlain8 checks the 8-bytes-at-once test against the byte-by-byte rule
// for every byte value at every position, among plain neighbours.
func TestPlain8(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if got := plain8(string(b)); got != want {
				t.Fatalf("plain8(%q) = %v, want %v", b, got, want)
			}
		}
	}
}

// plainByte is the byte-by-byte rule copyPlain and plain8 implement.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }

// TestCopyPlain checks the word-at-a-time copy against the byte rule for
// every length up to 3 words, every position and every byte value, among
// plain neighbours.
func TestCopyPlain(t *testing.T) {
	for n := range 25 {
		b := []byte(strings.Repeat("abcdefgh", 4)[:n])
		d := make([]byte, n)
		if !copyPlain(d, string(b)) || !bytes.Equal(d, b) {
			t.Fatalf("copyPlain(%q) = false or copied %q", b, d)
		}
		for pos := range n {
			for c := range 256 {
				s := slices.Clone(b)
				s[pos] = byte(c)
				clear(d)
				got := copyPlain(d, string(s))
				if got != plainByte(byte(c)) {
					t.Fatalf("copyPlain(%q) = %v, want %v", s, got, !got)
				}
				if got && !bytes.Equal(d, s) {
					t.Fatalf("copyPlain(%q) copied %q", s, d)
				}
			}
		}
	}
}

// TestAppendStringFastPathAgrees: the word-at-a-time path writes what the
// byte-by-byte escaper writes, after a non-empty prefix too.
func TestAppendStringFastPathAgrees(t *testing.T) {
	for _, s := range []string{"", "a", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghi",
		"fed:system:serviceaccount:openfaas:cron-connector", "a\"b", "tab\there, long enough", "ünï", "x\u2028y",
		"0123456789abcdef\\", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f"} {
		for _, prefix := range []string{"", `{"k":`} {
			got := string(AppendString([]byte(prefix), s))
			want := string(appendEscaped([]byte(prefix), s))
			if got != want {
				t.Errorf("AppendString(%q, %q) = %s, escaper writes %s", prefix, s, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "q\"b\\", "nl\nrt\r", "\x00\x1f", "bad\xffutf8", "ls\u2028ps\u2029", "ünïcødé ✓", "abcdefghijklmnopq"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString([]byte("x"), s)
		if want := appendEscaped([]byte("x"), s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, escaper writes %s", s, got, want)
		}
		for _, room := range []int{0, 7*len(s) + 2} { // AppendBytes reading its own dst, with and without room
			buf := append(make([]byte, 0, len(s)+room), s...)
			if b := AppendBytes(buf, buf); string(b[len(s):]) != string(got[1:]) {
				t.Fatalf("AppendBytes(%q) after itself = %s, AppendString writes %s", s, b[len(s):], got[1:])
			}
		}
		var back string
		if err := stdjson.Unmarshal(got[1:], &back); err != nil {
			t.Fatalf("decode %s: %v", got, err)
		}
		if want := perByteReplacement(s); back != want {
			t.Fatalf("AppendString(%q) decodes to %q, want %q", s, back, want)
		}
	})
}

func TestAppendInt(t *testing.T) {
	for _, v := range []int{0, 1, 9, 10, 99, 100, 200, 404, 999, 1000, 12345, -1, -10, -100, -999, math.MaxInt, math.MinInt} {
		if got, want := string(appendInt([]byte("x"), v)), "x"+strconv.Itoa(v); got != want {
			t.Errorf("appendInt(%d) = %s, want %s", v, got, want)
		}
	}
}
