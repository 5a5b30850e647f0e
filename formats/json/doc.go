// Package json encodes a normalized event as one JSON object: snake_case
// keys in schema order, empty fields omitted, times RFC 3339 with nine
// fractional digits in UTC, severity always present, raw embedded as is.
//
//	{"id":"sha256:…","time":"2023-12-04T17:09:28.710118072Z",
//	 "source":{"kind":"openfaas","input":"openfaas"},
//	 "actor":{"id":"…","type":"service"},"action":{"name":"Namespace:List",
//	 "all":["Namespace:List"],"verb":"read"},…,"severity":1}
//
// The encoder is hand-written (no reflection) and appends to a caller's
// buffer, so formatting costs no allocation per event. Its output decodes
// with encoding/json into auditrelay.Event to the same values.
// Framing (array or one object per line) is the output's business.
package json
