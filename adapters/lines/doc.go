// Package lines is the adapter for any line-oriented audit log (sshd,
// nginx or Apache access logs, an application's own audit lines), read
// with grok patterns (github.com/vjeantet/grok).
//
// # Wire format
//
// The body is newline-separated text lines, as a log forwarder (Fluent
// Bit, Vector, Filebeat with an HTTP output) posts them; a trailing \r is
// trimmed and blank lines are skipped. Each line is tried against the
// input's patterns in order; the first that matches wins. Patterns are
// compiled once, when the input is built; grok's built-in patterns (IP,
// IPORHOST, USER, HTTPDATE, SYSLOGTIMESTAMP, TIMESTAMP_ISO8601, …) and the
// input's pattern_definitions may be used. There is no match cache: audit
// lines carry their own timestamp, so the same line does not come twice
// (a redelivery is caught by the relay's dedup window instead).
//
// # Mapping
//
// A named capture sets the event field of the same dotted JSON name; the
// underscore spelling of a regexp group ((?P<request_client_ip>…)) works
// too, and a capture naming no field is a config error:
//
//	id                      the source's own event id; absent: sha256
//	                        content id over the line without its line ending
//	time                    time_layout, else RFC 3339, HTTPDATE, syslog
//	                        (year from received_at, the year before when that
//	                        would be more than a day ahead), "2006-01-02
//	                        15:04:05", "2006/01/02 15:04:05", epoch s or ms;
//	                        zone-less times are in "timezone"
//	actor.id, actor.name, actor.username, actor.issuer,
//	actor.federated_issuer  as captured
//	actor.roles             comma-separated
//	actor.type              user, service or anonymous; absent: anonymous
//	                        without id, name and username, else user
//	action.name             as captured
//	action.verb             create, read, update, delete, other, or an HTTP
//	                        method; absent: from request.method
//	resource.type, resource.id, resource.name, resource.namespace,
//	request.id, request.method, request.path, request.client_ip,
//	request.user_agent      as captured
//	request.interface       api, ui or cli
//	outcome.status_code     an HTTP status code (100–999)
//	outcome.result          success/failure/unknown, or a word logs use:
//	                        accepted, ok, allowed, granted, succeeded →
//	                        success; failed, denied, rejected, refused,
//	                        invalid, error → failure; absent: from
//	                        outcome.status_code (none: unknown)
//	outcome.reason          as captured
//	severity                the root rules; with auth_failures = true a
//	                        failure is an authentication failure (7)
//
// A capture of "-" (the access-log convention for "none") counts as
// absent. values.<field> rewrites a captured value before it is used
// (values."action.name" = { password = "sshd:password" }); defaults.<field>
// sets what a line does not capture. The line itself is kept under raw
// (as a JSON string) only with include_raw; unnamed parts of a line are
// dropped.
//
// # Rejected lines
//
// A line no pattern matches, or whose capture does not fit its field (a
// time that parses with no layout, status_code "99", an unknown result
// word), is listed in Parsed.Rejected with its 1-based line number and
// the reason; the other lines are events. Parse never fails as a whole.
//
// # Patterns file
//
// `auditrelay convert --adapter lines --patterns FILE` reads FILE with
// LoadPatterns: a TOML file with the same keys as the input, e.g.
//
//	patterns = ['^%{IPORHOST:request.client_ip} - %{NOTSPACE:actor.username} \[%{HTTPDATE:time}\] "(?:%{WORD:request.method} %{NOTSPACE:request.path}(?: HTTP/%{NUMBER})?|%{DATA})" %{INT:outcome.status_code} (?:%{INT}|-) "%{DATA}" "%{DATA:request.user_agent}"$']
//	timezone = "UTC"
//	[defaults]
//	"resource.type" = "http"
//
// Unknown keys are errors. fixtures/lines/*/config.toml are such files
// (sshd and nginx combined among them).
package lines
