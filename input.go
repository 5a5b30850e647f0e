package auditrelay

import (
	"context"
	"log/slog"
	"time"
)

// Puller is an input that fetches events from its source instead of being
// posted to (kong_admin). Run polls until ctx ends and returns nil then; an
// error means the input cannot go on (the relay logs it and stops).
type Puller interface {
	Run(ctx context.Context) error
}

// EventSink stores the events a pull input fetched. Append returns once
// the new ones are durable, counting them and the duplicates it dropped.
type EventSink interface {
	Append(ctx context.Context, events []Event) (accepted, duplicates int, err error)
}

// PullSettings is what the runtime hands a pull input when it builds it.
type PullSettings struct {
	// Name is the configured input name (source.input of its events).
	Name string
	// Sink stores fetched events (the relay's journal).
	Sink EventSink
	// StateDir is a directory of the input's own under data_dir, for its
	// cursor; it exists when the input is built.
	StateDir string
	// IncludeRaw asks for each source record in Event.Raw.
	IncludeRaw bool
	// Logger takes the input's log lines; never secrets.
	Logger *slog.Logger
	// Observe is told of every request to the source (status, metrics).
	Observe func(Attempt)
	// Count is told of the events of each fetch.
	Count func(accepted, duplicates, ignored, rejected int)
	// Reject keeps a record the input could not use, with the reason,
	// under data_dir/rejected/ for replay.
	Reject func(entry []byte, reason string)
	// Now is the clock.
	Now func() time.Time
}
