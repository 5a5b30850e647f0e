package cef_test

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/auditrelay/auditrelay"
)

// cut is the reference for what a value becomes: invalid bytes as U+FFFD,
// in the header CR and LF as spaces, then at most limit UTF-16 units.
func cut(s string, limit int, header bool) string {
	var b strings.Builder
	n := 0
	for _, r := range s { // an invalid byte comes out as U+FFFD
		if header && (r == '\n' || r == '\r') {
			r = ' '
		}
		u := utf16.RuneLen(r)
		if n+u > limit {
			break
		}
		b.WriteRune(r)
		n += u
	}
	return b.String()
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// expect is the reference for the extension of e: the pairs in order,
// empty values left out, the final value without trailing spaces.
func expect(e *auditrelay.Event) []pair {
	var ps []pair
	add := func(k, v string, limit int) {
		if v != "" {
			ps = append(ps, pair{k, cut(v, limit, false)})
		}
	}
	if t := e.EventTime(); !t.IsZero() {
		ms := t.Unix()*1000 + int64(t.Nanosecond()/1e6)
		ps = append(ps, pair{"rt", strconv.FormatInt(ms, 10)})
	}
	add("externalId", e.ID, 40)
	add("suser", first(e.Actor.Username, e.Actor.Name, e.Actor.ID), 1023)
	add("suid", e.Actor.ID, 1023)
	a, err := netip.ParseAddr(e.Request.ClientIP)
	if err != nil {
		ap, _ := netip.ParseAddrPort(e.Request.ClientIP)
		a = ap.Addr()
	}
	if a.IsValid() {
		a = a.Unmap().WithZone("")
		if a.Is4() {
			add("src", a.String(), 100)
		} else {
			add("c6a2", a.String(), 100)
			add("c6a2Label", "Source IPv6 Address", 1023)
		}
	}
	add("requestMethod", e.Request.Method, 1023)
	add("request", e.Request.Path, 1023)
	add("requestClientApplication", e.Request.UserAgent, 1023)
	add("act", e.Action.Name, 63)
	add("cat", e.Source.Kind, 1023)
	add("outcome", e.Outcome.Result, 63)
	add("reason", e.Outcome.Reason, 1023)
	if c := e.Outcome.StatusCode; c != 0 {
		add("cn1", strconv.Itoa(c), 100)
		add("cn1Label", "statusCode", 1023)
	}
	var roles []string
	for _, r := range e.Actor.Roles {
		if r != "" {
			roles = append(roles, r)
		}
	}
	for i, v := range []string{e.Resource.Type, e.Resource.Name, e.Resource.Namespace,
		first(e.Actor.Issuer, e.Actor.FederatedIssuer), strings.Join(roles, ","), e.Source.Input} {
		n := strconv.Itoa(i + 1)
		if v != "" {
			add("cs"+n, v, 4000)
			add("cs"+n+"Label", [...]string{"resourceType", "resourceName", "namespace", "issuer", "roles", "input"}[i], 1023)
		}
	}
	for len(ps) > 0 {
		last := &ps[len(ps)-1]
		if last.Value = strings.TrimRight(last.Value, " "); last.Value != "" {
			break
		}
		ps = ps[:len(ps)-1]
	}
	return ps
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("id", "alice", "10.0.0.1", "GET", "/system/functions", "curl/8", "Function:Create", "denied", "fn", "admin,viewer", int64(1701709768710118072), 403, 7)
	f.Add(`a|b\c=d`, "bob  ", "2001:db8::1", "PO ST", "/p?q=1 r=2", "ua\r\nx", "x=y", "   ", "  lead", "", int64(-1), 0, -5)
	f.Add("\xff\xfe", " = ", "::ffff:1.2.3.4", "\n", "\\", "=", "|", "k=v k2=v2", "\\=", "\xe2\x82", int64(0), -200, 42)
	f.Add(strings.Repeat("€", 50), strings.Repeat("a=", 700), "[fe80::1%eth0]:80", strings.Repeat("\\", 1100),
		strings.Repeat("/x y", 400), strings.Repeat("😀", 600), strings.Repeat("é", 100), strings.Repeat(" z", 600),
		strings.Repeat("\n", 4100), strings.Repeat("r,", 2100), int64(253402300799999999), 599, 10)
	f.Fuzz(func(t *testing.T, id, user, ip, method, path, agent, action, reason, misc, roles string, nanos int64, code, sev int) {
		e := auditrelay.Event{
			ID:       id,
			Time:     time.Unix(0, nanos),
			Source:   auditrelay.Source{Kind: misc, Input: reason + misc},
			Actor:    auditrelay.Actor{ID: id + user, Name: user, Username: misc, Issuer: agent, Roles: strings.Split(roles, ";")},
			Action:   auditrelay.Action{Name: action, Verb: misc},
			Resource: auditrelay.Resource{Type: misc, Name: action + path, Namespace: user},
			Request:  auditrelay.Request{Method: method, Path: path, ClientIP: ip, UserAgent: agent},
			Outcome:  auditrelay.Outcome{Result: misc, StatusCode: code, Reason: reason},
			Severity: sev,
		}
		line, r := mustParse(t, &e)
		if strings.HasSuffix(line, " ") {
			t.Fatalf("line ends with a space: %q", line)
		}
		if got, want := r.Ext, expect(&e); !reflect.DeepEqual(got, want) {
			t.Fatalf("extension of %q\n got %q\nwant %q", line, got, want)
		}
		if want := strconv.FormatInt(floorDiv(nanos, 1e6), 10); must(t, r, "rt") != want {
			t.Fatalf("rt %s, want %s", must(t, r, "rt"), want)
		}
		vendor, product := "auditrelay", first(misc, "auditrelay")
		switch misc {
		case "openfaas":
			vendor, product = "OpenFaaS", "OpenFaaS"
		case "stackrox":
			vendor, product = "StackRox", "StackRox"
		case "kong", "konghooks", "kong_admin":
			vendor, product = "Kong", "Kong Gateway"
		case "konnect":
			vendor, product = "Kong", "Konnect"
		}
		name := first(action, misc, "event")
		if method != "" && path != "" {
			name = method + " " + path
		}
		got := [...]string{r.Vendor, r.Product, r.SignatureID, r.Name, r.Severity}
		want := [...]string{cut(vendor, 63, true), cut(product, 63, true), cut(first(action, misc, "event"), 1023, true),
			cut(name, 512, true), strconv.Itoa(min(max(sev, 0), 10))}
		if got != want {
			t.Fatalf("header of %q\n got %q\nwant %q", line, got, want)
		}
	})
}

func must(t *testing.T, r record, key string) string {
	t.Helper()
	v, ok := r.get(key)
	if !ok {
		t.Fatalf("%s missing", key)
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
