package kongadmin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// cursorVersion is the layout of the cursor files this code writes.
const cursorVersion = 1

// cursor is how far one endpoint has been delivered, saved as
// StateDir/cursor-<endpoint>.json (layout in doc.go).
type cursor struct {
	Version   int    `json:"version"`
	Endpoint  string `json:"endpoint"`
	URL       string `json:"url"`
	Workspace string `json:"workspace,omitempty"`
	// Floor is the first second to deliver (start_from); 0 for earliest.
	Floor int64 `json:"floor"`
	// Since is the newest request_timestamp delivered; 0 before the first.
	Since int64 `json:"since"`
	// Seen lists, by second, the ids delivered in the seconds a poll reads
	// again (Since minus the lookback, and later).
	Seen map[int64][]string `json:"seen"`

	ids map[string]int64 // Seen by id
}

func newCursor(endpoint, target, workspace string, floor int64) *cursor {
	return &cursor{Version: cursorVersion, Endpoint: endpoint, URL: target, Workspace: workspace, Floor: floor, ids: map[string]int64{}}
}

func cursorPath(dir, endpoint string) string {
	return filepath.Join(dir, "cursor-"+endpoint+".json")
}

// after is the after parameter of the next poll: the lookback before the
// newest second delivered (so the boundary second is always read again),
// never before the floor; 0 means none (from the earliest record).
func (c *cursor) after(lookback int64) int64 {
	if c.Since == 0 {
		return c.Floor
	}
	return max(c.Floor, c.Since-lookback, 0)
}

// has reports whether the record id was delivered.
func (c *cursor) has(id string) bool {
	_, ok := c.ids[id]
	return ok
}

// advance records delivered records, then forgets the ids older than
// the seconds the next poll reads again.
func (c *cursor) advance(recs []pending, lookback int64) {
	for _, r := range recs {
		c.ids[r.id] = r.ts
		c.Since = max(c.Since, r.ts)
	}
	cut := c.after(lookback)
	for id, ts := range c.ids {
		if ts < cut {
			delete(c.ids, id)
		}
	}
}

// save writes the cursor durably: a temporary file, fsync, rename over
// the old one, fsync of the directory.
func (c *cursor) save(path string) error {
	c.Seen = make(map[int64][]string, 8)
	for id, ts := range c.ids {
		c.Seen[ts] = append(c.Seen[ts], id)
	}
	for _, ids := range c.Seen {
		slices.Sort(ids)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode cursor: %w", err)
	}
	if err := writeDurably(path, append(b, '\n')); err != nil {
		return fmt.Errorf("save cursor %s: %w; check the data_dir volume", path, err)
	}
	return nil
}

func writeDurably(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// loadCursor reads a saved cursor; found is false when there is none.
func loadCursor(path string) (c *cursor, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read cursor: %w", err)
	}
	c, err = decodeCursor(b)
	if err != nil {
		return nil, false, fmt.Errorf("cursor %s is damaged: %w; delete it to start that endpoint over from start_from", path, err)
	}
	if want := filepath.Base(cursorPath("", c.Endpoint)); filepath.Base(path) != want {
		return nil, false, fmt.Errorf("cursor %s is for endpoint %q: move it back to %s", path, c.Endpoint, want)
	}
	return c, true, nil
}

// decodeCursor parses and checks a cursor file's content.
func decodeCursor(b []byte) (*cursor, error) {
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	switch {
	case c.Version != cursorVersion:
		return nil, fmt.Errorf("version %d, want %d", c.Version, cursorVersion)
	case c.Endpoint != EndpointRequests && c.Endpoint != EndpointObjects:
		return nil, fmt.Errorf("unknown endpoint %q", c.Endpoint)
	case c.Floor < 0 || c.Since < 0:
		return nil, errors.New("negative second")
	}
	c.ids = make(map[string]int64, len(c.Seen))
	for ts, ids := range c.Seen {
		for _, id := range ids {
			if id == "" {
				return nil, errors.New("empty id in seen")
			}
			c.ids[id] = ts
		}
	}
	c.Seen = nil
	return &c, nil
}
