package cef

import (
	"net/netip"
	"strconv"

	"github.com/auditrelay/auditrelay"
)

// SchemaVersion is the Device Version header field: the version of
// auditrelay's mapping of the normalized event onto CEF. It changes when a
// key's meaning changes, so that consumers can tell the two apart.
const SchemaVersion = "1.0"

// Length limits, in units (see doc.go), from "Implementing ArcSight CEF"
// rev 25: header field sizes from chapter 1, extension lengths from the
// chapter 2 dictionary.
const (
	limitVendor       = 63   // deviceVendor
	limitProduct      = 63   // deviceProduct
	limitVersion      = 31   // deviceVersion
	limitSignatureID  = 1023 // deviceEventClassId
	limitName         = 512  // name
	limitExternalID   = 40   // externalId
	limitUser         = 1023 // suser, suid
	limitMethod       = 1023 // requestMethod
	limitRequest      = 1023 // request (requestUrl)
	limitClientApp    = 1023 // requestClientApplication
	limitAction       = 63   // act (deviceAction)
	limitCategory     = 1023 // cat (deviceEventCategory)
	limitOutcome      = 63   // outcome (eventOutcome)
	limitReason       = 1023 // reason
	limitCustomString = 4000 // cs1..cs6
	limitLabel        = 1023 // every *Label key
)

// Format is the CEF format. Its zero value is ready to use.
type Format struct{}

// New returns the CEF format.
func New() Format { return Format{} }

// Append appends e as one CEF:0 line, without a line ending.
func (Format) Append(dst []byte, e *auditrelay.Event) []byte {
	dst = appendHeader(dst, e)
	x := extension{dst: dst, start: len(dst)}
	if t := e.EventTime(); !t.IsZero() {
		x.key("rt")
		x.dst = strconv.AppendInt(x.dst, t.UnixMilli(), 10)
	}
	x.str("externalId", e.ID, limitExternalID)
	x.str("suser", firstOf(e.Actor.Username, e.Actor.Name, e.Actor.ID), limitUser)
	x.str("suid", e.Actor.ID, limitUser)
	x.address(e.Request.ClientIP)
	x.str("requestMethod", e.Request.Method, limitMethod)
	x.str("request", e.Request.Path, limitRequest)
	x.str("requestClientApplication", e.Request.UserAgent, limitClientApp)
	x.str("act", e.Action.Name, limitAction)
	x.str("cat", e.Source.Kind, limitCategory)
	x.str("outcome", e.Outcome.Result, limitOutcome)
	x.str("reason", e.Outcome.Reason, limitReason)
	if code := e.Outcome.StatusCode; code != 0 {
		x.key("cn1")
		x.dst = strconv.AppendInt(x.dst, int64(code), 10)
		x.str("cn1Label", "statusCode", limitLabel)
	}
	x.custom("cs1", "cs1Label", "resourceType", e.Resource.Type)
	x.custom("cs2", "cs2Label", "resourceName", e.Resource.Name)
	x.custom("cs3", "cs3Label", "namespace", e.Resource.Namespace)
	x.custom("cs4", "cs4Label", "issuer", firstOf(e.Actor.Issuer, e.Actor.FederatedIssuer))
	x.roles(e.Actor.Roles)
	x.custom("cs6", "cs6Label", "input", e.Source.Input)
	return x.finish()
}

// appendHeader appends "CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|".
func appendHeader(dst []byte, e *auditrelay.Event) []byte {
	vendor, product := device(e.Source.Kind)
	dst = append(dst, "CEF:0|"...)
	dst = headerField(dst, vendor, limitVendor)
	dst = headerField(dst, product, limitProduct)
	dst = headerField(dst, SchemaVersion, limitVersion)
	dst = headerField(dst, firstOf(e.Action.Name, e.Action.Verb, "event"), limitSignatureID)
	if m, p := e.Request.Method, e.Request.Path; m != "" && p != "" {
		dst = appendJoined(dst, []string{m, p}, ' ', limitName, inHeader)
		dst = append(dst, '|')
	} else {
		dst = headerField(dst, firstOf(e.Action.Name, e.Action.Verb, "event"), limitName)
	}
	dst = strconv.AppendInt(dst, int64(min(max(e.Severity, 0), 10)), 10)
	return append(dst, '|')
}

func headerField(dst []byte, s string, limit int) []byte {
	dst, _, _ = appendEscaped(dst, s, limit, inHeader)
	return append(dst, '|')
}

// device is the Device Vendor and Device Product of an adapter's events.
func device(kind string) (vendor, product string) {
	switch kind {
	case "openfaas":
		return "OpenFaaS", "OpenFaaS"
	case "stackrox":
		return "StackRox", "StackRox"
	case "kong", "konghooks", "kong_admin":
		return "Kong", "Kong Gateway"
	case "konnect":
		return "Kong", "Konnect"
	case "":
		return "auditrelay", "auditrelay"
	}
	return "auditrelay", kind
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// maxPairs bounds the key=value pairs one event can have (27 today).
const maxPairs = 32

// extension writes the key=value pairs of the extension, remembering where
// each pair starts so that finish can trim the last one.
type extension struct {
	dst   []byte
	start int // where the extension starts in dst
	pairs int
	keyAt [maxPairs]int // where each pair starts (its separating space)
	valAt [maxPairs]int // where each pair's value starts
}

// key starts a pair: a space unless it is the first, the key and '='.
func (x *extension) key(k string) {
	x.keyAt[x.pairs] = len(x.dst)
	if len(x.dst) > x.start {
		x.dst = append(x.dst, ' ')
	}
	x.dst = append(x.dst, k...)
	x.dst = append(x.dst, '=')
	x.valAt[x.pairs] = len(x.dst)
	x.pairs++
}

// str writes k=v, v escaped and cut to limit; nothing when v is empty.
func (x *extension) str(k, v string, limit int) {
	if v == "" {
		return
	}
	x.key(k)
	x.dst, _, _ = appendEscaped(x.dst, v, limit, inExtension)
}

// custom writes a deviceCustomString and, after it, its label.
func (x *extension) custom(k, labelKey, label, v string) {
	if v == "" {
		return
	}
	x.str(k, v, limitCustomString)
	x.str(labelKey, label, limitLabel)
}

// roles writes cs5: the non-empty roles joined by commas.
func (x *extension) roles(roles []string) {
	for _, r := range roles {
		if r == "" {
			continue
		}
		x.key("cs5")
		x.dst = appendJoined(x.dst, roles, ',', limitCustomString, inExtension)
		x.str("cs5Label", "roles", limitLabel)
		return
	}
}

// address writes the client address: src for IPv4 (IPv4-mapped IPv6
// included), c6a2 with its label for IPv6. A zone is dropped; a port is
// tolerated; anything that is not an IP address is left out.
func (x *extension) address(ip string) {
	if ip == "" {
		return
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err := netip.ParseAddrPort(ip)
		if err != nil {
			return
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		x.key("src")
		x.dst = a.AppendTo(x.dst)
		return
	}
	x.key("c6a2")
	x.dst = a.AppendTo(x.dst)
	x.str("c6a2Label", "Source IPv6 Address", limitLabel)
}

// finish returns the line. The spec does not keep trailing spaces of the
// extension's final value, so they are cut here, and a final value that
// was nothing but spaces is dropped with its key (and so on backwards).
// Any earlier value keeps its trailing spaces: a reader takes all spaces
// before a key but the last as part of the value before.
func (x *extension) finish() []byte {
	for x.pairs > 0 {
		p := x.pairs - 1
		end := len(x.dst)
		for end > x.valAt[p] && x.dst[end-1] == ' ' {
			end--
		}
		if end > x.valAt[p] {
			x.dst = x.dst[:end]
			break
		}
		x.dst = x.dst[:x.keyAt[p]]
		x.pairs--
	}
	return x.dst
}
