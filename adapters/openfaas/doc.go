// Package openfaas is the adapter for OpenFaaS Enterprise audit webhooks.
//
// # Wire format
//
// OpenFaaS (docs: "Auditing", OpenFaaS Enterprise; seed 000) POSTs a JSON
// array of api_access events to the configured endpoint after API requests:
//
//	X-Openfaas-Event: api_access           (absent: taken as api_access)
//	X-Openfaas-Delivery: <uuid>            one per delivery, not per event
//	X-Openfaas-Signature-256: sha256=<hex> only when an endpointSecret is set
//
//	[{"actor":{"sub":"…","name":"…","issuer":"…","fed_issuer":"…"},
//	  "path":"/system/namespaces","method":"GET","actions":["Namespace:List"],
//	  "response_code":200,"time":"2023-12-04T17:09:28.710118072Z",
//	  "custom_message":"…","namespace":"…"}]
//
// The signature is HMAC-SHA256 of the raw body, lower-case hex. The same
// endpoint also receives function_usage metering batches: a delivery whose
// X-Openfaas-Event is not api_access, and elements with another "event",
// are counted as ignored, not refused.
//
// # Mapping
//
//	element (json.Compact)  → id: sha256 content id (OpenFaaS has no event id)
//	time                    → time (nanoseconds kept); absent: left empty
//	actor.sub               → actor.id
//	actor.name              → actor.name
//	actor.issuer            → actor.issuer (empty: absent)
//	actor.fed_issuer        → actor.federated_issuer
//	actor absent or {}      → actor.type anonymous; sub with
//	                          system:serviceaccount: → service; else user
//	actions[]               → action.all; actions[0] → action.name
//	method                  → request.method, action.verb
//	path                    → request.path (query kept)
//	actions[0] prefix       → resource.type (Function:Create → Function)
//	path /system/function/N → resource.name N (also scale-function,
//	                          function-logs, namespace, secret[s]), and
//	                          resource.type where no action gives one
//	                          (Function, Namespace, Secret), by the path
//	                          patterns of package pathres; path_patterns
//	                          (grok) replaces them
//	?namespace= , namespace → resource.namespace (the field wins)
//	response_code           → outcome.status_code, outcome.result
//	custom_message          → outcome.reason
//	X-Openfaas-Delivery     → source.delivery_id
//
// Nothing is dropped: every field has a place. A malformed element rejects
// the whole delivery ("event 3: response_code: got JSON string, want int").
package openfaas
