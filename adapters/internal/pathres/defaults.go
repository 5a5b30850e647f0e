package pathres

// OpenFaaS is the default configuration for OpenFaaS gateway paths:
//
//	/system/function/{name}        Function {name}
//	/system/scale-function/{name}  Function {name}
//	/system/function-logs/{name}   Function {name}
//	/system/functions              Function
//	/system/namespace/{name}       Namespace {name}
//	/system/namespaces             Namespace
//	/system/secret/{name}          Secret {name}
//	/system/secrets[/{name}]       Secret [{name}]
//
// A name is everything after the kind, slashes included, as the gateway
// reads it. Paths such as /system/info name no resource.
func OpenFaaS() Config {
	return Config{
		Patterns: []string{
			`^/system/(?P<type>function|scale-function|function-logs|namespace|secrets?)(?:/(?P<name>.*))?$`,
			`^/system/(?P<type>functions|namespaces)/?$`,
		},
		Types: map[string]string{
			"function":       "Function",
			"functions":      "Function",
			"scale-function": "Function",
			"function-logs":  "Function",
			"namespace":      "Namespace",
			"namespaces":     "Namespace",
			"secret":         "Secret",
			"secrets":        "Secret",
		},
	}
}

// Kong is the default configuration for Kong Gateway Admin API paths, with
// or without a workspace prefix, nested collections included:
//
//	[/{workspace}]/{collection}[/{id or name}]
//	[/{workspace}]/{collection}/{id or name}/…/{collection}[/{id or name}]
//
// e.g. /services/{svc}, /default/routes/{id}, /services/{svc}/routes,
// /upstreams/{up}/targets/{t}, /rbac/roles/{r}/endpoints. The last
// collection is the type, reported by its database name (rbac/users →
// rbac_users, key-auth → keyauth_credentials); a UUID segment is the id,
// any other the name; the workspace prefix is the namespace. The variant
// without a workspace is tried first, so /services/routes is the service
// named "routes". /schemas/{name} is type schemas, so that /schemas/…
// is not read as a workspace named "schemas".
//
// Patterns in a path_patterns setting may use the definitions KONGCOLL
// (the collection names), KONGSEG (one path segment) and KONGREF (a UUID
// captured as id, or a segment captured as name).
func Kong() Config {
	return Config{
		Definitions: map[string]string{
			"KONGSEG": `[^/]+`,
			"KONGCOLL": `services|routes|consumers|plugins|upstreams|targets|certificates|ca_certificates|snis|` +
				`workspaces|admins|consumer_groups|vaults|keys|key-sets|event-hooks|licenses|developers|files|` +
				`rbac/users|rbac/roles|roles|endpoints|entities|` +
				`key-auth|key-auths|basic-auth|basic-auths|hmac-auth|hmac-auths|jwt|jwts|oauth2|oauth2_tokens|` +
				`acls|mtls-auth|mtls-auths|partials|filter-chains|custom-plugins`,
			"KONGREF": `(?:%{UUID:id}|%{KONGSEG:name})`,
		},
		Patterns: []string{
			`^/(?P<type>schemas)/(?P<name>.+)$`,
			`^(?:/(?:%{KONGCOLL})/%{KONGSEG})*/(?P<type>%{KONGCOLL})(?:/%{KONGREF})?/?$`,
			`^/%{KONGSEG:namespace}(?:/(?:%{KONGCOLL})/%{KONGSEG})*/(?P<type>%{KONGCOLL})(?:/%{KONGREF})?/?$`,
		},
		Types: map[string]string{
			"rbac/users":     "rbac_users",
			"rbac/roles":     "rbac_roles",
			"roles":          "rbac_roles",
			"endpoints":      "rbac_role_endpoints",
			"entities":       "rbac_role_entities",
			"key-sets":       "key_sets",
			"event-hooks":    "event_hooks",
			"key-auth":       "keyauth_credentials",
			"key-auths":      "keyauth_credentials",
			"basic-auth":     "basicauth_credentials",
			"basic-auths":    "basicauth_credentials",
			"hmac-auth":      "hmacauth_credentials",
			"hmac-auths":     "hmacauth_credentials",
			"jwt":            "jwt_secrets",
			"jwts":           "jwt_secrets",
			"oauth2":         "oauth2_credentials",
			"mtls-auth":      "mtls_auth_credentials",
			"mtls-auths":     "mtls_auth_credentials",
			"filter-chains":  "filter_chains",
			"custom-plugins": "custom_plugins",
		},
	}
}
