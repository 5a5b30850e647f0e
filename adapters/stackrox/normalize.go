package stackrox

import (
	"net"
	"net/netip"
	"strings"

	"github.com/auditrelay/auditrelay"
)

// normalize maps one audit message; compact is its json.Compact form.
func normalize(m *message, compact []byte) auditrelay.Event {
	e := auditrelay.Event{
		ID:      auditrelay.ContentID(Kind, compact),
		Time:    m.Time.t,
		Actor:   actorOf(m.User),
		Action:  auditrelay.Action{Name: string(m.Interaction), Verb: verbOf(m.Interaction)},
		Outcome: outcomeOf(m.Status, m.StatusReason),
	}
	if r := m.Request; r != nil {
		e.Request = auditrelay.Request{
			Method:   r.Method,
			Path:     r.Endpoint,
			ClientIP: clientIP(r),
		}
		if h := r.SourceHeaders; h != nil {
			e.Request.UserAgent = h.UserAgent
		}
		e.Resource = resourceOf(r)
	}
	e.Request.Interface = interfaceOf(m.Method)
	e.Score(m.Status == "AUTH_FAILED")
	return e
}

// verbOf maps the interaction. Central sets it from the HTTP method (POST
// CREATE, PUT/PATCH UPDATE, DELETE DELETE) and sets UPDATE for every gRPC
// call.
func verbOf(i interaction) string {
	switch i {
	case "CREATE":
		return auditrelay.VerbCreate
	case "UPDATE":
		return auditrelay.VerbUpdate
	case "DELETE":
		return auditrelay.VerbDelete
	}
	return auditrelay.VerbOther
}

func interfaceOf(m accessMethod) string {
	switch m {
	case "UI":
		return auditrelay.InterfaceUI
	case "API":
		return auditrelay.InterfaceAPI
	case "CLI":
		return auditrelay.InterfaceCLI
	}
	return ""
}

// outcomeOf maps the status; the reason is statusReason, else the status
// name of anything but a success.
func outcomeOf(s requestStatus, reason string) auditrelay.Outcome {
	o := auditrelay.Outcome{Result: auditrelay.ResultUnknown, Reason: reason}
	switch s {
	case "REQUEST_SUCCEEDED":
		o.Result = auditrelay.ResultSuccess
		return o
	case "AUTH_FAILED", "REQUEST_FAILED":
		o.Result = auditrelay.ResultFailure
	}
	if o.Reason == "" {
		o.Reason = string(s)
	}
	return o
}

// servicePrefix starts the username Central gives a service identity:
// "service:<ServiceType>:<id>".
const servicePrefix = "service:"

func actorOf(u *userInfo) auditrelay.Actor {
	if u == nil || u.Username == "" && u.FriendlyName == "" {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	a := auditrelay.Actor{Name: u.FriendlyName, Username: u.Username, Type: auditrelay.ActorUser}
	if id, ok := serviceID(u.Username); ok {
		a.ID = id
		a.Type = auditrelay.ActorService
	}
	for _, r := range u.Roles {
		if r.Name != "" {
			a.Roles = append(a.Roles, r.Name)
		}
	}
	if len(a.Roles) == 0 && u.Role != nil && u.Role.Name != "" {
		a.Roles = []string{u.Role.Name}
	}
	return a
}

// serviceID returns the id of a "service:<TYPE>:<id>" username, TYPE being
// a storage.ServiceType name such as SENSOR_SERVICE.
func serviceID(username string) (string, bool) {
	rest, ok := strings.CutPrefix(username, servicePrefix)
	if !ok {
		return "", false
	}
	typ, id, ok := strings.Cut(rest, ":")
	if !ok || typ == "" || strings.TrimLeft(typ, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return "", false
	}
	return id, true
}

// clientIP is the first address that parses, in Central's own order of
// trust: sourceIp, then X-Forwarded-For, Remote-Addr, the request address.
// A port is stripped ("10.0.0.1:443", "[2001:db8::1]:443"), an IPv4-mapped
// IPv6 address unmapped.
func clientIP(r *request) string {
	if ip := parseAddr(r.SourceIP); ip != "" {
		return ip
	}
	h := r.SourceHeaders
	if h == nil {
		return ""
	}
	for _, s := range [...]string{string(h.XForwardedFor), h.RemoteAddr, h.RequestAddr} {
		if ip := parseAddr(s); ip != "" {
			return ip
		}
	}
	return ""
}

func parseAddr(s string) string {
	if s == "" {
		return ""
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return unmapped(a, s)
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return unmapped(a, host)
	}
	return ""
}

// unmapped returns text when it is already a's plain form.
func unmapped(a netip.Addr, text string) string {
	if a.Is4In6() {
		return a.Unmap().String()
	}
	return text
}

// resourceOf reads the request payload, a google.protobuf.Any whose "@type"
// Central sets to the bare message name. A stored object (storage.Notifier)
// names the resource type (Notifier). Any other payload is an API request
// (v1.ResourceByID, v1.DeleteNotifierRequest) that names no type: the type
// then comes from a gRPC endpoint's service (/v1.NotifierService/… →
// Notifier), else stays empty. id, name and namespace are the payload's own
// top-level string fields.
func resourceOf(r *request) auditrelay.Resource {
	p := r.Payload
	if p == nil {
		return auditrelay.Resource{}
	}
	res := auditrelay.Resource{ID: string(p.ID), Name: string(p.Name), Namespace: string(p.Namespace)}
	typ := string(p.Type)
	if i := strings.LastIndexByte(typ, '/'); i >= 0 {
		typ = typ[i+1:] // a type URL: type.googleapis.com/storage.Role
	}
	if name, ok := strings.CutPrefix(typ, "storage."); ok && !strings.Contains(name, ".") {
		res.Type = name
		return res
	}
	res.Type = grpcService(r.Endpoint)
	return res
}

// grpcService returns Notifier for a gRPC method /v1.NotifierService/PostNotifier.
func grpcService(endpoint string) string {
	service, _, ok := strings.Cut(strings.TrimPrefix(endpoint, "/"), "/")
	if !ok || !strings.HasPrefix(endpoint, "/") {
		return ""
	}
	if i := strings.LastIndexByte(service, '.'); i >= 0 {
		service = service[i+1:]
	} else {
		return ""
	}
	return strings.TrimSuffix(service, "Service")
}
