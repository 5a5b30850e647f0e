package cef_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/formats/cef"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// The strict parser below is written from "Implementing ArcSight CEF"
// rev 25, chapter 1, not from the encoder: the header is seven fields split
// on unescaped '|' (escapes `\\` and `\|`); the extension is key=value pairs
// where a key is [A-Za-z0-9_]+ preceded by a space (or starting the
// extension) and followed by an unescaped '='; a value runs to the last
// space before the next key (earlier spaces belong to the value) and the
// final value loses its trailing spaces; value escapes are `\\`, `\=`, `\n`
// and `\r`. Anything else is an error.

type pair struct{ Key, Value string }

type record struct {
	Version, Vendor, Product, DeviceVersion, SignatureID, Name, Severity string
	Ext                                                                  []pair
}

// get returns the value of key and whether it is present.
func (r record) get(key string) (string, bool) {
	for _, p := range r.Ext {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

var severityNames = map[string]bool{"Unknown": true, "Low": true, "Medium": true, "High": true, "Very-High": true}

func parse(line string) (record, error) {
	var r record
	if !utf8.ValidString(line) {
		return r, errors.New("line is not valid UTF-8")
	}
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		return r, fmt.Errorf("raw line break at byte %d", i)
	}
	rest, ok := strings.CutPrefix(line, "CEF:")
	if !ok {
		return r, errors.New(`line does not start with "CEF:"`)
	}
	fields := []*string{&r.Version, &r.Vendor, &r.Product, &r.DeviceVersion, &r.SignatureID, &r.Name, &r.Severity}
	for i, f := range fields {
		end := unescapedPipe(rest)
		if end < 0 {
			return r, fmt.Errorf("header has %d fields, want 7 and the extension", i)
		}
		v, err := unescapeHeader(rest[:end])
		if err != nil {
			return r, fmt.Errorf("header field %d: %w", i+1, err)
		}
		*f, rest = v, rest[end+1:]
	}
	if r.Version != "0" {
		return r, fmt.Errorf("version %q, want 0", r.Version)
	}
	if n, err := strconv.Atoi(r.Severity); (err != nil || n < 0 || n > 10) && !severityNames[r.Severity] {
		return r, fmt.Errorf("severity %q is neither 0-10 nor a severity name", r.Severity)
	}
	var err error
	r.Ext, err = parseExtension(rest)
	return r, err
}

func unescapedPipe(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			return i
		}
	}
	return -1
}

func unescapeHeader(s string) (string, error) {
	return unescape(s, map[byte]byte{'\\': '\\', '|': '|'})
}

func unescapeValue(s string) (string, error) {
	return unescape(s, map[byte]byte{'\\': '\\', '=': '=', 'n': '\n', 'r': '\r'})
}

func unescape(s string, escapes map[byte]byte) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("lone backslash at the end")
		}
		c, ok := escapes[s[i+1]]
		if !ok {
			return "", fmt.Errorf("unknown escape \\%c", s[i+1])
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

func isKeyByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func parseExtension(ext string) ([]pair, error) {
	if ext == "" {
		return nil, nil
	}
	type span struct{ keyAt, eq int }
	var spans []span
	for i := 0; i < len(ext); i++ {
		switch ext[i] {
		case '\\':
			i++
		case '=':
			j := i
			for j > 0 && isKeyByte(ext[j-1]) {
				j--
			}
			switch {
			case j == i:
				return nil, fmt.Errorf("unescaped '=' at byte %d has no key before it", i)
			case len(spans) == 0 && j != 0:
				return nil, fmt.Errorf("extension does not start with a key: %q", ext[:j])
			case len(spans) > 0 && ext[j-1] != ' ':
				return nil, fmt.Errorf("key %q at byte %d is not preceded by a space", ext[j:i], j)
			}
			spans = append(spans, span{j, i})
		}
	}
	if len(spans) == 0 {
		return nil, errors.New("extension has no key=value pair")
	}
	seen := map[string]bool{}
	pairs := make([]pair, 0, len(spans))
	for k, s := range spans {
		key := ext[s.keyAt:s.eq]
		if seen[key] {
			return nil, fmt.Errorf("key %q repeated", key)
		}
		seen[key] = true
		var raw string
		if k+1 < len(spans) {
			raw = ext[s.eq+1 : spans[k+1].keyAt-1]
		} else {
			raw = strings.TrimRight(ext[s.eq+1:], " ")
		}
		v, err := unescapeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", key, err)
		}
		pairs = append(pairs, pair{key, v})
	}
	return pairs, nil
}

// dictionary is every key the format may write, each from the CEF
// extension dictionary.
var dictionary = map[string]bool{
	"rt": true, "externalId": true, "suser": true, "suid": true, "src": true,
	"c6a2": true, "c6a2Label": true, "requestMethod": true, "request": true,
	"requestClientApplication": true, "act": true, "cat": true, "outcome": true,
	"reason": true, "cn1": true, "cn1Label": true,
	"cs1": true, "cs1Label": true, "cs2": true, "cs2Label": true, "cs3": true, "cs3Label": true,
	"cs4": true, "cs4Label": true, "cs5": true, "cs5Label": true, "cs6": true, "cs6Label": true,
}

// mustParse encodes e and parses the line back strictly.
func mustParse(t testing.TB, e *auditrelay.Event) (string, record) {
	t.Helper()
	line := string(cef.New().Append(nil, e))
	r, err := parse(line)
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	for _, p := range r.Ext {
		if !dictionary[p.Key] {
			t.Fatalf("key %q is not one the format may write: %q", p.Key, line)
		}
	}
	return line, r
}

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
		Request:  auditrelay.Request{Method: "GET", Path: "/system/namespaces", ClientIP: "10.0.0.1", UserAgent: "Go-http-client/1.1"},
		Outcome:  auditrelay.Outcome{Result: "success", StatusCode: 200},
		Severity: 1,
	}
}

func TestAppendSample(t *testing.T) {
	e := sample()
	got, _ := mustParse(t, &e)
	want := `CEF:0|OpenFaaS|OpenFaaS|1.0|Namespace:List|GET /system/namespaces|1|rt=1701709768710 ` +
		`externalId=sha256:0123456789abcdef0123456789abcdef suser=fed:system:serviceaccount:openfaas:cron-connector ` +
		`suid=fed:system:serviceaccount:openfaas:cron-connector src=10.0.0.1 requestMethod=GET request=/system/namespaces ` +
		`requestClientApplication=Go-http-client/1.1 act=Namespace:List cat=openfaas outcome=success cn1=200 cn1Label=statusCode ` +
		`cs1=Namespace cs1Label=resourceType cs4=https://kubernetes.default.svc.cluster.local cs4Label=issuer ` +
		`cs5=a,b cs5Label=roles cs6=openfaas cs6Label=input`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAppendReusesDst(t *testing.T) {
	e := sample()
	buf := make([]byte, 0, 4096)
	buf = append(buf, "prefix "...)
	out := cef.New().Append(buf, &e)
	if &out[0] != &buf[:1][0] || !strings.HasPrefix(string(out), "prefix CEF:0|") {
		t.Fatalf("Append did not extend the caller's buffer: %q", out)
	}
}

func TestEmptyEvent(t *testing.T) {
	var e auditrelay.Event
	got, r := mustParse(t, &e)
	if want := "CEF:0|auditrelay|auditrelay|1.0|event|event|0|"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if len(r.Ext) != 0 {
		t.Fatalf("extension %v, want none", r.Ext)
	}
}

func TestHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(e *auditrelay.Event)
		vendor string
		prod   string
		sig    string
		evname string
		sev    string
	}{
		{"openfaas", func(e *auditrelay.Event) {}, "OpenFaaS", "OpenFaaS", "Namespace:List", "GET /system/namespaces", "1"},
		{"stackrox", func(e *auditrelay.Event) { e.Source.Kind = "stackrox" }, "StackRox", "StackRox", "Namespace:List", "GET /system/namespaces", "1"},
		{"kong", func(e *auditrelay.Event) { e.Source.Kind = "kong" }, "Kong", "Kong Gateway", "Namespace:List", "GET /system/namespaces", "1"},
		{"konghooks", func(e *auditrelay.Event) { e.Source.Kind = "konghooks" }, "Kong", "Kong Gateway", "Namespace:List", "GET /system/namespaces", "1"},
		{"kong_admin", func(e *auditrelay.Event) { e.Source.Kind = "kong_admin" }, "Kong", "Kong Gateway", "Namespace:List", "GET /system/namespaces", "1"},
		{"konnect", func(e *auditrelay.Event) { e.Source.Kind = "konnect" }, "Kong", "Konnect", "Namespace:List", "GET /system/namespaces", "1"},
		{"lines", func(e *auditrelay.Event) { e.Source.Kind = "lines" }, "auditrelay", "lines", "Namespace:List", "GET /system/namespaces", "1"},
		{"kind escaped", func(e *auditrelay.Event) { e.Source.Kind = "a|b\\c\nd" }, "auditrelay", "a|b\\c d", "Namespace:List", "GET /system/namespaces", "1"},
		{"name without path", func(e *auditrelay.Event) { e.Request.Path = "" }, "OpenFaaS", "OpenFaaS", "Namespace:List", "Namespace:List", "1"},
		{"name without method", func(e *auditrelay.Event) { e.Request.Method = "" }, "OpenFaaS", "OpenFaaS", "Namespace:List", "Namespace:List", "1"},
		{"verb fallback", func(e *auditrelay.Event) { e.Action.Name, e.Request.Method = "", "" }, "OpenFaaS", "OpenFaaS", "read", "read", "1"},
		{"event fallback", func(e *auditrelay.Event) { e.Action, e.Request.Method = auditrelay.Action{}, "" }, "OpenFaaS", "OpenFaaS", "event", "event", "1"},
		{"pipes and backslashes", func(e *auditrelay.Event) { e.Action.Name, e.Request.Path = `a|b\c=d`, `/x|y\z` },
			"OpenFaaS", "OpenFaaS", `a|b\c=d`, `GET /x|y\z`, "1"},
		{"newlines become spaces", func(e *auditrelay.Event) { e.Action.Name, e.Request.Path = "a\nb\r\nc", "/p\nq" },
			"OpenFaaS", "OpenFaaS", "a b  c", "GET /p q", "1"},
		{"invalid UTF-8", func(e *auditrelay.Event) { e.Action.Name = "a\xffb" }, "OpenFaaS", "OpenFaaS", "a\uFFFDb", "GET /system/namespaces", "1"},
		{"severity 10", func(e *auditrelay.Event) { e.Severity = 10 }, "OpenFaaS", "OpenFaaS", "Namespace:List", "GET /system/namespaces", "10"},
		{"severity above 10", func(e *auditrelay.Event) { e.Severity = 99 }, "OpenFaaS", "OpenFaaS", "Namespace:List", "GET /system/namespaces", "10"},
		{"severity below 0", func(e *auditrelay.Event) { e.Severity = -3 }, "OpenFaaS", "OpenFaaS", "Namespace:List", "GET /system/namespaces", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := sample()
			tc.edit(&e)
			line, r := mustParse(t, &e)
			got := [...]string{r.Vendor, r.Product, r.DeviceVersion, r.SignatureID, r.Name, r.Severity}
			want := [...]string{tc.vendor, tc.prod, cef.SchemaVersion, tc.sig, tc.evname, tc.sev}
			if got != want {
				t.Fatalf("header %q\n got %q\nwant %q", line, got, want)
			}
		})
	}
}

func TestHeaderEscapes(t *testing.T) {
	e := sample()
	e.Action.Name = `p|q\r=s`
	line := string(cef.New().Append(nil, &e))
	if !strings.Contains(line, `|p\|q\\r=s|`) {
		t.Fatalf("header field not escaped as `\\|` and `\\\\` (and '=' kept): %q", line)
	}
	if !strings.Contains(line, ` act=p|q\\r\=s `) {
		t.Fatalf("extension value not escaped as `\\\\` and `\\=` (and '|' kept): %q", line)
	}
}

func TestExtensionKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(e *auditrelay.Event)
		want map[string]string // "" means the key must be absent
	}{
		{"rt is event time in ms", func(e *auditrelay.Event) {}, map[string]string{"rt": "1701709768710"}},
		{"rt falls back to received_at", func(e *auditrelay.Event) { e.Time = time.Time{} }, map[string]string{"rt": "1701709769000"}},
		{"rt of another zone", func(e *auditrelay.Event) { e.Time = time.Date(2024, 1, 1, 1, 0, 0, 999999, time.FixedZone("x", 3600)) },
			map[string]string{"rt": "1704067200000"}},
		{"no time no rt", func(e *auditrelay.Event) { e.Time, e.ReceivedAt = time.Time{}, time.Time{} }, map[string]string{"rt": ""}},
		{"suser prefers username", func(e *auditrelay.Event) { e.Actor.Username, e.Actor.Name = "alice", "Alice A." },
			map[string]string{"suser": "alice", "suid": "fed:system:serviceaccount:openfaas:cron-connector"}},
		{"suser falls back to name", func(e *auditrelay.Event) { e.Actor.Name = "Alice A." }, map[string]string{"suser": "Alice A."}},
		{"no actor", func(e *auditrelay.Event) { e.Actor = auditrelay.Actor{} },
			map[string]string{"suser": "", "suid": "", "cs4": "", "cs4Label": "", "cs5": "", "cs5Label": ""}},
		{"IPv4", func(e *auditrelay.Event) {}, map[string]string{"src": "10.0.0.1", "c6a2": "", "c6a2Label": ""}},
		{"IPv6", func(e *auditrelay.Event) { e.Request.ClientIP = "2001:DB8::1" },
			map[string]string{"src": "", "c6a2": "2001:db8::1", "c6a2Label": "Source IPv6 Address"}},
		{"IPv6 with zone", func(e *auditrelay.Event) { e.Request.ClientIP = "fe80::1%eth0" }, map[string]string{"c6a2": "fe80::1"}},
		{"IPv4-mapped IPv6", func(e *auditrelay.Event) { e.Request.ClientIP = "::ffff:192.0.2.7" }, map[string]string{"src": "192.0.2.7", "c6a2": ""}},
		{"IPv4 with port", func(e *auditrelay.Event) { e.Request.ClientIP = "192.0.2.7:443" }, map[string]string{"src": "192.0.2.7"}},
		{"IPv6 with port", func(e *auditrelay.Event) { e.Request.ClientIP = "[2001:db8::2]:443" }, map[string]string{"c6a2": "2001:db8::2"}},
		{"not an address", func(e *auditrelay.Event) { e.Request.ClientIP = "example.com" }, map[string]string{"src": "", "c6a2": ""}},
		{"request", func(e *auditrelay.Event) { e.Request.Path = "/a b?q=1&r=x y" },
			map[string]string{"requestMethod": "GET", "request": "/a b?q=1&r=x y", "requestClientApplication": "Go-http-client/1.1"}},
		{"act cat outcome", func(e *auditrelay.Event) {}, map[string]string{"act": "Namespace:List", "cat": "openfaas", "outcome": "success"}},
		{"reason", func(e *auditrelay.Event) {
			e.Outcome = auditrelay.Outcome{Result: "failure", Reason: "access to resource denied", StatusCode: 403}
		},
			map[string]string{"outcome": "failure", "reason": "access to resource denied", "cn1": "403", "cn1Label": "statusCode"}},
		{"no status code", func(e *auditrelay.Event) { e.Outcome.StatusCode = 0 }, map[string]string{"cn1": "", "cn1Label": ""}},
		{"custom strings", func(e *auditrelay.Event) {
			e.Resource = auditrelay.Resource{Type: "function", Name: "figlet", Namespace: "openfaas-fn"}
			e.Actor.Issuer = "https://idp.example.com"
			e.Actor.Roles = []string{"admin", "", "viewer"}
			e.Source.Input = "faas"
		}, map[string]string{
			"cs1": "function", "cs1Label": "resourceType", "cs2": "figlet", "cs2Label": "resourceName",
			"cs3": "openfaas-fn", "cs3Label": "namespace", "cs4": "https://idp.example.com", "cs4Label": "issuer",
			"cs5": "admin,viewer", "cs5Label": "roles", "cs6": "faas", "cs6Label": "input",
		}},
		{"only empty roles", func(e *auditrelay.Event) { e.Actor.Roles = []string{"", ""} }, map[string]string{"cs5": "", "cs5Label": ""}},
		{"values with spaces next to =", func(e *auditrelay.Event) {
			e.Outcome.Reason = "x =y = z suser=mallory"
			e.Actor.Username = "bob  "
			e.Request.UserAgent = "  lead"
		}, map[string]string{"reason": "x =y = z suser=mallory", "suser": "bob  ", "requestClientApplication": "  lead"}},
		{"escapes", func(e *auditrelay.Event) { e.Outcome.Reason = "a\\b=c\nd\re|f\tg" }, map[string]string{"reason": "a\\b=c\nd\re|f\tg"}},
		{"trailing backslash", func(e *auditrelay.Event) { e.Actor.Username = `dom\` }, map[string]string{"suser": `dom\`}},
		{"invalid UTF-8", func(e *auditrelay.Event) { e.Outcome.Reason = "a\xff\xfeb\xe2\x82" }, map[string]string{"reason": "a\uFFFD\uFFFDb\uFFFD\uFFFD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := sample()
			tc.edit(&e)
			line, r := mustParse(t, &e)
			for k, want := range tc.want {
				got, ok := r.get(k)
				switch {
				case want == "" && ok:
					t.Errorf("%s=%q present, want it absent: %s", k, got, line)
				case want != "" && got != want:
					t.Errorf("%s=%q, want %q: %s", k, got, want, line)
				}
			}
		})
	}
}

func TestKeyOrder(t *testing.T) {
	e := sample()
	e.Actor.Issuer, e.Actor.Username = "iss", "user"
	e.Outcome.Reason = "why"
	e.Resource = auditrelay.Resource{Type: "t", Name: "n", Namespace: "ns"}
	e.Request.ClientIP = "2001:db8::1"
	_, r := mustParse(t, &e)
	var keys []string
	for _, p := range r.Ext {
		keys = append(keys, p.Key)
	}
	want := "rt externalId suser suid c6a2 c6a2Label requestMethod request requestClientApplication act cat outcome reason " +
		"cn1 cn1Label cs1 cs1Label cs2 cs2Label cs3 cs3Label cs4 cs4Label cs5 cs5Label cs6 cs6Label"
	if got := strings.Join(keys, " "); got != want {
		t.Fatalf("keys\n got %s\nwant %s", got, want)
	}
}

// TestFinalValueTrailingSpaces: the spec drops trailing spaces of the
// extension's final value, so the encoder cuts them (and drops a final
// value of spaces only); earlier values keep theirs.
func TestFinalValueTrailingSpaces(t *testing.T) {
	e := auditrelay.Event{Severity: 3}
	e.Actor.Username = "bob  "
	e.Outcome.Result = "failure"
	e.Outcome.Reason = "denied   "
	line, r := mustParse(t, &e)
	if strings.HasSuffix(line, " ") {
		t.Fatalf("line ends with a space: %q", line)
	}
	if v, _ := r.get("suser"); v != "bob  " {
		t.Errorf("suser %q, want %q", v, "bob  ")
	}
	if v, _ := r.get("reason"); v != "denied" {
		t.Errorf("final reason %q, want %q", v, "denied")
	}
	e.Outcome.Reason = "   "
	line, r = mustParse(t, &e)
	if _, ok := r.get("reason"); ok || !strings.HasSuffix(line, "outcome=failure") {
		t.Errorf("a final value of spaces only should go with its key: %q", line)
	}
	e = auditrelay.Event{Actor: auditrelay.Actor{Username: "  "}}
	if line, r := mustParse(t, &e); len(r.Ext) != 0 || strings.HasSuffix(line, " ") {
		t.Errorf("a lone value of spaces should leave an empty extension: %q", line)
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("a", 5000)
	e := auditrelay.Event{
		ID:       long,
		Source:   auditrelay.Source{Kind: long, Input: long},
		Actor:    auditrelay.Actor{Username: long, ID: long, Issuer: long, Roles: []string{long}},
		Action:   auditrelay.Action{Name: long},
		Resource: auditrelay.Resource{Type: long, Name: long, Namespace: long},
		Request:  auditrelay.Request{Method: long, Path: long, UserAgent: long},
		Outcome:  auditrelay.Outcome{Result: long, Reason: long},
	}
	_, r := mustParse(t, &e)
	for key, limit := range map[string]int{
		"externalId": 40, "suser": 1023, "suid": 1023, "requestMethod": 1023, "request": 1023,
		"requestClientApplication": 1023, "act": 63, "cat": 1023, "outcome": 63, "reason": 1023,
		"cs1": 4000, "cs2": 4000, "cs3": 4000, "cs4": 4000, "cs5": 4000, "cs6": 4000,
	} {
		if v, _ := r.get(key); len(v) != limit {
			t.Errorf("%s has %d characters, want the limit %d", key, len(v), limit)
		}
	}
	header := map[string]int{"vendor": len(r.Vendor), "product": len(r.Product), "signature": len(r.SignatureID), "name": len(r.Name)}
	for name, want := range map[string]int{"vendor": len("auditrelay"), "product": 63, "signature": 1023, "name": 512} {
		if header[name] != want {
			t.Errorf("header %s has %d characters, want %d", name, header[name], want)
		}
	}
	e.Request = auditrelay.Request{}
	if _, r := mustParse(t, &e); len(r.Name) != 512 || r.Name != r.SignatureID[:512] {
		t.Errorf("name from the action has %d characters, want 512", len(r.Name))
	}
	e.Action.Name = ""
	e.Request = auditrelay.Request{Method: "GET", Path: long}
	if _, r := mustParse(t, &e); len(r.Name) != 512 || !strings.HasPrefix(r.Name, "GET aaa") {
		t.Errorf("name from method and path has %d characters, want 512", len(r.Name))
	}
}

// TestLimitsCutWholeCharacters: limits count characters (UTF-16 units),
// never split a character, and apply before escaping so that an escape is
// never split either.
func TestLimitsCutWholeCharacters(t *testing.T) {
	for _, tc := range []struct {
		name, id, want string
	}{
		{"ascii", strings.Repeat("x", 41), strings.Repeat("x", 40)},
		{"two-byte", strings.Repeat("é", 41), strings.Repeat("é", 40)},
		{"three-byte", strings.Repeat("€", 50), strings.Repeat("€", 40)},
		{"astral counts two", "x" + strings.Repeat("😀", 30), "x" + strings.Repeat("😀", 19)},
		{"equals escaped after the cut", strings.Repeat("=", 50), strings.Repeat("=", 40)},
		{"backslashes", strings.Repeat(`\`, 50), strings.Repeat(`\`, 40)},
		{"newlines", strings.Repeat("\n", 50), strings.Repeat("\n", 40)},
		{"invalid bytes count one each", strings.Repeat("\xff", 50), strings.Repeat("\uFFFD", 40)},
		{"exactly the limit", strings.Repeat("y", 40), strings.Repeat("y", 40)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := auditrelay.Event{ID: tc.id, Source: auditrelay.Source{Input: "in"}}
			line, r := mustParse(t, &e)
			if got, _ := r.get("externalId"); got != tc.want {
				t.Fatalf("externalId %q, want %q\nline %q", got, tc.want, line)
			}
		})
	}
}

func TestRolesCutAsAWhole(t *testing.T) {
	roles := []string{strings.Repeat("r", 3998), "abc", "def"}
	e := auditrelay.Event{Actor: auditrelay.Actor{Roles: roles}}
	_, r := mustParse(t, &e)
	if got, _ := r.get("cs5"); got != roles[0]+",a" {
		t.Fatalf("cs5 ends %q, want it cut after 4000 characters at %q", got[3990:], (roles[0] + ",a")[3990:])
	}
}

func TestParserIsStrict(t *testing.T) {
	for _, line := range []string{
		"CEF:0|a|b|c|d|e|5",                       // six pipes: no extension field
		"CEF:1|a|b|c|d|e|5|",                      // version
		"CEF:0|a|b|c|d|e|11|",                     // severity
		"CEF:0|a|b\\x|c|d|e|5|",                   // header escape
		"CEF:0|a|b|c|d|e|5|k=v=w",                 // unescaped = in a value
		"CEF:0|a|b|c|d|e|5| k=v",                  // leading space
		"CEF:0|a|b|c|d|e|5|k=v\\",                 // lone backslash
		"CEF:0|a|b|c|d|e|5|k=v\\|",                // \| in the extension
		"CEF:0|a|b|c|d|e|5|k=a\nb",                // raw newline
		"CEF:0|a|b|c|d|e|5|k=v k=w",               // repeated key
		"CEF:0|a|b|c|d|e|5|k=v\\nkey=w",           // a key must follow a space
		"CEF:0|a|b|c|d|e|5|k=v ke-y=w",            // key characters
		"CEF:0|a|b|c|d|e|5|novalue",               // no pair
		"CEF:0|a|b|c|d|e|5|k=\xff",                // UTF-8
		"Jan 18 11:07:53 host CEF:0|a|b|c|d|e|5|", // syslog prefix: not ours
	} {
		if r, err := parse(line); err == nil {
			t.Errorf("parse(%q) = %+v, want an error", line, r)
		}
	}
	r, err := parse(`CEF:0|se\|c|p\\|1|100|n = m|High|src=10.0.0.1 act=blocked a | and \= msg=x\n y  dst=1.1.1.1  `)
	if err != nil {
		t.Fatal(err)
	}
	want := record{"0", "se|c", `p\`, "1", "100", "n = m", "High",
		[]pair{{"src", "10.0.0.1"}, {"act", "blocked a | and ="}, {"msg", "x\n y "}, {"dst", "1.1.1.1"}}}
	if fmt.Sprint(r) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}
}

// TestFixturesParse proves every golden CEF line under fixtures/ parses
// with the strict parser and uses only dictionary keys.
func TestFixturesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "*", "*", "event.cef"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no fixtures/*/*/event.cef yet")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text, ok := strings.CutSuffix(string(b), "\n")
		if !ok && text != "" {
			t.Errorf("%s: does not end with a newline", f)
		}
		if text == "" {
			continue
		}
		for i, line := range strings.Split(text, "\n") {
			r, err := parse(line)
			if err != nil {
				t.Errorf("%s:%d: %v\n%s", f, i+1, err, line)
				continue
			}
			for _, p := range r.Ext {
				if !dictionary[p.Key] {
					t.Errorf("%s:%d: key %q is not in the dictionary", f, i+1, p.Key)
				}
			}
		}
	}
}

// TestFixtureEventsEncode encodes every normalized event under fixtures/
// (event.json) and checks the strict parser reads each value back.
func TestFixtureEventsEncode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "*", "*", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no fixtures/*/*/event.json yet")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line == "" {
				continue
			}
			var e auditrelay.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%s:%d: %v", f, i+1, err)
			}
			cefLine, r := mustParse(t, &e)
			if want := expect(&e); !reflect.DeepEqual(r.Ext, want) {
				t.Errorf("%s:%d: %s\n got %q\nwant %q", f, i+1, cefLine, r.Ext, want)
			}
		}
	}
}

func TestGoldenLines(t *testing.T) {
	events := []auditrelay.Event{sample(), {}}
	got := string(golden.Lines(cef.New(), events))
	if n := strings.Count(got, "\n"); n != 2 || !strings.HasSuffix(got, "CEF:0|auditrelay|auditrelay|1.0|event|event|0|\n") {
		t.Fatalf("golden.Lines: %q", got)
	}
}

func TestAppendAllocatesNothing(t *testing.T) {
	e := sample()
	e.Request.ClientIP = "2001:db8::1"
	buf := make([]byte, 0, 4096)
	f := cef.New()
	if n := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], &e) }); n != 0 {
		t.Fatalf("Append allocates %v times per event, want 0", n)
	}
}

func ExampleFormat_Append() {
	e := auditrelay.Event{
		ID:     "3b9e4f5a-9c2d-4d7e-8f60-1a2b3c4d5e6f",
		Time:   time.Date(2025, 6, 18, 21, 2, 36, 0, time.UTC),
		Source: auditrelay.Source{Kind: "kong", Input: "kong"},
		Actor:  auditrelay.Actor{ID: "6a1f", Name: "admin"},
		Action: auditrelay.Action{Name: "POST", Verb: "create"},
		Resource: auditrelay.Resource{Type: "services", Name: "billing",
			Namespace: "0f5c7c9e-2d53-4f3b-a2f4-7ce8a2a8e54b"},
		Request:  auditrelay.Request{Method: "POST", Path: "/services?tag=a=b", ClientIP: "192.0.2.10"},
		Outcome:  auditrelay.Outcome{Result: "success", StatusCode: 201},
		Severity: 3,
	}
	fmt.Println(string(cef.New().Append(nil, &e)))
	// Output:
	// CEF:0|Kong|Kong Gateway|1.0|POST|POST /services?tag=a=b|3|rt=1750280556000 externalId=3b9e4f5a-9c2d-4d7e-8f60-1a2b3c4d5e6f suser=admin suid=6a1f src=192.0.2.10 requestMethod=POST request=/services?tag\=a\=b act=POST cat=kong outcome=success cn1=201 cn1Label=statusCode cs1=services cs1Label=resourceType cs2=billing cs2Label=resourceName cs3=0f5c7c9e-2d53-4f3b-a2f4-7ce8a2a8e54b cs3Label=namespace cs6=kong cs6Label=input
}

func BenchmarkAppend(b *testing.B) {
	e := sample()
	e.Outcome.Reason = "access to resource denied = no\nretry"
	f := cef.New()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
