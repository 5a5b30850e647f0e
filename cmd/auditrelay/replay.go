package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/conf"
	"github.com/auditrelay/auditrelay/internal/relay"
)

// replay feeds payload files through an input as if they had been posted,
// into the spool of a stopped relay; the next `run` delivers them.
func (e env) replay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	paths := configFlags(fs)
	input := fs.String("input", "", "the configured input whose adapter parses the files")
	var headers multi
	fs.Var(&headers, "header", `request header "Name: value" (repeatable)`)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *input == "" || len(files) == 0 {
		return usageError{"replay needs --input NAME and at least one FILE"}
	}
	cfg, err := e.loadConfig(*paths)
	if err != nil {
		return err
	}
	in, ok := cfg.Inputs[*input]
	if !ok || in.IsPull() {
		return usageError{fmt.Sprintf("--input %q is not a configured push input; inputs: %v", *input, cfg.InputNames())}
	}
	adapter, err := conf.BuildAdapter(in)
	if err != nil {
		return configError{err}
	}
	h, err := parseHeaders(headers)
	if err != nil {
		return err
	}
	j, _, closeSpool, err := relay.OpenJournal(cfg, newLogger(cfg.Relay, e.stderr))
	if err != nil {
		return err
	}
	defer closeSpool()
	var failed []error
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		p, err := adapter.Parse(body, auditrelay.Meta{Input: *input, Header: h, ReceivedAt: time.Now().UTC(), IncludeRaw: in.IncludeRaw})
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", f, err))
			continue
		}
		acc, dup, err := j.Append(ctx, p.Events)
		if err != nil {
			return fmt.Errorf("%s: store: %w", f, err)
		}
		fmt.Fprintf(e.stdout, "%s: accepted %d, duplicates %d, ignored %d, rejected %d\n", f, acc, dup, p.Ignored, len(p.Rejected))
		for _, r := range p.Rejected {
			fmt.Fprintf(e.stderr, "%s: line %d: %s\n", f, r.Line, r.Reason)
		}
	}
	return errors.Join(failed...)
}

// deadletter handles `deadletter replay --output NAME`: it re-queues what
// the output dead-lettered, for that output only.
func (e env) deadletter(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "replay" {
		return usageError{"usage: auditrelay deadletter replay [-c PATH]... --output NAME"}
	}
	fs := flag.NewFlagSet("deadletter replay", flag.ContinueOnError)
	paths := configFlags(fs)
	output := fs.String("output", "", "the output whose dead letters to re-queue")
	rest, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if *output == "" || len(rest) > 0 {
		return usageError{"deadletter replay needs --output NAME and no other arguments"}
	}
	cfg, err := e.loadConfig(*paths)
	if err != nil {
		return err
	}
	if _, ok := cfg.Outputs[*output]; !ok {
		return usageError{fmt.Sprintf("--output %q is not a configured output; outputs: %v", *output, cfg.OutputNames())}
	}
	j, dl, closeSpool, err := relay.OpenJournal(cfg, newLogger(cfg.Relay, e.stderr))
	if err != nil {
		return err
	}
	defer closeSpool()
	events, done, err := dl.Take(*output)
	if err != nil {
		return err
	}
	if err := j.AppendFor(ctx, *output, events); err != nil {
		return errors.Join(fmt.Errorf("re-queue: %w", err), done(false))
	}
	if err := done(true); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-queued %d events for output %s; they are delivered at the next run\n", len(events), *output)
	return nil
}
