// Package spool is auditrelay's durable queue: ingest appends encoded
// events, and each output reads them at its own pace through a Reader whose
// cursor survives restarts. A 200 at ingest is sent only after Append
// returned nil, and Append returns nil only after the records are fsync'd:
// this is where the at-least-once guarantee of DESIGN.md lives.
//
// # Why a segmented log, not bbolt
//
// The workload is a FIFO: every record is written once at the tail, read
// sequentially by a few readers and deleted in bulk from the head. An
// append-only log does exactly that with one sequential write and one fsync
// per group of Appends, and deletes by unlinking whole files; recovery only
// has to check the tail. A B+tree store (bbolt) would copy-on-write pages
// and fsync its meta page per transaction, keep a free list that grows with
// the backlog, never give space back to the file system without a
// compaction, and would be a new dependency (DESIGN.md: "anything else must
// earn its place"). So: a log, in the manner of Vector's disk buffer v2
// (lib/vector-buffers/src/variants/disk_v2).
//
// # Design constraints
//
//   - A record holds at most MaxRecordBytes (128 MiB) of payload.
//   - A segment file grows to about SegmentBytes (default 64 MiB, at most
//     MaxBytes/4); a record never spans two segments, and a segment holds at
//     least one record, so one oversized record makes one oversized segment.
//   - The bytes of all segment files (headers included) and of the spare
//     stay at or under MaxBytes: an Append that would pass it fails whole
//     with ErrFull (after deleting the spare, if that makes room).
//   - Memory does not grow with the backlog: the spool keeps one small
//     struct per segment file and one cursor per reader, never an index of
//     records.
//   - One process per directory, enforced with flock(2) on the LOCK file.
//
// # On-disk layout
//
// Everything lives in Options.Dir (data_dir/spool):
//
//	LOCK                                 flock'd while a process has the spool open
//	seg-00000000000000000001.log         segment files, id in 20 decimal digits,
//	seg-00000000000000000002.log         so name order is id order; ids only grow
//	cursor-<name>.pos                    one per registered reader
//	segment.spare                        a delivered segment kept for reuse (see Recycling)
//	*.tmp                                a write in progress; deleted at Open
//	seg-….log.corrupt                    a segment whose header was unreadable,
//	                                     moved aside at Open for inspection
//
// All integers are little-endian. A segment file starts with a 16-byte
// header followed by records back to back:
//
//	segment header (16 bytes)
//	  0  4  magic "ARSP"
//	  4  1  version (1)
//	  5  3  reserved, zero
//	  8  8  first sequence number: the seq of the segment's first record
//
//	record (16-byte header + payload)
//	  0  4  CRC-32C (Castagnoli) over bytes 4..16 of this header and the payload
//	  4  4  payload length in bytes
//	  8  8  sequence number: one more than the previous record's, across segments
//	 16  n  payload
//
// A Position is (segment id, byte offset of the record header in the file);
// the first record of every segment is at offset 16. Sequence numbers make
// record counts (Depth, Lag) arithmetic, and let a reader and recovery
// tell a stale or misplaced header from a real record.
//
// A cursor file is 36 bytes, always replaced whole (write cursor-<name>.pos.tmp,
// fsync, rename over cursor-<name>.pos, fsync the directory):
//
//	 0  4  magic "ARCU"
//	 4  1  version (1)
//	 5  3  reserved, zero
//	 8  8  segment id    } the position of the next record
//	16  8  byte offset   } this reader has not committed
//	24  8  sequence number of that record
//	32  4  CRC-32C of bytes 0..32
//
// <name> is the reader (output) name with every byte outside
// [A-Za-z0-9_-] written as %XX, so any name maps to one safe file name.
//
// # Event records
//
// Ingest stores each normalized event as one record, encoded by
// AppendEvent (over ten times faster than encoding/json both ways, in less
// than half the bytes; see BenchmarkEvent*):
//
//	1 byte     version (EventVersion = 1)
//	string     id                      string = uvarint length, then the bytes
//	time       received_at             time = uvarint 0 for the zero time, else
//	                                   uvarint(nanosecond+1) then varint(unix seconds)
//	uvarint    presence mask; then, for each set bit in order:
//	  bits 0–22  the string fields in eventStrings order (source, actor,
//	             action, resource, request, outcome)
//	  bit 23/24  actor.roles / action.all: uvarint count, then strings
//	  bit 25/26  outcome.status_code / severity: varint
//	  bit 27     time
//	  bit 28     raw: uvarint length, then the bytes
//
// id and received_at come first so that EventID and EventKey read them
// without decoding the rest (the dedup window is rebuilt from them at
// start-up). A decoder refuses unknown versions and mask bits.
//
// # Invariants
//
//   - Records are only ever appended; a byte once fsync'd and published is
//     never rewritten while its segment exists. Only the tail of the newest
//     segment past its last fsync can be incomplete (or hold a recycled
//     file's old records).
//   - A segment file never exists without its complete header (it is
//     created under a .tmp name and renamed after the header is fsync'd).
//   - Before the writer starts segment N+1 it has fsync'd segment N, so
//     every segment but the newest is complete.
//   - Readers see only fsync'd records: the visible end of each segment
//     moves after the fsync of the round that wrote it.
//   - A segment is deleted only when every registered reader has committed
//     past its last record, after their cursor files were made durable.
//     With no reader registered, nothing is deleted. The newest segment is
//     never deleted.
//   - A cursor never points before the oldest segment or after the tail;
//     Open clamps one that does (and logs it).
//
// # Writing: group commit
//
// Append hands its batch to the one writer goroutine and waits. The writer
// takes every batch waiting (up to 1024), checks each against MaxBytes
// (all-or-nothing per batch), frames them into one buffer, writes it, and
// fsyncs once; then it publishes the new tail to readers and answers every
// batch of the round. N concurrent Appends therefore share one fsync
// (Rounds counts them). If a write or fsync fails the writer truncates the
// newest segment back to its last fsync'd length and fails the round's
// batches; the senders retry. If even that truncation fails, the spool
// refuses appends until a restart recovers it.
//
// # Recycling
//
// Appending to a file makes every fsync also write the file system's
// metadata for the new blocks; overwriting blocks the file already has
// does not, which made the relay's end-to-end run about 6 % faster. So
// when reclaim deletes delivered segments it keeps the first one of at
// least SegmentBytes/2 as segment.spare instead (at most one spare), and
// the writer's next segment is that file: renamed to its .tmp name, its
// header written over the old one and synced, then renamed into place as
// any new segment. Its old records stay past the new ones until
// overwritten. They cannot be mistaken for new ones: their sequence
// numbers are older than the segment's first, so recovery of the newest
// segment stops at the first of them and truncates there, as at any torn
// tail. Before the writer moves on from a recycled segment it truncates
// the rest of the old records and syncs, so that every sealed segment ends
// at its last record; Close does the same, so a clean restart finds no
// tail to cut. The spare counts against MaxBytes; an Append that would
// not fit deletes it first.
//
// # Reading
//
// A Reader has a committed cursor (in its file) and a read position (in
// memory). Next returns records from the read position and advances it;
// Commit(pos) persists the cursor just past the record at pos and deletes
// the segments everyone has passed; Rewind moves the read position back to
// the cursor after a failed delivery round. A record whose checksum or
// sequence number is wrong in the middle of the log (disk damage, not a
// crash) is logged with the segment and offset, and the reader skips to the
// next segment: losing the rest of one segment is better than blocking the
// output forever. Each Next reads into a new buffer that its records share,
// unless the caller asked for ReuseBuffers (delivery does: it decodes a
// read's records before its next Next), so that a steady stream of reads
// allocates nothing.
//
// Readers are registered by name: Reader(name) writes the cursor file of a
// new name at once, starting it at the oldest record still in the spool.
// At start-up the caller opens a Reader per configured output and then
// calls RemoveReader for every name in Readers() that no output claims, so
// a removed output does not pin segments (and fill the spool) forever.
//
// # Recovery
//
// Open removes *.tmp files, reads the header of every segment (moving a
// segment with an unreadable header aside as .corrupt, logged), and
// verifies the newest segment record by record: length within bounds and
// within the file, sequence number the expected one, CRC-32C correct. At
// the first record that fails it truncates the file there and logs a
// warning with the segment, offset and bytes dropped; this is the torn
// write of a crash, whose records were never acknowledged. A torn tail is
// never fatal. Older segments are not re-verified at Open (they were
// fsync'd whole before the next one began); readers and Scan still check
// every record's CRC. Then every cursor file is read: one that is damaged
// restarts its reader at the oldest record (at-least-once: duplicates, not
// loss), one outside the retained range is clamped, and segments every
// cursor has passed are deleted (a crash between cursor write and delete
// leaves them behind).
//
// Power loss is covered by the fsync discipline above; kill -9 is tested by
// TestKillNineKeepsAcknowledged, which kills a writing child process and
// checks every acknowledged record is still there, once and in order.
package spool
