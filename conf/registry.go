package conf

import (
	"fmt"
	"log/slog"
	"sort"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/kong"
	"github.com/auditrelay/auditrelay/adapters/kongadmin"
	"github.com/auditrelay/auditrelay/adapters/konghooks"
	"github.com/auditrelay/auditrelay/adapters/konnect"
	"github.com/auditrelay/auditrelay/adapters/lines"
	"github.com/auditrelay/auditrelay/adapters/openfaas"
	"github.com/auditrelay/auditrelay/adapters/stackrox"
	"github.com/auditrelay/auditrelay/formats/cef"
	"github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/outputs/file"
	"github.com/auditrelay/auditrelay/outputs/http"
	"github.com/auditrelay/auditrelay/outputs/splunkhec"
)

// Adapters is the registry of input adapters, by config name.
func Adapters() map[string]AdapterEntry {
	return map[string]AdapterEntry{
		"openfaas": adapter(openfaas.DefaultConfig, openfaas.New),
		"stackrox": adapter(stackrox.DefaultConfig, stackrox.New),
		"kong":     adapter(kong.DefaultConfig, kong.New),
		// Kong counts any HTTP answer as delivered and retries only failed
		// connections, for up to 60 s.
		"konghooks": adapter(konghooks.DefaultConfig, konghooks.New).refusing(auditrelay.RefuseHangUp),
		// Konnect retries 429 and 5xx, and drops a batch on any other 4xx.
		"konnect": adapter(konnect.DefaultConfig, konnect.New).refusing(auditrelay.RefuseTooManyRequests),
		"lines":   adapter(lines.DefaultConfig, lines.New),
		// Polls the Kong Admin API's audit endpoints.
		"kong_admin": pullInput(kongadmin.DefaultConfig, kongadmin.New),
	}
}

// Outputs is the registry of output types, by config name.
func Outputs() map[string]OutputEntry {
	return map[string]OutputEntry{
		"splunkhec": output(splunkhec.DefaultConfig, splunkhec.New),
		"http":      output(http.DefaultConfig, http.New),
		"file": output(file.DefaultConfig, func(c file.Config, s auditrelay.OutputSettings) (*file.Output, error) {
			return file.New(c, s)
		}),
	}
}

// Formats is the registry of formats, by config name.
func Formats() map[string]auditrelay.Format {
	return map[string]auditrelay.Format{
		"json": json.New(),
		"cef":  cef.New(),
	}
}

// AdapterEntry builds one kind of adapter from its config.
type AdapterEntry struct {
	config func() any
	build  func(cfg any) (auditrelay.Adapter, error)
	// pull marks an input that fetches from its source instead of being
	// posted to.
	pull bool
	// refusal is how the input turns its sender away when the relay
	// cannot take events now: the one way that sender retries.
	refusal auditrelay.Refusal
	// puller builds a pull input.
	puller func(cfg any, s auditrelay.PullSettings) (auditrelay.Puller, error)
}

// refusing returns e answering busy senders with r.
func (e AdapterEntry) refusing(r auditrelay.Refusal) AdapterEntry {
	e.refusal = r
	return e
}

// OutputEntry builds one type of output from its config.
type OutputEntry struct {
	config func() any
	build  func(cfg any, s auditrelay.OutputSettings) (auditrelay.Output, error)
}

func adapter[C any, A auditrelay.Adapter](def func() C, build func(C) (A, error)) AdapterEntry {
	return AdapterEntry{
		config: func() any { c := def(); return &c },
		build:  func(cfg any) (auditrelay.Adapter, error) { return build(*cfg.(*C)) },
	}
}

func pullInput[C any, P auditrelay.Puller](def func() C, build func(C, auditrelay.PullSettings) (P, error)) AdapterEntry {
	return AdapterEntry{
		config: func() any { c := def(); return &c },
		pull:   true,
		puller: func(cfg any, s auditrelay.PullSettings) (auditrelay.Puller, error) { return build(*cfg.(*C), s) },
	}
}

func output[C any, O auditrelay.Output](def func() C, build func(C, auditrelay.OutputSettings) (O, error)) OutputEntry {
	return OutputEntry{
		config: func() any { c := def(); return &c },
		build: func(cfg any, s auditrelay.OutputSettings) (auditrelay.Output, error) {
			return build(*cfg.(*C), s)
		},
	}
}

// DefaultAdapterConfig returns a pointer to the named adapter's default
// Config, for `convert`.
func DefaultAdapterConfig(name string) (any, error) {
	e, ok := Adapters()[name]
	if !ok || e.pull {
		return nil, fmt.Errorf("unknown adapter %q: use one of %v", name, PushAdapterNames())
	}
	return e.config(), nil
}

// NewAdapter builds the named adapter from a config DefaultAdapterConfig
// returned.
func NewAdapter(name string, cfg any) (auditrelay.Adapter, error) {
	e, ok := Adapters()[name]
	if !ok || e.pull {
		return nil, fmt.Errorf("unknown adapter %q: use one of %v", name, PushAdapterNames())
	}
	return e.build(cfg)
}

// BuildAdapter builds a push input's adapter.
func BuildAdapter(in *Input) (auditrelay.Adapter, error) {
	return NewAdapter(in.Adapter, in.Plugin)
}

// BuildPuller builds a pull input.
func BuildPuller(in *Input, s auditrelay.PullSettings) (auditrelay.Puller, error) {
	e, ok := Adapters()[in.Adapter]
	if !ok || !e.pull {
		return nil, fmt.Errorf("input %s: adapter %q is not a pull input", in.Name, in.Adapter)
	}
	return e.puller(in.Plugin, s)
}

// IsPull reports whether the input fetches from its source.
func (in *Input) IsPull() bool { return Adapters()[in.Adapter].pull }

// Refusal is how the input turns a sender away when the relay is busy.
func (in *Input) Refusal() auditrelay.Refusal { return Adapters()[in.Adapter].refusal }

// BuildOutput builds an output with its common keys in its settings.
func BuildOutput(o *Output, logger *slog.Logger, observe func(auditrelay.Attempt)) (auditrelay.Output, error) {
	e, ok := Outputs()[o.Type]
	if !ok {
		return nil, fmt.Errorf("unknown output type %q: use one of %v", o.Type, OutputTypes())
	}
	return e.build(o.Plugin, auditrelay.OutputSettings{
		Name:            o.Name,
		Format:          Formats()[o.Format],
		FormatName:      o.Format,
		Logger:          logger,
		Retry:           o.Retry,
		MaxRequestBytes: int(o.BatchMaxBytes),
		Observe:         observe,
	})
}

// AdapterNames lists every adapter, sorted.
func AdapterNames() []string { return names(Adapters()) }

// PushAdapterNames lists the adapters `convert` and `replay` can use.
func PushAdapterNames() []string {
	var out []string
	for name, e := range Adapters() {
		if !e.pull {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// OutputTypes lists every output type, sorted.
func OutputTypes() []string { return names(Outputs()) }

// FormatNames lists every format, sorted.
func FormatNames() []string { return names(Formats()) }

func names[V any](m map[string]V) []string { return sortedKeys(m) }
