package splunkhec_test

import (
	"testing"

	"github.com/auditrelay/auditrelay/outputs/splunkhec"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   splunkhec.Verdict
		event  int
		ack    int64
	}{
		{200, `{"text":"Success","code":0}`, splunkhec.Success, -1, -1},
		{200, `{"text":"Success","code":0,"ackId":12}`, splunkhec.Success, -1, 12},
		{204, ``, splunkhec.Success, -1, -1},
		{500, `{"text":"Internal server error","code":8}`, splunkhec.Retry, -1, -1},
		{503, `{"text":"Server is busy","code":9}`, splunkhec.Retry, -1, -1},
		{503, `{"text":"HEC is unhealthy, ack service unavailable","code":19}`, splunkhec.Retry, -1, -1},
		{429, `slow down`, splunkhec.Retry, -1, -1},
		{408, ``, splunkhec.Retry, -1, -1},
		{502, `<html>bad gateway</html>`, splunkhec.Retry, -1, -1},
		{403, `{"text":"Token disabled","code":1}`, splunkhec.Pause, -1, -1},
		{401, `{"text":"Token is required","code":2}`, splunkhec.Pause, -1, -1},
		{401, `{"text":"Invalid authorization","code":3}`, splunkhec.Pause, -1, -1},
		{400, `{"text":"Data channel is missing","code":10}`, splunkhec.Pause, -1, -1},
		{400, `{"text":"Invalid data channel","code":11}`, splunkhec.Pause, -1, -1},
		{400, `{"text":"ACK is disabled","code":14}`, splunkhec.Pause, -1, -1},
		{400, `{"text":"Query string authorization is not enabled","code":16}`, splunkhec.Pause, -1, -1},
		{301, ``, splunkhec.Pause, -1, -1},
		{400, `{"text":"Invalid data format","code":6,"invalid-event-number":4}`, splunkhec.Partial, 4, -1},
		{400, `{"text":"Event field is required","code":12,"invalid-event-number":0}`, splunkhec.Partial, 0, -1},
		{400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":9}`, splunkhec.Partial, 9, -1},
		{400, `{"text":"Invalid data format","code":6}`, splunkhec.Reject, -1, -1},
		{400, `{"text":"No data","code":5}`, splunkhec.Reject, -1, -1},
		{422, `nope`, splunkhec.Reject, -1, -1},
		{413, `{"text":"Content too large"}`, splunkhec.TooLarge, -1, -1},
	} {
		r := splunkhec.Classify(tc.status, []byte(tc.body))
		if r.Verdict != tc.want || r.Answer.InvalidEvent != tc.event || r.Answer.AckID != tc.ack {
			t.Errorf("%d %s: %v event %d ack %d, want %v %d %d", tc.status, tc.body, r.Verdict, r.Answer.InvalidEvent, r.Answer.AckID, tc.want, tc.event, tc.ack)
		}
		if r.Verdict != splunkhec.Success && r.Reason == "" {
			t.Errorf("%d %s: no reason", tc.status, tc.body)
		}
	}
}

func TestAcked(t *testing.T) {
	ok, err := splunkhec.Acked([]byte(`{"acks":{"3":true,"4":false}}`), 3)
	if err != nil || !ok {
		t.Errorf("3: %v %v", ok, err)
	}
	if ok, _ := splunkhec.Acked([]byte(`{"acks":{"3":true,"4":false}}`), 4); ok {
		t.Error("4 reported acked")
	}
	if _, err := splunkhec.Acked([]byte(`<html>`), 1); err == nil {
		t.Error("want an error for a non-JSON reply")
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(400, []byte(`{"text":"Invalid data format","code":6,"invalid-event-number":4}`))
	f.Add(200, []byte(`{"text":"Success","code":0,"ackId":1}`))
	f.Add(503, []byte(`{"code":"9"}`))
	f.Add(0, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r := splunkhec.Classify(status, body)
		if r.Verdict < splunkhec.Success || r.Verdict > splunkhec.TooLarge {
			t.Fatalf("verdict %d", r.Verdict)
		}
		if r.Verdict == splunkhec.Partial && r.Answer.InvalidEvent < 0 {
			t.Fatalf("partial without event number")
		}
		_ = r.Verdict.String()
	})
}
