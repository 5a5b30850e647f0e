package conf

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/auditrelay/auditrelay"
)

// Config is the resolved configuration of one relay.
type Config struct {
	Relay   Relay
	Inputs  map[string]*Input
	Outputs map[string]*Output
	// Files lists the files loaded, in order ("(embedded default)" for
	// the embedded one).
	Files []string
}

// Relay is the [relay] section.
type Relay struct {
	// Listen is the ingest server's address; default 127.0.0.1:9780.
	Listen string `toml:"listen"`
	// DataDir holds the spool, cursors, dead letters and rejected bodies;
	// default ./auditrelay-data.
	DataDir string `toml:"data_dir"`
	// MaxBodyBytes caps one request body; default 10MiB. Larger: 413.
	MaxBodyBytes auditrelay.Size `toml:"max_body_bytes"`
	// MaxConcurrentRequests caps the ingest requests read and parsed at
	// once (memory ≈ max_body_bytes × this at worst); default 32. Past it
	// a request waits up to 1s, then is refused like a full spool.
	MaxConcurrentRequests int `toml:"max_concurrent_requests"`
	// SpoolMaxBytes caps the spool on disk; default 1GiB. Full: 503/429.
	SpoolMaxBytes auditrelay.Size `toml:"spool_max_bytes"`
	// DedupWindow is how long an event id is remembered; default 10m.
	DedupWindow auditrelay.Duration `toml:"dedup_window"`
	// DedupMaxEntries bounds the dedup window's memory; default 1000000.
	DedupMaxEntries int `toml:"dedup_max_entries"`
	// ShutdownTimeout bounds the flush on SIGTERM; default 30s.
	ShutdownTimeout auditrelay.Duration `toml:"shutdown_timeout"`
	// RejectedMaxBytes caps data_dir/rejected/; default 64MiB, oldest out.
	RejectedMaxBytes auditrelay.Size `toml:"rejected_max_bytes"`
	// LogFormat is "text" (default) or "json".
	LogFormat string `toml:"log_format"`
	// LogLevel is "debug", "info" (default), "warn" or "error".
	LogLevel string `toml:"log_level"`
	// TLSCertFile and TLSKeyFile turn on TLS for the listener.
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
}

// DefaultRelay returns the [relay] defaults.
func DefaultRelay() Relay {
	return Relay{
		Listen:                "127.0.0.1:9780",
		DataDir:               "./auditrelay-data",
		MaxBodyBytes:          10 << 20,
		MaxConcurrentRequests: 32,
		SpoolMaxBytes:         1 << 30,
		DedupWindow:           auditrelay.Duration(10 * time.Minute),
		DedupMaxEntries:       1_000_000,
		ShutdownTimeout:       auditrelay.Duration(30 * time.Second),
		RejectedMaxBytes:      64 << 20,
		LogFormat:             "text",
		LogLevel:              "info",
	}
}

// Validate reports every problem of the [relay] section.
func (r Relay) Validate() error {
	var errs []error
	if r.Listen == "" {
		errs = append(errs, errors.New(`[relay] requires a non-empty "listen"`))
	}
	if r.DataDir == "" {
		errs = append(errs, errors.New(`[relay] requires a non-empty "data_dir"`))
	}
	if r.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New(`[relay] "max_body_bytes" must be positive`))
	}
	if r.MaxConcurrentRequests <= 0 {
		errs = append(errs, errors.New(`[relay] "max_concurrent_requests" must be positive`))
	}
	if r.SpoolMaxBytes < 1<<20 {
		errs = append(errs, errors.New(`[relay] "spool_max_bytes" must be at least 1MiB`))
	}
	if r.DedupMaxEntries <= 0 {
		errs = append(errs, errors.New(`[relay] "dedup_max_entries" must be positive`))
	}
	if !slices.Contains([]string{"text", "json"}, r.LogFormat) {
		errs = append(errs, fmt.Errorf(`[relay] "log_format" is %q; use "text" or "json"`, r.LogFormat))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, r.LogLevel) {
		errs = append(errs, fmt.Errorf(`[relay] "log_level" is %q; use "debug", "info", "warn" or "error"`, r.LogLevel))
	}
	if (r.TLSCertFile == "") != (r.TLSKeyFile == "") {
		errs = append(errs, errors.New(`[relay] "tls_cert_file" and "tls_key_file" go together`))
	}
	return errors.Join(errs...)
}

// Input is one [inputs.NAME] section: the keys every input has, and its
// adapter's own config.
type Input struct {
	Name string `toml:"-"`
	File string `toml:"-"`
	// Adapter names the source shape (openfaas, stackrox, kong, …).
	Adapter string `toml:"adapter"`
	// Authorization is the exact Authorization header value a request
	// must carry, compared in constant time.
	Authorization     auditrelay.Secret `toml:"authorization"`
	AuthorizationFile string            `toml:"authorization_file"`
	// AllowUnsigned accepts requests without a signature or credential.
	AllowUnsigned bool `toml:"allow_unsigned"`
	// IncludeRaw keeps each source event under "raw".
	IncludeRaw bool `toml:"include_raw"`
	// Severity, when set (0–10), overrides every event's severity.
	Severity *int `toml:"severity"`
	// Plugin is the adapter's own config (a pointer to its Config).
	Plugin any `toml:"-"`
}

// Validate reports every problem of the input's common keys.
func (in *Input) Validate() error {
	var errs []error
	if in.Adapter == "" {
		errs = append(errs, fmt.Errorf(`requires "adapter": one of %v`, AdapterNames()))
	}
	if in.Severity != nil && (*in.Severity < 0 || *in.Severity > 10) {
		errs = append(errs, fmt.Errorf(`"severity" is %d; use 0 to 10`, *in.Severity))
	}
	return errors.Join(errs...)
}

// Output is one [outputs.NAME] section: the keys every output has, and its
// type's own config.
type Output struct {
	Name string `toml:"-"`
	File string `toml:"-"`
	// Type names the output (splunkhec, http, file).
	Type string `toml:"type"`
	// Enabled turns delivery on; default true. A disabled output keeps
	// its queue.
	Enabled bool `toml:"enabled"`
	// Format is "json" (default) or "cef".
	Format string `toml:"format"`
	// Inputs names the inputs whose events this output takes; default all.
	Inputs []string `toml:"inputs"`
	// BatchMaxEvents caps a batch's events; default 1000.
	BatchMaxEvents int `toml:"batch_max_events"`
	// BatchMaxBytes caps one request's body; default 1MB (Splunk Cloud's limit).
	BatchMaxBytes auditrelay.Size `toml:"batch_max_bytes"`
	// FlushInterval sends a partial batch after this long; default 1s.
	FlushInterval auditrelay.Duration `toml:"flush_interval"`
	// Retry is [outputs.NAME.retry]: 4 retries, 1s to 30s by default.
	Retry auditrelay.RetryPolicy `toml:"retry"`
	// Plugin is the output type's own config (a pointer to its Config).
	Plugin any `toml:"-"`
}

func defaultOutput() Output {
	return Output{
		Enabled:        true,
		Format:         "json",
		BatchMaxEvents: 1000,
		BatchMaxBytes:  1_000_000,
		FlushInterval:  auditrelay.Duration(time.Second),
		Retry:          auditrelay.DefaultRetryPolicy(),
	}
}

// Validate reports every problem of the output's common keys.
func (o *Output) Validate(inputs map[string]*Input) error {
	var errs []error
	if o.Type == "" {
		errs = append(errs, fmt.Errorf(`requires "type": one of %v`, OutputTypes()))
	}
	if _, ok := Formats()[o.Format]; !ok {
		errs = append(errs, fmt.Errorf(`"format" is %q; use one of %v`, o.Format, FormatNames()))
	}
	for _, name := range o.Inputs {
		if _, ok := inputs[name]; !ok {
			errs = append(errs, fmt.Errorf(`"inputs" names %q, which is not a configured input`, name))
		}
	}
	if o.BatchMaxEvents <= 0 {
		errs = append(errs, errors.New(`"batch_max_events" must be positive`))
	}
	if o.BatchMaxBytes < 1024 {
		errs = append(errs, errors.New(`"batch_max_bytes" must be at least 1KiB`))
	}
	if o.FlushInterval <= 0 {
		errs = append(errs, errors.New(`"flush_interval" must be positive`))
	}
	r := o.Retry
	if r.MaxRetries < 0 {
		errs = append(errs, errors.New(`"retry.max_retries" must not be negative`))
	}
	if r.WaitMin <= 0 || r.WaitMax < r.WaitMin {
		errs = append(errs, errors.New(`"retry.wait_min" must be positive and at most "retry.wait_max"`))
	}
	return errors.Join(errs...)
}

// Takes reports whether the output takes events from the named input.
func (o *Output) Takes(input string) bool {
	return len(o.Inputs) == 0 || slices.Contains(o.Inputs, input)
}

// InputNames returns the configured input names, sorted.
func (c *Config) InputNames() []string { return sortedKeys(c.Inputs) }

// OutputNames returns the configured output names, sorted.
func (c *Config) OutputNames() []string { return sortedKeys(c.Outputs) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
