package openfaas

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay"
)

func TestPathPatterns(t *testing.T) {
	a, err := New(Config{PathPatterns: []string{`^/custom/(?P<type>fn)/%{NOTSPACE:name}$`}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Parse([]byte(`[{"path":"/custom/fn/nodeinfo?namespace=dev","method":"GET"}]`), auditrelay.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Events[0].Resource; r != (auditrelay.Resource{Type: "fn", Name: "nodeinfo", Namespace: "dev"}) {
		t.Errorf("custom pattern gave %+v", r)
	}
	if _, err := New(Config{PathPatterns: []string{`^/(?P<name>x`}}); err == nil || !strings.Contains(err.Error(), "path_patterns[0]") {
		t.Errorf("bad pattern: %v", err)
	}
	if err := (Config{PathPatterns: []string{""}}).Validate(); err == nil {
		t.Error("Validate accepted an empty pattern")
	}
}

func TestDefaultPathTypes(t *testing.T) {
	a, _ := New(DefaultConfig())
	for path, want := range map[string]auditrelay.Resource{
		"/system/namespaces":          {Type: "Namespace"},
		"/system/secrets?namespace=x": {Type: "Secret", Namespace: "x"},
		"/system/scale-function/fn":   {Type: "Function", Name: "fn"},
		"/system/function/my%20fn":    {Type: "Function", Name: "my fn"},
		"/system/info":                {},
	} {
		p, err := a.Parse([]byte(`[{"path":"`+path+`","method":"GET"}]`), auditrelay.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Events[0].Resource; got != want {
			t.Errorf("%s: %+v, want %+v", path, got, want)
		}
	}
}
