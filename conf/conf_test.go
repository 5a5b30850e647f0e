package conf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func noEnv(string) (string, bool) { return "", false }

const minimal = `
[inputs.openfaas]
adapter = "openfaas"
allow_unsigned = true

[outputs.out]
type = "file"
path = "-"
`

func parse(t *testing.T, lookup func(string) (string, bool), texts ...string) (*Config, error) {
	t.Helper()
	var srcs []Source
	for i, text := range texts {
		srcs = append(srcs, Source{Name: filepath.Join("dir", string(rune('a'+i))+".toml"), Text: text})
	}
	return Parse(srcs, lookup)
}

func TestDefaultConfigLoads(t *testing.T) {
	c, err := LoadDefault(noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Relay.Listen != "127.0.0.1:9780" || c.Relay.DataDir != "./auditrelay-data" {
		t.Errorf("relay %+v", c.Relay)
	}
	for _, name := range PushAdapterNames() {
		in, ok := c.Inputs[name]
		if !ok || in.Adapter != name || !in.AllowUnsigned {
			t.Errorf("embedded default lacks an unsigned %s input: %+v", name, in)
		}
	}
	if o := c.Outputs["stdout"]; o == nil || o.Type != "file" || o.Format != "json" {
		t.Errorf("stdout output %+v", o)
	}
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, noEnv, minimal)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Relay
	if r.MaxBodyBytes != 10<<20 || r.SpoolMaxBytes != 1<<30 || r.DedupWindow.D() != 10*time.Minute ||
		r.ShutdownTimeout.D() != 30*time.Second || r.RejectedMaxBytes != 64<<20 {
		t.Errorf("relay defaults %+v", r)
	}
	o := c.Outputs["out"]
	if o.BatchMaxEvents != 1000 || o.BatchMaxBytes != 1_000_000 || o.FlushInterval.D() != time.Second ||
		o.Retry.MaxRetries != 4 || o.Retry.WaitMin.D() != time.Second || o.Retry.WaitMax.D() != 30*time.Second || !o.Enabled {
		t.Errorf("output defaults %+v", o)
	}
}

func TestUnknownKeyNamesFileAndLine(t *testing.T) {
	_, err := parse(t, noEnv, minimal+`
[outputs.out.retry]
max_retries = 2
wait_maxx = "3s"
`)
	if err == nil || !strings.Contains(err.Error(), `dir/a.toml:12: unknown key "outputs.out.retry.wait_maxx"`) {
		t.Fatalf("got %v", err)
	}
	_, err = parse(t, noEnv, "[relay]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n"+minimal)
	if err == nil || !strings.Contains(err.Error(), `dir/a.toml:3: unknown key "relay.lisen"`) {
		t.Fatalf("got %v", err)
	}
}

func TestNameDefinedTwiceNamesBothFiles(t *testing.T) {
	_, err := parse(t, noEnv, minimal, `
[outputs.out]
type = "file"
path = "/tmp/x"
`)
	if err == nil || !strings.Contains(err.Error(), `output "out" is defined in both dir/a.toml and dir/b.toml`) {
		t.Fatalf("got %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	text := `
[inputs.openfaas]
adapter = "openfaas"
# a comment mentioning ${NOT_SET} is left alone
authorization = "${AUTH}"

[outputs.out]
type = "file"
path = "${OUT_PATH}"
`
	c, err := parse(t, env(map[string]string{"AUTH": `Bearer a"b\c`, "OUT_PATH": "/tmp/out.ndjson"}), text)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Inputs["openfaas"].Authorization.Reveal(); got != `Bearer a"b\c` {
		t.Errorf("authorization = %q", got)
	}
	_, err = parse(t, env(map[string]string{"AUTH": "x"}), text)
	if err == nil || !strings.Contains(err.Error(), "dir/a.toml:9: environment variable OUT_PATH is not set") {
		t.Fatalf("unset variable: %v", err)
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("hmac-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, noEnv, `
[inputs.openfaas]
adapter = "openfaas"
secret_file = "`+path+`"
[outputs.out]
type = "file"
path = "-"
`)
	if err != nil {
		t.Fatal(err)
	}
	a, err := BuildAdapter(c.Inputs["openfaas"])
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := a.(interface{ HasKey() bool }); !ok || !v.HasKey() {
		t.Fatal("secret_file did not give the adapter its key")
	}
	_, err = parse(t, noEnv, `
[inputs.openfaas]
adapter = "openfaas"
secret = "inline"
secret_file = "`+path+`"
[outputs.out]
type = "file"
path = "-"
`)
	if err == nil || !strings.Contains(err.Error(), `not both`) {
		t.Fatalf("both secret and secret_file: %v", err)
	}
}

func TestInputWithoutCredentialIsAnError(t *testing.T) {
	_, err := parse(t, noEnv, `
[inputs.open]
adapter = "openfaas"
[outputs.out]
type = "file"
path = "-"
`)
	if err == nil || !strings.Contains(err.Error(), "[inputs.open]: accepts anyone") {
		t.Fatalf("got %v", err)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	_, err := parse(t, noEnv, `
[relay]
log_format = "xml"
[inputs.a]
adapter = "nope"
[outputs.o]
type = "file"
path = "-"
format = "yaml"
inputs = ["missing"]
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`unknown adapter "nope"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = parse(t, noEnv, `
[relay]
log_format = "xml"
`+minimal+`
[outputs.o]
type = "file"
path = "-"
format = "yaml"
inputs = ["missing"]
`)
	for _, want := range []string{`"log_format" is "xml"`, `"format" is "yaml"`, `"inputs" names "missing"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDirectoryLoadsTOMLInLexicalOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("20-out.toml", "[outputs.out]\ntype = \"file\"\npath = \"-\"\n")
	write("10-in.toml", "[inputs.openfaas]\nadapter = \"openfaas\"\nallow_unsigned = true\n")
	write("README.md", "not config")
	c, err := Load([]string{dir}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 2 || !strings.HasSuffix(c.Files[0], "10-in.toml") || !strings.HasSuffix(c.Files[1], "20-out.toml") {
		t.Fatalf("files %v", c.Files)
	}
}

func TestSizeAndDurationErrors(t *testing.T) {
	_, err := parse(t, noEnv, "[relay]\nmax_body_bytes = \"10 potatoes\"\n"+minimal)
	if err == nil || !strings.Contains(err.Error(), "10MiB") {
		t.Fatalf("got %v", err)
	}
}

func TestSIEMDropInsAndSamplesDecodeStrictly(t *testing.T) {
	lookup := func(k string) (string, bool) { return "value-of-" + k, true }
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileKey := regexp.MustCompile(`(?m)^(\w+_file) = "[^"]*"`)
	files, _ := filepath.Glob("siem.d/*.toml")
	samples, _ := filepath.Glob("../*/*/sample.toml")
	if len(files) < 5 || len(samples) < 2 {
		t.Fatalf("found %d drop-ins and %d samples", len(files), len(samples))
	}
	for _, f := range append(files, samples...) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := fileKey.ReplaceAllString(string(b), `$1 = "`+secretFile+`"`)
			if !strings.Contains(text, "[inputs.") {
				text += "\n[inputs.sample_in]\nadapter = \"openfaas\"\nallow_unsigned = true\n"
			}
			if !strings.Contains(text, "[outputs.") {
				text += "\n[outputs.sample_out]\ntype = \"file\"\npath = \"-\"\n"
			}
			if _, err := Parse([]Source{{Name: f, Text: text}}, lookup); err != nil {
				t.Fatal(err)
			}
		})
	}
}
