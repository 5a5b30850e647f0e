package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
	"github.com/auditrelay/auditrelay/internal/golden"
	"github.com/auditrelay/auditrelay/outputs/file"
)

var _ = golden.Update // accept go test ./... -update

type lineFormat struct{}

func (lineFormat) Append(dst []byte, e *auditrelay.Event) []byte {
	return append(append(dst, "CEF:0|OpenFaaS|OpenFaaS|1.0|x|y|3|externalId="...), e.ID...)
}

func events(n int) []auditrelay.Event {
	out := make([]auditrelay.Event, n)
	for i := range out {
		out[i] = auditrelay.Event{
			ID:       fmt.Sprintf("ev-%03d", i),
			Time:     time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC),
			Action:   auditrelay.Action{Name: "Namespace:List", Verb: auditrelay.VerbRead},
			Outcome:  auditrelay.Outcome{Result: auditrelay.ResultSuccess, StatusCode: 200},
			Severity: 1,
		}
	}
	return out
}

func settings(f auditrelay.Format) auditrelay.OutputSettings {
	return auditrelay.OutputSettings{Name: "archive", Format: f, FormatName: "json"}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestStdoutNDJSON(t *testing.T) {
	var w countingWriter
	out, err := file.New(file.DefaultConfig(), settings(jsonformat.New()), file.WithStdout(&w))
	if err != nil {
		t.Fatal(err)
	}
	evs := events(3)
	if err := out.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if w.calls != 1 {
		t.Errorf("%d write calls for one batch", w.calls)
	}
	lines := strings.Split(w.String(), "\n")
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("output %q", w.String())
	}
	for i, line := range lines[:3] {
		var e auditrelay.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.ID != evs[i].ID {
			t.Errorf("line %d %q: %v", i, line, err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Write(context.Background(), evs); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestFileAppendsCEF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.cef")
	if err := os.WriteFile(path, []byte("existing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out, err := file.New(file.Config{Path: path}, settings(lineFormat{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Write(context.Background(), events(2)); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	want := "existing\n" + strings.Repeat("CEF:0|OpenFaaS|OpenFaaS|1.0|x|y|3|externalId=ev-000\nCEF:0|OpenFaaS|OpenFaaS|1.0|x|y|3|externalId=ev-001\n", 2)
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestFileCreatedPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.ndjson")
	out, err := file.New(file.Config{Path: path}, settings(jsonformat.New()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("mode %v, want 0600", perm)
	}
}

func TestErrors(t *testing.T) {
	if err := (file.Config{}).Validate(); err == nil || !strings.Contains(err.Error(), `"path"`) {
		t.Errorf("Validate: %v", err)
	}
	_, err := file.New(file.Config{Path: filepath.Join(t.TempDir(), "missing", "dir", "x")}, settings(jsonformat.New()))
	if err == nil || !strings.Contains(err.Error(), "open") {
		t.Errorf("New on a missing directory: %v", err)
	}
	out, err := file.New(file.DefaultConfig(), settings(jsonformat.New()), file.WithStdout(failing{}))
	if err != nil {
		t.Fatal(err)
	}
	var de *auditrelay.DeliveryError
	if err := out.Write(context.Background(), events(1)); !errors.As(err, &de) || de.Permanent || de.Delivered != 0 {
		t.Errorf("failed write: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := out.Write(ctx, events(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSampleTOML(t *testing.T) {
	var doc struct {
		Outputs map[string]toml.Primitive `toml:"outputs"`
	}
	md, err := toml.DecodeFile("sample.toml", &doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, prim := range doc.Outputs {
		var sec struct {
			file.Config
			Type   string `toml:"type"`
			Format string `toml:"format"`
		}
		sec.Config = file.DefaultConfig()
		if err := md.PrimitiveDecode(prim, &sec); err != nil {
			t.Fatal(err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("unknown keys %v", u)
		}
		if sec.Type != "file" || sec.Config.Path == file.Stdout {
			t.Errorf("%s: %+v", name, sec)
		}
		if err := sec.Config.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkWriteFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.ndjson")
	out, err := file.New(file.Config{Path: path}, settings(jsonformat.New()))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	evs := events(1000)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := out.Write(context.Background(), evs); err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	st, _ := os.Stat(path)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Size())/float64(n), "bytes/event")
}
