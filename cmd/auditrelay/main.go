// Command auditrelay receives audit events from OpenFaaS, StackRox and Kong,
// normalizes them and delivers them to a SIEM without losing any.
//
//	auditrelay run [-c PATH]…                  run the relay
//	auditrelay check [-c PATH]…                validate and print the config
//	auditrelay convert --adapter NAME [FILE]   normalize a payload offline
//	auditrelay replay [-c PATH]… --input NAME FILE…
//	auditrelay deadletter replay [-c PATH]… --output NAME
//	auditrelay version
//
// Exit status: 0 ok, 1 runtime failure, 2 usage or config error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage:
  auditrelay run [-c PATH]...                     run the relay (no -c: embedded default config)
  auditrelay check [-c PATH]...                   validate and print the resolved config, secrets masked
  auditrelay convert --adapter NAME [--format json|cef] [FILE|-]
                                                  normalize a source payload offline
  auditrelay replay [-c PATH]... --input NAME FILE...
                                                  feed payloads through an input as if posted
  auditrelay deadletter replay [-c PATH]... --output NAME
                                                  re-queue what an output dead-lettered
  auditrelay version
`

// env is what a subcommand reads and writes, so tests can run it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv}
	os.Exit(e.main(ctx, os.Args[1:]))
}

// usageError is a mistake in the command line: exit 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func (e env) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string) error{
		"run":        e.run,
		"check":      e.check,
		"convert":    e.convert,
		"replay":     e.replay,
		"deadletter": e.deadletter,
		"version":    e.version,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(e.stdout, usage)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "auditrelay: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	err := cmd(ctx, args[1:])
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "auditrelay %s: %v\n", args[0], err)
	var ue usageError
	var ce configError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return exitUsage
	}
	return exitFailure
}

// configError is an invalid configuration: exit 2.
type configError struct{ err error }

func (c configError) Error() string { return c.err.Error() }
func (c configError) Unwrap() error { return c.err }
