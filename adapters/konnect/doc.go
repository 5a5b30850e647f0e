// Package konnect is the adapter for Kong Konnect audit-log webhooks (org
// and Dev Portal audit logs).
//
// # Wire format
//
// Konnect (docs: "Konnect and Dev Portal audit logs", the audit log
// reference; "Set up an audit log webhook", seed 003) POSTs batches to the
// webhook endpoint over HTTPS with the Authorization string configured on
// the webhook (checked by the input's "authorization" key). A batch is
// newline-separated entries, Content-Type text/plain, compressed with
// Content-Encoding gzip or application/gzip. The body is gunzipped when a
// header says gzip or it starts with the gzip magic 1f 8b, up to
// max_decompressed_bytes; split on \n; a trailing \r is trimmed and blank
// lines are skipped. Each entry is one of:
//
//	JSON  {"name":"Ingress","act":"POST","status":201,"rt":"1684196881193",
//	       "src":"127.0.0.6","org_id":"…","principal_id":"…",
//	       "trace_id":6891110586028963295,"request":"/v2/…","query":"{}",
//	       "user_agent":"…","event_class_id":"KongGateway","severity":1,
//	       "event_ts":"…","event_vendor":"KongInc","event_product":"Konnect",
//	       "event_version":"1.0","cef_version":0,"sig":"<ed25519 base64url>"}
//	CPS   {"event":{ the JSON entry }}
//	CEF   2025-06-18T21:02:36Z konghq.com CEF:0|KongInc|Konnect|1.0|<event_class_id>|<name>|<severity>|rt=… src=… …
//	      (or a syslog prefix: Apr 14 05:39:08 konghq.com CEF:0|…)
//
// The CEF header's SignatureID, Name and Severity are the JSON form's
// event_class_id, name and severity; the extension holds the other keys.
// Header fields unescape \| and \\; extension values unescape \=, \\, \n,
// \r, and run up to the space before the next key=, so they may hold spaces
// and parentheses (user_agent=grpc-node/1.24.11 grpc-c/8.0.0 (linux; …)).
//
// Three entry types, told apart by name: authentication
// (AUTHENTICATION_OUTCOME_*, with success and event_class_id
// AUTHENTICATION_TYPE_*), authorization (Authz.<resource>, with action and
// granted) and access (Ingress, with request, query, act, status). Types
// drift between releases and are all accepted: rt, status and cef_version
// as string or number; success, granted and kong_initiated as bool or
// "true"/"false". trace_id is an unquoted integer that may exceed 2^53: it
// is read as its literal (never through float64) and kept as its exact
// decimal digits.
//
// # Mapping
//
//	entry                  → id: sha256 content id (Konnect has no event id)
//	                         over the JSON entry as json.Compact leaves it (a
//	                         CPS entry with its wrapper), or the CEF line,
//	                         prefix included, without its line ending
//	rt (epoch ms)          → time; else event_ts (RFC 3339); else the CEF
//	                         line's timestamp prefix (a syslog stamp takes
//	                         received_at's year, the year before when that
//	                         would be more than a day ahead)
//	principal_id           → actor.id
//	principal_name         → actor.name
//	actor.type             → service when kong_initiated is true or
//	                         event_class_id is AUTHENTICATION_TYPE_SPAT (a
//	                         system account token); anonymous without
//	                         principal_id and principal_name; else user
//	name                   → action.name
//	action.all             → [name, event_class_id] for authentication,
//	                         [name, action] for authorization
//	action.verb            → access: from act (GET→read …); authorization:
//	                         from action (retrieve/list→read, create→create,
//	                         edit/update→update, delete→delete); other
//	org_id                 → resource.namespace
//	Authz.<type>[/<id>]    → resource.type, resource.id (control-planes/*:
//	                         type only; nested pairs: the last pair)
//	request (access)       → resource.type/id: the last path segment that is
//	                         not an id or version, and the id after it
//	portal_id              → resource {type "portal", id} (Dev Portal login)
//	trace_id               → request.id (exact digits)
//	act                    → request.method
//	request, query         → request.path, with query's JSON object
//	                         URL-encoded after "?" ({} adds nothing)
//	src                    → request.client_ip
//	user_agent             → request.user_agent
//	event_class_id         → request.interface: AUTHENTICATION_TYPE_PAT/SPAT
//	                         → api; BASIC, SSO, GOOGLE, GITHUB, WINDOWSLIVE,
//	                         FEDERATED (logins to the web app or portal) → ui
//	status                 → outcome.status_code, outcome.result
//	success, granted       → outcome.result (false → failure); an
//	                         authentication entry without success is judged
//	                         by its name
//	AUTHENTICATION_OUTCOME_<X> (not SUCCESS) → outcome.reason "<x>" in words
//	                         ("invalid password", "locked", "not found")
//	severity               → computed by the root rules; a failed
//	                         authentication or a denied authorization is an
//	                         auth failure (7), like a 401/403 access entry
//
// Kept only under raw (include_raw): sig (the ed25519 signature; verify it
// against the JWKS from the raw entry), severity (Konnect's own 0–10 scale),
// event_vendor, event_product (Konnect or Dev-Portal), event_version,
// cef_version, event_ts when rt is present, the CEF line's host prefix,
// actor_id (empty in every documented sample), and any key not listed
// above. Raw is the compacted JSON entry, or the CEF line as a JSON string.
//
// # Errors and rejected lines
//
// Konnect drops a batch it gets a 4xx for, so one bad entry must not cost
// the good ones: a line that is not JSON or CEF, has no name, or has a field
// of the wrong type (rt not integer milliseconds, status not a number,
// granted not a boolean, an object where a value belongs) is listed in
// Parsed.Rejected with its 1-based line number in the decompressed body,
// and the rest are events. Parse fails only when the body is unusable as a
// whole: a header says gzip but the body is not, the gzip stream is corrupt
// or truncated, or it decompresses to more than max_decompressed_bytes
// (default 64MiB, a guard against gzip bombs).
package konnect
