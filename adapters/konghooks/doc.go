// Package konghooks is the adapter for Kong Gateway event hooks delivered
// by the webhook handler: one JSON POST per event.
//
// # Wire format
//
// Kong docs: "Event hooks" and "Event Hooks Examples"; Kong's
// enterprise_edition/event_hooks.lua. The webhook handler POSTs the event
// data as JSON with the event and source added:
//
//	{"source":"crud","event":"consumers","operation":"create",
//	 "schema":"consumers","entity":{"id":"0fd2319f-…","username":"Ada Lovelace",
//	 "created_at":1627581878,"ws_id":"…"},"old_entity":null}
//
// Sources and their data:
//
//	crud                    event "<schema>" or "<schema>:<operation>";
//	                        operation, entity, old_entity (update), schema
//	dao:crud                event "create"/"update"/"delete"; same fields
//	balancer                event "health"; upstream_id, ip, port,
//	                        hostname, health
//	rate-limiting-advanced  event "rate-limit-exceeded"; consumer (entity
//	                        or {}), ip, service (entity or {}), rate,
//	                        limit, window (a name or seconds)
//	kong:event_hooks        event "ping", sent when a hook is created or
//	                        changed: counted as ignored
//
// With config.secret set, Kong signs the body: X-Kong-Signature:
// sha1=<hex HMAC-SHA1(secret, body)> (Kong's test vector: secret hunter2,
// body foobar → sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62). Kong counts
// any HTTP answer as delivered and retries only failed connections, for up
// to 60 s.
//
// # Mapping
//
// The body has no id and names no actor:
//
//	body (json.Compact)     → id: sha256 content id
//	(nobody named)          → actor.type anonymous (crud, dao:crud, and
//	                          rate limits without a consumer); service for
//	                          balancer events (Kong's health checker)
//	X-… (none)              → source.delivery_id only from Meta.DeliveryID
//
// crud and dao:crud (a committed database change, outcome success):
//
//	operation               → action.name, action.verb (create/update/delete;
//	                          absent: the event's ":op" suffix, or a
//	                          dao:crud event name)
//	schema                  → resource.type (absent: a crud event's name
//	                          before ":")
//	entity.id               → resource.id (else old_entity's)
//	entity.name, .username  → resource.name
//	entity.ws_id            → resource.namespace
//	entity.updated_at       → time for create and update (else created_at;
//	                          epoch seconds, fraction kept, ≥ 10^11 read as
//	                          ms); delete and others: received_at
//
// balancer health (time: received_at):
//
//	event                   → action.name (health), verb other
//	upstream_id             → resource.type upstreams, resource.id
//	hostname, port, ip      → outcome.reason "target h:p (ip) is <health>"
//	health                  → outcome.result: healthy success, else failure
//
// rate-limiting-advanced (time: received_at):
//
//	event                   → action.name, verb other
//	consumer.id, .username  → actor.id, actor.username (custom_id → name)
//	service                 → resource (type services, id, name, ws_id)
//	ip                      → request.client_ip
//	rate, limit, window     → outcome.reason; status_code 429, failure
//
// Other sources: event → action.name (verb other), schema → resource.type,
// outcome unknown. Everything else (entity and old_entity bodies, event
// hook config of pings) stays in raw only, with include_raw. Severity
// follows the root rules.
//
// A body that is not one JSON object, or whose fields have the wrong JSON
// type ("body: port: got JSON string, want int"), is refused.
package konghooks
