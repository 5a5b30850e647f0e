// Package conf loads auditrelay's TOML configuration and holds the one
// registry of adapters, formats and outputs (registry.go).
//
// `auditrelay run -c PATH` may repeat; a directory loads its *.toml in
// lexical order, so each SIEM is one drop-in file (siem.d/ has ready ones).
// Loading is strict: an unknown key is an error naming its file and line, a
// name ([relay], an input or an output) defined twice is an error naming both
// files. ${VAR} expands from the environment before parsing (an unset
// variable is an error); write it inside a double-quoted string, where its
// value is escaped. A key "x_file" next to a secret "x" reads the secret from
// that file (one trailing newline dropped). Durations are written "30s",
// sizes "10MiB" or "1MB".
//
// With no -c, the embedded default.toml runs: every input on
// 127.0.0.1:9780 unsigned, JSON to stdout, the spool in ./auditrelay-data.
package conf
