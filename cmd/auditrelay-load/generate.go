package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Adapter names: the payload shapes the generator can produce, one per
// relay adapter (DESIGN.md "Inputs (HTTP)").
const (
	adapterOpenFaaS  = "openfaas"
	adapterStackRox  = "stackrox"
	adapterKong      = "kong"
	adapterKongHooks = "konghooks"
	adapterKonnect   = "konnect"
	adapterLines     = "lines"
)

// Konnect entry formats.
const (
	konnectJSON  = "json"
	konnectCEF   = "cef"
	konnectMixed = "mixed"
)

// adapterNames lists every adapter the generator knows, in usage order.
func adapterNames() []string {
	return []string{adapterOpenFaaS, adapterStackRox, adapterKong, adapterKongHooks, adapterKonnect, adapterLines}
}

// isAdapter reports whether name is an adapter the generator knows.
func isAdapter(name string) bool {
	for _, a := range adapterNames() {
		if a == name {
			return true
		}
	}
	return false
}

// Spec says what to generate. Build is a pure function of a Spec, the index
// of the first event and the event count: the same arguments give the same
// bytes, so a run is reproducible from its seed.
type Spec struct {
	// Adapter is the payload shape (openfaas, stackrox, kong, konghooks,
	// konnect, lines).
	Adapter string
	// Seed varies ids, names and choices between runs.
	Seed uint64
	// Unique makes every event distinct: event i of a POST is global event
	// first+i. Without it event i of every POST is event i, so every POST
	// repeats the first one and the relay's dedup counts duplicates.
	Unique bool
	// Base is the time of event 0; event k happened k microseconds later.
	Base time.Time
	// Secret is the HMAC key: openfaas signs X-Openfaas-Signature-256,
	// konghooks X-Kong-Signature. Empty: unsigned.
	Secret []byte
	// KonnectFormat is json, cef or mixed (alternating per event).
	KonnectFormat string
}

// Header is one request header of a payload.
type Header struct{ Name, Value string }

// Payload is one POST body with the headers its source would send.
type Payload struct {
	Body    []byte
	Events  int
	Headers []Header
}

// Validate reports every problem of the spec.
func (s Spec) Validate() error {
	var errs []error
	if !isAdapter(s.Adapter) {
		errs = append(errs, fmt.Errorf("unknown adapter %q: use one of %s", s.Adapter, strings.Join(adapterNames(), ", ")))
	}
	switch s.KonnectFormat {
	case konnectJSON, konnectCEF, konnectMixed, "":
	default:
		errs = append(errs, fmt.Errorf("unknown konnect format %q: use json, cef or mixed", s.KonnectFormat))
	}
	return errors.Join(errs...)
}

// MaxBatch is the most events one POST of the adapter carries: StackRox
// sends one message per POST and Kong one event-hook delivery per POST.
func (s Spec) MaxBatch() int {
	if s.Adapter == adapterStackRox || s.Adapter == adapterKongHooks {
		return 1
	}
	return 0
}

// ContentType is the Content-Type the adapter's source sends.
func (s Spec) ContentType() string {
	if s.Adapter == adapterKonnect || s.Adapter == adapterLines {
		return "text/plain"
	}
	return "application/json"
}

// Build appends the body carrying events [first, first+n) to dst[:0] and
// returns it with its headers. n is clamped to MaxBatch.
func (s Spec) Build(dst []byte, first uint64, n int) Payload {
	if m := s.MaxBatch(); m > 0 && n > m {
		n = m
	}
	dst = dst[:0]
	headers := make([]Header, 0, 4)
	headers = append(headers, Header{"Content-Type", s.ContentType()})
	switch s.Adapter {
	case adapterOpenFaaS:
		dst = s.jsonArray(dst, first, n, s.appendOpenFaaS)
		headers = append(headers,
			Header{"X-Openfaas-Event", "api_access"},
			Header{"X-Openfaas-Delivery", string(appendUUID(nil, s.rnd(first, saltDelivery), first^s.rnd(0, saltDelivery)))})
		if len(s.Secret) > 0 {
			headers = append(headers, Header{"X-Openfaas-Signature-256", "sha256=" + signSHA256(s.Secret, dst)})
		}
	case adapterStackRox:
		dst = s.appendStackRox(dst, s.index(first, 0))
	case adapterKong:
		dst = s.jsonArray(dst, first, n, s.appendKong)
	case adapterKongHooks:
		dst = s.appendKongHook(dst, s.index(first, 0))
		if len(s.Secret) > 0 {
			headers = append(headers, Header{"X-Kong-Signature", "sha1=" + signSHA1(s.Secret, dst)})
		}
	case adapterKonnect:
		dst = s.lines(dst, first, n, s.appendKonnect)
	case adapterLines:
		dst = s.lines(dst, first, n, s.appendSSHD)
	}
	return Payload{Body: dst, Events: n, Headers: headers}
}

// signSHA256 is the OpenFaaS signature: lower-case hex HMAC-SHA256 of body.
func signSHA256(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// signSHA1 is the Kong event-hook signature: hex HMAC-SHA1 of body.
func signSHA1(key, body []byte) string {
	m := hmac.New(sha1.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s Spec) jsonArray(dst []byte, first uint64, n int, each func([]byte, uint64) []byte) []byte {
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = each(dst, s.index(first, i))
	}
	return append(dst, ']')
}

func (s Spec) lines(dst []byte, first uint64, n int, each func([]byte, uint64) []byte) []byte {
	for i := 0; i < n; i++ {
		dst = each(dst, s.index(first, i))
		dst = append(dst, '\n')
	}
	return dst
}

// index is the global index of event i of the POST starting at first.
func (s Spec) index(first uint64, i int) uint64 {
	if s.Unique {
		return first + uint64(i)
	}
	return uint64(i)
}

// Salts keep the pseudo-random streams of different fields apart.
const (
	saltChoice uint64 = iota + 1
	saltDelivery
	saltActor
	saltEntity
	saltWorkspace
	saltOrg
	saltSig
	saltRequest
)

// mix is the splitmix64 finalizer: a cheap, well-spread 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rnd is the pseudo-random value of (seed, idx, salt).
func (s Spec) rnd(idx, salt uint64) uint64 {
	return mix(s.Seed ^ mix(idx*0x9e3779b97f4a7c15+salt))
}

// uuidFor is a UUID unique per idx: its last 48 bits are idx scrambled
// by a bijection, so distinct indexes (below 2^48) never collide.
func (s Spec) uuidFor(dst []byte, idx, salt uint64) []byte {
	r := s.rnd(idx, salt)
	return appendUUID(dst, r, r<<48|s.scramble48(idx, salt))
}

// scramble48 maps idx's low 48 bits to 48 random-looking bits, one to one
// (xor with a per-seed mask, multiply by an odd number, xorshift: each
// step is invertible modulo 2^48).
func (s Spec) scramble48(idx, salt uint64) uint64 {
	const m48 = 1<<48 - 1
	x := (idx ^ s.rnd(0, salt)) & m48
	x = x * 0x5deece66d & m48
	return x ^ x>>24
}

// fixedUUID is one of a few stable UUIDs per seed (workspaces, orgs, users).
func (s Spec) fixedUUID(dst []byte, k, salt uint64) []byte {
	return appendUUID(dst, s.rnd(k, salt), s.rnd(k, salt+0x77))
}

const hexDigits = "0123456789abcdef"

// appendUUID formats hi/lo as a version-4 UUID.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | (0x8 << 60)
	dst = appendHex(dst, hi>>32, 8)
	dst = append(dst, '-')
	dst = appendHex(dst, hi>>16, 4)
	dst = append(dst, '-')
	dst = appendHex(dst, hi, 4)
	dst = append(dst, '-')
	dst = appendHex(dst, lo>>48, 4)
	dst = append(dst, '-')
	return appendHex(dst, lo, 12)
}

// appendHex appends the low digits hex digits of v.
func appendHex(dst []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return dst
}

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b64std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// appendKongRequestID appends a 32-character Kong request id: 21
// pseudo-random characters and idx scrambled by a bijection (mix) in 11
// base-62 digits, so distinct indexes never collide.
func (s Spec) appendKongRequestID(dst []byte, idx uint64) []byte {
	st := s.rnd(idx, saltRequest)
	r := st
	for i := 0; i < 21; i++ {
		if i%10 == 9 {
			st = mix(st)
			r = st
		}
		dst = append(dst, base62[r%62])
		r /= 62
	}
	v := mix(idx ^ s.rnd(0, saltRequest))
	var d [11]byte // 62^11 > 2^64
	for i := 10; i >= 0; i-- {
		d[i] = base62[v%62]
		v /= 62
	}
	return append(dst, d[:]...)
}

// appendSig appends chars pseudo-random characters of alphabet whose last
// 8 encode scramble48(idx), so signatures of distinct events differ.
func (s Spec) appendSig(dst []byte, idx uint64, chars int, alphabet string) []byte {
	n := len(dst)
	dst = slices.Grow(dst, chars)[:n+chars]
	out := dst[n : n+chars-8]
	st := s.rnd(idx, saltSig)
	for len(out) > 0 {
		st = mix(st)
		r := st
		k := min(len(out), 10)
		for i := range k {
			out[i] = alphabet[r&63]
			r >>= 6
		}
		out = out[k:]
	}
	tail := dst[n+chars-8:]
	v := s.scramble48(idx, saltSig)
	for i := range 8 {
		tail[i] = alphabet[(v>>(uint(7-i)*6))&63]
	}
	return dst
}

// at is the time of event idx.
func (s Spec) at(idx uint64) time.Time {
	return s.Base.Add(time.Duration(idx) * time.Microsecond).UTC()
}

// appendIPv4 appends a client address: mostly private, some public
// documentation ranges.
func appendIPv4(dst []byte, r uint64) []byte {
	switch r % 4 {
	case 0:
		dst = append(dst, "203.0.113."...)
	case 1:
		dst = append(dst, "198.51.100."...)
	default:
		dst = append(dst, "10.0."...)
		dst = strconv.AppendUint(dst, (r>>8)%16, 10)
		dst = append(dst, '.')
	}
	return strconv.AppendUint(dst, 1+(r>>16)%254, 10)
}

func pick(r uint64, names ...string) string { return names[r%uint64(len(names))] }

// --- OpenFaaS -------------------------------------------------------------

// appendOpenFaaS appends one api_access event as OpenFaaS sends it:
// actor absent for unauthenticated calls (then actions is null), optional
// namespace and custom_message, time RFC 3339 with nanoseconds.
func (s Spec) appendOpenFaaS(dst []byte, idx uint64) []byte {
	r := s.rnd(idx, saltChoice)
	fn := pick(r>>24, "figlet", "nodeinfo", "env", "sentiment-analysis", "cows", "markdown")
	ns := pick(r>>32, "openfaas-fn", "openfaas-fn", "staging-fn", "team-a")
	var method, path, action string
	var withFn, query bool
	switch r % 10 {
	case 0:
		method, path, action = "GET", "/system/namespaces", "Namespace:List"
	case 1:
		method, path, action, query = "GET", "/system/functions", "Function:List", true
	case 2:
		method, path, action = "POST", "/system/functions", "Function:Create"
	case 3:
		method, path, action = "PUT", "/system/functions", "Function:Update"
	case 4:
		method, path, action = "DELETE", "/system/functions", "Function:Delete"
	case 5:
		method, path, action, withFn, query = "GET", "/system/function/", "Function:Get", true, true
	case 6:
		method, path, action, withFn, query = "POST", "/system/scale-function/", "Function:Scale", true, true
	case 7:
		method, path, action, withFn, query = "GET", "/system/logs?name=", "Function:Logs", true, false
	case 8:
		method, path, action = "POST", "/system/secrets", "Secret:Create"
	default:
		method, path, action, query = "GET", "/system/secrets", "Secret:List", true
	}
	actor := (r >> 8) % 10
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
	case method == "POST" || method == "PUT" || method == "DELETE":
		code = 202
	}
	dst = append(dst, '{')
	switch {
	case actor == 0: // unauthenticated: no actor at all
	case actor <= 3:
		dst = append(dst, `"actor":{"sub":"fed:system:serviceaccount:openfaas:`...)
		dst = append(dst, pick(actor, "", "cron-connector", "kafka-connector", "github-actions")...)
		dst = append(dst, `","issuer":"https://gateway.openfaas.example.com","fed_issuer":"https://kubernetes.default.svc.cluster.local"},`...)
	default:
		u := r >> 48
		dst = append(dst, `"actor":{"sub":"fed:`...)
		dst = append(dst, pick(u, "alice", "bob", "carol", "dave", "erin")...)
		dst = append(dst, `@example.com","name":"`...)
		dst = append(dst, pick(u, "Alice", "Bob", "Carol", "Dave", "Erin")...)
		dst = append(dst, ` Example","issuer":"https://gateway.openfaas.example.com","fed_issuer":"https://keycloak.example.com/realms/openfaas"},`...)
	}
	dst = append(dst, `"path":"`...)
	dst = append(dst, path...)
	if withFn {
		dst = append(dst, fn...)
	}
	switch {
	case query:
		dst = append(dst, "?namespace="...)
		dst = append(dst, ns...)
	case withFn:
		dst = append(dst, "&namespace="...)
		dst = append(dst, ns...)
	}
	dst = append(dst, `","method":"`...)
	dst = append(dst, method...)
	if actor == 0 {
		dst = append(dst, `","actions":null`...)
	} else {
		dst = append(dst, `","actions":["`...)
		dst = append(dst, action...)
		dst = append(dst, `"]`...)
	}
	dst = append(dst, `,"response_code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"time":"`...)
	dst = s.at(idx).AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if method != "GET" {
		dst = append(dst, `,"namespace":"`...)
		dst = append(dst, ns...)
		dst = append(dst, '"')
	}
	if code == 403 {
		dst = append(dst, `,"custom_message":"no policy grants `...)
		dst = append(dst, action...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// --- StackRox -------------------------------------------------------------

// appendStackRox appends one generic-webhook message: {"audit":{…}} in
// protojson field order, sometimes preceded by the notifier's extra
// fields; zero values omitted (no status, no user).
func (s Spec) appendStackRox(dst []byte, idx uint64) []byte {
	r := s.rnd(idx, saltChoice)
	dst = append(dst, '{')
	if r%4 == 0 {
		dst = append(dst, `"cluster":"prod-east","environment":"production",`...)
	}
	dst = append(dst, `"audit":{"time":"`...)
	dst = s.at(idx).AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	switch (r >> 8) % 20 {
	case 0:
		dst = append(dst, `,"status":"REQUEST_FAILED","statusReason":"access to resource denied"`...)
	case 1: // no status: unknown
	default:
		dst = append(dst, `,"status":"REQUEST_SUCCEEDED"`...)
	}
	switch u := (r >> 16) % 10; {
	case u == 0: // anonymous: no user
	case u <= 2:
		dst = append(dst, `,"user":{"username":"service:SENSOR_SERVICE:`...)
		dst = s.fixedUUID(dst, u, saltActor)
		dst = append(dst, `","friendlyName":"sensor"}`...)
	case u == 3:
		dst = append(dst, `,"user":{"username":"ops@example.com","friendlyName":"Ops Team","role":{"name":"Admin","resourceToAccess":{"Integration":"READ_WRITE_ACCESS","Role":"READ_WRITE_ACCESS"}}}`...)
	default:
		user := pick(r>>24, "alice", "bob", "carol")
		dst = append(dst, `,"user":{"username":"`...)
		dst = append(dst, user...)
		dst = append(dst, `@example.com","friendlyName":"`...)
		dst = append(dst, user...)
		dst = append(dst, `","permissions":{"resourceToAccess":{"Integration":"READ_WRITE_ACCESS","WorkflowAdministration":"READ_WRITE_ACCESS","Cluster":"READ_ACCESS"}},"roles":[{"name":"`...)
		dst = append(dst, pick(r>>28, "Admin", "Continuous Integration", "Vulnerability Management Approver")...)
		dst = append(dst, `","resourceToAccess":{"Integration":"READ_WRITE_ACCESS","WorkflowAdministration":"READ_WRITE_ACCESS"}}]}`...)
	}
	dst = append(dst, `,"method":"`...)
	dst = append(dst, pick(r>>32, "UI", "API", "CLI")...)
	dst = append(dst, `","request":{"endpoint":"`...)
	var interaction string
	switch (r >> 36) % 5 {
	case 0:
		interaction = "CREATE"
		dst = append(dst, `/v1/notifiers","method":"POST","payload":{"@type":"storage.Notifier","id":"`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `","name":"Webhook","type":"generic","uiEndpoint":"https://central.example.com","generic":{"endpoint":"https://siem.example.com/ingest","auditLoggingEnabled":true}}`...)
	case 1:
		interaction = "UPDATE"
		dst = append(dst, `/v1/policies/`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `","method":"PUT","payload":{"@type":"storage.Policy","id":"`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `","name":"Privileged Container","severity":"HIGH_SEVERITY","lifecycleStages":["DEPLOY"],"disabled":false}`...)
	case 2:
		interaction = "DELETE"
		dst = append(dst, `/v1/clusters/`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `","method":"DELETE","payload":{"@type":"v1.ResourceByID","id":"`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `"}`...)
	case 3:
		interaction = "UPDATE" // every gRPC call is an UPDATE
		dst = append(dst, `/v1.NotifierService/PostNotifier","method":"GRPC","payload":{"@type":"storage.Notifier","id":"`...)
		dst = s.uuidFor(dst, idx, saltEntity)
		dst = append(dst, `","name":"Splunk","type":"splunk"}`...)
	default:
		interaction = "CREATE"
		dst = append(dst, `/v1/roles/analyst-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `","method":"POST","payload":{"@type":"storage.Role","name":"analyst-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `","accessScopeId":"io.stackrox.authz.accessscope.unrestricted","permissionSetId":"`...)
		dst = s.fixedUUID(dst, 1, saltEntity)
		dst = append(dst, `"}`...)
	}
	var ipBuf [16]byte
	ip := appendIPv4(ipBuf[:0], r>>40)
	port := 1024 + (r>>20)%60000
	dst = append(dst, `,"sourceHeaders":{"requestAddr":"`...)
	dst = append(dst, ip...)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, port, 10)
	dst = append(dst, `","xForwardedFor":"`...)
	dst = append(dst, ip...)
	dst = append(dst, `, 10.128.0.1","remoteAddr":"10.128.0.1:`...)
	dst = strconv.AppendUint(dst, port, 10)
	dst = append(dst, `"},"sourceIp":"`...)
	dst = append(dst, ip...)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, port, 10)
	dst = append(dst, `"},"interaction":"`...)
	dst = append(dst, interaction...)
	return append(dst, `"}}`...)
}

// --- Kong audit request records ------------------------------------------

// appendKong appends one /audit/requests record: payload is the request
// body as a JSON string (or null), no rbac fields for anonymous calls.
func (s Spec) appendKong(dst []byte, idx uint64) []byte {
	r := s.rnd(idx, saltChoice)
	var method, path string
	var status int64
	var entity bool
	body := 0 // 0 null, 1 service, 2 route patch, 3 consumer
	switch r % 6 {
	case 0:
		method, path, status = "GET", "/services?size=100", 200
	case 1:
		method, path, status, body = "POST", "/services", 201, 1
	case 2:
		method, path, status, entity, body = "PATCH", "/routes/", 200, true, 2
	case 3:
		method, path, status, entity = "DELETE", "/consumers/", 204, true
	case 4:
		method, path, status = "GET", "/rbac/users?size=100&offset=", 200
	default:
		method, path, status, body = "POST", "/consumers", 201, 3
	}
	anonymous := false
	switch (r >> 8) % 16 {
	case 0:
		status, anonymous = 401, true
	case 1:
		status = 403
	case 2:
		status = 404
	}
	dst = append(dst, `{"request_id":"`...)
	dst = s.appendKongRequestID(dst, idx)
	dst = append(dst, `","request_timestamp":`...)
	dst = strconv.AppendInt(dst, s.at(idx).Unix(), 10)
	dst = append(dst, `,"client_ip":"`...)
	dst = appendIPv4(dst, r>>16)
	dst = append(dst, `","path":"`...)
	dst = append(dst, path...)
	if entity {
		dst = s.uuidFor(dst, idx, saltEntity)
	}
	if r%6 == 4 {
		dst = strconv.AppendUint(dst, (r>>12)%10, 10)
	}
	dst = append(dst, `","method":"`...)
	dst = append(dst, method...)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, status, 10)
	if !anonymous {
		u := (r >> 24) % 3
		dst = append(dst, `,"rbac_user_id":"`...)
		dst = s.fixedUUID(dst, u, saltActor)
		dst = append(dst, `","rbac_user_name":"`...)
		dst = append(dst, pick(u, "admin", "ops-bot", "alice")...)
		dst = append(dst, '"')
		if (r>>28)%2 == 0 {
			dst = append(dst, `,"request_source":"kong-manager"`...)
		}
	}
	dst = append(dst, `,"workspace":"`...)
	dst = s.fixedUUID(dst, (r>>32)%2, saltWorkspace)
	dst = append(dst, `","payload":`...)
	if status >= 400 {
		body = 0
	}
	switch body {
	case 0:
		dst = append(dst, "null"...)
	case 1:
		dst = append(dst, `"{\"name\":\"svc-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `\",\"url\":\"http://upstream.internal:8080\"}"`...)
	case 2:
		dst = append(dst, `"{\"paths\":[\"/v1/orders\"],\"strip_path\":true}"`...)
	default:
		dst = append(dst, `"{\"username\":\"user-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `\",\"custom_id\":null}"`...)
	}
	dst = append(dst, `,"removed_from_payload":null,"signature":"`...)
	dst = s.appendSig(dst, idx, 342, b64std)
	dst = append(dst, `==","ttl":`...)
	dst = strconv.AppendUint(dst, 2592000-(r>>40)%3600, 10)
	return append(dst, '}')
}

// --- Kong event hooks -----------------------------------------------------

// appendKongHook appends one crud event-hook delivery. The body carries no
// time; entities carry created_at/updated_at (epoch seconds).
func (s Spec) appendKongHook(dst []byte, idx uint64) []byte {
	r := s.rnd(idx, saltChoice)
	schema := pick(r, "services", "routes", "consumers")
	op := pick(r>>8, "create", "create", "update", "delete")
	updated := s.at(idx).Unix()
	created := updated
	if op != "create" {
		created -= 86400 + int64((r>>16)%86400)
	}
	dst = append(dst, `{"source":"crud","event":"`...)
	dst = append(dst, schema...)
	dst = append(dst, `","operation":"`...)
	dst = append(dst, op...)
	dst = append(dst, `","entity":`...)
	dst = s.appendKongEntity(dst, idx, r, schema, created, updated)
	if op == "update" {
		dst = append(dst, `,"old_entity":`...)
		dst = s.appendKongEntity(dst, idx, r, schema, created, created)
	}
	dst = append(dst, `,"schema":"`...)
	dst = append(dst, schema...)
	return append(dst, `"}`...)
}

func (s Spec) appendKongEntity(dst []byte, idx, r uint64, schema string, created, updated int64) []byte {
	dst = append(dst, `{"id":"`...)
	dst = s.uuidFor(dst, idx, saltEntity)
	switch schema {
	case "services":
		dst = append(dst, `","name":"svc-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `","host":"upstream-`...)
		dst = strconv.AppendUint(dst, r%50, 10)
		dst = append(dst, `.internal","port":8080,"protocol":"http","path":null,"retries":5,"connect_timeout":60000,"read_timeout":60000,"write_timeout":60000,"enabled":true,"tags":null,"client_certificate":null,"tls_verify":null,"tls_verify_depth":null,"ca_certificates":null`...)
	case "routes":
		dst = append(dst, `","name":"route-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `","protocols":["http","https"],"methods":null,"hosts":null,"paths":["/api/`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `"],"strip_path":true,"preserve_host":false,"https_redirect_status_code":426,"regex_priority":0,"path_handling":"v0","request_buffering":true,"response_buffering":true,"tags":null,"service":{"id":"`...)
		dst = s.fixedUUID(dst, r%4, saltEntity)
		dst = append(dst, `"}`...)
	default:
		dst = append(dst, `","username":"user-`...)
		dst = strconv.AppendUint(dst, idx, 10)
		dst = append(dst, `","custom_id":null,"tags":null`...)
	}
	dst = append(dst, `,"created_at":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"updated_at":`...)
	dst = strconv.AppendInt(dst, updated, 10)
	dst = append(dst, `,"ws_id":"`...)
	dst = s.fixedUUID(dst, 0, saltWorkspace)
	return append(dst, `"}`...)
}

// --- Konnect --------------------------------------------------------------

// appendKonnect appends one audit-log entry, JSON or CEF per KonnectFormat.
func (s Spec) appendKonnect(dst []byte, idx uint64) []byte {
	switch s.KonnectFormat {
	case konnectCEF:
		return s.appendKonnectCEF(dst, idx)
	case konnectMixed:
		if idx%2 == 1 {
			return s.appendKonnectCEF(dst, idx)
		}
	}
	return s.appendKonnectJSON(dst, idx)
}

// konnectEntry is what both Konnect encodings of one entry share.
type konnectEntry struct {
	kind      int // 0 authentication, 1 authorization, 2 access
	name      string
	outcome   bool
	status    int64
	action    string // authorization action or access method
	request   string // access path
	userAgent string
	rt        int64
	traceID   uint64
}

func (s Spec) konnectEntryFor(idx uint64) konnectEntry {
	r := s.rnd(idx, saltChoice)
	e := konnectEntry{
		rt:      s.at(idx).UnixMilli(),
		traceID: 1<<62 | (r>>16)%0xfff<<48 | s.scramble48(idx, saltRequest),
		outcome: (r>>8)%10 != 0,
	}
	switch k := r % 10; {
	case k < 2:
		e.kind = 0
		e.name = "AUTHENTICATION_OUTCOME_SUCCESS"
		if !e.outcome {
			e.name = pick(r>>12, "AUTHENTICATION_OUTCOME_INVALID_PASSWORD", "AUTHENTICATION_OUTCOME_NOT_FOUND")
		}
		e.userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	case k < 5:
		e.kind = 1
		e.name = pick(r>>12, "Authz.portals", "Authz.control-planes", "Authz.service-hub", "Authz.identity")
		e.action = pick(r>>20, "retrieve", "list", "create", "edit", "delete")
		e.userAgent = "grpc-go/1.64.0"
	default:
		e.kind = 2
		e.name = "Ingress"
		e.action = pick(r>>12, "GET", "GET", "POST", "PATCH", "DELETE")
		e.request = pick(r>>20, "/v2/control-planes", "/v3/portals", "/konnect-api/api/vitals/v1/explore", "/v2/audit-log-webhook")
		e.status = 200
		switch {
		case !e.outcome:
			e.status = [...]int64{401, 403, 404}[(r>>28)%3]
		case e.action == "POST":
			e.status = 201
		case e.action == "DELETE":
			e.status = 204
		}
		e.userAgent = "kong-konnect-terraform/2.3.0"
	}
	return e
}

func (e konnectEntry) severity() int64 {
	if e.outcome {
		return 1
	}
	return 7
}

// appendKonnectJSON appends the JSON encoding, keys sorted as Konnect
// sends them, with the type drift of real releases: rt as string or
// number, success/granted as bool or "true", trace_id above 2^53.
func (s Spec) appendKonnectJSON(dst []byte, idx uint64) []byte {
	e := s.konnectEntryFor(idx)
	drift := s.rnd(idx, saltChoice)>>40%3 == 0
	dst = append(dst, '{')
	switch e.kind {
	case 1:
		dst = append(dst, `"action":"`...)
		dst = append(dst, e.action...)
		dst = append(dst, `",`...)
	case 2:
		dst = append(dst, `"act":"`...)
		dst = append(dst, e.action...)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"cef_version":0,"event_class_id":"konnect","event_product":"Konnect","event_ts":"`...)
	dst = time.UnixMilli(e.rt).UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","event_vendor":"KongInc","event_version":"1.0",`...)
	if e.kind == 1 {
		dst = appendKonnectBool(dst, "granted", e.outcome, drift)
	}
	dst = append(dst, `"name":"`...)
	dst = append(dst, e.name...)
	dst = append(dst, `","org_id":"`...)
	dst = s.fixedUUID(dst, 0, saltOrg)
	dst = append(dst, `","principal_id":"`...)
	dst = s.fixedUUID(dst, s.rnd(idx, saltActor)%5, saltActor)
	dst = append(dst, '"')
	if e.kind == 2 {
		dst = append(dst, `,"request":"`...)
		dst = append(dst, e.request...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"rt":`...)
	if drift {
		dst = strconv.AppendInt(dst, e.rt, 10)
	} else {
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, e.rt, 10)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"severity":`...)
	dst = strconv.AppendInt(dst, e.severity(), 10)
	dst = append(dst, `,"sig":"`...)
	dst = s.appendSig(dst, idx, 86, b64url)
	dst = append(dst, `","src":"`...)
	dst = appendIPv4(dst, s.rnd(idx, saltActor))
	dst = append(dst, `",`...)
	switch e.kind {
	case 0:
		dst = appendKonnectBool(dst, "success", e.outcome, drift)
	case 2:
		dst = append(dst, `"status":`...)
		dst = strconv.AppendInt(dst, e.status, 10)
		dst = append(dst, ',')
	}
	if e.kind != 0 {
		dst = append(dst, `"trace_id":`...)
		dst = strconv.AppendUint(dst, e.traceID, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"user_agent":"`...)
	dst = append(dst, e.userAgent...)
	return append(dst, `"}`...)
}

func appendKonnectBool(dst []byte, key string, v, drift bool) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	switch {
	case drift && v:
		dst = append(dst, `"true"`...)
	case drift:
		dst = append(dst, `"false"`...)
	default:
		dst = strconv.AppendBool(dst, v)
	}
	return append(dst, ',')
}

// appendKonnectCEF appends the CEF encoding with its timestamp and host
// prefix (RFC 3339, or a syslog stamp for one entry in eight).
func (s Spec) appendKonnectCEF(dst []byte, idx uint64) []byte {
	e := s.konnectEntryFor(idx)
	t := time.UnixMilli(e.rt).UTC()
	if s.rnd(idx, saltChoice)>>44%8 == 0 {
		dst = t.AppendFormat(dst, time.Stamp)
	} else {
		dst = t.AppendFormat(dst, time.RFC3339)
	}
	dst = append(dst, " konghq.com CEF:0|KongInc|Konnect|1.0|"...)
	if e.kind == 2 {
		dst = append(dst, "KongGateway|"...)
	} else {
		dst = append(dst, "konnect|"...)
	}
	dst = append(dst, e.name...)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, e.severity(), 10)
	dst = append(dst, "|rt="...)
	dst = strconv.AppendInt(dst, e.rt, 10)
	dst = append(dst, " src="...)
	dst = appendIPv4(dst, s.rnd(idx, saltActor))
	switch e.kind {
	case 0:
		dst = append(dst, " success="...)
		dst = strconv.AppendBool(dst, e.outcome)
	case 1:
		dst = append(dst, " action="...)
		dst = append(dst, e.action...)
		dst = append(dst, " granted="...)
		dst = strconv.AppendBool(dst, e.outcome)
	case 2:
		dst = append(dst, " act="...)
		dst = append(dst, e.action...)
		dst = append(dst, " request="...)
		dst = append(dst, e.request...)
		dst = append(dst, " status="...)
		dst = strconv.AppendInt(dst, e.status, 10)
	}
	dst = append(dst, " org_id="...)
	dst = s.fixedUUID(dst, 0, saltOrg)
	dst = append(dst, " principal_id="...)
	dst = s.fixedUUID(dst, s.rnd(idx, saltActor)%5, saltActor)
	if e.kind != 0 {
		dst = append(dst, " trace_id="...)
		dst = strconv.AppendUint(dst, e.traceID, 10)
	}
	dst = append(dst, " user_agent="...)
	dst = append(dst, e.userAgent...)
	dst = append(dst, " sig="...)
	return s.appendSig(dst, idx, 86, b64url)
}

// --- lines (sshd) ---------------------------------------------------------

// appendSSHD appends one sshd auth line with a syslog prefix. Port and pid
// are derived from idx (port cycles every 64000 events, pid grows once per
// cycle), so every line is distinct although the stamp has whole seconds.
func (s Spec) appendSSHD(dst []byte, idx uint64) []byte {
	r := s.rnd(idx, saltChoice)
	dst = s.at(idx).AppendFormat(dst, time.Stamp)
	dst = append(dst, ' ')
	dst = append(dst, pick(r>>40, "bastion-1", "bastion-2", "build-7")...)
	dst = append(dst, " sshd["...)
	dst = strconv.AppendUint(dst, 1000+idx/64000, 10)
	dst = append(dst, "]: "...)
	user := pick(r>>8, "alice", "bob", "deploy", "root", "carol")
	switch r % 6 {
	case 0, 1:
		dst = append(dst, "Accepted publickey for "...)
		dst = append(dst, user...)
	case 2:
		dst = append(dst, "Accepted password for "...)
		dst = append(dst, user...)
	case 3:
		dst = append(dst, "Failed password for "...)
		dst = append(dst, user...)
	case 4:
		dst = append(dst, "Failed password for invalid user "...)
		dst = append(dst, pick(r>>16, "admin", "oracle", "test", "ubuntu")...)
	default:
		dst = append(dst, "Invalid user "...)
		dst = append(dst, pick(r>>16, "admin", "oracle", "test", "ubuntu")...)
	}
	dst = append(dst, " from "...)
	dst = appendIPv4(dst, r>>20)
	dst = append(dst, " port "...)
	dst = strconv.AppendUint(dst, 1024+idx%64000, 10)
	switch r % 6 {
	case 0, 1:
		dst = append(dst, " ssh2: ED25519 SHA256:"...)
		dst = s.appendSig(dst, idx%7, 43, b64std)
	case 2, 3, 4:
		dst = append(dst, " ssh2"...)
	}
	return dst
}
