package wellbeing

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/config"
)

// review17CancelAfterAnswer is a transport that cancels the delivery's
// context once the on-call webhook has answered, before Deliver sees the
// answer: the function timed out or its instance is shutting down just
// after the page went out.
type review17CancelAfterAnswer struct {
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (rt *review17CancelAfterAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.mu.Lock()
	if rt.cancel != nil {
		rt.cancel()
		rt.cancel = nil
	}
	rt.mu.Unlock()
	return resp, nil
}

// TestReview17DeliveredAlertRecordedWhenCancelled: an alert the webhook
// accepted is recorded as delivered even when the function's context ends
// right after the answer; otherwise the redelivered message (or the sweep)
// pages on-call a second time once the claim expires.
func TestReview17DeliveredAlertRecordedWhenCancelled(t *testing.T) {
	e := newSweepEnv(t)
	a := e.raise("u1")
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	d := &Deliverer{Firestore: e.c, WebhookURL: config.NewSecret(e.hook.URL), Now: e.clk.Now,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &review17CancelAfterAnswer{cancel: cancel}}}
	r, err := d.Deliver(ctx, a)
	if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
		t.Fatalf("webhook accepted %d alerts, want 1 (deliver: %+v, %v)", accepted, r, err)
	}
	// The message is redelivered (a cancelled handler asks for it), or the
	// sweeper finds the event, after the delivery claim has expired.
	e.clk.Add(DefaultClaimTTL + time.Minute)
	r2, err2 := e.deliverer().Deliver(e.ctx, a)
	if _, accepted := e.hook.counts(a.EventID); accepted != 1 {
		t.Errorf("on-call paged %d times for one alert (first delivery: %+v, %v; second: %+v, %v)", accepted, r, err, r2, err2)
	}
	if ev := getEvent(t, e.c, a.EventID); ev.NotifiedAt == nil || !ev.Notified || ev.DeliveredTo != "webhook" {
		t.Errorf("event %+v: want notified through the webhook", ev)
	}
}
