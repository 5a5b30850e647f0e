package auditrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Output delivers batches of events to one destination. Write makes one
// delivery attempt round (an HTTP output retries inside it with the shared
// policy) and classifies the answer: nil when every event was delivered,
// otherwise a *DeliveryError. What happens next (cursor, dead letter,
// active/inactive, the next round) belongs to the runtime.
type Output interface {
	Write(ctx context.Context, events []Event) error
	Close() error
}

// OutputSettings is what the runtime hands an output when it builds it.
type OutputSettings struct {
	// Name is the configured output name.
	Name string
	// Format encodes each event.
	Format Format
	// FormatName is "json" or "cef".
	FormatName string
	// Logger takes the output's own log lines; never secrets.
	Logger *slog.Logger
	// Retry is the output's retry policy ([outputs.NAME.retry]).
	Retry RetryPolicy
	// MaxRequestBytes caps one request's body (batch_max_bytes); an output
	// splits a batch that would exceed it. Zero means no cap.
	MaxRequestBytes int
	// Observe, when set, is told of every attempt, retries included.
	Observe func(Attempt)
}

// RetryPolicy is [outputs.NAME.retry]: up to MaxRetries retries after the
// first attempt, with exponential backoff and jitter inside [WaitMin,
// WaitMax], honouring Retry-After (capped at WaitMax).
type RetryPolicy struct {
	// MaxRetries is how many times a failed request is retried; default 4.
	MaxRetries int `toml:"max_retries"`
	// WaitMin is the shortest wait between attempts; default 1s.
	WaitMin Duration `toml:"wait_min"`
	// WaitMax is the longest wait between attempts, and the pause between
	// two rounds of retries; default 30s.
	WaitMax Duration `toml:"wait_max"`
}

// DefaultRetryPolicy is 4 retries with waits from 1 s to 30 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 4, WaitMin: Duration(time.Second), WaitMax: Duration(30 * time.Second)}
}

// Attempt is one request an output made.
type Attempt struct {
	At         time.Time
	StatusCode int   // 0 when no answer arrived
	Err        error // nil on success
	Retry      bool  // true when this attempt was a retry
}

// DeliveryError says how a batch failed. The events before Delivered were
// accepted by the destination and must never be sent again. When Permanent
// is set, the event at index Delivered was refused for good and goes to dead
// letter (and with it the whole rest of the batch when PermanentAll is set);
// otherwise the events from Delivered on are retried later.
type DeliveryError struct {
	Delivered    int
	Permanent    bool
	PermanentAll bool
	// Paused marks a configuration error on the destination side (bad
	// token, unknown index): nothing is dead-lettered, the output pauses.
	Paused     bool
	StatusCode int
	RetryAfter time.Duration
	// Response is the destination's answer, trimmed, kept with dead letters.
	Response string
	Err      error
}

func (e *DeliveryError) Error() string {
	msg := "delivery failed"
	if e.StatusCode != 0 {
		msg = fmt.Sprintf("delivery failed with status %d", e.StatusCode)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// AsDeliveryError returns err as a *DeliveryError; any other non-nil error
// is treated as a retryable failure of the whole batch.
func AsDeliveryError(err error) *DeliveryError {
	if err == nil {
		return nil
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Err: err}
}
