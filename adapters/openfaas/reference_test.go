package openfaas

// The encoding/json implementation Parse replaced, kept as the reference
// FuzzParseMatchesReference compares Parse against.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/adapters/internal/jsonscan"
)

type refEvent struct {
	Event         string    `json:"event"`
	Actor         *actor    `json:"actor"`
	Path          string    `json:"path"`
	Method        string    `json:"method"`
	Actions       []string  `json:"actions"`
	ResponseCode  int       `json:"response_code"`
	Time          time.Time `json:"time"`
	CustomMessage string    `json:"custom_message"`
	Namespace     string    `json:"namespace"`
}

// actor is named as the original was: encoding/json's errors name the type
// ("want openfaas.actor").
type actor struct {
	Sub       string `json:"sub"`
	Name      string `json:"name"`
	Issuer    string `json:"issuer"`
	FedIssuer string `json:"fed_issuer"`
}

func (a *Adapter) refParse(body []byte, meta auditrelay.Meta) (auditrelay.Parsed, error) {
	var elems []json.RawMessage
	if err := refDecodeArray(body, &elems); err != nil {
		return auditrelay.Parsed{}, err
	}
	if t := meta.Header.Get("X-Openfaas-Event"); t != "" && t != "api_access" {
		return auditrelay.Parsed{Ignored: len(elems)}, nil
	}
	delivery := meta.DeliveryID
	if delivery == "" {
		delivery = meta.Header.Get("X-Openfaas-Delivery")
	}
	out := auditrelay.Parsed{Events: make([]auditrelay.Event, 0, len(elems))}
	var compact bytes.Buffer
	for i, raw := range elems {
		var src refEvent
		if err := refDecodeEvent(raw, &src); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		if src.Event != "" && src.Event != "api_access" {
			out.Ignored++
			continue
		}
		compact.Reset()
		if err := json.Compact(&compact, raw); err != nil {
			return auditrelay.Parsed{}, fmt.Errorf("event %d: %w", i+1, err)
		}
		e := a.refNormalize(&src, compact.Bytes())
		e.ReceivedAt = meta.ReceivedAt
		e.Source = auditrelay.Source{Kind: Kind, Input: meta.Input, DeliveryID: delivery}
		if meta.IncludeRaw {
			e.Raw = append(json.RawMessage(nil), compact.Bytes()...)
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func refDecodeArray(body []byte, elems *[]json.RawMessage) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errors.New("body is empty: OpenFaaS sends a JSON array of api_access events")
	}
	if trimmed[0] != '[' {
		return fmt.Errorf("body is JSON %s, not an array: OpenFaaS sends a JSON array of api_access events", jsonscan.KindOf(trimmed[0]).String())
	}
	if err := json.Unmarshal(trimmed, elems); err != nil {
		return fmt.Errorf("body: %w", refDescribe(err))
	}
	return nil
}

func refDecodeEvent(raw json.RawMessage, src *refEvent) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("want a JSON object, got %s", jsonscan.KindOf(t[0]).String())
	}
	if err := json.Unmarshal(raw, src); err != nil {
		return refDescribe(err)
	}
	return nil
}

func refDescribe(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("time: %q is not an RFC 3339 time", pe.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return err
}

func (a *Adapter) refNormalize(src *refEvent, compact []byte) auditrelay.Event {
	e := auditrelay.Event{
		ID:      auditrelay.ContentID(Kind, compact),
		Time:    src.Time.UTC(),
		Actor:   refMapActor(src.Actor),
		Request: auditrelay.Request{Method: src.Method, Path: src.Path},
		Outcome: auditrelay.Outcome{
			Result:     auditrelay.ResultOf(src.ResponseCode),
			StatusCode: src.ResponseCode,
			Reason:     src.CustomMessage,
		},
		Action:   auditrelay.Action{All: src.Actions, Verb: auditrelay.VerbOf(src.Method)},
		Resource: a.refResourceOf(src),
	}
	if len(src.Actions) > 0 {
		e.Action.Name = src.Actions[0]
	}
	e.Score(false)
	return e
}

func refMapActor(a *actor) auditrelay.Actor {
	if a == nil || *a == (actor{}) {
		return auditrelay.Actor{Type: auditrelay.ActorAnonymous}
	}
	t := auditrelay.ActorUser
	if strings.Contains(a.Sub, "system:serviceaccount:") {
		t = auditrelay.ActorService
	}
	return auditrelay.Actor{ID: a.Sub, Name: a.Name, Issuer: a.Issuer, FederatedIssuer: a.FedIssuer, Type: t}
}

func (a *Adapter) refResourceOf(src *refEvent) auditrelay.Resource {
	path, query, _ := strings.Cut(src.Path, "?")
	r := a.paths.Resolve(path)
	if len(src.Actions) > 0 {
		if t, _, _ := strings.Cut(src.Actions[0], ":"); t != "" {
			r.Type = t
		}
	}
	if q, err := url.ParseQuery(query); err == nil && q.Get("namespace") != "" {
		r.Namespace = q.Get("namespace")
	}
	if src.Namespace != "" {
		r.Namespace = src.Namespace
	}
	return r
}
