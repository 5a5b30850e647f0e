package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// On-disk constants; doc.go describes the layout they define.
const (
	segmentMagic      = "ARSP"
	segmentVersion    = 1
	segmentHeaderSize = 16
	recordHeaderSize  = 16
	cursorMagic       = "ARCU"
	cursorVersion     = 1
	cursorFileSize    = 36

	// MaxRecordBytes is the largest payload one record may hold. A length
	// field above it can only be damage, which is how recovery reads it.
	MaxRecordBytes = 128 << 20

	segmentPrefix = "seg-"
	segmentSuffix = ".log"
	cursorPrefix  = "cursor-"
	cursorSuffix  = ".pos"
	tmpSuffix     = ".tmp"
	corruptSuffix = ".corrupt"
	lockName      = "LOCK"
	spareName     = "segment.spare"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errBadHeader = errors.New("bad segment header")

// segmentName is the file name of segment id: seg-<20 decimal digits>.log,
// so lexical order is numeric order.
func segmentName(id uint64) string {
	return fmt.Sprintf("%s%020d%s", segmentPrefix, id, segmentSuffix)
}

// parseSegmentName returns the id of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, segmentPrefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	id, err := strconv.ParseUint(digits, 10, 64)
	return id, err == nil
}

// appendSegmentHeader appends the 16-byte segment header.
func appendSegmentHeader(dst []byte, firstSeq uint64) []byte {
	dst = append(dst, segmentMagic...)
	dst = append(dst, segmentVersion, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(dst, firstSeq)
}

// parseSegmentHeader returns the first sequence number a segment header holds.
func parseSegmentHeader(b []byte) (uint64, error) {
	if len(b) < segmentHeaderSize || string(b[:4]) != segmentMagic {
		return 0, errBadHeader
	}
	if b[4] != segmentVersion {
		return 0, fmt.Errorf("%w: version %d, this build reads %d", errBadHeader, b[4], segmentVersion)
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// appendRecord appends one framed record: crc32c | length | seq | payload.
func appendRecord(dst []byte, seq uint64, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = append(dst, payload...)
	sum := crc32.Update(0, castagnoli, dst[start+4:])
	binary.LittleEndian.PutUint32(dst[start:], sum)
	return dst
}

// recordHeader is a decoded record header.
type recordHeader struct {
	crc    uint32
	length uint32
	seq    uint64
}

func parseRecordHeader(b []byte) recordHeader {
	return recordHeader{
		crc:    binary.LittleEndian.Uint32(b[0:4]),
		length: binary.LittleEndian.Uint32(b[4:8]),
		seq:    binary.LittleEndian.Uint64(b[8:16]),
	}
}

// valid reports whether payload matches the header's checksum.
func (h recordHeader) valid(header, payload []byte) bool {
	sum := crc32.Update(0, castagnoli, header[4:recordHeaderSize])
	return crc32.Update(sum, castagnoli, payload) == h.crc
}

// cursorName is the file name of a reader's cursor: cursor-<escaped name>.pos.
// Bytes outside [A-Za-z0-9_-] are written as %XX, so any output name maps
// to one safe file name and back.
func cursorName(reader string) string {
	var b strings.Builder
	b.WriteString(cursorPrefix)
	for i := 0; i < len(reader); i++ {
		c := reader[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	b.WriteString(cursorSuffix)
	return b.String()
}

// parseCursorName returns the reader name of a cursor file name.
func parseCursorName(file string) (string, bool) {
	esc, ok := strings.CutPrefix(file, cursorPrefix)
	if !ok {
		return "", false
	}
	esc, ok = strings.CutSuffix(esc, cursorSuffix)
	if !ok || esc == "" {
		return "", false
	}
	var out []byte
	for i := 0; i < len(esc); i++ {
		if esc[i] != '%' {
			out = append(out, esc[i])
			continue
		}
		if i+2 >= len(esc) {
			return "", false
		}
		v, err := strconv.ParseUint(esc[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		out = append(out, byte(v))
		i += 2
	}
	return string(out), true
}

// cursor is a reader position together with the sequence number of the
// record found there.
type cursor struct {
	pos Position
	seq uint64
}

func appendCursor(dst []byte, c cursor) []byte {
	start := len(dst)
	dst = append(dst, cursorMagic...)
	dst = append(dst, cursorVersion, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, c.pos.Segment)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(c.pos.Offset))
	dst = binary.LittleEndian.AppendUint64(dst, c.seq)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func parseCursor(b []byte) (cursor, error) {
	if len(b) != cursorFileSize || string(b[:4]) != cursorMagic {
		return cursor{}, errors.New("not a cursor file")
	}
	if b[4] != cursorVersion {
		return cursor{}, fmt.Errorf("cursor version %d, this build reads %d", b[4], cursorVersion)
	}
	if crc32.Checksum(b[:32], castagnoli) != binary.LittleEndian.Uint32(b[32:]) {
		return cursor{}, errors.New("cursor checksum mismatch")
	}
	off := binary.LittleEndian.Uint64(b[16:24])
	if off > 1<<62 {
		return cursor{}, errors.New("cursor offset out of range")
	}
	return cursor{
		pos: Position{Segment: binary.LittleEndian.Uint64(b[8:16]), Offset: int64(off)},
		seq: binary.LittleEndian.Uint64(b[24:32]),
	}, nil
}
