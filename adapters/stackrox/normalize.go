package stackrox

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
)

// normalize maps one audit message; compact is its json.Compact form.
func normalize(m *message, compact []byte) auditrelay.Event {
	v := fieldsOf{
		time:        m.Time.t,
		status:      m.Status,
		reason:      m.StatusReason,
		method:      m.Method,
		interaction: m.Interaction,
	}
	if u := m.User; u != nil {
		v.username, v.friendly = u.Username, u.FriendlyName
		if v.named() {
			for _, r := range u.Roles {
				if r.Name != "" {
					v.roles = append(v.roles, r.Name)
				}
			}
		}
		if u.Role != nil {
			v.role = u.Role.Name
		}
	}
	if r := m.Request; r != nil {
		v.hasRequest = true
		v.endpoint, v.reqMethod, v.sourceIP = r.Endpoint, r.Method, r.SourceIP
		if p := r.Payload; p != nil {
			v.hasPayload = true
			v.typ, v.id, v.name, v.namespace = string(p.Type), string(p.ID), string(p.Name), string(p.Namespace)
		}
		if h := r.SourceHeaders; h != nil {
			v.xff, v.remoteAddr, v.requestAddr, v.userAgent = string(h.XForwardedFor), h.RemoteAddr, h.RequestAddr, h.UserAgent
		}
	}
	var e auditrelay.Event
	v.fill(&e, auditrelay.ContentID(Kind, compact))
	return e
}

// fieldsOf is one audit message flattened to the values normalize maps,
// with no pointers to nested structs, so that neither path moves a part of
// a message to the heap: absent parts read as "".
type fieldsOf struct {
	time                                    time.Time
	status                                  requestStatus
	reason                                  string
	method                                  accessMethod
	interaction                             interaction
	username, friendly                      string
	roles                                   []string // the non-empty names of user.roles, for a named user
	role                                    string   // user.role.name
	hasRequest                              bool
	endpoint, reqMethod, sourceIP           string
	hasPayload                              bool
	typ, id, name, namespace                string
	xff, remoteAddr, requestAddr, userAgent string // xff: its first address
}

// named reports whether the message names its user (actorOf).
func (v *fieldsOf) named() bool { return v.username != "" || v.friendly != "" }

// fill maps the message into e, which must be zero; id is its content
// id (auditrelay.ContentID over its json.Compact form).
func (v *fieldsOf) fill(e *auditrelay.Event, id string) {
	e.ID = id
	e.Time = v.time
	v.actor(&e.Actor)
	e.Action = auditrelay.Action{Name: string(v.interaction), Verb: verbOf(v.interaction)}
	e.Outcome = outcomeOf(v.status, v.reason)
	if v.hasRequest {
		e.Request = auditrelay.Request{
			Method:    v.reqMethod,
			Path:      v.endpoint,
			ClientIP:  clientIP(v.sourceIP, v.xff, v.remoteAddr, v.requestAddr),
			UserAgent: v.userAgent,
		}
		if v.hasPayload {
			e.Resource = resourceOf(v.typ, v.id, v.name, v.namespace, v.endpoint)
		}
	}
	e.Request.Interface = interfaceOf(v.method)
	e.Score(v.status == "AUTH_FAILED")
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

// actor maps the message's user into a, which must be zero: anonymous
// when it names none, a service for a service identity's username. Its
// roles are user.roles' names, else the older single user.role's.
func (v *fieldsOf) actor(a *auditrelay.Actor) {
	if !v.named() {
		a.Type = auditrelay.ActorAnonymous
		return
	}
	a.Name, a.Username, a.Type, a.Roles = v.friendly, v.username, auditrelay.ActorUser, v.roles
	if id, ok := serviceID(v.username); ok {
		a.ID = id
		a.Type = auditrelay.ActorService
	}
	if len(a.Roles) == 0 && v.role != "" {
		a.Roles = []string{v.role}
	}
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
func clientIP(sourceIP, xff, remoteAddr, requestAddr string) string {
	for _, s := range [...]string{sourceIP, xff, remoteAddr, requestAddr} {
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
func resourceOf(typ, id, name, namespace, endpoint string) auditrelay.Resource {
	res := auditrelay.Resource{ID: id, Name: name, Namespace: namespace}
	if i := strings.LastIndexByte(typ, '/'); i >= 0 {
		typ = typ[i+1:] // a type URL: type.googleapis.com/storage.Role
	}
	if name, ok := strings.CutPrefix(typ, "storage."); ok && !strings.Contains(name, ".") {
		res.Type = name
		return res
	}
	res.Type = grpcService(endpoint)
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
