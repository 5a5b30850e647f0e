package http

import (
	"fmt"
	"net/http"
)

// Verdict is what an answer means for a request's events.
type Verdict int

// Verdicts.
const (
	// Success: 2xx, every event delivered.
	Success Verdict = iota
	// Retry: 429, 5xx (or no answer): send the same events later.
	Retry
	// Pause: 3xx, 401, 403, 404, 405, 407: the config is wrong (url or
	// authorization); nothing is dead-lettered, the output pauses.
	Pause
	// Reject: any other 4xx: the rest of the batch goes to dead letter
	// with the answer.
	Reject
)

func (v Verdict) String() string {
	return [...]string{"success", "retry", "pause", "reject"}[v]
}

// Classify maps a status code to a Verdict and a reason for errors and
// /status.
func Classify(status int) (Verdict, string) {
	text := http.StatusText(status)
	switch {
	case status >= 200 && status < 300:
		return Success, ""
	case status == http.StatusTooManyRequests || status >= 500:
		return Retry, fmt.Sprintf("collector answered %d (%s)", status, text)
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusProxyAuthRequired:
		return Pause, fmt.Sprintf(`collector answered %d (%s): check "authorization"`, status, text)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return Pause, fmt.Sprintf(`collector answered %d (%s): check "url"`, status, text)
	case status >= 300 && status < 400:
		return Pause, fmt.Sprintf(`collector answered %d (redirect): set "url" to the final address`, status)
	case status >= 400:
		return Reject, fmt.Sprintf("collector refused the request: %d (%s)", status, text)
	}
	return Retry, fmt.Sprintf("unexpected answer %d", status)
}
