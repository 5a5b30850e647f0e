// Package stackrox is the adapter for StackRox (Red Hat Advanced Cluster
// Security) audit logging through Central's Generic Webhook notifier.
//
// # Wire format
//
// With "Enable Audit Logging" on a Generic Webhook integration (seed 002,
// "Enable audit logging"), Central POSTs one message per modifying API
// request (POST, PUT, PATCH, DELETE and every gRPC call). The body is built
// in central/notifiers/generic/generic.go
// (https://github.com/stackrox/stackrox/blob/master/central/notifiers/generic/generic.go):
//
//	{"audit": <v1.Audit.Message as protojson>}
//	{"key1":"v1","key2":"v2","audit": <…>}   with extra fields: string pairs first
//
// Builds from 2024-07 to 2025-01 wrote the message with protojson.Format
// (indented, multi-line); earlier and later builds write it compact. The
// same notifier also sends {"alert": …} (policy violations, and the
// integration's test message {"alert":{"id":"testalert",…}}) and
// {"networkpolicy": {"cluster":…,"yaml":…}}: those are counted as ignored.
// The docs' sample is a receiver's record of the POST,
// {"headers":{…},"data":<the body>}; it is accepted too, its headers (the
// webhook request's own) dropped. A JSON array of any of these is accepted.
// Authentication (Basic auth or a custom header) is the input's
// "authorization" key; the adapter verifies nothing.
//
// The message (proto/api/v1/audit.proto,
// https://github.com/stackrox/stackrox/blob/master/proto/api/v1/audit.proto,
// and storage.UserInfo in proto/storage/user.proto) in protojson's
// lowerCamelCase, zero values left out:
//
//	{"time":"2025-03-04T09:12:44.123456789Z",
//	 "status":"REQUEST_SUCCEEDED", "statusReason":"…",
//	 "user":{"username":"…","friendlyName":"…",
//	         "permissions":{"resourceToAccess":{"Integration":"READ_WRITE_ACCESS"}},
//	         "roles":[{"name":"Admin","resourceToAccess":{…}}]},   (older: "role":{…})
//	 "request":{"endpoint":"/v1/notifiers","method":"POST",
//	            "payload":{"@type":"storage.Notifier","id":"…","name":"…",…},
//	            "sourceHeaders":{"xForwardedFor":"…","remoteAddr":"…","requestAddr":"ip:port"},
//	            "sourceIp":"…"},
//	 "method":"UI", "interaction":"CREATE"}
//
// The enums (by name; the protobuf JSON mapping also allows their numbers,
// which are read as the names below):
//
//	status       UNKNOWN_STATUS 0, REQUEST_SUCCEEDED 1, AUTH_FAILED 2, REQUEST_FAILED 3
//	interaction  UNKNOWN_INTERACTION 0, CREATE 1 (POST), UPDATE 2 (PUT, PATCH, every
//	             gRPC call), DELETE 3 (DELETE)
//	method       UNKNOWN_METHOD 0, CLI 1 (direct gRPC, e.g. roxctl), UI 2 (HTTP with
//	             a Referer), API 3 (other HTTP, and service-to-service gRPC)
//
// For a direct gRPC call request.method is the literal GRPC and
// request.endpoint the gRPC method (/v1.NotifierService/PostNotifier).
// Service identities (Sensor calling Central) appear as users named
// service:<ServiceType>:<id>, friendlyName "Service: <ServiceType> (ID: <id>)".
//
// # Mapping
//
//	audit object (json.Compact) → id: sha256 content id (StackRox has no event id);
//	                              extra fields and wrappers are not part of it
//	time                        → time (nanoseconds kept); absent: left empty
//	interaction                 → action.name (the literal; absent: empty) and
//	                              action.verb: CREATE create, UPDATE update,
//	                              DELETE delete, anything else other
//	method UI/API/CLI           → request.interface ui/api/cli; else empty
//	request.method              → request.method (GRPC kept as is)
//	request.endpoint            → request.path (query kept)
//	request.sourceIp            → request.client_ip, port and [ ] stripped;
//	                              else sourceHeaders.xForwardedFor (a string,
//	                              comma-separated, or a list: the first),
//	                              remoteAddr, requestAddr; the first that is
//	                              an IP address; IPv4-mapped IPv6 unmapped
//	sourceHeaders.userAgent     → request.user_agent (not sent by current
//	                              releases; read if a release adds it)
//	status                      → outcome.result: REQUEST_SUCCEEDED success,
//	                              AUTH_FAILED and REQUEST_FAILED failure,
//	                              UNKNOWN_STATUS, absent or other unknown
//	statusReason                → outcome.reason; else the status name for
//	                              anything but a success (AUTH_FAILED, …)
//	(no HTTP status)            → outcome.status_code stays 0
//	severity                    → SeverityOf(verb, result, 0, status ==
//	                              AUTH_FAILED): auth failure 7, other failure
//	                              5, else by verb (delete 5, others 3)
//	user.username               → actor.username
//	user.friendlyName           → actor.name
//	user.roles[].name           → actor.roles; legacy user.role.name when
//	                              there are no roles[]
//	user absent, or no username
//	and no friendlyName         → actor.type anonymous
//	service:<TYPE>:<id>         → actor.type service, actor.id <id>
//	other users                 → actor.type user, actor.id empty: StackRox
//	                              has no user id, the username identifies
//	payload "@type"             → resource.type for stored objects:
//	                              storage.Notifier → Notifier (a type URL's
//	                              prefix dropped). Other payloads are API
//	                              requests (v1.ResourceByID,
//	                              v1.DeleteNotifierRequest) that name no
//	                              type: then the gRPC service of a gRPC
//	                              endpoint (/v1.NotifierService/… → Notifier),
//	                              else empty
//	payload id, name, namespace → resource.id, .name, .namespace (top-level
//	                              string fields only)
//	Meta.DeliveryID             → source.delivery_id (StackRox sends none)
//
// Dropped on purpose, kept in raw with include_raw: the user's and roles'
// permissions (resourceToAccess maps: the schema has no place for them), the
// rest of the payload (the request body, secrets already scrubbed by
// Central; clusterId is a cluster, not a namespace), and the source
// addresses not chosen as client_ip. With include_raw, raw is the compact
// audit object. Extra fields and the receiver record's headers are dropped.
//
// # Errors
//
// A malformed message rejects the whole body, named by its position and
// field: "message 2: audit.time: \"yesterday\" is not an RFC 3339 time",
// "message 1: data.audit.user.roles: got JSON object, want array". Invalid
// JSON is "body: invalid JSON at byte N: …". An object with none of
// "audit", "alert", "networkpolicy" (nor a "data" holding one) is an error,
// not ignored, so that a misrouted sender is noticed.
package stackrox
