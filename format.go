package auditrelay

// Format encodes events for an output (formats/json, formats/cef).
type Format interface {
	// Append appends e's encoding to dst, without a trailing newline, and
	// returns the extended buffer. It must not retain dst or e.
	Append(dst []byte, e *Event) []byte
}
