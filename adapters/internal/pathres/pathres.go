package pathres

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/vjeantet/grok"

	"github.com/auditrelay/auditrelay"
)

// DefaultCacheSize is how many distinct paths a Resolver remembers.
const DefaultCacheSize = 4096

// Capture names a pattern may use; any other named capture is ignored.
const (
	CaptureType      = "type"
	CaptureID        = "id"
	CaptureName      = "name"
	CaptureNamespace = "namespace"
)

// Config says how a Resolver reads paths.
type Config struct {
	// Patterns are grok expressions tried in order against a request path
	// without its query string; the first that matches wins. Each must
	// capture at least one of type, id, name or namespace.
	Patterns []string
	// Definitions are extra grok pattern definitions (NAME → expression)
	// that Patterns may use as %{NAME}, next to grok's own (UUID, WORD, …).
	Definitions map[string]string
	// Types maps a captured type to the type reported ("rbac/users" →
	// "rbac_users"); a type not in the map is reported as captured.
	Types map[string]string
	// CacheSize bounds the path cache; 0 means DefaultCacheSize.
	CacheSize int
}

// Resolver maps request paths to resources. It is safe for concurrent use.
type Resolver struct {
	grok     *grok.Grok
	patterns []string
	types    map[string]string
	cache    *cache
}

// captures finds the names a pattern captures: %{SYNTAX:name} or a regexp
// group (?P<name>…) / (?<name>…).
var captures = regexp.MustCompile(`%\{[\w.-]+:([\w.-]+)(?::\w+)?\}|\(\?P?<(\w+)>`)

// uses finds the definitions a pattern refers to: %{SYNTAX} or %{SYNTAX:x}.
var uses = regexp.MustCompile(`%\{([\w.-]+)[:}]`)

// New compiles c's patterns once. An error names the pattern that failed.
func New(c Config) (*Resolver, error) {
	g, err := grok.NewWithConfig(&grok.Config{NamedCapturesOnly: true, Patterns: c.Definitions})
	if err != nil {
		return nil, fmt.Errorf("path patterns: definitions: %w", err)
	}
	var errs []error
	for i, p := range c.Patterns {
		if err := check(g, p, c.Definitions); err != nil {
			errs = append(errs, fmt.Errorf("path_patterns[%d] %q: %w", i, p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	size := c.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Resolver{grok: g, patterns: append([]string(nil), c.Patterns...), types: c.Types, cache: newCache(size)}, nil
}

// check compiles p (grok keeps the compiled form) and makes sure it
// captures something a Resource can hold.
// A capture inside a definition the pattern uses (%{KONGREF}) counts.
func check(g *grok.Grok, p string, defs map[string]string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("is empty")
	}
	if _, err := g.Match(p, ""); err != nil {
		return err
	}
	text := p
	for _, m := range uses.FindAllStringSubmatch(p, -1) {
		text += defs[m[1]]
	}
	for _, m := range captures.FindAllStringSubmatch(text, -1) {
		switch m[1] + m[2] {
		case CaptureType, CaptureID, CaptureName, CaptureNamespace:
			return nil
		}
	}
	return errors.New("captures none of type, id, name, namespace: name a capture like %{UUID:id} or (?P<type>services)")
}

// Resolve returns the resource the first matching pattern finds in path
// (its query string ignored), or the zero Resource when none matches.
// Results are cached by path.
func (r *Resolver) Resolve(path string) auditrelay.Resource {
	path, _, _ = strings.Cut(path, "?")
	if res, ok := r.cache.get(path); ok {
		return res
	}
	res := r.resolve(path)
	r.cache.add(path, res)
	return res
}

// resolve runs the patterns without the cache.
func (r *Resolver) resolve(path string) auditrelay.Resource {
	for _, p := range r.patterns {
		m, err := r.grok.Parse(p, path)
		if err != nil || len(m) == 0 {
			continue
		}
		res := auditrelay.Resource{
			Type:      unescape(m[CaptureType]),
			ID:        unescape(m[CaptureID]),
			Name:      unescape(m[CaptureName]),
			Namespace: unescape(m[CaptureNamespace]),
		}
		if t, ok := r.types[res.Type]; ok {
			res.Type = t
		}
		return res
	}
	return auditrelay.Resource{}
}

// unescape decodes %XX escapes in a captured path segment; a malformed
// escape leaves the text as it is.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
