package json_test

import "github.com/auditrelay/auditrelay/internal/golden"

// The internal tests cannot import golden (it imports this package), so
// this external file links its -update flag in.
var _ = golden.Update // accept go test ./... -update
