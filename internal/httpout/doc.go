// Package httpout is the one place go-retryablehttp is configured: the
// HTTP client every HTTP output (splunkhec, http) and the kong_admin poller send through.
//
// Config holds the connection keys the outputs embed:
//
//	url = "https://collector.example.com:8088"   # https:// unless allow_http = true
//	allow_http = false
//	timeout = "10s"                               # per attempt
//	tls.ca_file = "/etc/ssl/my-ca.pem"            # replaces the system roots
//	tls.insecure_skip_verify = false
//
// The retry policy ([outputs.NAME.retry], auditrelay.RetryPolicy) is applied
// inside one Do call:
//
//	answer                          inside Do
//	connection error, timeout       retried
//	429, 5xx (+ RetryStatus codes)  retried, honouring Retry-After
//	anything else                   returned at once
//	retries run out                 the last answer is returned
//
// Up to max_retries retries follow the first attempt. The wait before retry
// n (from 0) is a random point in [wait_min·2ⁿ, wait_min·2ⁿ⁺¹), clamped to
// [wait_min, wait_max]; a Retry-After header (seconds or an HTTP date)
// replaces it, clamped to the same bounds. With the defaults (4 retries,
// 1s–30s) the waits are 1–2 s, 2–4 s, 4–8 s and 8–16 s. A cancelled context
// ends a wait at once. Bodies are byte slices, so every retry resends the
// same bytes. Redirects are not followed (a 3xx comes back as the answer),
// so an Authorization header never travels to another host.
//
// Every attempt is reported through Options.Observe and logged with the
// method, scheme, host and path only: never headers, bodies, user info or
// the query string. Errors are rewritten the same way (Sanitize), since
// net/http's *url.Error prints the full URL.
//
// Classifying an answer (success, retry later, dead letter, pause) is the
// output's job; what happens after a failed round belongs to
// internal/delivery.
package httpout
