// Package http is the http output: batches of events POSTed to any HTTPS
// collector (Elastic, Sumo Logic, Cribl, Logstash's http input, a custom
// receiver).
//
// # Wire format
//
//	POST {url}
//	Authorization: <authorization, verbatim>   (any scheme: Bearer, Basic, Splunk…)
//	Content-Type: <content_type>
//	<headers…>
//
// The body depends on format and framing:
//
//	format  framing            body                                   default Content-Type
//	json    "array" (default)  [{…},{…}]                              application/json
//	json    "ndjson"           {…}\n{…}\n                             application/x-ndjson
//	cef     (ignored)          CEF:0|…\nCEF:0|…\n                     text/plain; charset=utf-8
//
// Each object is the normalized event (formats/json); each line a CEF line
// (formats/cef). A batch is split into as many requests as needed to keep
// each body within batch_max_bytes; an event larger than that travels
// alone. When request k of a batch fails, the events of the requests
// before it count as delivered.
//
// # Answers
//
//	answer                          outcome of the request's events
//	2xx                             delivered
//	connection error, 429, 5xx      retried (in the round, honouring Retry-After; then next round)
//	401, 403, 407, 404, 405, 3xx    output paused: config error (authorization or url); nothing dead-lettered
//	any other 4xx                   the rest of the batch goes to dead letter with the answer (first 1 KiB)
//
// 401 and 403 pause rather than dead-letter: a revoked credential would
// otherwise send every batch to dead letter until someone noticed.
// Redirects are not followed. The Authorization value never appears in
// logs, errors or /status, and neither does the URL's query string (see
// internal/httpout).
package http
