package kongadmin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/kong"
	"github.com/auditrelay/auditrelay/internal/httpout"
)

// maxPages bounds the pages of one pass (a guard against a next link that
// never ends: at 1000 records a page, a billion records).
const maxPages = 1_000_000

// pending is one record a pass delivers.
type pending struct {
	id  string
	ts  int64
	seq int // arrival order within the pass
	raw json.RawMessage
}

// pass reads every record of one endpoint newer than its cursor (the
// lookback included), then stores the new ones oldest first, saving the
// cursor after each stored chunk. backlog is true when the pass held back
// records over its memory bound, so another pass should follow at once.
func (p *Poller) pass(ctx context.Context, ep string) (backlog bool, err error) {
	cur := p.cursors[ep]
	after := cur.after(p.lookback)
	coll := &collection{
		cur: cur, after: after, fallback: max(cur.Since, cur.Floor),
		limit: p.maxPass, shrinkAt: 2 * p.maxPass, cutoff: math.MaxInt64, ids: map[string]struct{}{},
	}
	if err := p.fetchAll(ctx, ep, after, coll); err != nil {
		return false, err
	}
	recs := coll.sorted()
	for start := 0; start < len(recs); start += p.chunk {
		if err := p.deliver(ctx, ep, cur, recs[start:min(start+p.chunk, len(recs))]); err != nil {
			return false, err
		}
	}
	return coll.overflowed, nil
}

// deliver converts and stores one chunk, then advances and saves the
// cursor: only records the sink made durable are ever marked delivered.
func (p *Poller) deliver(ctx context.Context, ep string, cur *cursor, chunk []pending) error {
	events, rejected := p.convert(ep, chunk)
	if len(events) > 0 {
		accepted, dups, err := p.s.Sink.Append(ctx, events)
		if err != nil {
			return fmt.Errorf("store %d events from /audit/%s: %w", len(events), ep, err)
		}
		p.s.Count(accepted, dups, 0, rejected)
	} else if rejected > 0 {
		p.s.Count(0, 0, 0, rejected)
	}
	cur.advance(chunk, p.lookback)
	return cur.save(cursorPath(p.s.StateDir, ep))
}

// convert turns records into events with the kong adapter. A record the
// adapter refuses is logged with its id, counted as rejected and kept
// through PullSettings.Reject; it is still marked delivered, so it is not
// fetched and refused again.
func (p *Poller) convert(ep string, chunk []pending) (events []auditrelay.Event, rejected int) {
	meta := auditrelay.Meta{Input: p.s.Name, ReceivedAt: p.s.Now().UTC(), IncludeRaw: p.s.IncludeRaw}
	var body bytes.Buffer
	body.WriteByte('[')
	for i, r := range chunk {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(r.raw)
	}
	body.WriteByte(']')
	parsed, err := p.adapter.Parse(body.Bytes(), meta)
	if err == nil {
		return tag(parsed.Events), 0
	}
	events = make([]auditrelay.Event, 0, len(chunk))
	for _, r := range chunk {
		one, err := p.adapter.Parse(r.raw, meta)
		if err != nil {
			rejected++
			p.log.Error("kong_admin: Kong returned an audit record the kong adapter cannot read; kept under data_dir/rejected/",
				"endpoint", ep, "record", r.id, "request_timestamp", r.ts, "error", err)
			if p.s.Reject != nil {
				p.s.Reject(r.raw, err.Error())
			}
			continue
		}
		events = append(events, tag(one.Events)...)
	}
	return events, rejected
}

func tag(events []auditrelay.Event) []auditrelay.Event {
	for i := range events {
		events[i].Source.Kind = Kind
	}
	return events
}

// position is where the next page starts: Kong's offset token, or the
// next link itself when it carries none.
type position struct {
	offset string
	next   string
}

func (q position) key() string { return q.offset + "\x00" + q.next }

// maxPageBytes bounds one page of Kong's answer: a thousand records with
// large request payloads fit many times over.
const maxPageBytes = 64 << 20

// fetchAll follows next from the first page until it is null, adding
// every record to coll.
func (p *Poller) fetchAll(ctx context.Context, ep string, after int64, coll *collection) error {
	var pos position
	visited := map[string]bool{}
	for range maxPages {
		body, err := p.get(ctx, p.pageURL(ep, after, pos, p.cfg.PageSize))
		if err != nil {
			return err
		}
		page, err := kong.DecodePage(body)
		if err != nil {
			err = fmt.Errorf("/audit/%s: Kong's answer is not an audit page: %w", ep, err)
			p.s.Observe(auditrelay.Attempt{At: p.s.Now(), StatusCode: http.StatusOK, Err: err})
			return err
		}
		for _, raw := range page.Records {
			coll.add(raw)
		}
		if page.Next == nil {
			return nil
		}
		if pos, err = p.nextPosition(*page.Next, page.Offset); err != nil {
			return fmt.Errorf("/audit/%s: %w", ep, err)
		}
		if visited[pos.key()] {
			return fmt.Errorf("/audit/%s: Kong sent the same next page twice; stopping this poll", ep)
		}
		visited[pos.key()] = true
	}
	return fmt.Errorf("/audit/%s: more than %d pages in one poll", ep, maxPages)
}

// pageURL is the URL of one page: base path, workspace, /audit/<ep>,
// size, after, and the position.
func (p *Poller) pageURL(ep string, after int64, pos position, size int) string {
	var u url.URL
	q := url.Values{}
	if pos.next != "" {
		ref, _ := url.Parse(pos.next) // checked in nextPosition
		u = *p.base.ResolveReference(ref)
		if prefix := strings.TrimSuffix(p.base.Path, "/"); prefix != "" && !strings.HasPrefix(ref.Path, prefix+"/") {
			u.Path = prefix + ref.Path
		}
		q = u.Query()
	} else {
		u = *p.base
		u.Path = strings.TrimSuffix(p.base.Path, "/") + p.auditPath(ep)
		if pos.offset != "" {
			q.Set("offset", pos.offset)
		}
	}
	u.RawPath, u.Fragment = "", ""
	q.Set("size", strconv.Itoa(size))
	if after > 0 && q.Get("after") == "" {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *Poller) auditPath(ep string) string {
	if p.cfg.Workspace == "" {
		return "/audit/" + ep
	}
	return "/" + p.cfg.Workspace + "/audit/" + ep
}

// nextPosition reads where the next page starts: the page's offset, else
// the offset in its next link, else the link itself, which must stay on
// the configured host (the admin token goes with it).
func (p *Poller) nextPosition(next, offset string) (position, error) {
	if offset != "" {
		return position{offset: offset}, nil
	}
	ref, err := url.Parse(next)
	if err != nil {
		return position{}, fmt.Errorf("next link does not parse: %w", httpout.Sanitize(err))
	}
	if o := ref.Query().Get("offset"); o != "" {
		return position{offset: o}, nil
	}
	if u := p.base.ResolveReference(ref); u.Scheme != p.base.Scheme || u.Host != p.base.Host {
		return position{}, fmt.Errorf("next link points to %s, not the configured Admin API: refusing to send the admin token there", httpout.Redact(u.String()))
	}
	if ref.Path == "" {
		return position{}, errors.New("next link has neither an offset nor a path")
	}
	return position{next: next}, nil
}

// authError is a 401 or 403 from the Admin API.
type authError struct {
	code           int
	target, answer string
}

func (e *authError) Error() string {
	return fmt.Sprintf("GET %s: Kong answered %d: %s: check admin_token (or admin_token_file) and its RBAC role", e.target, e.code, e.answer)
}

// get fetches one page with the shared retry policy and returns its body.
func (p *Poller) get(ctx context.Context, target string) ([]byte, error) {
	h := http.Header{"Accept": {"application/json"}}
	if p.cfg.AdminToken.IsSet() {
		h.Set("Kong-Admin-Token", p.cfg.AdminToken.Reveal())
	}
	resp, err := p.client.Do(ctx, httpout.Request{Method: http.MethodGet, URL: target, Header: h})
	if err != nil {
		return nil, err
	}
	if resp.Truncated {
		return nil, fmt.Errorf("GET %s: Kong's answer is larger than %s: lower page_size", httpout.Redact(target), auditrelay.Size(maxPageBytes))
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, &authError{code: code, target: httpout.Redact(target), answer: httpout.Trim(resp.Body, 200)}
	case code < 200 || code > 299:
		return nil, fmt.Errorf("GET %s: Kong answered %d: %s", httpout.Redact(target), code, httpout.Trim(resp.Body, 200))
	}
	return resp.Body, nil
}

// collection gathers one pass's new records: those at or after the
// after second and the floor, not delivered before (by id), each once
// (newest-first pages shift while Kong inserts, so one record can come on
// two pages). It holds at most about limit records: past twice that it
// keeps the oldest limit, cut at a whole second, and drops every record at
// or after that cut (cutoff) for the next pass to fetch.
type collection struct {
	cur        *cursor
	after      int64
	fallback   int64 // the second of a record without request_timestamp
	limit      int
	shrinkAt   int
	cutoff     int64
	overflowed bool
	recs       []pending
	ids        map[string]struct{}
	seq        int
}

func (c *collection) add(raw json.RawMessage) {
	id, ts, err := kong.RecordKey(raw)
	if err != nil {
		id = auditrelay.ContentID(kong.Kind, raw) // the adapter refuses it in convert
	}
	if ts == 0 {
		ts = c.fallback
	}
	if ts < c.after || ts < c.cur.Floor || ts >= c.cutoff || c.cur.has(id) {
		return
	}
	if _, dup := c.ids[id]; dup {
		return
	}
	c.ids[id] = struct{}{}
	c.seq++
	c.recs = append(c.recs, pending{id: id, ts: ts, seq: c.seq, raw: raw})
	if len(c.recs) > c.shrinkAt {
		c.shrink()
	}
}

// shrink keeps the oldest limit records, extended to the end of the
// second of the last one kept.
func (c *collection) shrink() {
	c.sort()
	last := c.recs[c.limit-1].ts
	i, _ := slices.BinarySearchFunc(c.recs, last+1, func(r pending, ts int64) int { return cmp.Compare(r.ts, ts) })
	if i < len(c.recs) {
		c.cutoff, c.overflowed = c.recs[i].ts, true
		for _, r := range c.recs[i:] {
			delete(c.ids, r.id)
		}
		clear(c.recs[i:])
		c.recs = c.recs[:i]
	}
	c.shrinkAt = max(2*c.limit, len(c.recs)+c.limit)
}

// sort orders the records oldest first; within a second, in the order
// Kong wrote them (pages come newest first, so the reverse of arrival).
func (c *collection) sort() {
	slices.SortFunc(c.recs, func(a, b pending) int {
		return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(b.seq, a.seq))
	})
}

func (c *collection) sorted() []pending {
	c.sort()
	return c.recs
}
