package auditrelay

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Redacted is how a Secret prints.
const Redacted = "[redacted]"

// Secret holds a token, key or Authorization value. It prints as
// "[redacted]" through fmt, encoding and slog; only Reveal gives the value.
type Secret struct{ value string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret's value, for the one place that must send it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.value != "" }

// Equal compares in constant time.
func (s Secret) Equal(v string) bool {
	return subtle.ConstantTimeCompare([]byte(s.value), []byte(v)) == 1
}

func (s Secret) String() string               { return s.mask() }
func (s Secret) GoString() string             { return s.mask() }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(s.mask()) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
func (s Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(s.mask())) }

// UnmarshalText takes the secret's value.
func (s *Secret) UnmarshalText(b []byte) error {
	s.value = string(b)
	return nil
}

func (s Secret) mask() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// Duration is a time.Duration written as "30s", "10m" or "1h30m".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("duration %q: write it as 500ms, 30s, 10m or 1h: %w", b, err)
	}
	if v < 0 {
		return fmt.Errorf("duration %q must not be negative", b)
	}
	*d = Duration(v)
	return nil
}

// Size is a byte count written as a number or with a unit: B, KB, MB, GB
// (powers of 1000) or KiB, MiB, GiB (powers of 1024).
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

func (s Size) String() string {
	for _, u := range sizeUnits[:4] {
		if s >= Size(u.mult) && int64(s)%u.mult == 0 && (s < Size(u.mult)<<10 || u.suffix == "TiB") {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
		}
	}
	for _, u := range sizeUnits[4:8] {
		if s >= Size(u.mult) && int64(s)%u.mult == 0 && (s < Size(u.mult)*1000 || u.suffix == "TB") {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Size) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	mult := int64(1)
	num := text
	for _, u := range sizeUnits {
		if strings.HasSuffix(text, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(text, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("size %q: write it as a whole number of bytes or with a unit such as 64KiB, 10MiB, 1MB, 1GiB", text)
	}
	if n > (1<<62)/mult {
		return fmt.Errorf("size %q is too large", text)
	}
	*s = Size(n * mult)
	return nil
}
