package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/auditrelay/auditrelay"
)

// EventVersion is the first byte of every encoded event.
const EventVersion = 1

// Bits of the presence mask, in the order the fields follow it. The 23
// string fields come first (bits 0–22, in the order of eventStrings).
const (
	bitRoles = 23 + iota
	bitAll
	bitStatusCode
	bitSeverity
	bitTime
	bitRaw
	numBits
)

var errShort = errors.New("decode event: record cut short")

// eventStrings lists e's string fields in mask-bit order. Appending a field
// here is a format change: add it at the end and bump EventVersion.
func eventStrings(e *auditrelay.Event) [23]*string {
	return [23]*string{
		&e.Source.Kind, &e.Source.Input, &e.Source.DeliveryID,
		&e.Actor.ID, &e.Actor.Name, &e.Actor.Username, &e.Actor.Issuer, &e.Actor.FederatedIssuer, &e.Actor.Type,
		&e.Action.Name, &e.Action.Verb,
		&e.Resource.Type, &e.Resource.ID, &e.Resource.Name, &e.Resource.Namespace,
		&e.Request.ID, &e.Request.Method, &e.Request.Path, &e.Request.ClientIP, &e.Request.UserAgent, &e.Request.Interface,
		&e.Outcome.Result, &e.Outcome.Reason,
	}
}

// AppendEvent appends the binary encoding of e to dst (see doc.go, "Event
// records"): version, id, received_at, a presence mask, then each present
// field. Times keep their instant to the nanosecond and decode as UTC.
func AppendEvent(dst []byte, e *auditrelay.Event) []byte {
	dst = append(dst, EventVersion)
	dst = appendString(dst, e.ID)
	dst = appendTime(dst, e.ReceivedAt)
	strs := eventStrings(e)
	var mask uint64
	for i, p := range strs {
		if *p != "" {
			mask |= 1 << i
		}
	}
	mask |= bitIf(len(e.Actor.Roles) > 0, bitRoles) | bitIf(len(e.Action.All) > 0, bitAll) |
		bitIf(e.Outcome.StatusCode != 0, bitStatusCode) | bitIf(e.Severity != 0, bitSeverity) |
		bitIf(!e.Time.IsZero(), bitTime) | bitIf(len(e.Raw) > 0, bitRaw)
	dst = binary.AppendUvarint(dst, mask)
	for _, p := range strs {
		if *p != "" {
			dst = appendString(dst, *p)
		}
	}
	if mask&(1<<bitRoles) != 0 {
		dst = appendStrings(dst, e.Actor.Roles)
	}
	if mask&(1<<bitAll) != 0 {
		dst = appendStrings(dst, e.Action.All)
	}
	if mask&(1<<bitStatusCode) != 0 {
		dst = binary.AppendVarint(dst, int64(e.Outcome.StatusCode))
	}
	if mask&(1<<bitSeverity) != 0 {
		dst = binary.AppendVarint(dst, int64(e.Severity))
	}
	if mask&(1<<bitTime) != 0 {
		dst = appendTime(dst, e.Time)
	}
	if mask&(1<<bitRaw) != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Raw)))
		dst = append(dst, e.Raw...)
	}
	return dst
}

func bitIf(ok bool, bit uint) uint64 {
	if ok {
		return 1 << bit
	}
	return 0
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

// appendTime writes the zero time as one 0 byte, any other time as
// uvarint(nanoseconds+1) then varint(unix seconds).
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond())+1)
	return binary.AppendVarint(dst, t.Unix())
}

// decoder reads fields off an encoded event. Strings are cut from one copy
// of the record, so decoding allocates once for all of them.
type decoder struct {
	b   []byte
	str string // string(b), made on first use
	off int
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.off += n
	return v
}

// span returns the bounds of a length-prefixed field.
func (d *decoder) span() (int, int) {
	n := d.uvarint()
	if d.err != nil {
		return 0, 0
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = errShort
		return 0, 0
	}
	start := d.off
	d.off += int(n)
	return start, d.off
}

func (d *decoder) string() string {
	start, end := d.span()
	if d.err != nil || start == end {
		return ""
	}
	if d.str == "" {
		d.str = string(d.b)
	}
	return d.str[start:end]
}

func (d *decoder) strings() []string {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) { // every entry takes at least one byte
		d.err = errShort
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

func (d *decoder) time() time.Time {
	tag := d.uvarint()
	if d.err != nil || tag == 0 {
		return time.Time{}
	}
	if tag > 1e9 {
		d.err = errors.New("decode event: nanoseconds out of range")
		return time.Time{}
	}
	sec := d.varint()
	return time.Unix(sec, int64(tag-1)).UTC()
}

// DecodeEvent decodes b (written by AppendEvent) into e, replacing all of
// e's fields. It never panics: damaged input gives an error. e shares no
// memory with b.
func DecodeEvent(b []byte, e *auditrelay.Event) error {
	*e = auditrelay.Event{}
	d := decoder{b: b}
	if err := d.version(); err != nil {
		return err
	}
	e.ID = d.string()
	e.ReceivedAt = d.time()
	mask := d.uvarint()
	if d.err == nil && mask>>numBits != 0 {
		return fmt.Errorf("decode event: unknown fields (mask %#x); written by a newer auditrelay?", mask)
	}
	for i, p := range eventStrings(e) {
		if mask&(1<<i) != 0 {
			*p = d.string()
		}
	}
	if mask&(1<<bitRoles) != 0 {
		e.Actor.Roles = d.strings()
	}
	if mask&(1<<bitAll) != 0 {
		e.Action.All = d.strings()
	}
	if mask&(1<<bitStatusCode) != 0 {
		e.Outcome.StatusCode = int(d.varint())
	}
	if mask&(1<<bitSeverity) != 0 {
		e.Severity = int(d.varint())
	}
	if mask&(1<<bitTime) != 0 {
		e.Time = d.time()
	}
	if mask&(1<<bitRaw) != 0 {
		start, end := d.span()
		if d.err == nil {
			e.Raw = append([]byte(nil), b[start:end]...)
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.off != len(b) {
		return fmt.Errorf("decode event: %d bytes left over", len(b)-d.off)
	}
	return nil
}

func (d *decoder) version() error {
	if len(d.b) == 0 {
		return errShort
	}
	if d.b[0] != EventVersion {
		return fmt.Errorf("decode event: version %d, this build reads %d", d.b[0], EventVersion)
	}
	d.off = 1
	return nil
}

// EventID returns the id of an encoded event without decoding the rest
// (for rebuilding the dedup window).
func EventID(b []byte) (string, error) {
	d := decoder{b: b}
	if err := d.version(); err != nil {
		return "", err
	}
	start, end := d.span()
	if d.err != nil {
		return "", d.err
	}
	return string(b[start:end]), nil
}

// EventKey returns the id and received_at of an encoded event, the two
// fields that lead every record, without decoding the rest.
func EventKey(b []byte) (id string, receivedAt time.Time, err error) {
	d := decoder{b: b}
	if err := d.version(); err != nil {
		return "", time.Time{}, err
	}
	start, end := d.span()
	receivedAt = d.time()
	if d.err != nil {
		return "", time.Time{}, d.err
	}
	return string(b[start:end]), receivedAt, nil
}
