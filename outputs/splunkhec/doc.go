// Package splunkhec is the splunkhec output: batches of events to Splunk's
// HTTP Event Collector (Splunk Enterprise and Splunk Cloud).
//
// # Wire format
//
// Splunk documents the protocol in "Format events for HTTP Event
// Collector" and "HTTP Event Collector REST API endpoints" (Getting Data
// In manual), the answers in "Troubleshoot HTTP Event Collector", and
// indexer acknowledgement in "About HTTP Event Collector Indexer
// Acknowledgment".
//
//	POST {url}/services/collector/event
//	Authorization: Splunk <token>
//	Content-Type: application/json
//	Content-Encoding: gzip                     (gzip = true)
//	X-Splunk-Request-Channel: <GUID>           (ack = true, or channel set)
//
//	{"time":1735689600.123,"host":"relay-1","sourcetype":"auditrelay:json","index":"audit","event":{…}}{"time":…}
//
// The body is the event objects concatenated, without separators. time is
// the event's time (its received_at when the source has none) in epoch
// seconds with three decimals; host, source, sourcetype and index are left
// out when empty, so the token's defaults apply. event is the normalized
// event object (format = "json", the format's bytes embedded as they are)
// or the CEF line as a JSON string (format = "cef"). A batch is split into
// as many requests as needed to keep each body within batch_max_bytes
// (uncompressed; default 1MB, Splunk Cloud's limit); an event larger than
// that travels alone. With gzip = true each request body is one gzip
// stream at level 1 (BestSpeed): on realistic batches (BenchmarkGzipLevel)
// no other klauspost/compress level is both as fast and as small; levels
// 3 and 5 shrink it 3 and 17 % for 1.3 and 1.9 times the CPU.
//
// # Answers
//
// HEC answers {"text":"…","code":N} and, for a per-event error,
// "invalid-event-number" (0-based, within the request). Events before that
// number were indexed.
//
//	answer                                        outcome of the request's events
//	2xx                                           delivered (after the ack, with ack = true)
//	code 8, 9, 18, 19, 20; 408, 429, other 5xx    retried (in the round, then next round)
//	code 1–4, 7, 10, 11, 14, 16; 401, 403, 404, 3xx  output paused: a config error, the reason names the key
//	code 5, 6, 12, 13, 15 with invalid-event-number N
//	                                              0..N-1 delivered, N dead letter, the rest retried
//	the same without a number; any other 4xx      the rest of the batch goes to dead letter
//	413                                           request split in halves, each sent; a single event: dead letter
//
// When a Write needs several requests and request k fails, the events of
// the requests before k count as delivered (DeliveryError.Delivered).
//
// # Indexer acknowledgement
//
// With ack = true the output sends the channel GUID (channel, or one
// generated at start) in X-Splunk-Request-Channel, reads {"ackId":N} from
// each success, and polls
//
//	POST {url}/services/collector/ack   {"acks":[N]}  →  {"acks":{"N":true}}
//
// every ack_interval (default 1s) until N is true; only then do the
// request's events count as delivered. When ack_timeout (default 60s)
// passes first, they are retried, so Splunk may see them twice
// (at-least-once). Splunk Cloud offers indexer acknowledgement only for AWS
// Firehose; leave ack off there.
//
// The token travels only in the Authorization header: it never appears in
// logs, errors or /status (see internal/httpout).
package splunkhec
