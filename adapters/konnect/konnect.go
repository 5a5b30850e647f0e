package konnect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/auditrelay/auditrelay"
)

// Kind is the adapter's name, its events' source.kind.
const Kind = "konnect"

// Config is the konnect input's adapter configuration. Konnect sends the
// Authorization string configured on its webhook; that is checked by the
// input's own "authorization" key, not here.
type Config struct {
	// MaxDecompressedBytes caps the size of a gzip body once decompressed,
	// against gzip bombs. Default 64MiB; a body over it is refused whole.
	MaxDecompressedBytes auditrelay.Size `toml:"max_decompressed_bytes"`
}

// DefaultMaxDecompressedBytes is the default of max_decompressed_bytes.
const DefaultMaxDecompressedBytes = 64 << 20

// DefaultConfig returns a Config with the 64MiB decompression cap.
func DefaultConfig() Config {
	return Config{MaxDecompressedBytes: DefaultMaxDecompressedBytes}
}

// Validate reports configuration problems without I/O.
func (c Config) Validate() error {
	if c.MaxDecompressedBytes <= 0 {
		return errors.New(`"max_decompressed_bytes" must be positive, e.g. "64MiB"`)
	}
	return nil
}

// Adapter parses Konnect audit-log webhook deliveries.
type Adapter struct {
	maxBytes int64
}

// New builds the adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Adapter{maxBytes: int64(c.MaxDecompressedBytes)}, nil
}

// Parse turns one delivery (newline-separated JSON, CPS or CEF entries,
// usually gzip-compressed) into events. A bad entry does not cost the good
// ones: it is listed in Parsed.Rejected. Parse fails only when the body as
// a whole is unusable: a corrupt gzip stream, or one that decompresses to
// more than max_decompressed_bytes.
//
// A JSON or CPS entry is read in one pass (lineParser.readJSON); anything that
// pass does not take, errors included, goes to the general path
// (entryGeneral), so both give the same result.
func (a *Adapter) Parse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	data, err := a.decompress(body, meta.Header)
	if err != nil {
		return auditrelay.Parsed{}, err
	}
	var out auditrelay.Parsed
	var p lineParser
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := p.entry(line, meta)
		if err != nil {
			out.Rejected = append(out.Rejected, auditrelay.Rejection{
				Line: n, Entry: bytes.Clone(line), Reason: err.Error(),
			})
			continue
		}
		if out.Events == nil {
			out.Events = meta.EventBuffer(bytes.Count(data, []byte{'\n'}) + 2)
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// entry parses and maps one line.
func (p *lineParser) entry(line []byte, meta auditrelay.Meta) (auditrelay.Event, error) {
	var r record
	var idBytes []byte
	trimmed := bytes.TrimSpace(line)
	switch trimmed[0] {
	case '[':
		return auditrelay.Event{}, errors.New("entry is a JSON array: Konnect sends one JSON object per line")
	case '{':
		var ok bool
		if idBytes, ok = p.readJSON(trimmed, &r); !ok {
			return entryGeneral(trimmed, meta, &p.scratch)
		}
	default:
		c, err := parseCEF(line, p.ext[:0])
		p.ext = c.ext
		if err != nil {
			return auditrelay.Event{}, err
		}
		r.fromCEF(&c, meta.ReceivedAt, p)
		idBytes = line
	}
	e, err := r.normalize()
	if err != nil {
		return auditrelay.Event{}, err
	}
	e.ID = auditrelay.ContentID(Kind, idBytes)
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		if trimmed[0] == '{' {
			e.Raw = bytes.Clone(idBytes)
		} else {
			e.Raw, _ = json.Marshal(string(line))
		}
	}
	return e, nil
}

// entryGeneral parses and maps a JSON or CPS entry (trimmed) with
// encoding/json: json.Compact for its id, then a map decoded with
// UseNumber. scratch is reused for json.Compact.
func entryGeneral(trimmed []byte, meta auditrelay.Meta, scratch *bytes.Buffer) (auditrelay.Event, error) {
	var r record
	scratch.Reset()
	if err := json.Compact(scratch, trimmed); err != nil {
		return auditrelay.Event{}, describe(err)
	}
	idBytes := scratch.Bytes()
	if err := r.fromJSON(idBytes); err != nil {
		return auditrelay.Event{}, err
	}
	e, err := r.normalize()
	if err != nil {
		return auditrelay.Event{}, err
	}
	e.ID = auditrelay.ContentID(Kind, idBytes)
	e.ReceivedAt = meta.ReceivedAt
	e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: meta.DeliveryID}
	if meta.IncludeRaw {
		e.Raw = bytes.Clone(idBytes)
	}
	return e, nil
}

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// decompress gunzips body when a header says gzip or the body starts with
// the gzip magic, and returns it unchanged otherwise.
func (a *Adapter) decompress(body []byte, h http.Header) ([]byte, error) {
	if !bytes.HasPrefix(body, gzipMagic) && !saysGzip(h) {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w: the body is not gzip although Content-Encoding says so; send it compressed or drop the header", err)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(sizeHint(body), a.maxBytes)) + bytes.MinRead)
	n, err := io.Copy(&buf, io.LimitReader(zr, a.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w: the gzip stream is corrupt or truncated", err)
	}
	if n > a.maxBytes {
		return nil, fmt.Errorf("gunzip body: decompressed size exceeds max_decompressed_bytes (%s); raise it if batches this large are genuine", auditrelay.Size(a.maxBytes))
	}
	return buf.Bytes(), nil
}

// sizeHint guesses a gzip body's decompressed size: the size its trailer
// records (ISIZE, that of the last member, modulo 2^32), but no more than
// deflate's best ratio allows (1032:1), and at least 8 times the body.
func sizeHint(body []byte) int64 {
	n := int64(len(body))
	if n < 18 { // header and trailer
		return n * 8
	}
	isize := int64(binary.LittleEndian.Uint32(body[n-4:]))
	return max(min(isize, n*1032), n*8)
}

// saysGzip reports whether Content-Encoding (or Content-Type) names gzip:
// "gzip", "x-gzip" or Konnect's "application/gzip".
func saysGzip(h http.Header) bool {
	for _, name := range [...]string{"Content-Encoding", "Content-Type"} {
		for _, v := range h.Values(name) {
			for tok := range strings.SplitSeq(v, ",") {
				tok, _, _ = strings.Cut(tok, ";")
				switch strings.ToLower(strings.TrimSpace(tok)) {
				case "gzip", "x-gzip", "application/gzip", "application/x-gzip":
					return true
				}
			}
		}
	}
	return false
}

// describe rewrites encoding/json's syntax errors with their position.
func describe(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
