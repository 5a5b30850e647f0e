package lines

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay"
)

// fields are the capturable event fields by dotted JSON name.
var fields = [...]string{
	"id", "time",
	"actor.id", "actor.name", "actor.username", "actor.issuer", "actor.federated_issuer", "actor.roles", "actor.type",
	"action.name", "action.verb",
	"resource.type", "resource.id", "resource.name", "resource.namespace",
	"request.id", "request.method", "request.path", "request.client_ip", "request.user_agent", "request.interface",
	"outcome.result", "outcome.status_code", "outcome.reason",
}

// fieldOf returns the canonical name of a capture: a field's dotted name,
// or its underscore spelling (request_client_ip) as in a raw regexp group;
// "" for anything else.
func fieldOf(name string) string {
	for _, f := range fields {
		if name == f || name == strings.Replace(f, ".", "_", 1) {
			return f
		}
	}
	return ""
}

func fieldNames() []string { return fields[:] }

// setField sets one field from text, checking the fields with a fixed
// vocabulary. time is parsed by the adapter, which knows the layout.
func setField(e *auditrelay.Event, field, v string) error {
	switch field {
	case "id":
		e.ID = v
	case "actor.id":
		e.Actor.ID = v
	case "actor.name":
		e.Actor.Name = v
	case "actor.username":
		e.Actor.Username = v
	case "actor.issuer":
		e.Actor.Issuer = v
	case "actor.federated_issuer":
		e.Actor.FederatedIssuer = v
	case "actor.roles":
		e.Actor.Roles = e.Actor.Roles[:0]
		for r := range strings.SplitSeq(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				e.Actor.Roles = append(e.Actor.Roles, r)
			}
		}
	case "actor.type":
		t := strings.ToLower(v)
		if t != auditrelay.ActorUser && t != auditrelay.ActorService && t != auditrelay.ActorAnonymous {
			return fmt.Errorf("actor.type: %q is not user, service or anonymous", v)
		}
		e.Actor.Type = t
	case "action.name":
		e.Action.Name = v
	case "action.verb":
		e.Action.Verb = verbOf(v)
	case "resource.type":
		e.Resource.Type = v
	case "resource.id":
		e.Resource.ID = v
	case "resource.name":
		e.Resource.Name = v
	case "resource.namespace":
		e.Resource.Namespace = v
	case "request.id":
		e.Request.ID = v
	case "request.method":
		e.Request.Method = v
	case "request.path":
		e.Request.Path = v
	case "request.client_ip":
		e.Request.ClientIP = v
	case "request.user_agent":
		e.Request.UserAgent = v
	case "request.interface":
		i := strings.ToLower(v)
		if i != auditrelay.InterfaceAPI && i != auditrelay.InterfaceUI && i != auditrelay.InterfaceCLI {
			return fmt.Errorf("request.interface: %q is not api, ui or cli", v)
		}
		e.Request.Interface = i
	case "outcome.result":
		r := resultOf(v)
		if r == "" {
			return fmt.Errorf("outcome.result: %q is neither success nor failure; map it under [values.\"outcome.result\"]", v)
		}
		e.Outcome.Result = r
	case "outcome.status_code":
		code, err := strconv.Atoi(v)
		if err != nil || code < 100 || code > 999 {
			return fmt.Errorf("outcome.status_code: %q is not an HTTP status code", v)
		}
		e.Outcome.StatusCode = code
	case "outcome.reason":
		e.Outcome.Reason = v
	default:
		return fmt.Errorf("%q is no event field", field)
	}
	return nil
}

// verbOf takes a verb as is and maps anything else as an HTTP method.
func verbOf(v string) string {
	switch l := strings.ToLower(v); l {
	case auditrelay.VerbCreate, auditrelay.VerbRead, auditrelay.VerbUpdate, auditrelay.VerbDelete, auditrelay.VerbOther:
		return l
	}
	return auditrelay.VerbOf(v)
}

// resultOf understands the words logs use for an outcome; "" otherwise.
func resultOf(v string) string {
	var buf [16]byte
	if w, ok := appendLowerASCII(buf[:0], v); ok {
		return resultWord(w)
	}
	return resultWord([]byte(strings.ToLower(v)))
}

// appendLowerASCII appends strings.ToLower(v) to buf when v is ASCII;
// with buf on the stack, a word like "Accepted" then costs no allocation.
func appendLowerASCII(buf []byte, v string) ([]byte, bool) {
	for i := range len(v) {
		c := v[i]
		if c >= utf8.RuneSelf {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, true
}

// resultWord maps a lower-case outcome word.
func resultWord(w []byte) string {
	switch string(w) {
	case "success", "succeeded", "successful", "ok", "accepted", "allowed", "granted", "pass", "passed", "true":
		return auditrelay.ResultSuccess
	case "failure", "failed", "fail", "denied", "rejected", "refused", "invalid", "error", "false":
		return auditrelay.ResultFailure
	case "unknown":
		return auditrelay.ResultUnknown
	}
	return ""
}

// Default layouts tried in order when time_layout is empty; a layout
// without a year takes received_at's.
var layouts = [...]string{
	time.RFC3339Nano,
	"02/Jan/2006:15:04:05 -0700", // HTTPDATE (nginx, Apache)
	time.Stamp,                   // syslog; a fraction after the seconds is accepted
	"2006-01-02 15:04:05",
	"2006/01/02 15:04:05",
}

// parseTime reads the time capture with time_layout, or the default
// layouts and epoch seconds/milliseconds.
func (a *Adapter) parseTime(v string, receivedAt time.Time) (time.Time, error) {
	if a.layout != "" {
		t, err := time.ParseInLocation(a.layout, v, a.loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: %q does not fit time_layout %q", v, a.layout)
		}
		return a.withYear(t, receivedAt, v)
	}
	if t, ok := epoch(v); ok {
		return t, nil
	}
	for i, l := range layouts {
		if !mayFit(i, v) {
			continue // would fail; skips building time.ParseError
		}
		if t, err := time.ParseInLocation(l, v, a.loc); err == nil {
			return a.withYear(t, receivedAt, v)
		}
	}
	return time.Time{}, fmt.Errorf("time: %q is not RFC 3339, HTTPDATE, syslog or epoch time; set time_layout", v)
}

// mayFit is false when v cannot fit layouts[i], judged by the one
// separator every such time has at a fixed place: after the 4-digit year
// (2006-, 2006/), the 2-digit day (02/) or the 3-letter month (Jan ).
func mayFit(i int, v string) bool {
	at, sep := 0, byte(0)
	switch layouts[i] {
	case time.RFC3339Nano, "2006-01-02 15:04:05":
		at, sep = 4, '-'
	case "2006/01/02 15:04:05":
		at, sep = 4, '/'
	case "02/Jan/2006:15:04:05 -0700":
		at, sep = 2, '/'
	case time.Stamp:
		at, sep = 3, ' '
	default:
		return true
	}
	return len(v) > at && v[at] == sep
}

// withYear puts a year-less time in received_at's year, or the year before
// when that would be more than a day after received_at (a December line
// read in January).
func (a *Adapter) withYear(t, receivedAt time.Time, v string) (time.Time, error) {
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

// isInteger says whether s is what strconv.ParseInt reads in base 10
// (barring overflow): an optional sign and digits.
func isInteger(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// epoch reads 9–11 digits as seconds, 12–14 as milliseconds, either with
// an optional fraction of seconds.
func epoch(v string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	if !isInteger(whole) {
		return time.Time{}, false // skips building strconv.NumError
	}
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
