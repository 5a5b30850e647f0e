package jsonscan

import (
	"strings"
	"testing"
)

// skipSeeds add to seeds what Skip's own loop must get right:
// whitespace in every gap, nesting around its 64-level limit, empty and
// deep closings, and errors after a long valid prefix.
var skipSeeds = []string{
	" { \"a\" : [ 1 , { } , [ ] , \"x\" , true , false , null ] , \"b\" : { \"c\" : { } } } ",
	"{\n\t\"a\"\r:\n[\n]\n}\n", `[[],[[]],{},{"a":{}},[{}]]`, `{"a":[{"b":[{"c":[]}]}]}`,
	`[1,2,3,`, `{"a":1,"b":`, `{"a":{"b":[1,2}}`, `[{"a":1]`, `{"a":1]`, `[1}`, `{"a"}`, `{"a":1,2}`,
	`{"a":"\u12"}`, `[tru]`, `[nulll]`, `[-]`, `[01]`, `[1.e5]`, "[\"\x1f\"]", `[1,,2]`, `{,}`, `[,]`, `{"a":1,}`,
	strings.Repeat("[", 63) + strings.Repeat("]", 63),
	strings.Repeat("[", 64) + strings.Repeat("]", 64),
	strings.Repeat("[", 65) + strings.Repeat("]", 65),
	strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 70),
	strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 69) + "]",
}

// readerState is everything a read leaves behind.
type readerState struct {
	pos, depth, spaces int
	err                string
	offset             int64
}

func stateOf(r *Reader) readerState {
	s := readerState{pos: r.pos, depth: r.depth, spaces: r.spaces}
	if r.err != nil {
		s.err, s.offset = r.err.msg, r.err.Offset
	}
	return s
}

// compareSkips checks that Skip leaves a Reader as skipChecked does: over
// data as a top-level value and as a member's value inside an object.
func compareSkips(t *testing.T, data []byte) {
	t.Helper()
	a, b := NewReader(data), NewReader(data)
	a.skipChecked()
	b.Skip()
	if got, want := stateOf(&b), stateOf(&a); got != want {
		t.Fatalf("%q: Skip left %+v, skipChecked %+v", data, got, want)
	}
	if got, want := b.End(), a.End(); (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Fatalf("%q: after Skip End %v, after skipChecked %v", data, got, want)
	}
	wrapped := []byte(`{"k":` + string(data) + ` , "z" : [0]}`)
	walk := func(skip func(*Reader)) readerState {
		r := NewReader(wrapped)
		for it := r.Object(); it.Next(); {
			skip(&r)
		}
		r.End()
		return stateOf(&r)
	}
	if got, want := walk((*Reader).Skip), walk((*Reader).skipChecked); got != want {
		t.Fatalf("%q: Skip left %+v, skipChecked %+v", wrapped, got, want)
	}
}

func TestSkipMatchesChecked(t *testing.T) {
	for _, s := range append(append([]string{}, seeds...), skipSeeds...) {
		for i := 0; i <= len(s); i++ {
			compareSkips(t, []byte(s[:i]))
		}
	}
}

func TestSkipMaxDepth(t *testing.T) {
	for _, n := range []int{maxDepth, maxDepth + 1} {
		data := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		r := NewReader(data)
		r.Skip()
		if err := r.End(); (err == nil) != (n == maxDepth) {
			t.Errorf("depth %d: %v", n, err)
		}
		compareSkips(t, data)
	}
}

func TestSkipAllocs(t *testing.T) {
	data := []byte(skipFastBench)
	if n := testing.AllocsPerRun(100, func() {
		r := NewReader(data)
		r.Skip()
	}); n != 0 {
		t.Errorf("Skip allocates %v times", n)
	}
}

// FuzzSkip compares Skip with skipChecked on arbitrary input.
func FuzzSkip(f *testing.F) {
	for _, s := range append(append([]string{}, seeds...), skipSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareSkips(t, data) })
}

// skipFastBench is one StackRox audit message, the kind of value an
// adapter skips most of: permission maps, roles, a notifier payload.
const skipFastBench = `{"audit":{"time":"2025-03-04T09:12:44.123456789Z","status":"REQUEST_SUCCEEDED","user":{"username":"jane.roe@example.com","friendlyName":"Jane Roe","permissions":{"resourceToAccess":{"Access":"READ_WRITE_ACCESS","Administration":"READ_WRITE_ACCESS","Alert":"READ_WRITE_ACCESS","Cluster":"READ_WRITE_ACCESS","Deployment":"READ_ACCESS","Integration":"READ_WRITE_ACCESS","Namespace":"READ_ACCESS","Node":"READ_ACCESS","WorkflowAdministration":"READ_WRITE_ACCESS"}},"roles":[{"name":"Admin","resourceToAccess":{"Access":"READ_WRITE_ACCESS","Administration":"READ_WRITE_ACCESS","Alert":"READ_WRITE_ACCESS","Cluster":"READ_WRITE_ACCESS","Integration":"READ_WRITE_ACCESS"}}]},"request":{"endpoint":"/v1/notifiers","method":"POST","payload":{"@type":"storage.Notifier","id":"b53232ee-b13e-47e0-b077-1e383c84aa07","name":"Webhook","type":"generic","uiEndpoint":"https://central.example.com","generic":{"endpoint":"https://relay.example.com/ingest/stackrox","auditLoggingEnabled":true}},"sourceHeaders":{"xForwardedFor":"198.51.100.23","requestAddr":"10.128.0.4:39420"},"sourceIp":"198.51.100.23"},"method":"API","interaction":"CREATE"}}`

// benchmarkSkip passes over 100 messages as one array.
func benchmarkSkip(b *testing.B, fast bool) {
	data := []byte(`[` + strings.Repeat(skipFastBench+`,`, 99) + skipFastBench + `]`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(data)
		if fast {
			r.Skip()
		} else {
			r.skipChecked()
		}
		if err := r.End(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSkipChecked is BenchmarkSkip's baseline: the member-by-member
// reader Skip falls back to.
func BenchmarkSkipChecked(b *testing.B) { benchmarkSkip(b, false) }
func BenchmarkSkip(b *testing.B)        { benchmarkSkip(b, true) }
