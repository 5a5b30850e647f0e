package splunkhec_test

import (
	"time"

	"github.com/auditrelay/auditrelay"
)

// mix is the splitmix64 finalizer: a cheap, well-spread 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func pick(r uint64, names ...string) string { return names[r%uint64(len(names))] }

// hexID is "sha256:" and 32 hex digits drawn from i: the id rule's shape,
// as incompressible as a real hash.
func hexID(i uint64) string {
	const digits = "0123456789abcdef"
	b := []byte("sha256:")
	for _, w := range [2]uint64{mix(i), mix(^i)} {
		for k := range 16 {
			b = append(b, digits[w>>(4*k)&0xf])
		}
	}
	return string(b)
}

// deliveryID is a UUID-shaped delivery id for POST p.
func deliveryID(p uint64) string {
	id := hexID(p<<20 | 0xde1)[len("sha256:"):]
	return id[:8] + "-" + id[8:12] + "-4" + id[13:16] + "-a" + id[17:20] + "-" + id[20:32]
}

var loadBase = time.Date(2025, 6, 18, 21, 2, 36, 0, time.UTC)

// loadEvents returns n normalized events as the openfaas adapter makes them
// from cmd/auditrelay-load's api_access stream: posts of 100 events sharing
// a delivery id and received_at, ids that are hashes, times a little over a
// millisecond apart with nanosecond digits, and actors, actions, functions
// and outcomes that vary, so compression sees what a real relay sends
// (about 50 gzip bytes per event) rather than one repeated event.
func loadEvents(n int) []auditrelay.Event {
	out := make([]auditrelay.Event, n)
	for i := range out {
		out[i] = loadEvent(uint64(i))
	}
	return out
}

func loadEvent(i uint64) auditrelay.Event {
	r := mix(i * 0x9e3779b97f4a7c15)
	post := i / 100
	at := loadBase.Add(time.Duration(i)*1300*time.Microsecond + time.Duration(r>>44))
	e := auditrelay.Event{
		ID:         hexID(i),
		Time:       at,
		ReceivedAt: loadBase.Add(time.Duration(post+1)*130*time.Millisecond + time.Duration(mix(post)>>40)),
		Source:     auditrelay.Source{Kind: "openfaas", Input: "openfaas", DeliveryID: deliveryID(post)},
	}
	fn := pick(r>>24, "figlet", "nodeinfo", "env", "sentiment-analysis", "cows", "markdown")
	ns := pick(r>>32, "openfaas-fn", "openfaas-fn", "staging-fn", "team-a")
	var method, path, action, typ, name string
	switch r % 10 {
	case 0:
		method, path, action, typ = "GET", "/system/namespaces", "Namespace:List", "Namespace"
	case 1:
		method, path, action, typ = "GET", "/system/functions?namespace="+ns, "Function:List", "Function"
	case 2:
		method, path, action, typ = "POST", "/system/functions", "Function:Create", "Function"
	case 3:
		method, path, action, typ = "PUT", "/system/functions", "Function:Update", "Function"
	case 4:
		method, path, action, typ = "DELETE", "/system/functions", "Function:Delete", "Function"
	case 5:
		method, path, action, typ, name = "GET", "/system/function/"+fn+"?namespace="+ns, "Function:Get", "Function", fn
	case 6:
		method, path, action, typ, name = "POST", "/system/scale-function/"+fn+"?namespace="+ns, "Function:Scale", "Function", fn
	case 7:
		method, path, action, typ, name = "GET", "/system/logs?name="+fn+"&namespace="+ns, "Function:Logs", "Function", fn
	case 8:
		method, path, action, typ = "POST", "/system/secrets", "Secret:Create", "Secret"
	default:
		method, path, action, typ = "GET", "/system/secrets?namespace="+ns, "Secret:List", "Secret"
	}
	e.Request = auditrelay.Request{Method: method, Path: path}
	e.Resource = auditrelay.Resource{Type: typ, Name: name}
	if method != "GET" || name != "" {
		e.Resource.Namespace = ns
	}
	verb := map[string]string{"GET": auditrelay.VerbRead, "POST": auditrelay.VerbCreate,
		"PUT": auditrelay.VerbUpdate, "DELETE": auditrelay.VerbDelete}[method]
	e.Action = auditrelay.Action{Verb: verb}
	actor := (r >> 8) % 10
	switch {
	case actor == 0:
		e.Actor = auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	case actor <= 3:
		e.Actor = auditrelay.Actor{ID: "fed:system:serviceaccount:openfaas:" + pick(actor, "", "cron-connector", "kafka-connector", "github-actions"),
			Issuer: "https://gateway.openfaas.example.com", FederatedIssuer: "https://kubernetes.default.svc.cluster.local", Type: auditrelay.ActorService}
	default:
		u := r >> 48
		e.Actor = auditrelay.Actor{ID: "fed:" + pick(u, "alice", "bob", "carol", "dave", "erin") + "@example.com",
			Name: pick(u, "Alice", "Bob", "Carol", "Dave", "Erin") + " Example", Issuer: "https://gateway.openfaas.example.com",
			FederatedIssuer: "https://keycloak.example.com/realms/openfaas", Type: auditrelay.ActorUser}
	}
	if actor != 0 {
		e.Action.Name, e.Action.All = action, []string{action}
	}
	code := 200
	switch {
	case actor == 0:
		code = 401
	case (r>>40)%20 == 0:
		code = 403
	case (r>>40)%20 == 1:
		code = 404
	case (r>>40)%20 == 2:
		code = 500
	case method != "GET":
		code = 202
	}
	e.Outcome = auditrelay.Outcome{Result: auditrelay.ResultSuccess, StatusCode: code}
	if code >= 400 {
		e.Outcome.Result = auditrelay.ResultFailure
	}
	if code == 403 {
		e.Outcome.Reason = "no policy grants " + action
	}
	e.Severity = auditrelay.SeverityOf(verb, e.Outcome.Result, code, false)
	return e
}
