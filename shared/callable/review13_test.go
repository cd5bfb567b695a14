package callable_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/callable"
)

// review13Lookup is a bug deep in a computation: an index out of range.
//
//go:noinline
func review13Lookup(xs []int, i int) int { return xs[i] }

// review13Chart stands for a chart or numerology step called with a
// birth date's parts as ints (as geo.HourOn, astro and numerology take
// them), which panics below it.
//
//go:noinline
func review13Chart(year, month, day int) int {
	n := review13Lookup(nil, day)
	return n + year + month + day
}

// TestReview13PanicStackHoldsNoData: the log line of a handler panic
// holds "its type and stack, never its value" (the callable README of
// the commit; the code says "the stack names functions and lines, never
// the data"). The stack was debug.Stack(), a Go traceback, which prints
// every frame's argument words: a birth date sent to recomputeProfile's
// chart step reached the log as review13Chart(0x7c6, 0x5, 0xf),
// 1990-05-15. The stack must name functions and lines only.
func TestReview13PanicStackHoldsNoData(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := callable.New(func(ctx context.Context, req *callable.Request) (any, error) {
		var in struct{ Year, Month, Day int }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		return review13Chart(in.Year, in.Month, in.Day), nil
	}, callable.Options{Name: "chart"}, callable.Deps{})
	req := httptest.NewRequest("POST", "/chart", strings.NewReader(`{"data":{"year":1990,"month":5,"day":15}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h(rec, req)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"status":"INTERNAL"`) {
		t.Fatalf("answer %d %s, want 500 INTERNAL", rec.Code, rec.Body)
	}
	var line struct {
		Msg   string `json:"msg"`
		Type  string `json:"panicType"`
		Stack string `json:"stack"`
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err == nil && line.Msg == "callable handler panicked" {
			break
		}
		line.Msg = ""
	}
	if line.Msg == "" {
		t.Fatalf("no panic line in the log: %s", logs.String())
	}
	if line.Type != "runtime.boundsError" {
		t.Errorf("panicType %q", line.Type)
	}
	// Still useful: the stack names where the panic happened.
	if !strings.Contains(line.Stack, "review13Lookup") || !strings.Contains(line.Stack, "review13_test.go:") {
		t.Errorf("the stack does not name the panicking function and line:\n%s", line.Stack)
	}
	// 1990 = 0x7c6: the request's birth year.
	if strings.Contains(line.Stack, "0x7c6") {
		t.Errorf("the stack holds the request's birth date:\n%s", line.Stack)
	}
	// No frame prints argument words at all ("f(0x…", "f({0x…").
	if m := regexp.MustCompile(`[\w)\]]\(\{?0x[0-9a-f]+`).FindAllString(line.Stack, -1); len(m) > 0 {
		t.Errorf("the stack prints argument words %q:\n%s", m, line.Stack)
	}
}
