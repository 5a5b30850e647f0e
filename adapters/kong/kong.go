package kong

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
	"github.com/auditrelay/auditrelay/adapters/internal/pathres"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "kong"

// Config is the kong input's adapter configuration. The input's
// authorization (or authorization_file) is checked by the ingest server,
// not here.
type Config struct {
	// PathPatterns replaces the default grok expressions that find the
	// resource in a request record's path (see package pathres: captures
	// type, id, name, namespace; first match wins; the definitions
	// KONGCOLL, KONGSEG and KONGREF are available). Default: empty, the
	// built-in Kong Admin API patterns.
	PathPatterns []string `toml:"path_patterns"`
}

// DefaultConfig returns a Config with the built-in path patterns.
func DefaultConfig() Config { return Config{} }

// Validate reports configuration problems without I/O. Patterns are
// compiled, and their syntax checked, by New.
func (c Config) Validate() error {
	var errs []error
	for i, p := range c.PathPatterns {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf(`"path_patterns" entry %d is empty: remove it or write a grok expression`, i+1))
		}
	}
	return errors.Join(errs...)
}

// Adapter parses Kong Gateway Enterprise audit records.
type Adapter struct {
	paths *pathres.Resolver
}

// New compiles the path patterns.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pc := pathres.Kong()
	if len(c.PathPatterns) > 0 {
		pc.Patterns = c.PathPatterns
	}
	paths, err := pathres.New(pc)
	if err != nil {
		return nil, fmt.Errorf("kong: %w", err)
	}
	return &Adapter{paths: paths}, nil
}

// Parse turns one body (a record, an array of records, or an Admin API
// page) into events, one per record. A malformed record rejects the whole
// body. Bodies as Kong writes them are read in one pass (parseFast);
// anything else, errors included, record by record (parseEach).
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	if out, ok := a.parseFast(body, meta); ok {
		return out, nil
	}
	return a.parseEach(body, meta)
}

// parseEach decodes the records one by one: the reference path, which
// keeps each record's bytes (include_raw, content ids) and names the
// position of a bad record.
func (a *Adapter) parseEach(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	records, err := decodeBody(body)
	if err != nil {
		return auditrelay.Parsed{}, err
	}
	out := auditrelay.Parsed{Events: make([]auditrelay.Event, 0, len(records))}
	var compact bytes.Buffer
	for i, raw := range records {
		var rec record
		if err := decodeRecord(raw, &rec); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		e, err := a.normalize(&rec)
		if err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		if e.ID == "" || meta.IncludeRaw {
			compact.Reset()
			if err := json.Compact(&compact, raw); err != nil {
				return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
			}
			if e.ID == "" {
				e.ID = auditrelay.ContentID(Kind, compact.Bytes())
			}
			if meta.IncludeRaw {
				e.Raw = append(json.RawMessage(nil), compact.Bytes()...)
			}
		}
		e.ReceivedAt = meta.ReceivedAt
		e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

const shapes = "Kong audit records arrive as one record, an array of records, or an Admin API page {\"data\":[…]}"

// decodeBody returns the records of a body in any of the three shapes.
func decodeBody(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("body is empty: " + shapes)
	}
	switch trimmed[0] {
	case '[':
		var records []json.RawMessage
		if err := json.Unmarshal(trimmed, &records); err != nil {
			return nil, fmt.Errorf("body: %w", jsonscan.Describe(err))
		}
		return records, nil
	case '{':
		p, isPage, err := decodePage(trimmed)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		if isPage {
			return p.Records, nil
		}
		return []json.RawMessage{trimmed}, nil
	}
	return nil, fmt.Errorf("body is JSON %s, not an object or array: %s", jsonscan.KindOf(trimmed[0]).String(), shapes)
}
