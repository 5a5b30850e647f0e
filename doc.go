// Package auditrelay is the vocabulary of the audit-log shipper: the
// normalized Event and the small interfaces that adapters, formats and
// outputs implement. It imports only the standard library.
//
// Data flows one way:
//
//	ingest → adapter → spool → delivery → format → output
//
//	internal/ingest     POST /ingest/{input}: authenticity, size limits, answers
//	adapters/<name>     Adapter: a source's body → []Event (pure)
//	internal/spool      the durable, fsync'd log between ingest and outputs
//	internal/delivery   batching, cursors, retry rounds, dead letter, status
//	formats/<name>      Format: *Event → bytes (json, cef)
//	outputs/<name>      Output: send a batch, classify the answer
//
// conf/ loads the TOML config and holds the one registry of adapters,
// formats and outputs; cmd/auditrelay is the CLI. The value types Secret,
// Duration and Size live here rather than in conf so that plugin configs can
// use them while conf imports the plugins.
package auditrelay
