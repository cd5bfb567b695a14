package wellbeing

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/testenv"
)

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
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &testenv.CancelAfterResponse{Cancel: cancel}}} // ends ctx once the webhook answered
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
