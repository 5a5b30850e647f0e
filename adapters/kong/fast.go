package kong

import (
	"bytes"
	"encoding/json"

	"github.com/auditrelay/auditrelay"
)

// parseFast decodes an array or page of records in one pass, straight into
// records, for the common case: no include_raw, every record well formed
// and carrying its own id. ok is false whenever anything needs the
// record-by-record path (raw bytes, a content id, or an error that must
// name the record's position), which then runs from the start.
func (a *Adapter) parseFast(body []byte, meta auditrelay.Meta) (out auditrelay.Parsed, ok bool) {
	if meta.IncludeRaw {
		return out, false
	}
	trimmed := bytes.TrimSpace(body)
	var records []record
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if json.Unmarshal(trimmed, &records) != nil {
			return out, false
		}
	case len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(trimmed, []byte(`"data"`)):
		var page struct {
			Data   []record        `json:"data"`
			Next   json.RawMessage `json:"next"`
			Offset json.RawMessage `json:"offset"`
		}
		if json.Unmarshal(trimmed, &page) != nil || page.Data == nil {
			return out, false
		}
		if _, err := optString(page.Next, "next"); err != nil {
			return out, false
		}
		if _, err := optString(page.Offset, "offset"); err != nil {
			return out, false
		}
		records = page.Data
	default:
		return out, false
	}
	out.Events = make([]auditrelay.Event, len(records))
	for i := range records {
		r := &records[i]
		if (r.isObject() && r.ID == "") || (!r.isObject() && r.RequestID == "") {
			return auditrelay.Parsed{}, false
		}
		e, err := a.normalize(r)
		if err != nil {
			return auditrelay.Parsed{}, false
		}
		e.ReceivedAt = meta.ReceivedAt
		e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
		out.Events[i] = e
	}
	return out, true
}
