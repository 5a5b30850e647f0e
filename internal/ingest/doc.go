// Package ingest serves POST /ingest/{input}: it checks the sender, hands
// the body to the input's adapter, and answers only once the events are
// durably in the spool.
//
// The order of checks, each with its answer ({"error":"…"} bodies, never
// echoing a secret):
//
//	unknown input                               404
//	not POST                                    405, Allow: POST
//	relay shutting down / spool full            refusal (below)
//	max_concurrent_requests busy for 1 s        refusal (below)
//	Content-Length over max_body_bytes          413 before reading the body
//	body over max_body_bytes while reading      413
//	Authorization or signature wrong/missing    401
//	body malformed (all-or-nothing)             400, body kept in data_dir/rejected/
//	events stored (synced)                      200 {"accepted","duplicates","ignored","rejected"}
//
// A refusal is given in the one way each sender retries
// (auditrelay.Refusal): 503 with Retry-After (OpenFaaS, StackRox, Kong
// records, lines), 429 with Retry-After (Konnect), or the connection closed
// with no answer at all (Kong event hooks, which count any HTTP answer as
// delivered). Line-batched adapters (konnect, lines) are judged per line:
// good lines are stored, bad ones counted as "rejected" and kept.
package ingest
