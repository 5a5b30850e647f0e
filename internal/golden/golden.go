// Package golden is the one walker over fixtures/ and the one place the
// -update flag lives. Every test package imports it, so that
// `go test ./... -update` is accepted by every test binary and rewrites
// every golden file; review the diff before committing.
//
// A fixture case is a directory fixtures/<adapter>/<case>/ holding:
//
//	input.json | input.txt | input.gz   the body as the source sends it
//	headers.txt                          optional "Name: value" lines
//	config.toml                          optional adapter config for the case
//	event.json                           golden: one normalized event per line
//	event.cef                            golden: one CEF line per event
//	result.json                          golden: ignored and rejected counts, when not zero
//	error.txt                            golden: the error, when the body is refused whole
package golden

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/formats/cef"
	"github.com/auditrelay/auditrelay/formats/json"
)

// Update is set by `go test ./... -update`.
var Update = flag.Bool("update", false, "rewrite golden files instead of comparing")

// ReceivedAt is the fixed clock of every fixture case.
var ReceivedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Input is the input name every fixture case is parsed under.
const Input = "fixture"

// Case is one fixture case.
type Case struct {
	Dir    string
	Name   string
	Input  []byte
	Header http.Header
	// Config is config.toml's content, empty when the case has none.
	Config []byte
	// IncludeRaw is config.toml's include_raw.
	IncludeRaw bool
}

// Meta is the Meta every case is parsed with.
func (c Case) Meta() auditrelay.Meta {
	return auditrelay.Meta{Input: Input, Header: c.Header, ReceivedAt: ReceivedAt, IncludeRaw: c.IncludeRaw}
}

// Cases reads every case under dir (fixtures/<adapter>).
func Cases(t testing.TB, dir string) []Case {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read fixtures: %v", err)
	}
	var cases []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := readCase(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("fixture %s: %v", e.Name(), err)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatalf("no fixture cases under %s", dir)
	}
	return cases
}

func readCase(dir string) (Case, error) {
	c := Case{Dir: dir, Name: filepath.Base(dir), Header: http.Header{}}
	inputs, _ := filepath.Glob(filepath.Join(dir, "input.*"))
	if len(inputs) != 1 {
		return c, os.ErrNotExist
	}
	var err error
	if c.Input, err = os.ReadFile(inputs[0]); err != nil {
		return c, err
	}
	if h, err := os.ReadFile(filepath.Join(dir, "headers.txt")); err == nil {
		for _, line := range strings.Split(string(h), "\n") {
			name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
			if ok {
				c.Header.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
			}
		}
	}
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.toml")); err == nil {
		c.Config = cfg
		var v struct {
			IncludeRaw bool `toml:"include_raw"`
		}
		if _, err := toml.Decode(string(cfg), &v); err != nil {
			return c, err
		}
		c.IncludeRaw = v.IncludeRaw
	}
	return c, nil
}

// Formats are the encodings written as goldens next to each case, by file
// name.
var Formats = map[string]auditrelay.Format{
	"event.json": json.New(),
	"event.cef":  cef.New(),
}

// Adapter runs one subtest per case under dir: it parses the case's input
// with the adapter build returns and compares the result with the case's
// golden files.
func Adapter(t *testing.T, dir string, build func(t *testing.T, c Case) auditrelay.Adapter) {
	for _, c := range Cases(t, dir) {
		t.Run(c.Name, func(t *testing.T) {
			a := build(t, c)
			parsed, err := a.Parse(c.Input, c.Meta())
			lentStorage(t, a, c, parsed, err)
			if err != nil {
				File(t, filepath.Join(c.Dir, "error.txt"), []byte(err.Error()+"\n"))
				for name := range Formats {
					Absent(t, filepath.Join(c.Dir, name))
				}
				return
			}
			Absent(t, filepath.Join(c.Dir, "error.txt"))
			names := make([]string, 0, len(Formats))
			for name := range Formats {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				File(t, filepath.Join(c.Dir, name), Lines(Formats[name], parsed.Events))
			}
			resultFile(t, filepath.Join(c.Dir, "result.json"), parsed)
		})
	}
}

// lentStorage parses the case again with used storage lent through
// Meta.Events, as ingest does, and fails the test unless the result is the
// same as without it.
func lentStorage(t *testing.T, a auditrelay.Adapter, c Case, want auditrelay.Parsed, wantErr error) {
	t.Helper()
	m := c.Meta()
	m.Events = make([]auditrelay.Event, 3, 4)
	for i := range m.Events {
		m.Events[i] = auditrelay.Event{ID: "stale", Severity: 9, Raw: []byte("stale"),
			Actor: auditrelay.Actor{ID: "stale", Roles: []string{"stale"}}}
	}
	got, err := a.Parse(c.Input, m)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("with lent Meta.Events: error %v, without: %v", err, wantErr)
	}
	f := Formats["event.json"]
	if g, w := Lines(f, got.Events), Lines(f, want.Events); !bytes.Equal(g, w) {
		t.Fatalf("with lent Meta.Events the events differ:\n%s\nwithout:\n%s", g, w)
	}
	if got.Ignored != want.Ignored || len(got.Rejected) != len(want.Rejected) {
		t.Fatalf("with lent Meta.Events: ignored %d rejected %d, without: %d %d",
			got.Ignored, len(got.Rejected), want.Ignored, len(want.Rejected))
	}
}

// Lines encodes events one per line.
func Lines(f auditrelay.Format, events []auditrelay.Event) []byte {
	var out []byte
	for i := range events {
		out = f.Append(out, &events[i])
		out = append(out, '\n')
	}
	return out
}

func resultFile(t *testing.T, path string, p auditrelay.Parsed) {
	t.Helper()
	if p.Ignored == 0 && len(p.Rejected) == 0 {
		Absent(t, path)
		return
	}
	type rejected struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	}
	r := struct {
		Ignored  int        `json:"ignored"`
		Rejected []rejected `json:"rejected,omitempty"`
	}{Ignored: p.Ignored}
	for _, rj := range p.Rejected {
		r.Rejected = append(r.Rejected, rejected{rj.Line, rj.Reason})
	}
	b, err := stdjson.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	File(t, path, append(b, '\n'))
}

// File compares got with the golden file at path, or rewrites it under
// -update.
func File(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test ./... -update and review the diff)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code produces:\n got: %s\nwant: %s\n(if the change is intended, run go test ./... -update and review the diff)", path, got, want)
	}
}

// Absent fails when a golden file exists that the case should not have, or
// removes it under -update.
func Absent(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return
	}
	if *Update {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s exists but the case produces no such output (run go test ./... -update)", path)
}

// Seeds adds every fixture input under dir to a fuzz corpus.
func Seeds(f *testing.F, dir string) {
	for _, c := range Cases(f, dir) {
		f.Add(c.Input)
	}
}

// Build returns the builder Adapter takes for one adapter package: its
// default config with the case's config.toml decoded over it, then New.
func Build[C any, A auditrelay.Adapter](def func() C, newAdapter func(C) (A, error)) func(*testing.T, Case) auditrelay.Adapter {
	return func(t *testing.T, c Case) auditrelay.Adapter {
		t.Helper()
		cfg := def()
		if _, err := toml.Decode(string(c.Config), &cfg); err != nil {
			t.Fatalf("%s/config.toml: %v", c.Name, err)
		}
		a, err := newAdapter(cfg)
		if err != nil {
			t.Fatalf("%s: build adapter: %v", c.Name, err)
		}
		return a
	}
}
