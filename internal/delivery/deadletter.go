package delivery

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay"
	jsonformat "github.com/auditrelay/auditrelay/formats/json"
)

// DeadLetter is data_dir/deadletter/: one <output>.ndjson file per output,
// one line per refused event:
//
//	{"dead_lettered_at":"…","output":"splunk","status_code":400,
//	 "response":"{\"text\":\"Invalid data format\",\"code\":6,…}",
//	 "error":"…","event":{…normalized event…}}
//
// Lines are appended and synced before the cursor moves past the event.
type DeadLetter struct {
	dir string
	now func() time.Time
	mu  sync.Mutex
}

// OpenDeadLetter opens (creating) dir.
func OpenDeadLetter(dir string, now func() time.Time) (*DeadLetter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	return &DeadLetter{dir: dir, now: now}, nil
}

// Path is the dead-letter file of an output.
func (d *DeadLetter) Path(output string) string {
	return filepath.Join(d.dir, output+".ndjson")
}

// entry is one line of a dead-letter file.
type entry struct {
	DeadLetteredAt time.Time       `json:"dead_lettered_at"`
	Output         string          `json:"output"`
	StatusCode     int             `json:"status_code,omitempty"`
	Response       string          `json:"response,omitempty"`
	Error          string          `json:"error,omitempty"`
	Event          json.RawMessage `json:"event"`
}

// Write appends events with the answer that refused them and syncs.
func (d *DeadLetter) Write(output string, events []auditrelay.Event, de *auditrelay.DeliveryError) error {
	var buf bytes.Buffer
	f := jsonformat.New()
	var ev []byte
	for i := range events {
		ev = f.Append(ev[:0], &events[i])
		e := entry{DeadLetteredAt: d.now().UTC(), Output: output, StatusCode: de.StatusCode, Response: de.Response, Event: ev}
		if de.Err != nil {
			e.Error = de.Err.Error()
		}
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	file, err := os.OpenFile(d.Path(output), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := file.Write(buf.Bytes()); err != nil {
		file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// Take reads every event dead-lettered for output. The caller re-queues the
// events, then calls done: done(true) moves the file aside
// (<output>.ndjson.replayed-<unix>) so a replay is not repeated, done(false)
// leaves it in place. The file moves only after the re-queue, so a crash in
// between re-queues the events twice (at-least-once) rather than strand them
// in a file no command reads.
func (d *DeadLetter) Take(output string) (events []auditrelay.Event, done func(ok bool) error, err error) {
	path := d.Path(output)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dead letter of output %q: %w", output, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		var ev auditrelay.Event
		if err := json.Unmarshal(e.Event, &ev); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: event: %w", path, line, err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return events, func(ok bool) error {
		if !ok {
			return nil
		}
		aside := fmt.Sprintf("%s.replayed-%d", path, d.now().Unix())
		if err := os.Rename(path, aside); err != nil {
			return fmt.Errorf("dead letter: events re-queued, but moving %s aside failed (delete it by hand, or the next replay queues them again): %w", path, err)
		}
		return nil
	}, nil
}
