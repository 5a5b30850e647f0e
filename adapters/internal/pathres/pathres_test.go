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
	if n := r.cache.Len(); n != 8 {
		t.Errorf("cache holds %d paths, want 8", n)
	}
	if _, ok := r.cache.Get("/services/s99"); !ok {
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

// TestCacheSpeedup holds the cache to its purpose: a cached look-up is at
// least ten times faster than running the patterns.
func TestCacheSpeedup(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test")
	}
	cached := testing.Benchmark(func(b *testing.B) {
		r := mustNew(b, Kong())
		for i := 0; b.Loop(); i++ {
			r.Resolve(paths[i%len(paths)])
		}
	})
	uncached := testing.Benchmark(func(b *testing.B) {
		r := mustNew(b, Kong())
		for i := 0; b.Loop(); i++ {
			r.resolve(paths[i%len(paths)])
		}
	})
	ratio := float64(uncached.NsPerOp()) / float64(max(cached.NsPerOp(), 1))
	t.Logf("cached %d ns/path, uncached %d ns/path: %.0f×", cached.NsPerOp(), uncached.NsPerOp(), ratio)
	if ratio < 10 {
		t.Errorf("cache speed-up %.1f×, want ≥ 10×", ratio)
	}
}
