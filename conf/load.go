package conf

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed default.toml
var defaultTOML string

// DefaultName is how the embedded default config is named in messages.
const DefaultName = "(embedded default)"

// Source is one config file's text and its name.
type Source struct {
	Name string
	Text string
}

// Load reads the files and directories in paths (a directory: its *.toml in
// lexical order) and resolves them into one Config. lookup reads
// environment variables (os.LookupEnv in production).
func Load(paths []string, lookup func(string) (string, bool)) (*Config, error) {
	var sources []Source
	for _, p := range paths {
		files, err := expandPath(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read config: %w", err)
			}
			sources = append(sources, Source{Name: f, Text: string(b)})
		}
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("no config files in %s: give a .toml file or a directory holding some", strings.Join(paths, ", "))
	}
	return Parse(sources, lookup)
}

// LoadDefault resolves the embedded default config.
func LoadDefault(lookup func(string) (string, bool)) (*Config, error) {
	return Parse([]Source{{Name: DefaultName, Text: defaultTOML}}, lookup)
}

// DefaultText is the embedded default config, for `check` and the docs.
func DefaultText() string { return defaultTOML }

func expandPath(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	files, err := filepath.Glob(filepath.Join(p, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("config directory %s: %w", p, err)
	}
	sort.Strings(files)
	return files, nil
}

// fileSections is the shape of one config file before its sections are decoded.
type fileSections struct {
	Relay   *toml.Primitive           `toml:"relay"`
	Inputs  map[string]toml.Primitive `toml:"inputs"`
	Outputs map[string]toml.Primitive `toml:"outputs"`
}

// Parse resolves config texts into one Config, reporting every problem.
func Parse(sources []Source, lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{Relay: DefaultRelay(), Inputs: map[string]*Input{}, Outputs: map[string]*Output{}}
	relayFile := ""
	var errs []error
	for _, src := range sources {
		c.Files = append(c.Files, src.Name)
		text, err := expandEnv(src, lookup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var f fileSections
		md, err := toml.Decode(text, &f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src.Name, err))
			continue
		}
		d := decoder{src: src, text: text, md: &md}
		if f.Relay != nil {
			if relayFile != "" {
				errs = append(errs, fmt.Errorf("[relay] is defined in both %s and %s: keep it in one file", relayFile, src.Name))
			} else {
				relayFile = src.Name
				errs = append(errs, d.decode(*f.Relay, &c.Relay, "relay"))
			}
		}
		for _, name := range sortedKeys(f.Inputs) {
			errs = append(errs, d.input(c, name, f.Inputs[name]))
		}
		for _, name := range sortedKeys(f.Outputs) {
			errs = append(errs, d.output(c, name, f.Outputs[name]))
		}
		errs = append(errs, d.undecoded())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, c.validate()
}

// decoder decodes the sections of one file.
type decoder struct {
	src  Source
	text string
	md   *toml.MetaData
}

func (d decoder) decode(p toml.Primitive, v any, section string) error {
	if err := d.md.PrimitiveDecode(p, v); err != nil {
		return fmt.Errorf("%s: [%s]: %w", d.src.Name, section, err)
	}
	return nil
}

func (d decoder) input(c *Config, name string, p toml.Primitive) error {
	section := "inputs." + name
	if prev, ok := c.Inputs[name]; ok {
		return fmt.Errorf("input %q is defined in both %s and %s: rename one", name, prev.File, d.src.Name)
	}
	in := &Input{Name: name, File: d.src.Name}
	if err := d.decode(p, in, section); err != nil {
		return err
	}
	c.Inputs[name] = in
	entry, ok := Adapters()[in.Adapter]
	if !ok {
		return fmt.Errorf("%s: [%s]: unknown adapter %q: use one of %v", d.src.Name, section, in.Adapter, AdapterNames())
	}
	in.Plugin = entry.config()
	return d.decode(p, in.Plugin, section)
}

func (d decoder) output(c *Config, name string, p toml.Primitive) error {
	section := "outputs." + name
	if prev, ok := c.Outputs[name]; ok {
		return fmt.Errorf("output %q is defined in both %s and %s: rename one", name, prev.File, d.src.Name)
	}
	out := defaultOutput()
	out.Name, out.File = name, d.src.Name
	if err := d.decode(p, &out, section); err != nil {
		return err
	}
	c.Outputs[name] = &out
	entry, ok := Outputs()[out.Type]
	if !ok {
		return fmt.Errorf("%s: [%s]: unknown output type %q: use one of %v", d.src.Name, section, out.Type, OutputTypes())
	}
	out.Plugin = entry.config()
	return d.decode(p, out.Plugin, section)
}

// undecoded reports every key no section took, with its line.
func (d decoder) undecoded() error {
	var errs []error
	for _, k := range d.md.Undecoded() {
		if d.md.Type(k...) == "Hash" && len(k) <= 2 {
			continue // a table header such as [inputs]; its keys are reported
		}
		errs = append(errs, fmt.Errorf("%s:%d: unknown key %q", d.src.Name, lineOf(d.text, k), k.String()))
	}
	return errors.Join(errs...)
}

// lineOf finds the line of key k in text: the first assignment of its last
// part after the header of its table, else anywhere; 0 when not found.
func lineOf(text string, k toml.Key) int {
	lines := strings.Split(text, "\n")
	last := regexp.MustCompile(`^\s*["']?` + regexp.QuoteMeta(k[len(k)-1]) + `["']?\s*=`)
	if line := findAfterHeader(lines, k[:len(k)-1], last); line > 0 {
		return line
	}
	header := regexp.MustCompile(`^\s*\[+\s*` + regexp.QuoteMeta(strings.Join(k, ".")) + `\s*\]+`)
	for i, l := range lines {
		if last.MatchString(l) || header.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

func findAfterHeader(lines []string, table toml.Key, key *regexp.Regexp) int {
	header := regexp.MustCompile(`^\s*\[+\s*` + regexp.QuoteMeta(strings.Join(table, ".")) + `\s*\]+`)
	in := len(table) == 0
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "[") {
			in = header.MatchString(l)
			continue
		}
		if in && key.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} with the variable's value escaped for a TOML
// basic string. References in a comment (after a # that precedes any
// reference on its line) are left alone. An unset variable is an error.
func expandEnv(src Source, lookup func(string) (string, bool)) (string, error) {
	lines := strings.Split(src.Text, "\n")
	var errs []error
	for i, line := range lines {
		if j := strings.Index(line, "#"); j >= 0 && !strings.Contains(line[:j], "${") {
			continue // a comment before any reference
		}
		lines[i] = envRef.ReplaceAllStringFunc(line, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := lookup(name)
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%d: environment variable %s is not set: export it or remove ${%s}", src.Name, i+1, name, name))
				return ref
			}
			return escapeBasic(v)
		})
	}
	return strings.Join(lines, "\n"), errors.Join(errs...)
}

func escapeBasic(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return r.Replace(v)
}
