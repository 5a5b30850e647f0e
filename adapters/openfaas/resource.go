package openfaas

import (
	"net/url"
	"strings"

	"github.com/auditrelay/auditrelay"
)

// resourceOf derives the resource: its type from the first action's prefix
// (Function:Create → Function), its name and namespace from the REST path
// and its namespace query parameter, the event's namespace field winning.
func resourceOf(src *event) auditrelay.Resource {
	var r auditrelay.Resource
	if len(src.Actions) > 0 {
		r.Type, _, _ = strings.Cut(src.Actions[0], ":")
	}
	path, query, _ := strings.Cut(src.Path, "?")
	if q, err := url.ParseQuery(query); err == nil {
		r.Namespace = q.Get("namespace")
	}
	rest, ok := strings.CutPrefix(path, "/system/")
	if ok {
		kind, name, _ := strings.Cut(rest, "/")
		switch kind {
		case "function", "scale-function", "function-logs":
			r.Name = name
		case "namespace":
			r.Name = name
			if r.Type == "" {
				r.Type = "Namespace"
			}
		case "secrets", "secret":
			r.Name = name
		}
		if r.Type == "" && (kind == "function" || kind == "functions") {
			r.Type = "Function"
		}
	}
	if src.Namespace != "" {
		r.Namespace = src.Namespace
	}
	return r
}
