package main

import (
	"context"
	"flag"

	"github.com/auditrelay/auditrelay/internal/relay"
)

// run serves until SIGINT or SIGTERM, then shuts down in order.
func (e env) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	paths := configFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"run takes no arguments besides -c PATH"}
	}
	cfg, err := e.loadConfig(*paths)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Relay, e.stderr)
	r, err := relay.Open(cfg, logger)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}
