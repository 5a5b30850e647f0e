// Package kong is the adapter for Kong Gateway Enterprise audit records:
// the Admin API's request records (GET /audit/requests) and database
// object records (GET /audit/objects), pushed to the relay or fetched by
// the kong_admin poller.
//
// # Wire format
//
// Kong docs: "Audit Logging in Kong Gateway" and the Admin API reference
// "Audit Logs" (seed 001); Kong's audit_requests and audit_objects schemas.
// A body is one record, a JSON array of records, or an Admin API page:
//
//	{"data":[…],"offset":"<token>","next":"/audit/requests?offset=<token>"}
//	{"data":[…],"total":N}                    (releases up to 3.1)
//	{"data":{},"total":0}                     (an empty Lua table: no records)
//
// Request record (3.2+ adds rbac_user_name and request_source):
//
//	{"request_id":"OjOcUBvt6q6XJlX3dd6BSpy1uUkTyctC","request_timestamp":1676424547,
//	 "client_ip":"127.0.0.1","method":"GET","path":"/status?x=1","status":200,
//	 "rbac_user_id":null,"rbac_user_name":null,"request_source":null,
//	 "workspace":"1065b6d6-…","payload":null,"removed_from_payload":null,
//	 "signature":null,"ttl":2591997}
//
// Object record (request_timestamp on 3.x only):
//
//	{"id":"7ebabee7-…","request_id":"59fp…","dao_name":"consumers",
//	 "entity_key":"16787ed7-…","operation":"create",
//	 "entity":"{\"id\":\"16787ed7-…\",\"username\":\"bob\",\"created_at\":1542131418000}",
//	 "rbac_user_id":null,"signature":null,"expire":1544723418009,
//	 "request_timestamp":1581617463}
//
// A record with dao_name or operation is an object record; one with
// request_id, method or path a request record; anything else is refused.
// request_timestamp is an integer in Kong's schema (auto_timestamp_s); a
// fraction, should one come, is kept to the nanosecond.
//
// # Mapping
//
// Request records:
//
//	request_id             → id, request.id (absent: sha256 content id)
//	request_timestamp      → time
//	rbac_user_id           → actor.id, type user (no RBAC user: anonymous)
//	rbac_user_name         → actor.name
//	method                 → request.method, action.verb
//	GET/DELETE /auth       → action.name login/logout (Kong Manager session)
//	path                   → request.path (query string kept); resource
//	                         type, id or name, namespace by path pattern
//	                         (package pathres; Kong defaults, path_patterns)
//	workspace              → resource.namespace (wins over the path's)
//	payload                → resource.name from its name/username when the
//	                         path names none (JSON or form body)
//	client_ip              → request.client_ip
//	request_source         → request.interface: kong-manager → ui
//	status                 → outcome.status_code, outcome.result
//
// Object records:
//
//	id                     → id
//	request_id             → request.id
//	operation              → action.name, action.verb (create/update/delete)
//	dao_name               → resource.type
//	entity_key             → resource.id (else entity id)
//	entity name/username   → resource.name
//	entity ws_id           → resource.namespace
//	rbac_user_id           → actor.id, type user (none: anonymous)
//	request_timestamp      → time; without it, for create and update the
//	                         entity's updated_at, else created_at (a value
//	                         ≥ 10^11 is read as milliseconds, as Kong 0.x
//	                         wrote them); for delete no time, so the event
//	                         is filed under received_at. expire minus ttl
//	                         is not used: ttl is what remains at query time.
//	(committed change)     → outcome.result success
//
// Kept only under raw (with include_raw): signature (RSA, base64),
// ttl, expire, removed_from_payload, removed_from_entity, the payload and
// entity bodies, and request_source values other than kong-manager.
// Severity follows the root rules (401/403 → 7, 5xx → 6, …).
//
// A malformed record rejects the whole body ("event 2: status: got JSON
// string, want int"); a payload or entity that is not JSON is not an
// error, it only names nothing.
//
// # Polling
//
// DecodePage and RecordKey give the kong_admin poller a page's records,
// next and offset, and each record's id and whole-second timestamp.
package kong
