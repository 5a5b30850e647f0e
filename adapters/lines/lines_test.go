package lines

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/lines"

var build = golden.Build(DefaultConfig, New)

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

func parseCase(t *testing.T, name string) auditrelay.Parsed {
	t.Helper()
	for _, c := range golden.Cases(t, fixtures) {
		if c.Name == name {
			p, err := build(t, c).Parse(c.Input, c.Meta())
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("no fixture %s", name)
	return auditrelay.Parsed{}
}

func TestSSHD(t *testing.T) {
	p := parseCase(t, "sshd")
	type row struct{ user, ip, action, result, reason, time string }
	want := []row{
		{"alice", "203.0.113.10", "sshd:publickey", "success", "", "2024-06-18T21:02:36Z"},
		{"bob", "198.51.100.23", "sshd:password", "success", "", "2024-06-18T21:03:01Z"},
		{"root", "192.0.2.66", "sshd:password", "failure", "", "2024-06-18T21:03:40Z"},
		{"admin", "192.0.2.66", "sshd:password", "failure", "invalid user", "2024-06-18T21:03:42Z"},
		{"oracle", "192.0.2.66", "sshd:login", "failure", "", "2024-06-18T21:03:44Z"},
		{"alice", "2001:db8::99", "sshd:publickey", "failure", "", "2024-06-18T21:03:50Z"},
		{"carol", "10.20.30.40", "sshd:keyboard-interactive", "success", "", "2025-06-18T19:04:02Z"},
	}
	if len(p.Events) != len(want) || len(p.Rejected) != 2 {
		t.Fatalf("%d events, rejected %+v", len(p.Events), p.Rejected)
	}
	for i, e := range p.Events {
		got := row{e.Actor.Username, e.Request.ClientIP, e.Action.Name, e.Outcome.Result, e.Outcome.Reason, e.Time.Format(time.RFC3339)}
		if got != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, got, want[i])
		}
		wantSev := 3
		if e.Outcome.Result == auditrelay.ResultFailure {
			wantSev = 7
		}
		if e.Severity != wantSev || e.Resource != (auditrelay.Resource{Type: "host", Name: "bastion"}) || e.Actor.Type != auditrelay.ActorUser {
			t.Errorf("line %d: severity %d, resource %+v, actor type %s", i+1, e.Severity, e.Resource, e.Actor.Type)
		}
	}
	if p.Rejected[0].Line != 8 || p.Rejected[1].Line != 9 || !strings.Contains(p.Rejected[0].Reason, "no pattern matches") {
		t.Errorf("rejected %+v", p.Rejected)
	}
}

func TestNginx(t *testing.T) {
	p := parseCase(t, "nginx-combined")
	if len(p.Events) != 7 || len(p.Rejected) != 1 || p.Rejected[0].Line != 8 {
		t.Fatalf("%d events, rejected %+v", len(p.Events), p.Rejected)
	}
	sev := []int{1, 3, 7, 7, 5, 6, 5}
	for i, e := range p.Events {
		if e.Severity != sev[i] {
			t.Errorf("line %d: severity %d, want %d", i+1, e.Severity, sev[i])
		}
	}
	e := p.Events[1]
	if e.Actor.Username != "alice" || e.Actor.Type != "user" || e.Action.Verb != "create" || e.Time.Format(time.RFC3339) != "2025-06-18T21:02:40Z" {
		t.Errorf("line 2: %+v", e)
	}
	if a := p.Events[0].Actor; a.Username != "" || a.Type != auditrelay.ActorAnonymous {
		t.Errorf(`remote_user "-" gave actor %+v`, a)
	}
}

func TestIDRule(t *testing.T) {
	a, err := New(Config{Patterns: []string{`^%{WORD:action.name}`}, Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := a.Parse([]byte("login ok\r\nlogin ok\n"), auditrelay.Meta{})
	want := auditrelay.ContentID(Kind, []byte("login ok"))
	if len(p.Events) != 2 || p.Events[0].ID != want || p.Events[1].ID != want {
		t.Errorf("ids %+v, want %s for both", p.Events, want)
	}
}

func TestTimeFormats(t *testing.T) {
	rec := time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)
	a, _ := New(Config{Patterns: []string{`^%{GREEDYDATA:time}$`}, Timezone: "UTC"})
	for in, want := range map[string]string{
		"2025-06-18T21:02:36.5Z":     "2025-06-18T21:02:36.5Z",
		"18/Jun/2025:23:02:36 +0200": "2025-06-18T21:02:36Z",
		"Jun 18 21:02:36":            "2025-06-18T21:02:36Z",
		"Jun 18 21:02:36.250":        "2025-06-18T21:02:36.25Z",
		"Dec 31 23:59:59":            "2024-12-31T23:59:59Z",
		"2025-06-18 21:02:36":        "2025-06-18T21:02:36Z",
		"2025/06/18 21:02:36":        "2025-06-18T21:02:36Z",
		"1750280556":                 "2025-06-18T21:02:36Z",
		"1750280556.5":               "2025-06-18T21:02:36.5Z",
		"1750280556123":              "2025-06-18T21:02:36.123Z",
	} {
		p, _ := a.Parse([]byte(in), auditrelay.Meta{ReceivedAt: rec})
		if len(p.Events) != 1 {
			t.Errorf("%q: rejected %+v", in, p.Rejected)
			continue
		}
		if got := p.Events[0].Time.Format(time.RFC3339Nano); got != want {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
	p, _ := a.Parse([]byte("yesterday\nJun 18 21:02:36"), auditrelay.Meta{})
	if len(p.Rejected) != 2 || !strings.Contains(p.Rejected[0].Reason, "time_layout") || !strings.Contains(p.Rejected[1].Reason, "no year") {
		t.Errorf("rejected %+v", p.Rejected)
	}
}

func TestValidate(t *testing.T) {
	err := Config{
		Patterns:   []string{"", `%{USER:actor.usernme}`, `(?P<request_client_ip>\S+) (?P<junk>.)`},
		Defaults:   map[string]string{"time": "x", "actor.type": "robot", "nope": "x", "outcome.status_code": "abc"},
		Values:     map[string]map[string]string{"outcome.results": {"a": "b"}},
		Timezone:   "UTC",
		TimeLayout: "",
	}.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{
		`"patterns" 1 is empty`, `captures "actor.usernme"`, `captures "junk"`,
		`cannot set "time"`, `"robot" is not user`, `names "nope"`, `"abc" is not an HTTP status code`, `"values" names "outcome.results"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), `"patterns"`) {
		t.Errorf("no patterns: %v", err)
	}
	if _, err := New(Config{Patterns: []string{`%{NOSUCHPATTERN:id}`}, Timezone: "UTC"}); err == nil || !strings.Contains(err.Error(), `"patterns" 1`) {
		t.Errorf("unknown grok pattern: %v", err)
	}
	if _, err := New(Config{Patterns: []string{`%{WORD:id}`}, Timezone: "Mars/Olympus"}); err == nil || !strings.Contains(err.Error(), `"timezone"`) {
		t.Errorf("bad timezone: %v", err)
	}
}

func TestLoadPatterns(t *testing.T) {
	for _, c := range golden.Cases(t, fixtures) {
		cfg, err := LoadPatterns(filepath.Join(c.Dir, "config.toml"))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if _, err := New(cfg); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("patterns = ['%{WORD:id}']\npatern_definitions = {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPatterns(bad); err == nil || !strings.Contains(err.Error(), "patern_definitions") || !strings.Contains(err.Error(), bad) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := LoadPatterns(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestSampleConfigDecodesStrictly(t *testing.T) {
	var doc struct {
		Inputs map[string]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.DecodeFile("sample.toml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, prim := range doc.Inputs {
		in := struct {
			Config
			Adapter           string `toml:"adapter"`
			AuthorizationFile string `toml:"authorization_file"`
			IncludeRaw        bool   `toml:"include_raw"`
		}{Config: DefaultConfig()}
		if err := md.PrimitiveDecode(prim, &in); err != nil {
			t.Fatal(err)
		}
		if in.Adapter != Kind {
			t.Errorf("%s: adapter %q", name, in.Adapter)
		}
		if _, err := New(in.Config); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("undecoded keys %v", u)
	}
}

// Parse is called concurrently by the ingest server.
func TestConcurrentParse(t *testing.T) {
	c := golden.Cases(t, fixtures)[0]
	a := build(t, c).(*Adapter)
	want, _ := a.Parse(c.Input, c.Meta())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				p, _ := a.Parse(c.Input, c.Meta())
				if len(p.Events) != len(want.Events) || len(p.Rejected) != len(want.Rejected) {
					t.Errorf("concurrent parse: %d events", len(p.Events))
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	golden.Seeds(f, fixtures)
	cfg, err := LoadPatterns(filepath.Join(fixtures, "sshd", "config.toml"))
	if err != nil {
		f.Fatal(err)
	}
	cfg.Patterns = append(cfg.Patterns, `^%{IPORHOST:request.client_ip} - %{NOTSPACE:actor.username} \[%{HTTPDATE:time}\] "(?:%{WORD:request.method} %{NOTSPACE:request.path}(?: HTTP/%{NUMBER})?|%{DATA})" %{INT:outcome.status_code}`)
	a, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := a.Parse(body, auditrelay.Meta{Input: "fuzz", ReceivedAt: golden.ReceivedAt})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			if e.ID == "" || e.Source.Kind != Kind || e.Actor.Type == "" || e.Outcome.Result == "" || e.Action.Verb == "" {
				t.Fatalf("incomplete event %+v", e)
			}
		}
		for _, r := range p.Rejected {
			if r.Line < 1 || r.Reason == "" || strings.ContainsAny(string(r.Entry), "\n") {
				t.Fatalf("bad rejection %+v", r)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"sshd", "nginx-combined"} {
		b.Run(name, func(b *testing.B) {
			cfg, err := LoadPatterns(filepath.Join(fixtures, name, "config.toml"))
			if err != nil {
				b.Fatal(err)
			}
			a, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			sample, _ := os.ReadFile(filepath.Join(fixtures, name, "input.txt"))
			good := matching(b, a, sample)
			var body strings.Builder
			const n = 1000
			for i := range n {
				// lines repeat, but nothing is cached: each is matched anew
				body.WriteString(good[i%len(good)] + "\n")
			}
			meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
			in := []byte(body.String())
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				p, _ := a.Parse(in, meta)
				events += len(p.Events)
			}
			if events == 0 {
				b.Fatal("no events")
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(testing.AllocsPerRun(3, func() { _, _ = a.Parse(in, meta) })/n, "allocs/event")
		})
	}
}

// matching returns the sample lines the adapter turns into events.
func matching(b *testing.B, a *Adapter, sample []byte) []string {
	var good []string
	for line := range strings.Lines(string(sample)) {
		line = strings.TrimRight(line, "\n")
		if p, _ := a.Parse([]byte(line), auditrelay.Meta{ReceivedAt: time.Now()}); len(p.Events) == 1 {
			good = append(good, line)
		}
	}
	if len(good) == 0 {
		b.Fatal("no sample line matches")
	}
	return good
}
