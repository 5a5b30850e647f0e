// Package pathres finds the resource an API request acted on from its
// path, for adapters whose source reports a request path but no resource
// (Kong audit request records, OpenFaaS api_access events).
//
// A Resolver tries grok expressions (github.com/vjeantet/grok) in order
// against the path without its query string; the first that matches gives
// the resource from its named captures:
//
//	type       resource.type (mapped through Config.Types)
//	id         resource.id
//	name       resource.name
//	namespace  resource.namespace
//
// Captured values are percent-decoded. A capture may be a grok semantic
// (%{UUID:id}) or a regexp group ((?P<type>services)); alternation picks
// between them, e.g. (?:%{UUID:id}|%{KONGSEG:name}) reads a UUID segment as
// an id and any other as a name. Other named captures are ignored.
//
// Patterns compile once in New. Results, misses included, are kept in a
// bounded cache (DefaultCacheSize paths) keyed by the path without its
// query, so a busy path costs one cache look-up. The cache takes no lock
// (concurrent requests of an input share one Resolver): it is two-way set
// associative, so a new path evicts one of the two paths its set holds
// rather than the least recently used one. A Resolver is safe for
// concurrent use.
//
// OpenFaaS and Kong return the default configurations of the two adapters;
// an input's path_patterns setting replaces their Patterns and keeps their
// Definitions and Types.
package pathres
