package pathres

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

var _ = golden.Update // accept go test ./... -update

const uuid = "16787ed7-d805-434a-9cec-5e5a3e5c9e4f"

func res(typ, id, name, ns string) auditrelay.Resource {
	return auditrelay.Resource{Type: typ, ID: id, Name: name, Namespace: ns}
}

func mustNew(t testing.TB, c Config) *Resolver {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKong(t *testing.T) {
	r := mustNew(t, Kong())
	for _, tc := range []struct {
		path string
		want auditrelay.Resource
	}{
		{"/services", res("services", "", "", "")},
		{"/services/", res("services", "", "", "")},
		{"/services/example-service", res("services", "", "example-service", "")},
		{"/services/" + uuid, res("services", uuid, "", "")},
		{"/services/" + uuid + "-x", res("services", "", uuid+"-x", "")},
		{"/default/services/example-service", res("services", "", "example-service", "default")},
		{"/team-a/routes/" + uuid + "?tags=x", res("routes", uuid, "", "team-a")},
		{"/services/svc/routes", res("routes", "", "", "")},
		{"/services/svc/routes/r1", res("routes", "", "r1", "")},
		{"/ws/services/svc/plugins/" + uuid, res("plugins", uuid, "", "ws")},
		{"/consumers/Ada%20Lovelace", res("consumers", "", "Ada Lovelace", "")},
		{"/consumers/bob/key-auth", res("keyauth_credentials", "", "", "")},
		{"/upstreams/up/targets/10.0.0.5:8080", res("targets", "", "10.0.0.5:8080", "")},
		{"/certificates/" + uuid + "/snis", res("snis", "", "", "")},
		{"/rbac/users/alice", res("rbac_users", "", "alice", "")},
		{"/rbac/roles/ops/endpoints", res("rbac_role_endpoints", "", "", "")},
		{"/default/rbac/users/" + uuid + "/roles", res("rbac_roles", "", "", "default")},
		{"/workspaces/team-a", res("workspaces", "", "team-a", "")},
		{"/admins/kong_admin", res("admins", "", "kong_admin", "")},
		{"/event-hooks/" + uuid, res("event_hooks", uuid, "", "")},
		{"/services/routes", res("services", "", "routes", "")},
		{"/schemas/plugins/key-auth", res("schemas", "", "plugins/key-auth", "")},
		{"/status", res("", "", "", "")},
		{"/auth", res("", "", "", "")},
		{"/audit/requests?size=10", res("", "", "", "")},
		{"/", res("", "", "", "")},
		{"", res("", "", "", "")},
		{"/default/status/x", res("", "", "", "")},
	} {
		if got := r.Resolve(tc.path); got != tc.want {
			t.Errorf("Resolve(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func TestOpenFaaS(t *testing.T) {
	r := mustNew(t, OpenFaaS())
	for _, tc := range []struct {
		path string
		want auditrelay.Resource
	}{
		{"/system/function/nodeinfo", res("Function", "", "nodeinfo", "")},
		{"/system/function/nodeinfo?namespace=openfaas-fn", res("Function", "", "nodeinfo", "")},
		{"/system/function/", res("Function", "", "", "")},
		{"/system/scale-function/nodeinfo", res("Function", "", "nodeinfo", "")},
		{"/system/function-logs/nodeinfo", res("Function", "", "nodeinfo", "")},
		{"/system/functions", res("Function", "", "", "")},
		{"/system/namespace/team-a", res("Namespace", "", "team-a", "")},
		{"/system/namespaces", res("Namespace", "", "", "")},
		{"/system/secrets", res("Secret", "", "", "")},
		{"/system/secret/db-password", res("Secret", "", "db-password", "")},
		{"/system/function/ƒunc-名前", res("Function", "", "ƒunc-名前", "")},
		{"/system/info", res("", "", "", "")},
		{"/function/nodeinfo", res("", "", "", "")},
	} {
		if got := r.Resolve(tc.path); got != tc.want {
			t.Errorf("Resolve(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func TestCustomPatterns(t *testing.T) {
	c := Kong()
	c.Patterns = []string{`^/api/(?P<type>widgets)/%{KONGREF}$`, `^/tenants/%{WORD:namespace}/`}
	r := mustNew(t, c)
	if got, want := r.Resolve("/api/widgets/w1"), res("widgets", "", "w1", ""); got != want {
		t.Errorf("custom pattern: %+v, want %+v", got, want)
	}
	if got, want := r.Resolve("/tenants/acme/x"), res("", "", "", "acme"); got != want {
		t.Errorf("custom pattern: %+v, want %+v", got, want)
	}
	if got := r.Resolve("/services/svc"); got != (auditrelay.Resource{}) {
		t.Errorf("path_patterns should replace the defaults, got %+v", got)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		pattern, want string
	}{
		{"", "is empty"},
		{"   ", "is empty"},
		{`^/(?P<type>services`, "missing closing )"},
		{`^/%{NOSUCHPATTERN:type}`, "no pattern found"},
		{`^/services/%{UUID:service_id}`, "captures none of type, id, name, namespace"},
		{`^/services/[a-z]+$`, "captures none"},
	} {
		_, err := New(Config{Patterns: []string{`^/ok/%{WORD:name}`, tc.pattern}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "path_patterns[1]") {
			t.Errorf("pattern %q: err = %v, want path_patterns[1] … %q", tc.pattern, err, tc.want)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	c := Kong()
	c.CacheSize = 8
	r := mustNew(t, c)
	for i := range 100 {
		r.Resolve(fmt.Sprintf("/services/s%d?offset=%d", i, i))
	}
	if n := r.cache.len(); n != 8 {
		t.Errorf("cache holds %d paths, want 8", n)
	}
	if _, ok := r.cache.get("/services/s99"); !ok {
		t.Error("cache key should be the path without its query")
	}
}

func TestConcurrent(t *testing.T) {
	c := Kong()
	c.CacheSize = 16
	r := mustNew(t, c)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprintf("s%d", (i+w)%40)
				if got := r.Resolve("/ws/services/" + name); got != res("services", "", name, "ws") {
					t.Errorf("Resolve = %+v", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

var paths = []string{
	"/services/example-service",
	"/default/routes/" + uuid,
	"/services/svc/plugins",
	"/rbac/users/alice/roles",
	"/status",
	"/consumers/bob/key-auth/" + uuid,
}

func BenchmarkResolve(b *testing.B) {
	r := mustNew(b, Kong())
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r.Resolve(paths[i%len(paths)])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r.resolve(paths[i%len(paths)])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
	})
}

// TestCachedPathRunsNoPattern holds the cache to its purpose: resolving a
// cached path runs no pattern (grok allocates its match map; a cache hit
// allocates nothing), for every path of a working set of two per set.
func TestCachedPathRunsNoPattern(t *testing.T) {
	r := mustNew(t, Kong())
	for _, p := range paths {
		r.Resolve(p)
	}
	if a := testing.AllocsPerRun(100, func() { r.resolve(paths[0]) }); a == 0 {
		t.Fatal("running the patterns allocates nothing: this test cannot tell a hit from a miss")
	}
	for _, p := range paths {
		want := r.resolve(p)
		if a := testing.AllocsPerRun(100, func() {
			if got := r.Resolve(p); got != want {
				t.Fatalf("Resolve(%q) = %+v, want %+v", p, got, want)
			}
		}); a != 0 {
			t.Errorf("Resolve(%q) allocates %.0f times per call: not served from the cache", p, a)
		}
	}
}

// TestCacheKeepsTwoPerSet fills one set with two paths and checks both
// stay; a third evicts one of them, never itself.
func TestCacheKeepsTwoPerSet(t *testing.T) {
	c := newCache(2) // one set
	a, b := auditrelay.Resource{Name: "a"}, auditrelay.Resource{Name: "b"}
	c.add("/a", a)
	c.add("/b", b)
	if got, ok := c.get("/a"); !ok || got != a {
		t.Fatalf("get(/a) = %+v, %v", got, ok)
	}
	if got, ok := c.get("/b"); !ok || got != b {
		t.Fatalf("get(/b) = %+v, %v", got, ok)
	}
	c.add("/c", auditrelay.Resource{Name: "c"})
	_, okA := c.get("/a")
	_, okB := c.get("/b")
	if _, ok := c.get("/c"); !ok || okA == okB {
		t.Fatalf("after a third path: /a %v, /b %v, /c %v; want /c and one of the others", okA, okB, ok)
	}
}
