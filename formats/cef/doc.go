// Package cef encodes a normalized event as one ArcSight Common Event
// Format line, as "Implementing ArcSight CEF" (Micro Focus, rev 25,
// 2017-09-28; the same rules and lengths stand in rev 27, the
// SmartConnectors 25.1 HTML edition) defines it, without a syslog prefix
// (chapter 1, "Using CEF Without Syslog") and without a line ending:
//
//	CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension
//
// # Header
//
//	field        value                                              limit
//	Vendor       by adapter (below)                                 63
//	Product      by adapter (below)                                 63
//	Version      SchemaVersion, auditrelay's CEF mapping ("1.0")    31
//	SignatureID  action.name, else action.verb, else "event"        1023
//	Name         "<METHOD> <path>" when the request has both,       512
//	             else action.name, else action.verb, else "event"
//	Severity     severity, clamped to 0–10
//
// Vendor and Product by adapter (source.kind): openfaas → OpenFaaS/OpenFaaS,
// stackrox → StackRox/StackRox, kong, konghooks and kong_admin → Kong/Kong
// Gateway, konnect → Kong/Konnect, any other kind → auditrelay/<kind>.
//
// # Extension
//
// Keys come only from the CEF extension dictionary (chapter 2) and always in
// this order; a key whose value is empty is left out, and with it its label.
// Labels follow their value.
//
//	key                       from                                          limit
//	rt                        time (else received_at), epoch milliseconds   -
//	externalId                id                                            40
//	suser                     actor.username, else actor.name, else .id     1023
//	suid                      actor.id                                      1023
//	src                       request.client_ip when IPv4                   -
//	c6a2, c6a2Label           request.client_ip when IPv6,                  -, 1023
//	                          label "Source IPv6 Address"
//	requestMethod             request.method                                1023
//	request                   request.path                                  1023
//	requestClientApplication  request.user_agent                            1023
//	act                       action.name                                   63
//	cat                       source.kind (the adapter)                     1023
//	outcome                   outcome.result                                63
//	reason                    outcome.reason                                1023
//	cn1, cn1Label             outcome.status_code when not 0, "statusCode"  long, 1023
//	cs1, cs1Label             resource.type, "resourceType"                 4000, 1023
//	cs2, cs2Label             resource.name, "resourceName"                 4000, 1023
//	cs3, cs3Label             resource.namespace, "namespace"               4000, 1023
//	cs4, cs4Label             actor.issuer, else actor.federated_issuer,    4000, 1023
//	                          "issuer"
//	cs5, cs5Label             actor.roles, the non-empty ones joined by     4000, 1023
//	                          ",", "roles"
//	cs6, cs6Label             source.input, "input"                         4000, 1023
//
// The limits are the dictionary's lengths (chapter 2: act and outcome 63,
// externalId 40, csN 4000, every label and the other strings 1023) and the
// header's sizes (chapter 1: deviceVendor and deviceProduct 63,
// deviceVersion 31, deviceEventClassId 1023, name 512). A longer value is
// cut to the limit; the cut is made on the value before it is escaped, so
// it never splits an escape, and between characters, so it never splits a
// character. Length is counted the way the dictionary's Java consumers count
// String length: in UTF-16 code units, one per character except two for a
// character beyond U+FFFF, so a value never exceeds a limit however a
// consumer counts. Roles are joined first and the joined string is cut.
//
// The resource id, actor type, action.all, request id and interface,
// delivery id and raw have no key here; they travel in the JSON format.
//
// # Addresses
//
// src is an IPv4 address under CEF:0, so an IPv6 client goes to c6a2 with
// c6a2Label=Source IPv6 Address, as chapter 3 ("IPv6 Format") maps a source
// address. An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is written as
// IPv4 in src; addresses are written in canonical form, a zone is dropped
// and a port (1.2.3.4:80, [::1]:80) tolerated. A client_ip that is not an IP
// address is left out rather than make the consumer reject the event.
//
// # Escaping
//
// The whole line is UTF-8: each byte of invalid UTF-8 becomes U+FFFD.
// In the header, `\` is written `\\` and `|` is written `\|`; a header may
// not span lines and has no newline escape, so CR and LF in a header field
// become a space. In the extension, `\` is written `\\`, `=` is written
// `\=`, LF `\n` and CR `\r`; `|` is not escaped there. Nothing else is.
//
// Because every '=' inside a value is escaped, a reader finds the keys by the
// unescaped '=' after them: a value may hold spaces, " key=" text, pipes or
// backslashes and still read back unchanged. Per chapter 1, all spaces
// before a key but the last belong to the value before, so a value keeps its
// trailing spaces, except the final value of the extension, whose trailing
// spaces the spec does not keep: the encoder cuts them (and drops a final
// pair whose value is only spaces) so that the line means what it says. In
// practice the final pair is a label (cs6Label=input), which has none.
//
// # Sample
//
//	CEF:0|Kong|Kong Gateway|1.0|POST|POST /services?tag=a=b|3|rt=1750280556000 externalId=3b9e4f5a-9c2d-4d7e-8f60-1a2b3c4d5e6f suser=admin suid=6a1f src=192.0.2.10 requestMethod=POST request=/services?tag\=a\=b act=POST cat=kong outcome=success cn1=201 cn1Label=statusCode cs1=services cs1Label=resourceType cs2=billing cs2Label=resourceName cs3=0f5c7c9e-2d53-4f3b-a2f4-7ce8a2a8e54b cs3Label=namespace cs6=kong cs6Label=input
//
// Append writes into the caller's buffer and allocates nothing per event.
package cef
