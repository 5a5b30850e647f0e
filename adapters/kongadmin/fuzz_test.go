package kongadmin

import (
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"testing"
)

func FuzzDecodeCursor(f *testing.F) {
	f.Add([]byte(`{"version":1,"endpoint":"requests","url":"https://kong:8444","floor":0,"since":119,"seen":{"114":["a","b"],"119":["c"]}}`))
	f.Add([]byte(`{"version":1,"endpoint":"objects","url":"","workspace":"w","floor":5,"since":0,"seen":{}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"endpoint":"requests","seen":{"x":["a"]}}`))
	f.Add([]byte(`{"version":1,"endpoint":"requests","seen":{"1":[""]}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCursor(b)
		if err != nil {
			return
		}
		// What decodes saves and reads back the same.
		path := cursorPath(dir, c.Endpoint)
		if err := c.save(path); err != nil {
			t.Fatal(err)
		}
		back, found, err := loadCursor(filepath.Clean(path))
		if err != nil || !found {
			t.Fatalf("reload: %v", err)
		}
		if !reflect.DeepEqual(back.ids, c.ids) || back.Since != c.Since || back.Floor != c.Floor {
			t.Fatalf("round trip: %+v != %+v", back, c)
		}
	})
}

func FuzzParseStart(f *testing.F) {
	for _, s := range []string{"now", "earliest", "", "1750204800", "2025-06-18T00:00:00Z", "2025-06-18T02:00:00+02:00", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, earliest, err := ParseStart(s)
		if err != nil {
			return
		}
		if at < 0 || (earliest && at != 0) {
			t.Fatalf("%q: at %d earliest %v", s, at, earliest)
		}
	})
}

// A record of any shape goes into a pass at most once and never panics.
func FuzzCollection(f *testing.F) {
	fk := &fakeKong{}
	f.Add([]byte(fk.record(EndpointRequests, fakeRec{id: "r1", ts: 100})), int64(100))
	f.Add([]byte(fk.record(EndpointObjects, fakeRec{id: "o1", ts: 100})), int64(0))
	f.Add([]byte(`{"request_id":"x","request_timestamp":1.5}`), int64(1))
	f.Add([]byte(`{"dao_name":"services"}`), int64(0))
	f.Add([]byte(`[1,2]`), int64(0))
	f.Fuzz(func(t *testing.T, raw []byte, after int64) {
		if !json.Valid(raw) {
			return
		}
		coll := &collection{cur: newCursor(EndpointRequests, "", "", 0), after: after, fallback: max(after, 0),
			limit: 2, shrinkAt: 4, cutoff: math.MaxInt64, ids: map[string]struct{}{}}
		coll.add(raw)
		coll.add(raw)
		if len(coll.recs) > 1 {
			t.Fatalf("one record held %d times", len(coll.recs))
		}
		for _, r := range coll.recs {
			if r.ts < after {
				t.Fatalf("kept a record at %d before after=%d", r.ts, after)
			}
		}
	})
}
