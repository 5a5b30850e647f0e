package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/conf"
)

// convert reads one source payload and writes one normalized event per
// line. A body refused whole prints nothing on stdout; rejected lines of a
// line-batched body are reported on stderr and make the exit status 1.
func (e env) convert(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	adapterName := fs.String("adapter", "", "source shape: "+strings.Join(conf.PushAdapterNames(), ", "))
	formatName := fs.String("format", "json", "output format: "+strings.Join(conf.FormatNames(), ", "))
	input := fs.String("input", "convert", "input name recorded in source.input")
	delivery := fs.String("delivery-id", "", "delivery id recorded in source.delivery_id")
	patterns := fs.String("patterns", "", "TOML file with the adapter's keys (lines: patterns, pattern_definitions, …)")
	includeRaw := fs.Bool("include-raw", false, "keep each source event under raw")
	var headers multi
	fs.Var(&headers, "header", `request header "Name: value" (repeatable), e.g. Content-Encoding: gzip`)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *adapterName == "" {
		return usageError{"--adapter is required: one of " + strings.Join(conf.PushAdapterNames(), ", ")}
	}
	if len(files) > 1 {
		return usageError{"convert takes one FILE (or - for stdin)"}
	}
	format, ok := conf.Formats()[*formatName]
	if !ok {
		return usageError{fmt.Sprintf("unknown --format %q: use one of %s", *formatName, strings.Join(conf.FormatNames(), ", "))}
	}
	adapter, err := e.convertAdapter(*adapterName, *patterns)
	if err != nil {
		return err
	}
	h, err := parseHeaders(headers)
	if err != nil {
		return err
	}
	body, err := e.readBody(files)
	if err != nil {
		return err
	}
	meta := auditrelay.Meta{Input: *input, DeliveryID: *delivery, Header: h, ReceivedAt: time.Now().UTC(), IncludeRaw: *includeRaw}
	parsed, err := adapter.Parse(body, meta)
	if err != nil {
		return err
	}
	if err := writeEvents(e.stdout, format, parsed.Events); err != nil {
		return err
	}
	for _, r := range parsed.Rejected {
		fmt.Fprintf(e.stderr, "line %d: %s\n", r.Line, r.Reason)
	}
	if n := len(parsed.Rejected); n > 0 {
		return fmt.Errorf("%d of %d lines rejected", n, n+len(parsed.Events))
	}
	return nil
}

func (e env) convertAdapter(name, patterns string) (auditrelay.Adapter, error) {
	cfg, err := conf.DefaultAdapterConfig(name)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if patterns != "" {
		md, err := toml.DecodeFile(patterns, cfg)
		if err != nil {
			return nil, configError{fmt.Errorf("--patterns %s: %w", patterns, err)}
		}
		if u := md.Undecoded(); len(u) > 0 {
			return nil, configError{fmt.Errorf("--patterns %s: unknown key %q for adapter %s", patterns, u[0].String(), name)}
		}
	}
	a, err := conf.NewAdapter(name, cfg)
	if err != nil {
		return nil, configError{err}
	}
	return a, nil
}

func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError{fmt.Sprintf("--header %q: write it as \"Name: value\"", l)}
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	return h, nil
}

func (e env) readBody(files []string) ([]byte, error) {
	if len(files) == 0 || files[0] == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return b, nil
}

func writeEvents(w io.Writer, f auditrelay.Format, events []auditrelay.Event) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for i := range events {
		buf = append(f.Append(buf[:0], &events[i]), '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
