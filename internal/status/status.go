package status

import (
	"net/http"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay"
)

// Output states.
const (
	Active   = "active"
	Inactive = "inactive"
)

// Registry holds the status of every configured output and input. It is
// safe for concurrent use; the zero value is not, use New.
type Registry struct {
	now     func() time.Time
	mu      sync.Mutex
	outputs map[string]*Output
	inputs  map[string]*Input
}

// New returns an empty registry reading time from now (nil: time.Now).
func New(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, outputs: map[string]*Output{}, inputs: map[string]*Input{}}
}

// Output returns the named output's status, creating it (enabled, active)
// on first use.
func (r *Registry) Output(name string) *Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.outputs[name]
	if !ok {
		o = &Output{now: r.now, enabled: true, active: true}
		r.outputs[name] = o
	}
	return o
}

// Input returns the named push input's status, creating it on first use.
func (r *Registry) Input(name string) *Input {
	return r.input(name, false)
}

// PullInput returns the named pull input's status (it adds status,
// last_attempt_at and last_response_code), creating it on first use.
func (r *Registry) PullInput(name string) *Input {
	return r.input(name, true)
}

func (r *Registry) input(name string, pull bool) *Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, ok := r.inputs[name]
	if !ok {
		in = &Input{now: r.now, active: true}
		r.inputs[name] = in
	}
	if pull {
		in.mu.Lock()
		in.pull = true
		in.mu.Unlock()
	}
	return in
}

// Snapshot is the body of GET /status.
type Snapshot struct {
	Outputs map[string]OutputSnapshot `json:"outputs"`
	Inputs  map[string]InputSnapshot  `json:"inputs"`
}

// OutputSnapshot is one output in GET /status, modelled on Konnect's
// webhook status. Counts are events.
type OutputSnapshot struct {
	Enabled bool `json:"enabled"`
	// Status is "active" (ready; no attempt yet or the last round
	// succeeded) or "inactive" (the last round failed or it is paused).
	Status string `json:"status"`
	// LastAttemptAt is RFC 3339 UTC; omitted before the first attempt.
	LastAttemptAt string `json:"last_attempt_at,omitempty"`
	// LastResponseCode is the last HTTP status; omitted when no answer
	// arrived (never attempted, or the connection failed).
	LastResponseCode int   `json:"last_response_code,omitempty"`
	Queued           int64 `json:"queued"`
	Delivered        int64 `json:"delivered"`
	// Retries counts retried requests.
	Retries int64 `json:"retries"`
	// Failures counts rounds whose retries ran out.
	Failures     int64 `json:"failures"`
	DeadLettered int64 `json:"dead_lettered"`
	// Paused is set while a destination-side configuration error (bad
	// token, unknown index) holds the output.
	Paused bool `json:"paused,omitempty"`
	// LastError says why the last round failed or why the output is
	// paused; cleared by the next success. Never holds secrets.
	LastError string `json:"last_error,omitempty"`
}

// InputSnapshot is one input in GET /status. Status, LastAttemptAt and
// LastResponseCode are set for pull inputs only.
type InputSnapshot struct {
	Accepted         int64  `json:"accepted"`
	Duplicates       int64  `json:"duplicates"`
	Ignored          int64  `json:"ignored"`
	Rejected         int64  `json:"rejected"`
	Status           string `json:"status,omitempty"`
	LastAttemptAt    string `json:"last_attempt_at,omitempty"`
	LastResponseCode int    `json:"last_response_code,omitempty"`
	LastError        string `json:"last_error,omitempty"`
}

// Snapshot copies the current state.
func (r *Registry) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Outputs: make(map[string]OutputSnapshot, len(r.outputs)), Inputs: make(map[string]InputSnapshot, len(r.inputs))}
	for name, o := range r.outputs {
		s.Outputs[name] = o.Snapshot()
	}
	for name, in := range r.inputs {
		s.Inputs[name] = in.Snapshot()
	}
	return s
}

// Output is one output's status.
type Output struct {
	now          func() time.Time
	mu           sync.Mutex
	enabled      bool
	active       bool
	paused       bool
	lastAttempt  time.Time
	lastCode     int
	lastErr      string
	queued       int64
	delivered    int64
	retries      int64
	failures     int64
	deadLettered int64
}

// Observe records one request attempt (httpout reports every one): its
// time, its status code, and whether it was a retry.
func (o *Output) Observe(a auditrelay.Attempt) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastAttempt = a.At
	if o.lastAttempt.IsZero() {
		o.lastAttempt = o.now()
	}
	o.lastCode = a.StatusCode
	if a.Retry {
		o.retries++
	}
}

// Delivered counts n events accepted by the destination.
func (o *Output) Delivered(n int) {
	o.mu.Lock()
	o.delivered += int64(n)
	o.mu.Unlock()
}

// DeadLettered counts n events moved to the dead-letter file.
func (o *Output) DeadLettered(n int) {
	o.mu.Lock()
	o.deadLettered += int64(n)
	o.mu.Unlock()
}

// SetQueued sets the number of spooled events not yet delivered.
func (o *Output) SetQueued(n int64) {
	o.mu.Lock()
	o.queued = n
	o.mu.Unlock()
}

// SetEnabled sets whether the output is meant to ship.
func (o *Output) SetEnabled(v bool) {
	o.mu.Lock()
	o.enabled = v
	o.mu.Unlock()
}

// Succeeded marks the output active after a successful round and clears a
// pause and the last error. It reports whether the output was inactive or
// paused before, so the runtime can log the recovery.
func (o *Output) Succeeded() (recovered bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	recovered = !o.active || o.paused
	o.active, o.paused, o.lastErr = true, false, ""
	return recovered
}

// Failed marks the output inactive after a round whose retries ran out;
// err (nil allowed) becomes last_error.
func (o *Output) Failed(err error) {
	o.mu.Lock()
	o.active = false
	o.failures++
	if err != nil {
		o.lastErr = err.Error()
	}
	o.mu.Unlock()
}

// Paused marks the output inactive and paused by a destination-side
// configuration error; err says which.
func (o *Output) Paused(err error) {
	o.mu.Lock()
	o.active, o.paused = false, true
	if err != nil {
		o.lastErr = err.Error()
	}
	o.mu.Unlock()
}

// Snapshot copies the output's state.
func (o *Output) Snapshot() OutputSnapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := OutputSnapshot{
		Enabled:          o.enabled,
		Status:           Inactive,
		LastAttemptAt:    formatTime(o.lastAttempt),
		LastResponseCode: o.lastCode,
		Queued:           o.queued,
		Delivered:        o.delivered,
		Retries:          o.retries,
		Failures:         o.failures,
		DeadLettered:     o.deadLettered,
		Paused:           o.paused,
		LastError:        o.lastErr,
	}
	if o.active {
		s.Status = Active
	}
	return s
}

// Input is one input's status.
type Input struct {
	now         func() time.Time
	mu          sync.Mutex
	pull        bool
	active      bool
	lastAttempt time.Time
	lastCode    int
	lastErr     string
	accepted    int64
	duplicates  int64
	ignored     int64
	rejected    int64
}

// Count adds one ingest answer's counts.
func (in *Input) Count(accepted, duplicates, ignored, rejected int) {
	in.mu.Lock()
	in.accepted += int64(accepted)
	in.duplicates += int64(duplicates)
	in.ignored += int64(ignored)
	in.rejected += int64(rejected)
	in.mu.Unlock()
}

// Observe records a pull input's request to its source: it turns inactive
// at a failed request (no answer, or a status of 300 or more) and active
// at the next success.
func (in *Input) Observe(a auditrelay.Attempt) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.lastAttempt = a.At
	if in.lastAttempt.IsZero() {
		in.lastAttempt = in.now()
	}
	in.lastCode = a.StatusCode
	ok := a.Err == nil && a.StatusCode > 0 && a.StatusCode < http.StatusMultipleChoices
	in.active = ok
	switch {
	case ok:
		in.lastErr = ""
	case a.Err != nil:
		in.lastErr = a.Err.Error()
	default:
		in.lastErr = http.StatusText(a.StatusCode)
	}
}

// Snapshot copies the input's state.
func (in *Input) Snapshot() InputSnapshot {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := InputSnapshot{Accepted: in.accepted, Duplicates: in.duplicates, Ignored: in.ignored, Rejected: in.rejected}
	if !in.pull {
		return s
	}
	s.Status = Inactive
	if in.active {
		s.Status = Active
	}
	s.LastAttemptAt = formatTime(in.lastAttempt)
	s.LastResponseCode = in.lastCode
	s.LastError = in.lastErr
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
