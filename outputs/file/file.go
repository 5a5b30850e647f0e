package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/auditrelay/auditrelay"
)

// Config is [outputs.NAME] with type = "file".
type Config struct {
	// Path is the file events are appended to, created with mode 0600 if
	// missing; "-" is standard output. Default "-".
	Path string `toml:"path"`
}

// Stdout is the Path that means standard output.
const Stdout = "-"

// DefaultConfig returns the defaults: standard output.
func DefaultConfig() Config { return Config{Path: Stdout} }

// Validate checks the config without I/O.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New(`requires a non-empty "path" (a file, or "-" for standard output)`)
	}
	return nil
}

// Option changes how New builds the output.
type Option func(*Output)

// WithStdout makes path "-" write to w instead of os.Stdout (tests).
func WithStdout(w io.Writer) Option { return func(o *Output) { o.stdout = w } }

// Output appends one line per event to a file or standard output: the
// normalized event as JSON (ndjson) or a CEF line.
type Output struct {
	format auditrelay.Format
	stdout io.Writer
	path   string

	mu  sync.Mutex // serialises Write and Close
	w   io.Writer
	f   *os.File // nil for standard output
	buf []byte
}

// New opens the file for appending (O_APPEND|O_CREATE, mode 0600).
func New(c Config, s auditrelay.OutputSettings, opts ...Option) (*Output, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("file output %q: %w", s.Name, err)
	}
	if s.Format == nil {
		return nil, fmt.Errorf("file output %q: no format", s.Name)
	}
	o := &Output{format: s.Format, stdout: os.Stdout, path: c.Path}
	for _, opt := range opts {
		opt(o)
	}
	if c.Path == Stdout {
		o.w = o.stdout
		return o, nil
	}
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("file output %q: open %s for appending: %w", s.Name, c.Path, err)
	}
	o.f, o.w = f, f
	return o, nil
}

// Write appends the batch with one write call. A failed or short write is a
// retryable *DeliveryError: the batch is written again later, so a reader
// may see a torn line followed by the whole batch (at-least-once).
func (o *Output) Write(ctx context.Context, events []auditrelay.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &auditrelay.DeliveryError{Err: err}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w == nil {
		return &auditrelay.DeliveryError{Err: errors.New("file output is closed")}
	}
	buf := o.buf[:0]
	for i := range events {
		buf = o.format.Append(buf, &events[i])
		buf = append(buf, '\n')
	}
	if cap(buf) <= 4<<20 {
		o.buf = buf // keep a buffer of ordinary size for the next batch
	}
	if _, err := o.w.Write(buf); err != nil {
		return &auditrelay.DeliveryError{Err: fmt.Errorf("append to %s: %w", o.path, err)}
	}
	return nil
}

// Close closes the file (never standard output); a second Close is a no-op.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	f := o.f
	o.f, o.w = nil, nil
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", o.path, err)
	}
	return nil
}
