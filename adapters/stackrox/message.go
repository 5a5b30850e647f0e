package stackrox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

// message is v1.Audit.Message as protojson writes it: lowerCamelCase keys,
// enums by name, zero values left out.
type message struct {
	Time         timestamp     `json:"time"`
	Status       requestStatus `json:"status"`
	StatusReason string        `json:"statusReason"`
	User         *userInfo     `json:"user"`
	Request      *request      `json:"request"`
	Method       accessMethod  `json:"method"`
	Interaction  interaction   `json:"interaction"`
}

// userInfo is storage.UserInfo. Permissions (a resourceToAccess map) has no
// place in the schema and is not decoded.
type userInfo struct {
	Username     string `json:"username"`
	FriendlyName string `json:"friendlyName"`
	Roles        []role `json:"roles"`
	// Role is the single role of releases before roles[] (field 3, now
	// reserved).
	Role *role `json:"role"`
}

type role struct {
	Name string `json:"name"`
}

// request is v1.Audit.Message.Request.
type request struct {
	Endpoint      string         `json:"endpoint"`
	Method        string         `json:"method"`
	Payload       *payload       `json:"payload"`
	SourceHeaders *sourceHeaders `json:"sourceHeaders"`
	SourceIP      string         `json:"sourceIp"`
}

// sourceHeaders is v1.Audit.Message.Request.SourceHeaders. UserAgent is not
// in the proto; it is read in case a release adds it.
type sourceHeaders struct {
	XForwardedFor addrList `json:"xForwardedFor"`
	RemoteAddr    string   `json:"remoteAddr"`
	RequestAddr   string   `json:"requestAddr"`
	UserAgent     string   `json:"userAgent"`
}

// payload is the request message as a google.protobuf.Any: "@type" and the
// message's own fields. Only the fields a resource is named by are read, and
// only when they are strings.
type payload struct {
	Type      looseString `json:"@type"`
	ID        looseString `json:"id"`
	Name      looseString `json:"name"`
	Namespace looseString `json:"namespace"`
}

// timestamp is a google.protobuf.Timestamp: an RFC 3339 string in UTC.
type timestamp struct{ t time.Time }

func (ts *timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		return fmt.Errorf("time: got JSON %s, want an RFC 3339 string", jsonscan.KindOf(b[0]).String())
	}
	s, err := unquote(b)
	if err != nil {
		return fmt.Errorf("time: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("time: %q is not an RFC 3339 time", s)
	}
	ts.t = t.UTC()
	return nil
}

// The enums of v1.Audit, indexed by number; see proto/api/v1/audit.proto.
var (
	statusNames      = [...]string{"UNKNOWN_STATUS", "REQUEST_SUCCEEDED", "AUTH_FAILED", "REQUEST_FAILED"}
	interactionNames = [...]string{"UNKNOWN_INTERACTION", "CREATE", "UPDATE", "DELETE"}
	methodNames      = [...]string{"UNKNOWN_METHOD", "CLI", "UI", "API"}
)

type (
	requestStatus string
	interaction   string
	accessMethod  string
)

func (v *requestStatus) UnmarshalJSON(b []byte) error {
	s, err := enum("status", statusNames[:], b)
	*v = requestStatus(s)
	return err
}

func (v *interaction) UnmarshalJSON(b []byte) error {
	s, err := enum("interaction", interactionNames[:], b)
	*v = interaction(s)
	return err
}

func (v *accessMethod) UnmarshalJSON(b []byte) error {
	s, err := enum("method", methodNames[:], b)
	*v = accessMethod(s)
	return err
}

// enum reads a protobuf enum the way the protobuf JSON mapping allows: by
// name, or by number (a known number becomes its name, an unknown one its
// digits).
func enum(field string, names []string, b []byte) (string, error) {
	switch {
	case string(b) == "null":
		return "", nil
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		return s, nil
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return "", fmt.Errorf("%s: %s is not an enum number", field, b)
		}
		if n >= 0 && n < len(names) {
			return names[n], nil
		}
		return string(b), nil
	}
	return "", fmt.Errorf("%s: got JSON %s, want a name such as %q", field, jsonscan.KindOf(b[0]).String(), names[1])
}

// addrList is X-Forwarded-For: a string (comma-separated) or a list of
// strings. It keeps the first address, the client's.
type addrList string

func (v *addrList) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		return nil
	case '"':
		s, err := unquote(b)
		if err != nil {
			return fmt.Errorf("xForwardedFor: %w", err)
		}
		*v = addrList(firstAddr(s))
		return nil
	case '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("xForwardedFor: want a string or a list of strings")
		}
		for _, s := range list {
			if a := firstAddr(s); a != "" {
				*v = addrList(a)
				return nil
			}
		}
		return nil
	}
	return fmt.Errorf("xForwardedFor: got JSON %s, want a string or a list of strings", jsonscan.KindOf(b[0]).String())
}

func firstAddr(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}

// looseString keeps a JSON string and ignores any other value: payload
// fields are the request's own, and not every message's "id" is a string.
type looseString string

func (v *looseString) UnmarshalJSON(b []byte) error {
	if b[0] != '"' {
		return nil
	}
	s, err := unquote(b)
	*v = looseString(s)
	return err
}

// unquote decodes a JSON string, without a copy through encoding/json when
// it has no escapes.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
