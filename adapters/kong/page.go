package kong

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// Page is one answer of the Admin API's GET /audit/requests or
// /audit/objects: {"data":[…],"offset":"…","next":"/audit/requests?offset=…"}
// or, from old releases, {"data":[…],"total":N}. Records come newest first.
type Page struct {
	// Records are the page's records as they arrived, one per element of
	// data (an empty data object, as old releases encode an empty list,
	// gives none).
	Records []json.RawMessage
	// Next is the path and query of the next page, nil when there is none
	// (null or absent: the last page, or an old release without paging).
	Next *string
	// Offset is the token to pass as ?offset= for the next page; empty on
	// the last page.
	Offset string
}

// DecodePage reads an Admin API page. It fails on a body that is not a
// JSON object with a "data" member, and on a data, next or offset of the
// wrong type; it does not look inside the records (see RecordKey, and
// Adapter.Parse for the records themselves).
func DecodePage(body []byte) (Page, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Page{}, errors.New(`page: want a JSON object {"data":[…]}`)
	}
	p, ok, err := decodePage(trimmed)
	if err != nil {
		return Page{}, fmt.Errorf("page: %w", err)
	}
	if !ok {
		return Page{}, errors.New(`page: no "data" member: this is not an Admin API page`)
	}
	return p, nil
}

// decodePage reads body as a page; ok is false when body (an object) has
// no data member, i.e. is a single record.
func decodePage(body []byte) (p Page, ok bool, err error) {
	if !bytes.Contains(body, []byte(`"data"`)) {
		return Page{}, false, nil // no record has a data member
	}
	// Fast path, one pass: data is an array.
	var wire struct {
		Data   []json.RawMessage `json:"data"`
		Next   json.RawMessage   `json:"next"`
		Offset json.RawMessage   `json:"offset"`
	}
	err = json.Unmarshal(body, &wire)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "data" {
		return decodeOddPage(body)
	}
	if err != nil {
		return Page{}, false, jsonscan.Describe(err)
	}
	if wire.Data == nil && !hasData(body) {
		return Page{}, false, nil
	}
	return finishPage(wire.Data, wire.Next, wire.Offset)
}

// decodeOddPage reads a page whose data is not an array: {} (how cjson
// writes an empty Lua table) is an empty page; anything else an error.
func decodeOddPage(body []byte) (Page, bool, error) {
	var wire struct {
		Data   json.RawMessage `json:"data"`
		Next   json.RawMessage `json:"next"`
		Offset json.RawMessage `json:"offset"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return Page{}, true, jsonscan.Describe(err)
	}
	if d := bytes.TrimSpace(wire.Data); d[0] != '{' || !isEmptyObject(d) {
		return Page{}, true, fmt.Errorf("data: got JSON %s, want an array of records", jsonscan.KindOf(d[0]).String())
	}
	return finishPage(nil, wire.Next, wire.Offset)
}

// hasData reports whether body (an object) has a data member, null
// included.
func hasData(body []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		return false
	}
	_, ok := probe["data"]
	return ok
}

func finishPage(records []json.RawMessage, next, offset json.RawMessage) (p Page, ok bool, err error) {
	p.Records = records
	if p.Next, err = optString(next, "next"); err != nil {
		return Page{}, true, err
	}
	off, err := optString(offset, "offset")
	if err != nil {
		return Page{}, true, err
	}
	if off != nil {
		p.Offset = *off
	}
	return p, true, nil
}

func isEmptyObject(b []byte) bool {
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// optString decodes a JSON string or null (nil).
func optString(raw json.RawMessage, field string) (*string, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: got JSON %s, want a string or null", field, jsonscan.KindOf(raw[0]).String())
	}
	return &s, nil
}

// RecordKey reads what a poller needs to track one record: its id
// (request_id of a request record, id of an object record) and its
// request_timestamp in whole epoch seconds (0 when the record has none, as
// object records of releases before 3.x do).
func RecordKey(raw []byte) (id string, ts int64, err error) {
	var k struct {
		ID               string          `json:"id"`
		RequestID        string          `json:"request_id"`
		DaoName          string          `json:"dao_name"`
		Operation        string          `json:"operation"`
		RequestTimestamp json.RawMessage `json:"request_timestamp"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", 0, fmt.Errorf("record key: %w", jsonscan.Describe(err))
	}
	id = k.RequestID
	if k.DaoName != "" || k.Operation != "" {
		id = k.ID
	}
	if id == "" {
		return "", 0, errors.New("record key: the record has neither a request_id (request record) nor an id (object record)")
	}
	t, err := epoch(k.RequestTimestamp, "request_timestamp")
	if err != nil {
		return "", 0, fmt.Errorf("record key: %w", err)
	}
	if !t.IsZero() {
		ts = t.Unix()
	}
	return id, ts, nil
}
