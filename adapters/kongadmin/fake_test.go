package kongadmin

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeKong is a Kong Admin API serving GET /audit/requests and
// /audit/objects as Kong does: newest first, size (default 100, max
// 1000), after (inclusive) and before (exclusive) as epoch seconds or
// YYYY-MM-DDTHH:MM:SSZ only (400 otherwise), and positional offsets, so
// that rows inserted while a client pages shift the pages under it.
type fakeKong struct {
	srv *httptest.Server

	mu      sync.Mutex
	recs    map[string][]fakeRec // by endpoint
	seq     int
	token   string // required Kong-Admin-Token; empty: none
	prefix  string // path before /audit (base path, workspace)
	down    bool   // answer 503
	padding int    // bytes of payload per request record

	// keepFilters makes next links carry after/before (Kong's do not).
	keepFilters bool
	// onPage runs before each page request is answered, outside the lock.
	onPage func(n int64, r *http.Request)

	pages    atomic.Int64 // audit requests answered or refused
	refused  atomic.Int64 // 400s
	answered atomic.Int64 // 200s
}

type fakeRec struct {
	id  string
	ts  int64
	seq int
}

func newFake(t testing.TB) *fakeKong {
	f := &fakeKong{recs: map[string][]fakeRec{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeKong) set(fn func(f *fakeKong)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// add inserts n records of endpoint ep at second ts and returns their ids.
func (f *fakeKong) add(ep string, ts int64, n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, n)
	for i := range ids {
		f.seq++
		id := fmt.Sprintf("%s%029d", ep[:3], f.seq)
		ids[i] = id
		f.recs[ep] = append(f.recs[ep], fakeRec{id: id, ts: ts, seq: f.seq})
	}
	return ids
}

func (f *fakeKong) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, rs := range f.recs {
		n += len(rs)
	}
	return n
}

// all returns every id the fake holds.
func (f *fakeKong) all() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for _, rs := range f.recs {
		for _, r := range rs {
			out[r.id] = true
		}
	}
	return out
}

var kongTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

// parseBound reads after/before the way Kong does: epoch seconds or
// YYYY-MM-DDTHH:MM:SSZ, nothing else.
func parseBound(v string) (int64, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && !strings.HasPrefix(v, "+") {
		return n, true
	}
	if kongTime.MatchString(v) {
		t, err := time.Parse("2006-01-02T15:04:05Z", v)
		return t.Unix(), err == nil
	}
	return 0, false
}

func (f *fakeKong) fail(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusBadRequest {
		f.refused.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

func (f *fakeKong) serve(w http.ResponseWriter, r *http.Request) {
	n := f.pages.Add(1)
	f.mu.Lock()
	hook := f.onPage
	f.mu.Unlock()
	if hook != nil {
		hook(n, r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := strings.CutPrefix(r.URL.Path, f.prefix+"/audit/")
	if !ok || (ep != EndpointRequests && ep != EndpointObjects) || r.Method != http.MethodGet {
		f.fail(w, http.StatusNotFound, "Not found")
		return
	}
	if f.down {
		f.fail(w, http.StatusServiceUnavailable, "An unexpected error occurred")
		return
	}
	if f.token != "" && r.Header.Get("Kong-Admin-Token") != f.token {
		f.fail(w, http.StatusUnauthorized, "Invalid credentials. Token or User credentials required")
		return
	}
	q := r.URL.Query()
	size := 100
	if v := q.Get("size"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || s > 1000 {
			f.fail(w, http.StatusBadRequest, "size must be an integer between 1 and 1000")
			return
		}
		size = s
	}
	after, before := int64(-1), int64(1<<62)
	for name, dst := range map[string]*int64{"after": &after, "before": &before} {
		if v := q.Get(name); v != "" {
			b, ok := parseBound(v)
			if !ok {
				f.fail(w, http.StatusBadRequest, name+": expected epoch seconds or YYYY-MM-DDTHH:MM:SSZ")
				return
			}
			*dst = b
		}
	}
	start := 0
	if v := q.Get("offset"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		p, perr := strconv.Atoi(strings.TrimPrefix(string(b), "pos:"))
		if err != nil || perr != nil || p < 0 {
			f.fail(w, http.StatusBadRequest, "invalid offset")
			return
		}
		start = p
	}
	var match []fakeRec
	for _, rec := range f.recs[ep] {
		if rec.ts >= after && rec.ts < before {
			match = append(match, rec)
		}
	}
	slices.SortFunc(match, func(a, b fakeRec) int { return cmp.Or(cmp.Compare(b.ts, a.ts), cmp.Compare(b.seq, a.seq)) })
	end := min(start+size, len(match))
	start = min(start, end)
	page := struct {
		Data   []json.RawMessage `json:"data"`
		Offset string            `json:"offset,omitempty"`
		Next   *string           `json:"next"`
	}{Data: []json.RawMessage{}}
	for _, rec := range match[start:end] {
		page.Data = append(page.Data, f.record(ep, rec))
	}
	if end < len(match) {
		page.Offset = base64.RawURLEncoding.EncodeToString([]byte("pos:" + strconv.Itoa(end)))
		next := fmt.Sprintf("%s/audit/%s?offset=%s&size=%d", f.prefix, ep, page.Offset, size)
		if f.keepFilters && q.Get("after") != "" {
			next += "&after=" + q.Get("after")
		}
		page.Next = &next
	}
	f.answered.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

func (f *fakeKong) record(ep string, r fakeRec) json.RawMessage {
	var b []byte
	if ep == EndpointObjects {
		b, _ = json.Marshal(map[string]any{
			"id": r.id, "request_id": "req-of-" + r.id, "dao_name": "services", "entity_key": "key-" + r.id,
			"operation": "create", "entity": `{"id":"key-` + r.id + `","name":"svc"}`, "rbac_user_id": nil,
			"signature": nil, "expire": r.ts*1000 + 2592000000, "request_timestamp": r.ts,
		})
		return b
	}
	var payload any
	if f.padding > 0 {
		payload = `{"name":"svc","tags":["` + strings.Repeat("x", f.padding) + `"]}`
	}
	b, _ = json.Marshal(map[string]any{
		"request_id": r.id, "request_timestamp": r.ts, "client_ip": "127.0.0.1", "method": "POST",
		"path": "/services", "status": 201, "rbac_user_id": "8c5c3f2e-0a4c-4f7b-9a55-1e7f6b2d3c4a",
		"rbac_user_name": "alice", "request_source": nil, "workspace": "1065b6d6-219f-4002-b3e9-334fc3eff46c",
		"payload": payload, "removed_from_payload": nil, "signature": nil, "ttl": 2591999,
	})
	return b
}

func TestFakeFollowsKongFilters(t *testing.T) {
	f := newFake(t)
	f.add(EndpointRequests, 100, 3)
	f.add(EndpointRequests, 101, 2)
	cases := []struct {
		query string
		code  int
		n     int
	}{
		{"", 200, 5},
		{"after=101", 200, 2},
		{"before=101", 200, 3},
		{"after=1970-01-01T00:01:41Z", 200, 2},
		{"after=100.5", 400, 0},
		{"after=1970-01-01T00:01:41%2B00:00", 400, 0},
		{"after=1970-01-01T00:01:41.000Z", 400, 0},
		{"size=1001", 400, 0},
		{"size=2", 200, 2},
	}
	for _, c := range cases {
		resp, err := http.Get(f.srv.URL + "/audit/requests?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ Data []json.RawMessage }
		_ = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != c.code || len(page.Data) != c.n {
			t.Errorf("%q: got %d with %d records, want %d with %d", c.query, resp.StatusCode, len(page.Data), c.code, c.n)
		}
	}
}
