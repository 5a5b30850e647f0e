package kongadmin

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/auditrelay/auditrelay"
)

func validConfig() Config {
	c := DefaultConfig()
	c.URL = "https://kong.example:8444"
	return c
}

func TestDefaultsValidate(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Interval.D() != 10*time.Second || c.PageSize != 1000 || c.StartFrom != "now" || len(c.Endpoints) != 2 ||
		c.Retry != auditrelay.DefaultRetryPolicy() || c.Timeout.D() != 10*time.Second || c.Lookback.D() != 30*time.Second {
		t.Fatalf("defaults %+v", c)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"no url", func(c *Config) { c.URL = "" }, []string{`requires a non-empty "url"`}},
		{"plain http", func(c *Config) { c.URL = "http://kong:8001" }, []string{"allow_http"}},
		{"plain http allowed", func(c *Config) { c.URL, c.AllowHTTP = "http://kong:8001", true }, nil},
		{"every problem at once", func(c *Config) {
			c.Interval, c.PageSize, c.Endpoints = 0, 1001, []string{"requests", "requests", "consumers"}
			c.StartFrom, c.Workspace = "yesterday", "a/b"
			c.AdminToken = auditrelay.NewSecret("tok\nen")
		}, []string{`"interval"`, `"page_size" is 1001`, `lists "requests" twice`, `"consumers"`, `"start_from" "yesterday"`, `"workspace" "a/b"`, `"admin_token" holds a line break`}},
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, []string{`"endpoints" is empty`}},
		{"retry", func(c *Config) {
			c.Retry.MaxRetries, c.Retry.WaitMin, c.Retry.WaitMax = -1, auditrelay.Duration(time.Minute), auditrelay.Duration(time.Second)
		}, []string{`"retry.max_retries"`, `"retry.wait_min"`}},
		{"path patterns", func(c *Config) { c.PathPatterns = []string{" "} }, []string{`"path_patterns" entry 1`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "tok\nen") {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestParseStart(t *testing.T) {
	cases := []struct {
		in       string
		at       int64
		earliest bool
		err      bool
	}{
		{"now", 0, false, false},
		{"", 0, false, false},
		{"earliest", 0, true, false},
		{"1750204800", 1750204800, false, false},
		{"2025-06-18T00:00:00Z", 1750204800, false, false},
		{"2025-06-18T02:00:00.9+02:00", 1750204800, false, false},
		{"-5", 0, false, true},
		{"1750204800.5", 0, false, true},
		{"2025-06-18", 0, false, true},
		{"Now", 0, false, true},
	}
	for _, c := range cases {
		at, earliest, err := ParseStart(c.in)
		if (err != nil) != c.err || at != c.at || earliest != c.earliest {
			t.Errorf("%q: %d %v %v", c.in, at, earliest, err)
		}
	}
}

// The sample decodes strictly over the defaults and validates.
func TestSample(t *testing.T) {
	text, err := os.ReadFile("sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Inputs map[string]toml.Primitive }
	md, err := toml.Decode(string(text), &file)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Inputs) != 1 {
		t.Fatalf("%d inputs", len(file.Inputs))
	}
	for name, p := range file.Inputs {
		var common struct {
			Adapter    string `toml:"adapter"`
			IncludeRaw bool   `toml:"include_raw"`
		}
		c := DefaultConfig()
		if err := md.PrimitiveDecode(p, &common); err != nil {
			t.Fatal(err)
		}
		if err := md.PrimitiveDecode(p, &c); err != nil {
			t.Fatal(err)
		}
		if common.Adapter != Kind {
			t.Fatalf("input %s: adapter %q", name, common.Adapter)
		}
		if keys := md.Undecoded(); len(keys) > 0 {
			t.Fatalf("undecoded keys %v", keys)
		}
		c.AdminToken = auditrelay.NewSecret("read from admin_token_file by the loader")
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.URL == "" || c.AdminTokenFile == "" || c.Retry != auditrelay.DefaultRetryPolicy() {
			t.Fatalf("sample decoded as %+v", c)
		}
	}
}

func TestNewNeedsRuntime(t *testing.T) {
	if _, err := New(validConfig(), auditrelay.PullSettings{}); err == nil {
		t.Fatal("built without a sink")
	}
	c := validConfig()
	c.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := New(c, auditrelay.PullSettings{Sink: newSink(), StateDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Fatalf("missing CA file: %v", err)
	}
}

func TestEndpointsReplaceDefault(t *testing.T) {
	c := DefaultConfig()
	if _, err := toml.Decode(`endpoints = ["objects"]`, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Endpoints) != 1 || c.Endpoints[0] != EndpointObjects {
		t.Fatalf("endpoints %v", c.Endpoints)
	}
}
