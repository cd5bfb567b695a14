package payouts

import (
	"encoding/json"
	"testing"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
)

func TestHandlers(t *testing.T) {
	e := newEnv(t)
	e.program("p1", []string{"c1"}, nil, nil)
	e.payment("a", "p1", 10000, "SEK", 3)
	admin := &callable.Auth{UID: "admin1", Admin: true}

	out, err := e.svc.RunPayoutsCallable(e.ctx, &callable.Request{Data: json.RawMessage(`{"dryRun":true}`), Auth: admin})
	if err != nil || len(out.(*RunReport).Payouts) != 1 || len(e.payouts()) != 0 {
		t.Fatalf("dry run callable: %+v %v", out, err)
	}
	if _, err := e.svc.RunPayoutsCallable(e.ctx, &callable.Request{Data: json.RawMessage(`{"periodEnd":"soon"}`), Auth: admin}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("bad periodEnd: %v", err)
	}
	if _, err := e.svc.RunPayoutsCallable(e.ctx, &callable.Request{Data: json.RawMessage(`{"period":"x"}`), Auth: admin}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("unknown field: %v", err)
	}
	// The scheduler's message, then an explicit one; a malformed one is refused.
	if err := e.svc.OnPayoutsRun(e.ctx, &events.PubSubMessage{ID: "m1", Data: []byte(`{"scheduled":true}`)}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.payouts()); n != 1 {
		t.Fatalf("%d payouts after the scheduled message", n)
	}
	if err := e.svc.OnPayoutsRun(e.ctx, &events.PubSubMessage{ID: "m2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.OnPayoutsRun(e.ctx, &events.PubSubMessage{ID: "m3", Data: []byte(`{"bogus":1}`)}); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("malformed message: %v", err)
	}
	if n := len(e.payouts()); n != 1 {
		t.Fatalf("%d payouts after redelivery", n)
	}
	if err := e.svc.OnFortnoxSync(e.ctx, &events.PubSubMessage{ID: "m4", Data: []byte(`{}`)}); fault.CodeOf(err) != fault.FailedPrecondition {
		t.Errorf("sync without Fortnox: %v", err)
	}
}
