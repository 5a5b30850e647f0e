// Command auditrelay-load measures an auditrelay deployment end to end.
//
// Post mode (the default) generates realistic source payloads for one
// adapter and POSTs them to a relay's /ingest/{input}:
//
//	auditrelay-load [post] -url http://127.0.0.1:9780 -input openfaas \
//	    -batch 100 -concurrency 4 -rate 0 -total 100000 -duration 60s
//
// It prints events sent, accepted and duplicates (from the relay's
// {"accepted":N,"duplicates":M,…} answers), errors by status code,
// retried 503/429 answers (backpressure), events/s and the ack latency
// p50/p99/max per POST; -json prints the same as one JSON line.
//
// Sink mode is a local Splunk HEC and generic HTTP collector that counts
// what the relay delivers:
//
//	auditrelay-load sink -listen 127.0.0.1:8088 -token T -expect 100000
//
// Both refuse non-loopback addresses unless -allow-remote is given: the
// resolved addresses decide, and the post client dials loopback only.
//
// Exit status: 0 ok, 1 errors were counted (post) or -expect was not
// reached (sink), 2 usage error or refused target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/auditrelay/auditrelay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usageText = `usage:
  auditrelay-load [post] [flags]   POST generated source payloads to a relay and measure
  auditrelay-load sink [flags]     count events a relay delivers (Splunk HEC or HTTP)
  auditrelay-load help             this text

Run "auditrelay-load post -h" or "auditrelay-load sink -h" for the flags.
`

// run is the CLI without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	mode := "post"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	switch mode {
	case "post":
		return runPostCmd(ctx, args, stdout, stderr)
	case "sink":
		return runSinkCmd(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	fmt.Fprintf(stderr, "auditrelay-load: unknown mode %q\n%s", mode, usageText)
	return exitUsage
}

// secretFlag reads a secret from a value or a file (trailing newline
// trimmed); giving both is an error.
func secretFlag(value, file, name string) (auditrelay.Secret, error) {
	switch {
	case value != "" && file != "":
		return auditrelay.Secret{}, fmt.Errorf("give -%s or -%s-file, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return auditrelay.Secret{}, fmt.Errorf("read -%s-file: %w", name, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return auditrelay.Secret{}, fmt.Errorf("-%s-file %s is empty", name, file)
		}
		return auditrelay.NewSecret(v), nil
	}
	return auditrelay.NewSecret(value), nil
}

func newFlagSet(name string, stderr io.Writer, doc string) *flag.FlagSet {
	fs := flag.NewFlagSet("auditrelay-load "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: auditrelay-load %s [flags]\n\n%s\nflags:\n", name, doc)
		fs.PrintDefaults()
	}
	return fs
}

const postDoc = `POSTs generated payloads of one adapter to URL/ingest/INPUT and measures
events/s and ack latency. stackrox and konghooks send one event per POST
(as StackRox and Kong do), whatever -batch says. 503 and 429 answers are
retried after Retry-After (konghooks: closed connections, after a backoff)
and counted as backpressure; they become errors only when -retries run out.
`

func runPostCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := defaultPostConfig()
	fs := newFlagSet("post", stderr, postDoc)
	fs.StringVar(&c.URL, "url", c.URL, "base `URL` of the relay")
	fs.StringVar(&c.Input, "input", c.Input, "input `name`: POSTs go to /ingest/{name}")
	fs.StringVar(&c.Adapter, "adapter", "", "payload shape: "+strings.Join(adapterNames(), "|")+" (default: the input name)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "events per POST (1 for stackrox and konghooks)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "POSTs in flight")
	fs.IntVar(&c.Rate, "rate", c.Rate, "events per second offered (0: as fast as the relay answers)")
	fs.Int64Var(&c.Total, "total", c.Total, "events to send")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "hard stop of the run")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "timeout of one HTTP attempt")
	fs.IntVar(&c.Retries, "retries", c.Retries, "retries of one POST after 503/429")
	secret := fs.String("secret", "", "HMAC key: openfaas X-Openfaas-Signature-256, konghooks X-Kong-Signature")
	secretFile := fs.String("secret-file", "", "read the HMAC key from `file`")
	authorization := fs.String("authorization", "", "exact Authorization header `value` (e.g. \"Bearer t\")")
	fs.BoolVar(&c.Gzip, "gzip", false, "gzip konnect bodies (Content-Encoding: gzip), as Konnect does")
	fs.BoolVar(&c.Unique, "unique", c.Unique, "make every event distinct (false: every POST repeats the first, to measure dedup)")
	fs.StringVar(&c.KonnectFormat, "konnect-format", c.KonnectFormat, "konnect entries: json, cef or mixed")
	seed := fs.Uint64("seed", 0, "seed of the generated values (0: the clock)")
	asJSON := fs.Bool("json", false, "print the result as one JSON line")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target that is not loopback")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "auditrelay-load post: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	c.Seed = *seed
	var err error
	if c.Secret, err = secretFlag(*secret, *secretFile, "secret"); err != nil {
		fmt.Fprintf(stderr, "auditrelay-load post: %v\n", err)
		return exitUsage
	}
	c.Authorization = auditrelay.NewSecret(*authorization)
	if explicit(fs, "batch") && c.Batch > 1 && c.batch() == 1 {
		fmt.Fprintf(stderr, "auditrelay-load post: %s sends one event per POST; -batch %d ignored\n", c.adapter(), c.Batch)
	}
	res, err := runPost(ctx, c, nil)
	if err != nil {
		fmt.Fprintf(stderr, "auditrelay-load post: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			fmt.Fprintf(stderr, "auditrelay-load post: %v\n", err)
			return exitFailure
		}
	} else {
		res.writeText(stdout)
	}
	if res.errorCount() > 0 {
		return exitFailure
	}
	return exitOK
}

const sinkDoc = `Counts events a relay delivers. POST /services/collector/event (also
/services/collector) takes Splunk HEC bodies: concatenated {"event":…}
objects, gzip when Content-Encoding says so; POST /services/collector/ack
answers every ackId true. Any other POST path is a generic HTTP collector
(JSON array, NDJSON or text lines) answering {"accepted":N,…} like the relay.
Stops on SIGINT/SIGTERM, or with -expect once that many events arrived and
none came for -exit-after-idle.
`

func runSinkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := defaultSinkConfig()
	fs := newFlagSet("sink", stderr, sinkDoc)
	fs.StringVar(&c.Listen, "listen", c.Listen, "`address` to listen on")
	token := fs.String("token", "", "require \"Authorization: Splunk `token`\" on HEC paths")
	tokenFile := fs.String("token-file", "", "read -token from `file`")
	authorization := fs.String("authorization", "", "require this exact Authorization `value` on other paths")
	fs.Int64Var(&c.FailFirst, "fail-first", 0, "answer the first `N` event requests with -fail-status")
	fs.IntVar(&c.FailStatus, "fail-status", c.FailStatus, "status of -fail-first answers")
	fs.IntVar(&c.RetryAfter, "retry-after", c.RetryAfter, "Retry-After `seconds` of injected 503/429")
	fs.DurationVar(&c.Report, "report", c.Report, "interval of progress lines on stderr (0: none)")
	fs.Int64Var(&c.Expect, "expect", 0, "events expected; with -exit-after-idle the sink stops after them")
	fs.DurationVar(&c.ExitAfterIdle, "exit-after-idle", c.ExitAfterIdle, "stop this long after the last event once -expect arrived")
	fs.StringVar(&c.Out, "out", "", "write every event to `file`, one per line")
	fs.BoolVar(&c.CountIDs, "count-ids", false, "track distinct event ids (JSON \"id\", CEF externalId) and count duplicates")
	fs.IntVar(&c.MaxIDs, "max-ids", c.MaxIDs, "most ids -count-ids tracks")
	fs.Int64Var(&c.MaxBody, "max-body", c.MaxBody, "largest request body in `bytes`, before and after gunzip")
	asJSON := fs.Bool("json", false, "print the summary as one JSON line")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a listen address that is not loopback")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "auditrelay-load sink: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var err error
	if c.Token, err = secretFlag(*token, *tokenFile, "token"); err != nil {
		fmt.Fprintf(stderr, "auditrelay-load sink: %v\n", err)
		return exitUsage
	}
	c.Authorization = auditrelay.NewSecret(*authorization)
	ready := func(addr string) {
		fmt.Fprintf(stderr, "auditrelay-load sink: listening on http://%s (HEC: /services/collector/event)\n", addr)
	}
	res, err := runSink(ctx, c, nil, stderr, ready)
	if err != nil {
		fmt.Fprintf(stderr, "auditrelay-load sink: %v\n", err)
		var usage *usageError
		if errors.As(err, &usage) {
			return exitUsage
		}
		return exitFailure
	}
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			fmt.Fprintf(stderr, "auditrelay-load sink: %v\n", err)
			return exitFailure
		}
	} else {
		res.writeText(stdout)
	}
	if c.Expect > 0 && res.Events < c.Expect {
		return exitFailure
	}
	return exitOK
}

// usageError marks an error the user fixes with other flags.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// explicit reports whether the flag was given on the command line.
func explicit(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
