package main

import (
	"flag"
	"io"
	"log/slog"

	"github.com/auditrelay/auditrelay/conf"
)

// configFlags adds the repeatable -c flag.
func configFlags(fs *flag.FlagSet) *multi {
	var paths multi
	fs.Var(&paths, "c", "config file or directory of *.toml drop-ins (repeatable); none: the embedded default")
	return &paths
}

func (e env) loadConfig(paths []string) (*conf.Config, error) {
	var cfg *conf.Config
	var err error
	if len(paths) == 0 {
		cfg, err = conf.LoadDefault(e.lookup)
	} else {
		cfg, err = conf.Load(paths, e.lookup)
	}
	if err != nil {
		return nil, configError{err}
	}
	return cfg, nil
}

// newLogger logs to w in the format and at the level [relay] asks for.
func newLogger(r conf.Relay, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(r.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if r.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
