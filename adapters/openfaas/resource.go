package openfaas

import (
	"net/url"
	"strings"

	"github.com/auditrelay/auditrelay"
)

// resourceOf derives the resource: its name (and type) from the REST path
// by the adapter's path patterns (pathres.OpenFaaS unless path_patterns
// replaces them), its type from the first action's prefix (Function:Create
// → Function) where there is one, its namespace from the namespace query
// parameter, the event's namespace field winning.
func (a *Adapter) resourceOf(src *event) auditrelay.Resource {
	path, query, _ := strings.Cut(src.Path, "?")
	r := a.paths.Resolve(path)
	if len(src.Actions) > 0 {
		if t, _, _ := strings.Cut(src.Actions[0], ":"); t != "" {
			r.Type = t
		}
	}
	if q, err := url.ParseQuery(query); err == nil && q.Get("namespace") != "" {
		r.Namespace = q.Get("namespace")
	}
	if src.Namespace != "" {
		r.Namespace = src.Namespace
	}
	return r
}
