package lines

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

// differentialConfigs are the fixtures' configurations plus one whose
// patterns exercise what the fixtures do not: an unanchored pattern,
// underscore group names, a capture repeated in alternatives, a top-level
// alternation, \Q…\E and character classes holding parentheses.
func differentialConfigs(tb testing.TB) []Config {
	tb.Helper()
	var cfgs []Config
	for _, name := range []string{"sshd", "nginx-combined", "app-custom-layout", "no-pattern-matches"} {
		cfg, err := LoadPatterns(filepath.Join(fixtures, name, "config.toml"))
		if err != nil {
			tb.Fatal(err)
		}
		cfgs = append(cfgs, cfg)
	}
	cfgs = append(cfgs, Config{
		Patterns: []string{
			`user=(?P<actor_username>[^ ()]+)(?: (?P<outcome_result>ok|failed))?`,
			`\Q(x)\E%{WORD:action.name}|%{INT:outcome.status_code} [(](?P<request_path>[^)\]]*)[)]`,
			`^(?:%{IP:request.client_ip}|%{HOSTNAME:request.client_ip}) (?:%{NUMBER:time}|-)\b`,
			`(?i)^%{WORD:request.method} %{URIPATHPARAM:request.path}$`,
		},
		Timezone: "UTC",
	}, Config{
		// the backtracker's shortcuts: loops over one rune instruction,
		// greedy and lazy, over ASCII and not; literal runs; a loop that
		// can go round without reading (an empty-width cycle); an
		// unanchored start on first bytes; invalid UTF-8 in classes
		Patterns: []string{
			`^(?P<action_name>(?:a|)*)(?P<actor_id>[^ ]*?)é+ (?P<request_path>.+?)(?:ü|$)`,
			`(?P<resource_name>[a-zé\x{FFFD}]+)=(?P<resource_id>\d+?)\b(?:(?P<actor_name>[^=]*?)=+)?`,
			`\bid=(?P<request_id>\S+) user (?P<actor_username>.*) from (?P<request_client_ip>[^\s]+)\s*$`,
		},
		Timezone: "UTC",
	})
	return cfgs
}

// Adapter must give what the grok-map implementation it replaced gives,
// event for event and rejection for rejection.
func TestMatchesReference(t *testing.T) {
	for _, c := range golden.Cases(t, fixtures) {
		for _, pair := range differentialPairs(t) {
			pair.compare(t, c.Input, c.Meta())
		}
	}
}

// The paths the fuzz test seldom takes: a line too long for the
// backtracker (regexp runs it), a pattern only grok can run (an unclosed
// \Q), and a pattern_definitions capture that hides grok's match marker.
func TestMatchesReferenceOddPaths(t *testing.T) {
	long := `203.0.113.10 - - [18/Jun/2025:21:02:36 +0000] "GET / HTTP/1.1" 200 5 "-" "` + strings.Repeat("a(b) ", 20000) + `"`
	nginx, err := LoadPatterns(filepath.Join(fixtures, "nginx-combined", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	meta := auditrelay.Meta{Input: "odd", ReceivedAt: golden.ReceivedAt}
	for _, tc := range []struct {
		name string
		cfg  Config
		body string
		path func(p pattern) bool
	}{
		{"long line", nginx, long + "\n" + long[:200], func(p pattern) bool { return p.bt != nil && !p.bt.fits(len(long)) }},
		{"grok runs it", Config{Patterns: []string{`^%{WORD:action.name} \Q(done`}, Timezone: "UTC"}, "login (done\nlogin done", func(p pattern) bool { return p.re == nil }},
		{"marker renamed", Config{Patterns: []string{`^%{WORD:action.name}`}, PatternDefinitions: map[string]string{"X": `%{WORD:auditrelay.matched}`}, Timezone: "UTC"}, "login", func(p pattern) bool { return p.never }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.path(a.patterns[0]) {
				t.Fatalf("pattern compiled as %+v, not the path under test", a.patterns[0])
			}
			ref, err := newReference(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			differentialPair{0, a, ref}.compare(t, []byte(tc.body), meta)
		})
	}
}

// differentialPair is an Adapter and the reference built from one Config.
type differentialPair struct {
	index int
	a     *Adapter
	ref   *referenceAdapter
}

func differentialPairs(tb testing.TB) []differentialPair {
	tb.Helper()
	var pairs []differentialPair
	for i, cfg := range differentialConfigs(tb) {
		a, err := New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		ref, err := newReference(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range a.patterns {
			if p.re == nil || p.bt == nil {
				tb.Fatalf("config %d: pattern %q not taken over from grok", i, p.grok)
			}
		}
		pairs = append(pairs, differentialPair{i, a, ref})
	}
	return pairs
}

func (d differentialPair) compare(t *testing.T, body []byte, meta auditrelay.Meta) {
	t.Helper()
	got, _ := d.a.Parse(body, meta)
	want, _ := d.ref.Parse(body, meta)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config %d, body %q:\n got %+v\nwant %+v", d.index, body, got, want)
	}
}

func FuzzMatchesReference(f *testing.F) {
	golden.Seeds(f, fixtures)
	f.Add([]byte("user=bob failed\n(x)login\n404 (/a(b)\n10.0.0.1 1750280556\nget /A?b=1\nhost-1 -"))
	f.Add([]byte("aaé x\nx=12 y==\né=3\xff\nid=7 user a b from 1.2.3.4 \nb\xffé= id=é user  from x\n aaaéé p/ü"))
	pairs := differentialPairs(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		meta := auditrelay.Meta{Input: "fuzz", ReceivedAt: golden.ReceivedAt, IncludeRaw: true}
		for _, pair := range pairs {
			pair.compare(t, body, meta)
		}
	})
}
