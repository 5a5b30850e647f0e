package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay"
)

// startSink runs a sink on a free loopback port until the test ends and
// returns its address and a function that stops it and gives its result.
func startSink(t *testing.T, c sinkConfig) (string, func() *sinkResult) {
	t.Helper()
	c.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan *sinkResult, 1)
	go func() {
		r, err := runSink(ctx, c, nil, nil, func(a string) { addr <- a })
		if err != nil {
			t.Error(err)
			close(addr)
		}
		done <- r
	}()
	a, ok := <-addr
	if !ok {
		t.FailNow()
	}
	stop := func() *sinkResult {
		cancel()
		select {
		case r := <-done:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("sink did not stop")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return a, stop
}

// TestPostToSink pairs the two modes directly: every adapter's payloads,
// posted to the sink's generic path, are counted event by event.
func TestPostToSink(t *testing.T) {
	c := defaultSinkConfig()
	c.Authorization = auditrelay.NewSecret("Bearer pair")
	addr, stop := startSink(t, c)
	var want int64
	for _, adapter := range adapterNames() {
		p := testPostConfig("http://"+addr, adapter)
		p.Total, p.Batch, p.Concurrency = 777, 50, 4
		if adapter == adapterStackRox || adapter == adapterKongHooks {
			p.Total = 77
		}
		p.Gzip = adapter == adapterKonnect
		p.Authorization = auditrelay.NewSecret("Bearer pair")
		res, err := runPost(context.Background(), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != p.Total || res.EventsAcked != p.Total || len(res.Errors) != 0 || res.Unparsed != 0 {
			t.Fatalf("%s: accepted %d acked %d errors %v unparsed %d, want %d", adapter, res.Accepted, res.EventsAcked, res.Errors, res.Unparsed, p.Total)
		}
		want += p.Total
	}
	r := stop()
	if r.Events != want || r.HTTPEvents != want || len(r.Refused) != 0 {
		t.Fatalf("sink counted %d events (refused %v), want %d", r.Events, r.Refused, want)
	}
}

// TestPostToSinkWithBackpressure: the sink's injected 503s are retried
// by post and no event is lost or counted twice.
func TestPostToSinkWithBackpressure(t *testing.T) {
	c := defaultSinkConfig()
	c.FailFirst, c.RetryAfter = 3, 0
	addr, stop := startSink(t, c)
	p := testPostConfig("http://"+addr, adapterOpenFaaS)
	p.Total, p.Batch, p.Concurrency = 1000, 100, 2
	res, err := runPost(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := stop()
	if res.Backpressure != 3 || res.Accepted != 1000 || r.Events != 1000 || r.Refused["503"] != 3 {
		t.Fatalf("post backpressure %d accepted %d; sink events %d refused %v", res.Backpressure, res.Accepted, r.Events, r.Refused)
	}
}

func TestRunCLI(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"help"}, exitOK, ""},
		{[]string{"bogus"}, exitUsage, "unknown mode"},
		{[]string{"post", "-batch", "0"}, exitUsage, "-batch 0"},
		{[]string{"-input", "payments"}, exitUsage, "set -adapter"},
		{[]string{"-url", "http://192.0.2.1:9780"}, exitUsage, "-allow-remote"},
		{[]string{"post", "-secret", "a", "-secret-file", "b"}, exitUsage, "not both"},
		{[]string{"post", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"post", "-nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"post", "-h"}, exitOK, "-allow-remote"},
		{[]string{"sink", "-listen", ":0"}, exitUsage, "every interface"},
		{[]string{"sink", "-fail-status", "200"}, exitUsage, "-fail-status"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("run %q = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}

// TestRunCLIPair runs both modes through the CLI as a user would.
func TestRunCLIPair(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var sinkOut, sinkErr bytes.Buffer
	sinkDone := make(chan int, 1)
	go func() {
		sinkDone <- run(ctx, []string{"sink", "-listen", addr, "-token", "sekrit-42", "-expect", "600",
			"-exit-after-idle", "100ms", "-report", "0", "-json"}, &sinkOut, &sinkErr)
	}()
	up := false
	for range 200 { // wait until the sink listens, at most 2s
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			up = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !up {
		t.Fatal("sink did not start")
	}
	var postOut, postErr bytes.Buffer
	code := run(ctx, []string{"-url", "http://" + addr, "-input", "konnect", "-gzip", "-total", "600",
		"-batch", "60", "-authorization", "Splunk sekrit-42", "-json"}, &postOut, &postErr)
	if code != exitOK {
		t.Fatalf("post exit %d: %s %s", code, postOut.String(), postErr.String())
	}
	var pr postResult
	if err := json.Unmarshal(postOut.Bytes(), &pr); err != nil || pr.Accepted != 600 || pr.Stopped != "total" {
		t.Fatalf("post -json: %v %s", err, postOut.String())
	}
	select {
	case code = <-sinkDone:
	case <-ctx.Done():
		t.Fatal("sink did not stop after -expect")
	}
	var sr sinkResult
	if err := json.Unmarshal(sinkOut.Bytes(), &sr); err != nil || code != exitOK || sr.Events != 600 || sr.Stopped != "expect" {
		t.Fatalf("sink exit %d: %v %s %s", code, err, sinkOut.String(), sinkErr.String())
	}
	if strings.Contains(sinkOut.String()+sinkErr.String()+postOut.String()+postErr.String(), "sekrit-42") {
		t.Fatalf("a secret reached the output: %s %s", sinkErr.String(), postErr.String())
	}
}
