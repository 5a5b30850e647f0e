// Package status is the state served at GET /status, modelled on Kong
// Konnect's audit-log webhook status (last_attempt_at, last_response_code,
// active/inactive):
//
//	{"outputs": {"splunk": {"enabled": true, "status": "inactive",
//	   "last_attempt_at": "2025-01-01T00:00:05Z", "last_response_code": 503,
//	   "queued": 120, "delivered": 4000, "retries": 4, "failures": 1,
//	   "dead_lettered": 0, "last_error": "delivery failed with status 503"}},
//	 "inputs": {"openfaas": {"accepted": 4120, "duplicates": 3, "ignored": 7,
//	   "rejected": 0},
//	   "kong_admin": {"accepted": 10, "duplicates": 0, "ignored": 0,
//	   "rejected": 0, "status": "active",
//	   "last_attempt_at": "2025-01-01T00:00:10Z", "last_response_code": 200}}}
//
// An output is active until a round of retries runs out (Failed), and
// again at the next success (Succeeded); a destination-side configuration
// error (Paused) turns it inactive with "paused": true and last_error
// saying which key to fix. Observe takes every request attempt (the
// outputs' auditrelay.OutputSettings.Observe): it sets last_attempt_at and
// last_response_code and counts retries. A pull input turns inactive at
// its first failed request and active at the next success.
//
// last_attempt_at is omitted before the first attempt and
// last_response_code when no answer arrived; paused and last_error only
// when set. Counts are events. The Registry holds no package-level state;
// its clock is passed to New.
package status
