// Package file is the file output: events appended to a file, or written
// to standard output with path = "-" (the embedded default config's output).
//
// # Wire format
//
// One event per line, each line ending in "\n":
//
//	format = "json"   the normalized event (formats/json), i.e. NDJSON
//	format = "cef"    the CEF line (formats/cef)
//
// framing does not apply. The file is opened once with
// O_WRONLY|O_APPEND|O_CREATE and mode 0600 (audit trails are sensitive);
// each batch is built in memory and written with one write call, so
// batches from one relay never interleave. Nothing is fsync'd: the spool
// is the durable copy. A failed write is retried in the next round; a torn
// last line may then precede the batch written whole (at-least-once). The
// file is not reopened on rotation: rotate with copytruncate, or restart.
package file
