package stackrox

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/internal/golden"
)

const fixtures = "../../fixtures/stackrox"

func build(t *testing.T, _ golden.Case) auditrelay.Adapter {
	a, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFixtures(t *testing.T) { golden.Adapter(t, fixtures, build) }

// TestSeedExample checks the documented sample (seed 002, the receiver
// record) field by field.
func TestSeedExample(t *testing.T) {
	c := findCase(t, "seed-002-receiver-record")
	p, err := build(t, c).Parse(c.Input, c.Meta())
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("parse: %v, %d events", err, len(p.Events))
	}
	e := p.Events[0]
	checks := map[string][2]string{
		"actor.username":    {e.Actor.Username, "john.doe@example.com"},
		"actor.name":        {e.Actor.Name, "John Doe"},
		"actor.type":        {e.Actor.Type, "user"},
		"actor.roles":       {strings.Join(e.Actor.Roles, ","), "Notifier Creator"},
		"action.name":       {e.Action.Name, "CREATE"},
		"action.verb":       {e.Action.Verb, "create"},
		"request.interface": {e.Request.Interface, "ui"},
		"request.method":    {e.Request.Method, "POST"},
		"request.path":      {e.Request.Path, "/v1/notifiers"},
		"resource.type":     {e.Resource.Type, "Notifier"},
		"resource.id":       {e.Resource.ID, "b53232ee-b13e-47e0-b077-1e383c84aa07"},
		"resource.name":     {e.Resource.Name, "Webhook"},
		"outcome.result":    {e.Outcome.Result, "success"},
		"outcome.reason":    {e.Outcome.Reason, ""},
		"time":              {e.Time.Format(time.RFC3339Nano), "2019-05-28T16:07:05.5001713Z"},
		"source.kind":       {e.Source.Kind, "stackrox"},
		"severity":          {fmt.Sprint(e.Severity), "3"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if !strings.HasPrefix(e.ID, "sha256:") || len(e.ID) != 7+32 {
		t.Errorf("id %q is not sha256: + 32 hex digits", e.ID)
	}
}

// TestIDIsTheAuditObject: the id covers the audit object as json.Compact
// leaves it, whatever wraps it and however it is indented.
func TestIDIsTheAuditObject(t *testing.T) {
	a, _ := New(DefaultConfig())
	audit := `{"time":"2025-02-03T10:00:00Z","interaction":"CREATE","request":{"endpoint":"/v1/roles/x","method":"POST"}}`
	want := auditrelay.ContentID(Kind, []byte(audit))
	for name, body := range map[string]string{
		"bare":            `{"audit": ` + audit + `}`,
		"extra fields":    `{"env":"prod","audit": ` + audit + `}`,
		"receiver record": `{"headers":{"Content-Type":["application/json"]},"data":{"audit":` + audit + `}}`,
		"array":           `[{"audit":` + audit + `}]`,
		"indented":        "{\"audit\": {\n  \"time\": \"2025-02-03T10:00:00Z\",\n  \"interaction\":  \"CREATE\",\n  \"request\": {\n    \"endpoint\": \"/v1/roles/x\",\n    \"method\": \"POST\"\n  }\n}}",
	} {
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil || len(p.Events) != 1 {
			t.Fatalf("%s: %v, %d events", name, err, len(p.Events))
		}
		if got := p.Events[0].ID; got != want {
			t.Errorf("%s: id %s, want %s", name, got, want)
		}
	}
	p, _ := a.Parse([]byte(`{"audit":{"time":"2025-02-03T10:00:01Z"}}`), auditrelay.Meta{})
	if p.Events[0].ID == want {
		t.Error("different audit messages share an id")
	}
}

func TestStatusMapping(t *testing.T) {
	a, _ := New(DefaultConfig())
	for _, tc := range []struct {
		status, reason        string
		result, wantReason    string
		severity              int
		interaction, wantVerb string
	}{
		{`"REQUEST_SUCCEEDED"`, "", "success", "", 3, "CREATE", "create"},
		{`"REQUEST_SUCCEEDED"`, "", "success", "", 3, "UPDATE", "update"},
		{`"REQUEST_SUCCEEDED"`, "", "success", "", 5, "DELETE", "delete"},
		{`"REQUEST_SUCCEEDED"`, "", "success", "", 3, "UNKNOWN_INTERACTION", "other"},
		{`"AUTH_FAILED"`, "access to resource denied", "failure", "access to resource denied", 7, "DELETE", "delete"},
		{`"AUTH_FAILED"`, "", "failure", "AUTH_FAILED", 7, "CREATE", "create"},
		{`"REQUEST_FAILED"`, "", "failure", "REQUEST_FAILED", 5, "UPDATE", "update"},
		{`"UNKNOWN_STATUS"`, "", "unknown", "UNKNOWN_STATUS", 3, "UPDATE", "update"},
		{`null`, "", "unknown", "", 5, "DELETE", "delete"},
		{`2`, "", "failure", "AUTH_FAILED", 7, "UPDATE", "update"},
		{`9`, "", "unknown", "9", 3, "CREATE", "create"},
	} {
		body := fmt.Sprintf(`{"audit":{"status":%s,"statusReason":%q,"interaction":%q}}`, tc.status, tc.reason, tc.interaction)
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		o := p.Events[0].Outcome
		if o.Result != tc.result || o.Reason != tc.wantReason || p.Events[0].Severity != tc.severity || p.Events[0].Action.Verb != tc.wantVerb {
			t.Errorf("%s: got %+v severity %d verb %s, want %s/%q severity %d verb %s", body, o, p.Events[0].Severity, p.Events[0].Action.Verb, tc.result, tc.wantReason, tc.severity, tc.wantVerb)
		}
		if o.StatusCode != 0 {
			t.Errorf("%s: status code %d, StackRox sends none", body, o.StatusCode)
		}
	}
}

func TestClientIP(t *testing.T) {
	for _, tc := range []struct{ request, want string }{
		{`{"sourceIp":"203.0.113.9"}`, "203.0.113.9"},
		{`{"sourceIp":"203.0.113.9:52144"}`, "203.0.113.9"},
		{`{"sourceIp":"[2001:db8::7]:443"}`, "2001:db8::7"},
		{`{"sourceIp":"[2001:db8::7]"}`, "2001:db8::7"},
		{`{"sourceIp":"2001:db8::7"}`, "2001:db8::7"},
		{`{"sourceIp":"[::ffff:10.1.2.3]:8443"}`, "10.1.2.3"},
		{`{"sourceIp":"not-an-ip","sourceHeaders":{"remoteAddr":"10.0.0.2"}}`, "10.0.0.2"},
		{`{"sourceHeaders":{"xForwardedFor":"198.51.100.23, 10.0.0.1","remoteAddr":"10.0.0.2"}}`, "198.51.100.23"},
		{`{"sourceHeaders":{"xForwardedFor":["198.51.100.23","10.0.0.1"]}}`, "198.51.100.23"},
		{`{"sourceHeaders":{"xForwardedFor":[],"requestAddr":"10.128.0.4:39420"}}`, "10.128.0.4"},
		{`{"sourceHeaders":{"xForwardedFor":null}}`, ""},
		{`{}`, ""},
	} {
		a, _ := New(DefaultConfig())
		p, err := a.Parse([]byte(`{"audit":{"request":`+tc.request+`}}`), auditrelay.Meta{})
		if err != nil {
			t.Fatalf("%s: %v", tc.request, err)
		}
		if got := p.Events[0].Request.ClientIP; got != tc.want {
			t.Errorf("%s: client_ip %q, want %q", tc.request, got, tc.want)
		}
	}
}

func TestActor(t *testing.T) {
	for _, tc := range []struct{ user, id, username, typ, roles string }{
		{`null`, "", "", "anonymous", ""},
		{`{}`, "", "", "anonymous", ""},
		{`{"username":"admin","roles":[{"name":"Admin"},{"name":""},{"name":"Analyst"}]}`, "", "admin", "user", "Admin,Analyst"},
		{`{"username":"admin","role":{"name":"Admin"}}`, "", "admin", "user", "Admin"},
		{`{"username":"admin","roles":[{"name":"Analyst"}],"role":{"name":"Admin"}}`, "", "admin", "user", "Analyst"},
		{`{"username":"service:SENSOR_SERVICE:00000000-0000-4000-8000-000000000001"}`, "00000000-0000-4000-8000-000000000001", "service:SENSOR_SERVICE:00000000-0000-4000-8000-000000000001", "service", ""},
		{`{"username":"service:sensor:x"}`, "", "service:sensor:x", "user", ""},
		{`{"username":"service:nocolon"}`, "", "service:nocolon", "user", ""},
	} {
		a, _ := New(DefaultConfig())
		p, err := a.Parse([]byte(`{"audit":{"user":`+tc.user+`}}`), auditrelay.Meta{})
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		got := p.Events[0].Actor
		if got.ID != tc.id || got.Username != tc.username || got.Type != tc.typ || strings.Join(got.Roles, ",") != tc.roles {
			t.Errorf("%s: actor %+v", tc.user, got)
		}
	}
}

func TestResourceType(t *testing.T) {
	for _, tc := range []struct{ endpoint, payload, want string }{
		{"/v1/notifiers", `{"@type":"storage.Notifier"}`, "Notifier"},
		{"/v1/notifiers/n1", `{"@type":"v1.DeleteNotifierRequest","id":"n1"}`, ""},
		{"/v1.NotifierService/DeleteNotifier", `{"@type":"v1.DeleteNotifierRequest","id":"n1"}`, "Notifier"},
		{"/central.v1.TokenService/GenerateTokenForPermissionsAndScope", `{"@type":"central.v1.GenerateTokenForPermissionsAndScopeRequest"}`, "Token"},
		{"/v1.NotifierService/PostNotifier", `{"@type":"storage.Notifier"}`, "Notifier"},
		{"/v1/roles", `{"@type":"type.googleapis.com/storage.Role"}`, "Role"},
		{"/v1/x", `{"@type":"storage.sub.Thing"}`, ""},
		{"/NoPackageService/Do", `{"@type":"Bare"}`, ""},
		{"/v1/x", `{"@type":5,"id":7,"name":["x"],"namespace":{}}`, ""},
		{"/v1/x", `{}`, ""},
	} {
		a, _ := New(DefaultConfig())
		body := fmt.Sprintf(`{"audit":{"request":{"endpoint":%q,"payload":%s}}}`, tc.endpoint, tc.payload)
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got := p.Events[0].Resource.Type; got != tc.want {
			t.Errorf("%s: resource.type %q, want %q", body, got, tc.want)
		}
	}
	p, _ := (&Adapter{}).Parse([]byte(`{"audit":{"request":{"endpoint":"/v1/notifiers/n1","payload":{"@type":"v1.ResourceByID","id":"n1","name":"N","namespace":"ns"}}}}`), auditrelay.Meta{})
	if r := p.Events[0].Resource; r != (auditrelay.Resource{ID: "n1", Name: "N", Namespace: "ns"}) {
		t.Errorf("resource %+v", r)
	}
}

func TestErrorsNamePosition(t *testing.T) {
	a, _ := New(DefaultConfig())
	for body, want := range map[string]string{
		`{"audit":{"time":"2025-01-01T00:00:00Z"`:                    "body: invalid JSON at byte 39",
		`[{"audit":{}},{"audit":{"time":12}}]`:                       "message 2: audit.time: got JSON number",
		`{"headers":{},"data":{"audit":{"request":{"endpoint":1}}}}`: "message 1: data.audit.request.endpoint: got JSON number, want string",
		`{"audit":{"user":{"roles":{}}}}`:                            "message 1: audit.user.roles: got JSON object, want array",
		`{"audit":{"interaction":true}}`:                             "message 1: audit.interaction: got JSON boolean",
		`[{"audit":{}},3]`:                                           "message 2: want a JSON object, got number",
		`{"audit":"yes"}`:                                            "message 1: audit: got JSON string, want object",
		`{"foo":"bar"}`:                                              `message 1: no "audit", "alert" or "networkpolicy" object`,
	} {
		p, err := a.Parse([]byte(body), auditrelay.Meta{})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want prefix %q", body, err, want)
		}
		if len(p.Events) != 0 || p.Ignored != 0 {
			t.Errorf("%s: an error came with %d events, %d ignored", body, len(p.Events), p.Ignored)
		}
	}
}

func TestMetaCarriedOver(t *testing.T) {
	a, _ := New(DefaultConfig())
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"audit": {"interaction":"DELETE"}}`)
	p, err := a.Parse(body, auditrelay.Meta{Input: "acs", DeliveryID: "d-1", ReceivedAt: at, IncludeRaw: true})
	if err != nil {
		t.Fatal(err)
	}
	e := p.Events[0]
	if e.Source != (auditrelay.Source{Kind: Kind, Input: "acs", DeliveryID: "d-1"}) || !e.ReceivedAt.Equal(at) {
		t.Errorf("source %+v received_at %v", e.Source, e.ReceivedAt)
	}
	if string(e.Raw) != `{"interaction":"DELETE"}` {
		t.Errorf("raw %s, want the compact audit object", e.Raw)
	}
	p, _ = a.Parse(body, auditrelay.Meta{})
	if p.Events[0].Raw != nil {
		t.Error("raw kept without include_raw")
	}
}

func findCase(t *testing.T, name string) golden.Case {
	for _, c := range golden.Cases(t, fixtures) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no fixture %s", name)
	return golden.Case{}
}

func BenchmarkParse(b *testing.B) {
	body := []byte(benchMessage)
	a, _ := New(DefaultConfig())
	meta := auditrelay.Meta{Input: "bench", ReceivedAt: time.Now()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := a.Parse(body, meta)
		if err != nil {
			b.Fatal(err)
		}
		meta.Events = p.Events // lent back, as ingest does
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(testing.AllocsPerRun(10, func() { p, _ := a.Parse(body, meta); meta.Events = p.Events }), "allocs/event")
}

// benchMessage is one message as current Central builds send it: compact,
// with the roles' and the user's permissions.
var benchMessage = `{"audit": {"time":"2025-03-04T09:12:44.123456789Z","status":"REQUEST_SUCCEEDED","user":{"username":"jane.roe@example.com","friendlyName":"Jane Roe","permissions":{"resourceToAccess":{"Access":"READ_WRITE_ACCESS","Administration":"READ_WRITE_ACCESS","Alert":"READ_WRITE_ACCESS","Cluster":"READ_WRITE_ACCESS","Deployment":"READ_ACCESS","Integration":"READ_WRITE_ACCESS","Namespace":"READ_ACCESS","Node":"READ_ACCESS","WorkflowAdministration":"READ_WRITE_ACCESS"}},"roles":[{"name":"Admin","resourceToAccess":{"Access":"READ_WRITE_ACCESS","Administration":"READ_WRITE_ACCESS","Alert":"READ_WRITE_ACCESS","Cluster":"READ_WRITE_ACCESS","Integration":"READ_WRITE_ACCESS"}}]},"request":{"endpoint":"/v1/notifiers","method":"POST","payload":{"@type":"storage.Notifier","id":"b53232ee-b13e-47e0-b077-1e383c84aa07","name":"Webhook","type":"generic","uiEndpoint":"https://central.example.com","generic":{"endpoint":"https://relay.example.com/ingest/stackrox","auditLoggingEnabled":true}},"sourceHeaders":{"xForwardedFor":"198.51.100.23","requestAddr":"10.128.0.4:39420"},"sourceIp":"198.51.100.23"},"method":"API","interaction":"CREATE"}}`
