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
func (a *Adapter) resourceOf(path string, actions []string, namespace string) auditrelay.Resource {
	path, query, _ := strings.Cut(path, "?")
	r := a.paths.Resolve(path)
	if len(actions) > 0 {
		if t, _, _ := strings.Cut(actions[0], ":"); t != "" {
			r.Type = t
		}
	}
	if ns := queryNamespace(query); ns != "" {
		r.Namespace = ns
	}
	if namespace != "" {
		r.Namespace = namespace
	}
	return r
}

// queryNamespace is url.ParseQuery(query).Get("namespace"), or "" when
// ParseQuery reports an error. A query with nothing to unescape and no
// semicolon is read in place, without ParseQuery's map.
func queryNamespace(query string) string {
	if query == "" {
		return ""
	}
	if strings.ContainsAny(query, "%+;") || strings.Count(query, "&") > 100 {
		q, err := url.ParseQuery(query)
		if err != nil {
			return ""
		}
		return q.Get("namespace")
	}
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if key, value, _ := strings.Cut(pair, "="); key == "namespace" {
			return value
		}
	}
	return ""
}
