package conf

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryAdapterHasFixturesAndAFuzzTarget: a push adapter without golden
// fixtures or a fuzz target is not done.
func TestEveryAdapterHasFixturesAndAFuzzTarget(t *testing.T) {
	for _, name := range PushAdapterNames() {
		t.Run(name, func(t *testing.T) {
			cases, _ := filepath.Glob(filepath.Join("..", "fixtures", name, "*", "input.*"))
			if len(cases) < 3 {
				t.Errorf("fixtures/%s has %d cases; want golden fixtures for the adapter", name, len(cases))
			}
			goldens, _ := filepath.Glob(filepath.Join("..", "fixtures", name, "*", "event.cef"))
			if len(goldens) == 0 {
				t.Errorf("fixtures/%s has no event.cef goldens", name)
			}
			if !packageHas(t, filepath.Join("..", "adapters", name), "func Fuzz") {
				t.Errorf("adapters/%s has no fuzz target", name)
			}
		})
	}
}

// TestEveryOutputBuildsAndClosesTwice builds each output from its defaults
// (plus a URL or path) for each format, and closes it twice.
func TestEveryOutputBuildsAndClosesTwice(t *testing.T) {
	for _, typ := range OutputTypes() {
		for _, format := range FormatNames() {
			t.Run(typ+"/"+format, func(t *testing.T) {
				text := "[inputs.in]\nadapter = \"openfaas\"\nallow_unsigned = true\n[outputs.o]\ntype = \"" + typ + "\"\nformat = \"" + format + "\"\n"
				switch typ {
				case "file":
					text += "path = \"" + filepath.Join(t.TempDir(), "out") + "\"\n"
				case "splunkhec":
					text += "url = \"https://127.0.0.1:8088\"\ntoken = \"t\"\n"
				default:
					text += "url = \"https://127.0.0.1:8443/in\"\n"
				}
				c, err := Parse([]Source{{Name: "conformance.toml", Text: text}}, noEnv)
				if err != nil {
					t.Fatal(err)
				}
				out, err := BuildOutput(c.Outputs["o"], slog.New(slog.DiscardHandler), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := out.Close(); err != nil {
					t.Fatalf("first Close: %v", err)
				}
				if err := out.Close(); err != nil {
					t.Fatalf("second Close: %v", err)
				}
			})
		}
	}
}

func packageHas(t *testing.T, dir, text string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), text) {
			return true
		}
	}
	return false
}
