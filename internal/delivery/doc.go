// Package delivery moves events from the spool to one output: it reads a
// batch from the output's spool reader, keeps the events routed to it,
// hands them to the output and commits the reader's cursor only for what
// the output accepted.
//
// What happens on each answer (the output classifies, this package acts):
//
//	nil                     cursor past the batch; status active
//	Delivered = k           cursor past the first k events (never resent)
//	Permanent               event k (PermanentAll: the rest) → dead letter,
//	                        cursor past it, the rest continues at once
//	Paused                  destination config error: status says so, the
//	                        batch is kept and retried after wait_max
//	anything else           retries ran out: status inactive, the batch is
//	                        kept and a new round starts after wait_max (or
//	                        the answer's Retry-After), active again on the
//	                        next success
//
// A batch closes at batch_max_events, at about batch_max_bytes of spooled
// data, or flush_interval after its first event arrived, whichever comes
// first. Dead letters go to data_dir/deadletter/<output>.ndjson, one line
// per event with the answer that refused it (deadletter.go).
//
// Cursor writes (a temp file, two fsyncs and a rename each) run on a
// goroutine of their own beside delivery (commit.go): the loop sends the
// next batch while the previous cursor is written, and batches delivered
// during one write share the next. A crash sends again at most what was
// delivered after the last durable cursor: at-least-once, as everywhere.
// The loop reuses its batch and the spool reader's read buffer from one
// batch to the next, so a steady stream allocates only the events' strings.
package delivery
