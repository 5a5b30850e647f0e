package konnect

import (
	"strings"
	"testing"
	"time"
)

func TestParseCEF(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		vendor     string
		sigName    string
		ext        []field
	}{
		{
			name:    "reference authorization entry",
			line:    `2025-05-19T00:03:39Z konghq.com CEF:0|KongInc|Konnect|1.0|konnect|Authz.portals|1|rt=1747613019000 src=127.0.0.6 action=retrieve actor_id= trace_id=8809518331550410226 user_agent=grpc-node/1.24.11 grpc-c/8.0.0 (linux; chttp2; ganges) sig=N_4q`,
			vendor:  "KongInc",
			sigName: "Authz.portals",
			ext: []field{{"rt", "1747613019000"}, {"src", "127.0.0.6"}, {"action", "retrieve"}, {"actor_id", ""},
				{"trace_id", "8809518331550410226"}, {"user_agent", "grpc-node/1.24.11 grpc-c/8.0.0 (linux; chttp2; ganges)"}, {"sig", "N_4q"}},
		},
		{
			name:    "header escapes",
			line:    `CEF:0|Kong\|Inc|Kon\\nect|1.0|id|a\|b\\c|1|k=v`,
			vendor:  "Kong|Inc",
			sigName: `a|b\c`,
			ext:     []field{{"k", "v"}},
		},
		{
			name:    "extension escapes",
			line:    `CEF:0|V|P|1|id|n|1|a=x\=y b=back\\slash c=one\ntwo\rthree d=pipe\|kept e=\q`,
			vendor:  "V",
			sigName: "n",
			ext:     []field{{"a", "x=y"}, {"b", `back\slash`}, {"c", "one\ntwo\rthree"}, {"d", "pipe|kept"}, {"e", `\q`}},
		},
		{
			name:    "empty values, last one too",
			line:    `CEF:0|V|P|1|id|n|1|a= b= c=`,
			vendor:  "V",
			sigName: "n",
			ext:     []field{{"a", ""}, {"b", ""}, {"c", ""}},
		},
		{
			name:    "unescaped = inside a value and trailing spaces",
			line:    `CEF:0|V|P|1|id|n|1|q=a=b x==y  z=1  `,
			vendor:  "V",
			sigName: "n",
			ext:     []field{{"q", "a=b"}, {"x", "=y"}, {"z", "1"}},
		},
		{
			name:    "empty extension",
			line:    `CEF:0|V|P|1|id|n|1|`,
			vendor:  "V",
			sigName: "n",
		},
	} {
		c, err := parseCEF([]byte(tc.line), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if c.vendor != tc.vendor || c.name != tc.sigName {
			t.Errorf("%s: vendor %q name %q", tc.name, c.vendor, c.name)
		}
		if len(c.ext) != len(tc.ext) {
			t.Errorf("%s: ext %q, want %q", tc.name, c.ext, tc.ext)
			continue
		}
		for i := range c.ext {
			if c.ext[i] != tc.ext[i] {
				t.Errorf("%s: ext[%d] %q, want %q", tc.name, i, c.ext[i], tc.ext[i])
			}
		}
	}
}

func TestParseCEFErrors(t *testing.T) {
	for line, want := range map[string]string{
		`hello world`:                   "neither JSON nor CEF",
		`CEF:0|V|P|1|id|n`:              "CEF header has 5 of 7",
		`CEF:0|V|P|1|id|n|1|no pairs`:   "no key=value",
		`CEF:0|V|P|1|id|n|1|junk a=b`:   "does not start with key=value",
		`CEF:0|V|P|1|id|n|1|=b`:         "does not start with key=value",
		`CEF:0|V|P|1|id|n\|1|a=b`:       "CEF header has 6 of 7",
		`2025 konghq.com CEF:0|V|P|1|x`: "CEF header has 4 of 7",
	} {
		_, err := parseCEF([]byte(line), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", line, err, want)
		}
	}
}

func TestPrefixTime(t *testing.T) {
	rec := time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)
	for prefix, want := range map[string]string{
		"2025-06-18T21:02:36Z konghq.com":      "2025-06-18T21:02:36Z",
		"2025-06-18T23:02:36+02:00 konghq.com": "2025-06-18T21:02:36Z",
		"Jun 18 21:02:36 konghq.com":           "2025-06-18T21:02:36Z",
		"Jun 21 11:00:00 konghq.com":           "2025-06-21T11:00:00Z", // clocks a little ahead
		"Dec 31 23:59:59 konghq.com":           "2024-12-31T23:59:59Z",
		"<134>Jan  2 03:04:05 konghq.com":      "2025-01-02T03:04:05Z",
		"konghq.com":                           "0001-01-01T00:00:00Z",
		"":                                     "0001-01-01T00:00:00Z",
	} {
		if got := prefixTime(prefix, rec).Format(time.RFC3339); got != want {
			t.Errorf("%q: %s, want %s", prefix, got, want)
		}
	}
	if got := prefixTime("Jun 18 21:02:36 konghq.com", time.Time{}); !got.IsZero() {
		t.Errorf("syslog stamp without a receive time: %v", got)
	}
}

// escHeader and escValue write CEF the way a conforming producer does.
func escHeader(s string) string {
	return strings.NewReplacer(`\`, `\\`, `|`, `\|`).Replace(s)
}

func escValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// FuzzCEF round-trips header fields and extension values through a
// conforming CEF writer and parseCEF, and checks parseCEF never panics on
// the raw line.
func FuzzCEF(f *testing.F) {
	f.Add("Authz.portals", "grpc-node/1.24.11 grpc-c/8.0.0 (linux; chttp2; ganges)", "")
	f.Add(`a|b\c`, `x=y \ z`, "trace_id=1 k=v")
	f.Add("", "", "=")
	f.Add("Ingress", "line1\nline2\r", `CEF:0|V|P|1|id|n|1|a=b`)
	f.Fuzz(func(t *testing.T, name, value, raw string) {
		_, _ = parseCEF([]byte(raw), nil)
		line := "2025-06-18T21:02:36Z konghq.com CEF:0|KongInc|Konnect|1.0|" + escHeader(name) + "|" + escHeader(name) +
			"|1|user_agent=" + escValue(value) + " src=10.0.0.1 empty="
		c, err := parseCEF([]byte(line), nil)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if c.name != name || c.signatureID != name {
			t.Fatalf("header %q → %q", name, c.name)
		}
		want := strings.TrimRight(value, " ")
		if len(c.ext) != 3 || c.ext[0] != (field{"user_agent", want}) || c.ext[1] != (field{"src", "10.0.0.1"}) || c.ext[2] != (field{"empty", ""}) {
			t.Fatalf("value %q → %q", value, c.ext)
		}
	})
}
