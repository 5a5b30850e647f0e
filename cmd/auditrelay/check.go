package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay/conf"
)

// check validates the config and prints it resolved, every secret masked.
func (e env) check(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	paths := configFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"check takes no arguments besides -c PATH"}
	}
	cfg, err := e.loadConfig(*paths)
	if err != nil {
		return err
	}
	for _, name := range cfg.InputNames() {
		if in := cfg.Inputs[name]; in.AllowUnsigned {
			fmt.Fprintf(e.stderr, "warning: [inputs.%s] allow_unsigned = true: anyone who reaches the listener can add audit events\n", name)
		}
	}
	text, err := resolvedTOML(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "# auditrelay config, resolved from: %s\n# secrets are shown as %q\n\n%s", strings.Join(cfg.Files, ", "), "[redacted]", text)
	return nil
}

// resolvedTOML renders the config with defaults filled in. Secrets encode
// through their MarshalText, which masks them.
func resolvedTOML(cfg *conf.Config) (string, error) {
	doc := map[string]any{}
	relay, err := asMap(cfg.Relay)
	if err != nil {
		return "", err
	}
	doc["relay"] = relay
	inputs := map[string]any{}
	for name, in := range cfg.Inputs {
		if inputs[name], err = merged(in, in.Plugin); err != nil {
			return "", err
		}
	}
	outputs := map[string]any{}
	for name, out := range cfg.Outputs {
		if outputs[name], err = merged(out, out.Plugin); err != nil {
			return "", err
		}
	}
	doc["inputs"], doc["outputs"] = inputs, outputs
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		return "", fmt.Errorf("render config: %w", err)
	}
	return b.String(), nil
}

// merged is the common keys of a section and its plugin's keys as one map.
func merged(common, plugin any) (map[string]any, error) {
	m, err := asMap(common)
	if err != nil {
		return nil, err
	}
	p, err := asMap(plugin)
	if err != nil {
		return nil, err
	}
	for k, v := range p {
		m[k] = v
	}
	return m, nil
}

// asMap encodes v as TOML and decodes it back into a map.
func asMap(v any) (map[string]any, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	m := map[string]any{}
	if _, err := toml.Decode(b.String(), &m); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return m, nil
}
