package splunkhec

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Verdict is what an answer means for the events of one request.
type Verdict int

// Verdicts.
const (
	// Success: every event of the request was accepted.
	Success Verdict = iota
	// Retry: nothing was accepted; send the same events later.
	Retry
	// Pause: a configuration error on the Splunk side (token, index,
	// channel); nothing is dead-lettered, the output pauses.
	Pause
	// Partial: the events before Answer.InvalidEvent were indexed, that one
	// was refused for good, the rest are retried.
	Partial
	// Reject: the request was refused for good and no event of it can be
	// singled out; it goes to dead letter whole.
	Reject
	// TooLarge: 413; split the request in halves and send each.
	TooLarge
)

func (v Verdict) String() string {
	return [...]string{"success", "retry", "pause", "partial", "reject", "too large"}[v]
}

// Answer is HEC's JSON reply: {"text","code"[,"invalid-event-number"][,"ackId"]}.
type Answer struct {
	Text string `json:"text"`
	// Code is HEC's status code; -1 when the body had none.
	Code int `json:"code"`
	// InvalidEvent is the 0-based index of the refused event within the
	// request; -1 when absent.
	InvalidEvent int `json:"invalid-event-number"`
	// AckID is the indexer-acknowledgement id; -1 when absent.
	AckID int64 `json:"ackId"`
}

// Result is the classification of one answer.
type Result struct {
	Verdict Verdict
	Answer  Answer
	// Reason says what went wrong and what to do, for errors and /status.
	Reason string
}

// pauseReason says what to fix for HEC's configuration-error codes, as
// listed in Splunk's "Troubleshoot HTTP Event Collector".
func pauseReason(code int) string {
	switch code {
	case 1:
		return `the HEC token is disabled: enable it in Splunk or set a new "token"`
	case 2:
		return `the HEC token is missing: set "token" or "token_file"`
	case 3:
		return `invalid authorization: check "token" (the output sends "Authorization: Splunk <token>")`
	case 4:
		return `invalid HEC token: check "token" or "token_file"`
	case 7:
		return `incorrect index: fix "index" or add it to the token's allowed indexes`
	case 10:
		return `the token requires a data channel (indexer acknowledgement is on): set ack = true`
	case 11:
		return `invalid data channel: set "channel" to a GUID or leave it empty`
	case 14:
		return `indexer acknowledgement is disabled for this token: set ack = false or enable it on the token`
	case 16:
		return `query string authorization is not enabled: check that "url" carries no token`
	}
	return "check the output's config"
}

// Classify maps HEC's answer (status and body) to a Verdict, reading the
// JSON body where there is one.
func Classify(status int, body []byte) Result {
	a := Answer{Code: -1, InvalidEvent: -1, AckID: -1}
	_ = json.Unmarshal(body, &a) // a non-JSON body (a proxy's page) keeps the defaults
	r := Result{Answer: a}
	switch {
	case status >= 200 && status < 300:
		r.Verdict = Success
		return r
	case status == http.StatusRequestEntityTooLarge:
		r.Verdict, r.Reason = TooLarge, "request too large (413): lower batch_max_bytes or raise max_content_length on Splunk"
		return r
	}
	switch a.Code {
	case 8, 9, 18, 19, 20:
		r.Verdict, r.Reason = Retry, fmt.Sprintf("splunk is busy or unhealthy (code %d, %s)", a.Code, a.Text)
		return r
	case 1, 2, 3, 4, 7, 10, 11, 14, 16:
		r.Verdict, r.Reason = Pause, fmt.Sprintf("splunk refused the request (code %d, %s): %s", a.Code, a.Text, pauseReason(a.Code))
		return r
	case 5, 6, 12, 13, 15:
		if a.InvalidEvent >= 0 {
			r.Verdict, r.Reason = Partial, fmt.Sprintf("splunk refused event %d of the request (code %d, %s)", a.InvalidEvent, a.Code, a.Text)
			return r
		}
		r.Verdict, r.Reason = Reject, fmt.Sprintf("splunk refused the request (code %d, %s)", a.Code, a.Text)
		return r
	}
	return byStatus(status, a)
}

// byStatus classifies an answer without a known HEC code.
func byStatus(status int, a Answer) Result {
	r := Result{Answer: a}
	text := http.StatusText(status)
	if a.Text != "" {
		text = a.Text
	}
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		r.Verdict, r.Reason = Retry, fmt.Sprintf("splunk answered %d (%s)", status, text)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		r.Verdict, r.Reason = Pause, fmt.Sprintf(`splunk answered %d (%s): check "token"`, status, text)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		r.Verdict, r.Reason = Pause, fmt.Sprintf(`splunk answered %d (%s): check "url" points at the HEC port (the output appends /services/collector/event)`, status, text)
	case status >= 300 && status < 400:
		r.Verdict, r.Reason = Pause, fmt.Sprintf(`splunk answered %d (redirect): set "url" to the final address`, status)
	case status >= 400:
		r.Verdict, r.Reason = Reject, fmt.Sprintf("splunk answered %d (%s)", status, text)
	default:
		r.Verdict, r.Reason = Retry, fmt.Sprintf("unexpected answer %d (%s)", status, text)
	}
	return r
}

// ackReply is the answer of /services/collector/ack: {"acks":{"3":true}}.
type ackReply struct {
	Acks map[string]bool `json:"acks"`
}

// Acked reports whether the ack endpoint's reply marks id true.
func Acked(body []byte, id int64) (bool, error) {
	var r ackReply
	if err := json.Unmarshal(body, &r); err != nil {
		return false, fmt.Errorf("read indexer acknowledgement reply: %w", err)
	}
	return r.Acks[fmt.Sprint(id)], nil
}
