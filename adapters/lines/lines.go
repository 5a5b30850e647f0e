package lines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/vjeantet/grok"

	"github.com/auditrelay/auditrelay"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "lines"

// Config is the lines input's adapter configuration: how to read one line
// of a line-oriented audit log (sshd, nginx, an application's own log).
type Config struct {
	// Patterns are grok expressions tried in order on each line; the first
	// that matches wins. Named captures set event fields by their dotted
	// JSON name: %{IP:request.client_ip}, %{USER:actor.username},
	// %{HTTPDATE:time}. Required; no default.
	Patterns []string `toml:"patterns"`
	// PatternDefinitions adds grok patterns (NAME → expression) that
	// Patterns may use as %{NAME}, next to grok's built-in ones (IP, USER,
	// HTTPDATE, SYSLOGTIMESTAMP, …). Default none.
	PatternDefinitions map[string]string `toml:"pattern_definitions"`
	// TimeLayout is the Go layout of the "time" capture
	// ("2006-01-02 15:04:05"). Default empty: RFC 3339, HTTPDATE
	// (02/Jan/2006:15:04:05 -0700), syslog (Jan _2 15:04:05, the year taken
	// from when the line was received), "2006-01-02 15:04:05",
	// "2006/01/02 15:04:05", or epoch seconds or milliseconds.
	TimeLayout string `toml:"time_layout"`
	// Timezone is the IANA zone of times written without one (syslog).
	// Default "UTC".
	Timezone string `toml:"timezone"`
	// Defaults sets fields a line does not capture, by dotted name:
	// "action.name" = "sshd:login", "resource.type" = "host",
	// "actor.type" = "user". Not "time" or "id". Default none.
	Defaults map[string]string `toml:"defaults"`
	// Values rewrites captured values of a field before use:
	// [values."outcome.result"] "Invalid user" = "failure". Default none.
	// outcome.result also understands accepted/ok/allowed/granted/succeeded
	// (success) and failed/denied/rejected/invalid/error (failure) as is.
	Values map[string]map[string]string `toml:"values"`
	// AuthFailures says that a failure on this input is an authentication
	// failure (severity 7), as for sshd or a login service. Default false.
	AuthFailures bool `toml:"auth_failures"`
}

// DefaultConfig returns a Config without patterns (they are required) and
// times in UTC.
func DefaultConfig() Config { return Config{Timezone: "UTC"} }

// captureNames finds the names a pattern captures: %{SYNTAX:name[:type]}
// or a regexp group (?P<name>…) / (?<name>…).
var captureNames = regexp.MustCompile(`%\{[\w.-]+:([\w.-]+)(?::\w+)?\}|\(\?P?<([\w.]+)>`)

// Validate reports configuration problems without I/O.
func (c Config) Validate() error {
	var errs []error
	if len(c.Patterns) == 0 {
		errs = append(errs, errors.New(`requires at least one grok expression in "patterns"`))
	}
	for i, p := range c.Patterns {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf(`"patterns" %d is empty`, i+1))
			continue
		}
		for _, m := range captureNames.FindAllStringSubmatch(p, -1) {
			name := m[1] + m[2]
			if fieldOf(name) == "" {
				errs = append(errs, fmt.Errorf(`"patterns" %d captures %q, which is no event field; use one of %s`, i+1, name, strings.Join(fieldNames(), ", ")))
			}
		}
	}
	for _, name := range sortedKeys(c.Defaults) {
		f := fieldOf(name)
		switch f {
		case "":
			errs = append(errs, fmt.Errorf(`"defaults" names %q, which is no event field`, name))
		case "time", "id":
			errs = append(errs, fmt.Errorf(`"defaults" cannot set %q: it differs per line`, name))
		default:
			if err := setField(&auditrelay.Event{}, f, c.Defaults[name]); err != nil {
				errs = append(errs, fmt.Errorf(`"defaults": %w`, err))
			}
		}
	}
	for _, name := range sortedKeys(c.Values) {
		if fieldOf(name) == "" {
			errs = append(errs, fmt.Errorf(`"values" names %q, which is no event field`, name))
		}
	}
	return errors.Join(errs...)
}

// LoadPatterns reads a TOML file holding the same keys as an input's
// Config (patterns, pattern_definitions, time_layout, timezone, defaults,
// values, auth_failures) over DefaultConfig, strictly, and validates it.
// `auditrelay convert --adapter lines --patterns FILE` uses it.
func LoadPatterns(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read patterns file: %w", err)
	}
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return c, fmt.Errorf("patterns file %s: %w", path, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		return c, fmt.Errorf("patterns file %s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("patterns file %s: %w", path, err)
	}
	return c, nil
}

// matched is a capture every compiled pattern starts with: it is present
// (empty) in grok's captures exactly when the pattern matched.
const matched = "auditrelay_matched"

// Adapter parses newline-separated lines with grok patterns.
type Adapter struct {
	grok         *grok.Grok // expands the patterns; matches those compilePattern cannot take over
	patterns     []pattern
	defaults     auditrelay.Event
	values       map[string]map[string]string // by canonical field name
	layout       string
	loc          *time.Location
	authFailures bool
}

// New compiles the patterns once.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g, err := grok.NewWithConfig(&grok.Config{NamedCapturesOnly: true, Patterns: c.PatternDefinitions})
	if err != nil {
		return nil, fmt.Errorf(`compile "pattern_definitions": %w`, err)
	}
	a := &Adapter{grok: g, layout: c.TimeLayout, authFailures: c.AuthFailures, values: map[string]map[string]string{}}
	exprs := make([]string, len(c.Patterns))
	for i, p := range c.Patterns {
		exprs[i] = "(?P<" + matched + ">)" + p
		if _, err := g.ParseToMultiMap(exprs[i], ""); err != nil {
			return nil, fmt.Errorf(`compile "patterns" %d: %w`, i+1, err)
		}
	}
	// grok's capture names depend on every pattern it compiled: take the
	// patterns over once all are.
	for _, expr := range exprs {
		p, _ := compilePattern(g, expr) // grok matches it when not
		a.patterns = append(a.patterns, p)
	}
	if a.loc, err = time.LoadLocation(c.Timezone); err != nil {
		return nil, fmt.Errorf(`load "timezone": %w`, err)
	}
	for name, v := range c.Defaults {
		_ = setField(&a.defaults, fieldOf(name), v) // checked by Validate
	}
	for name, m := range c.Values {
		a.values[fieldOf(name)] = m
	}
	return a, nil
}

// Parse turns newline-separated lines into events. A line no pattern
// matches, or whose captures do not fit their fields, is listed in
// Parsed.Rejected; Parse itself never fails.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	var out auditrelay.Parsed
	// One copy of the body holds the text of every event's fields: a copy
	// per line would cost an allocation per event.
	text := string(body)
	for n := 1; len(body) > 0; n++ {
		start := len(text) - len(body)
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := a.event(line, text[start:start+len(line)], meta)
		if err != nil {
			out.Rejected = append(out.Rejected, auditrelay.Rejection{Line: n, Entry: bytes.Clone(line), Reason: err.Error()})
			continue
		}
		if out.Events == nil {
			out.Events = meta.EventBuffer(bytes.Count(body, []byte{'\n'}) + 1)
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// event reads one line; text is the line as a string, for the fields.
func (a *Adapter) event(line []byte, text string, meta auditrelay.Meta) (auditrelay.Event, error) {
	var buf [len(fields)]fieldValue
	caps, ok := a.match(line, text, buf[:0])
	if !ok {
		return auditrelay.Event{}, fmt.Errorf("no pattern matches (tried %d)", len(a.patterns))
	}
	e := a.defaults
	e.Actor.Roles = slices.Clone(e.Actor.Roles)
	for _, c := range caps {
		f, v := c.field, c.value
		if v == "" || v == "-" {
			continue
		}
		if m, ok := a.values[f]; ok {
			if mapped, ok := m[v]; ok {
				v = mapped
			}
		}
		var err error
		if f == "time" {
			e.Time, err = a.parseTime(v, meta.ReceivedAt)
		} else {
			err = setField(&e, f, v)
		}
		if err != nil {
			return auditrelay.Event{}, err
		}
	}
	if e.ID == "" {
		e.ID = auditrelay.ContentID(Kind, line)
	}
	if e.Action.Verb == "" {
		e.Action.Verb = auditrelay.VerbOf(e.Request.Method)
	}
	if e.Outcome.Result == "" {
		e.Outcome.Result = auditrelay.ResultOf(e.Outcome.StatusCode)
	}
	if e.Actor.Type == "" {
		e.Actor.Type = auditrelay.ActorUser
		if e.Actor.ID == "" && e.Actor.Name == "" && e.Actor.Username == "" {
			e.Actor.Type = auditrelay.ActorAnonymous
		}
	}
	e.Score(a.authFailures && e.Outcome.Result == auditrelay.ResultFailure)
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		e.Raw, _ = json.Marshal(text)
	}
	return e, nil
}

// match appends the fields set by the first pattern that matches line
// (text is the same as a string), in grok's order; false when none does.
func (a *Adapter) match(line []byte, text string, dst []fieldValue) ([]fieldValue, bool) {
	for i := range a.patterns {
		p := &a.patterns[i]
		switch {
		case p.never:
			continue
		case p.re == nil:
			if caps, ok := a.grokMatch(p.grok, text); ok {
				return append(dst, caps...), true
			}
			continue
		}
		if !containsAll(line, p.literals) {
			continue
		}
		if p.bt != nil && p.bt.fits(len(line)) {
			s := p.bt.find(line)
			if s == nil {
				continue
			}
			dst = p.values(dst, text, s.matchcap)
			p.bt.release(s)
			return dst, true
		}
		loc := p.re.FindSubmatchIndex(line)
		if loc == nil {
			continue
		}
		return p.values(dst, text, loc), true
	}
	return dst, false
}

func containsAll(line []byte, literals [][]byte) bool {
	for _, lit := range literals {
		if !bytes.Contains(line, lit) {
			return false
		}
	}
	return true
}

// grokMatch matches expr through grok, for a pattern compilePattern could
// not take over.
func (a *Adapter) grokMatch(expr, text string) ([]fieldValue, bool) {
	caps, err := a.grok.ParseToMultiMap(expr, text)
	if err != nil {
		return nil, false // compiled in New; cannot fail here
	}
	if _, ok := caps[matched]; !ok {
		return nil, false
	}
	var out []fieldValue
	for _, name := range sortedKeys(caps) {
		if f := fieldOf(name); f != "" {
			out = append(out, fieldValue{f, firstValue(caps[name])})
		}
	}
	return out, true
}

// firstValue is the first non-empty capture of a name that a pattern uses
// more than once (in alternatives).
func firstValue(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
