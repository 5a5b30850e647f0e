package lines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vjeantet/grok"

	"github.com/auditrelay/auditrelay"
)

// referenceAdapter is the adapter as it was before patterns were matched
// without grok's result maps: every line through grok.ParseToMultiMap,
// every time through each layout in turn. The differential fuzz test
// holds Adapter to it.
type referenceAdapter struct {
	grok         *grok.Grok
	patterns     []string // as compiled, with the match marker
	defaults     auditrelay.Event
	values       map[string]map[string]string // by canonical field name
	layout       string
	loc          *time.Location
	authFailures bool
}

func newReference(c Config) (*referenceAdapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g, err := grok.NewWithConfig(&grok.Config{NamedCapturesOnly: true, Patterns: c.PatternDefinitions})
	if err != nil {
		return nil, fmt.Errorf(`compile "pattern_definitions": %w`, err)
	}
	a := &referenceAdapter{grok: g, layout: c.TimeLayout, authFailures: c.AuthFailures, values: map[string]map[string]string{}}
	for i, p := range c.Patterns {
		p = "(?P<" + matched + ">)" + p
		if _, err := g.ParseToMultiMap(p, ""); err != nil {
			return nil, fmt.Errorf(`compile "patterns" %d: %w`, i+1, err)
		}
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

func (a *referenceAdapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	var out auditrelay.Parsed
	for n := 1; len(body) > 0; n++ {
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
		e, err := a.event(line, meta)
		if err != nil {
			out.Rejected = append(out.Rejected, auditrelay.Rejection{Line: n, Entry: bytes.Clone(line), Reason: err.Error()})
			continue
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func (a *referenceAdapter) event(line []byte, meta auditrelay.Meta) (auditrelay.Event, error) {
	text := string(line)
	caps := a.match(text)
	if caps == nil {
		return auditrelay.Event{}, fmt.Errorf("no pattern matches (tried %d)", len(a.patterns))
	}
	e := a.defaults
	e.Actor.Roles = slices.Clone(e.Actor.Roles)
	for _, name := range sortedKeys(caps) {
		f := fieldOf(name)
		v := referenceFirstValue(caps[name])
		if f == "" || v == "" || v == "-" {
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

func (a *referenceAdapter) match(text string) map[string][]string {
	for _, p := range a.patterns {
		caps, err := a.grok.ParseToMultiMap(p, text)
		if err != nil {
			continue
		}
		if _, ok := caps[matched]; ok {
			return caps
		}
	}
	return nil
}

func referenceFirstValue(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (a *referenceAdapter) parseTime(v string, receivedAt time.Time) (time.Time, error) {
	if a.layout != "" {
		t, err := time.ParseInLocation(a.layout, v, a.loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: %q does not fit time_layout %q", v, a.layout)
		}
		return a.withYear(t, receivedAt, v)
	}
	if t, ok := referenceEpoch(v); ok {
		return t, nil
	}
	for _, l := range []string{
		time.RFC3339Nano,
		"02/Jan/2006:15:04:05 -0700",
		time.Stamp,
		"2006-01-02 15:04:05",
		"2006/01/02 15:04:05",
	} {
		if t, err := time.ParseInLocation(l, v, a.loc); err == nil {
			return a.withYear(t, receivedAt, v)
		}
	}
	return time.Time{}, fmt.Errorf("time: %q is not RFC 3339, HTTPDATE, syslog or epoch time; set time_layout", v)
}

func (a *referenceAdapter) withYear(t, receivedAt time.Time, v string) (time.Time, error) {
	if t.Year() != 0 {
		return t.UTC(), nil
	}
	if receivedAt.IsZero() {
		return time.Time{}, fmt.Errorf("time: %q has no year and the line no receive time to take it from", v)
	}
	rec := receivedAt.In(a.loc)
	y := time.Date(rec.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), a.loc)
	if y.After(receivedAt.Add(24 * time.Hour)) {
		y = y.AddDate(-1, 0, 0)
	}
	return y.UTC(), nil
}

func referenceEpoch(v string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	switch {
	case len(whole) >= 9 && len(whole) <= 11:
		t := time.Unix(n, 0)
		if frac != "" {
			f, err := strconv.ParseFloat("0."+frac, 64)
			if err != nil {
				return time.Time{}, false
			}
			t = t.Add(time.Duration(f * float64(time.Second)))
		}
		return t.UTC(), true
	case len(whole) >= 12 && len(whole) <= 14 && frac == "":
		return time.UnixMilli(n).UTC(), true
	}
	return time.Time{}, false
}
