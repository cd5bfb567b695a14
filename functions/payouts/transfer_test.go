package payouts

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestTransfersThroughStripeMock: eligible coaches are paid through a
// Connect transfer (stripe-mock), the others wait with a reason; a later
// run confirms the processing payouts from the transfer.
func TestTransfersThroughStripeMock(t *testing.T) {
	e := newEnv(t)
	e.svc.Transfers = NewStripeTransfers("sk_test_123", testenv.StripeMock(t))
	e.program("p1", []string{"ok", "none", "off", "ghost"}, nil, nil)
	e.coach("ok", "acct_1032D82eZvKYlo2C", true)
	e.coach("none", "", false)
	e.coach("off", "acct_1032D82eZvKYlo2D", false)
	e.payment("a", "p1", 40000, "SEK", 2)
	rep := e.run(RunRequest{})
	if rep.Transfers.Processing != 1 || rep.Transfers.Waiting != 3 || rep.Transfers.Failed != 0 {
		t.Fatalf("transfers %+v", rep.Transfers)
	}
	p := e.payout(pid("ok", "SEK", "2026-05-04"))
	if p.Status != model.PayoutProcessing || p.ProcessorPayoutID == nil || *p.ProcessorPayoutID == "" || p.TransferStartedAt == nil {
		t.Errorf("eligible coach: %+v", p)
	}
	for id, reason := range map[string]string{pid("none", "SEK", "2026-05-04"): ReasonNoAccount, pid("off", "SEK", "2026-05-04"): ReasonPayoutsDisabled,
		pid("ghost", "SEK", "2026-05-04"): ReasonNoAccount} {
		if p := e.payout(id); p.Status != model.PayoutPending || p.Reason != reason || p.ProcessorPayoutID != nil {
			t.Errorf("%s: %+v", id, p)
		}
	}
	// Not yet confirmed: a webhook may still come.
	if n, err := e.svc.Confirm(e.ctx); err != nil || n != 0 {
		t.Fatalf("early confirm: %d %v", n, err)
	}
	// The coach finishes onboarding; an hour later the next run pays and
	// confirms.
	e.coach("off", "acct_1032D82eZvKYlo2D", true)
	e.clock.Add(2 * time.Hour)
	rep = e.run(RunRequest{Scheduled: true})
	if rep.Due || rep.Transfers.Processing != 1 || rep.Transfers.Confirmed != 1 {
		t.Fatalf("second run: %+v", rep.Transfers)
	}
	if p := e.payout(pid("ok", "SEK", "2026-05-04")); p.Status != model.PayoutCompleted {
		t.Errorf("not confirmed: %+v", p)
	}
	if p := e.payout(pid("off", "SEK", "2026-05-04")); p.Status != model.PayoutProcessing || p.Reason != "" {
		t.Errorf("late coach: %+v", p)
	}
}

// fakeTransfers scripts Stripe's answers.
type fakeTransfers struct {
	mu       sync.Mutex
	creates  map[string]int
	createFn func(p *model.Payout) (*stripe.Transfer, error)
	existing map[string]*stripe.Transfer
	findErr  error // returned by Find when set
}

func (f *fakeTransfers) Create(_ context.Context, p *model.Payout, dest string) (*stripe.Transfer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.creates == nil {
		f.creates = map[string]int{}
	}
	f.creates[p.PayoutID]++
	if f.createFn != nil {
		return f.createFn(p)
	}
	return &stripe.Transfer{ID: "tr_" + p.PayoutID, Amount: p.Amount, TransferGroup: p.PayoutID}, nil
}

func (f *fakeTransfers) Find(_ context.Context, id string) (*stripe.Transfer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.findErr != nil {
		return nil, f.findErr
	}
	return f.existing[id], nil
}

func (f *fakeTransfers) Get(_ context.Context, id string) (*stripe.Transfer, error) {
	return &stripe.Transfer{ID: id, Reversed: id == "tr_"+pid("rev", "SEK", "2026-05-04")}, nil
}

// TestTransferOutcomes: Stripe's answers map to statuses; a transfer that
// may have been sent is looked up, not sent again.
func TestTransferOutcomes(t *testing.T) {
	e := newEnv(t)
	ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
	e.svc.Transfers = ft
	for _, c := range []string{"broke", "refused", "flaky", "sent", "rev"} {
		e.coach(c, "acct_"+c, true)
		e.program("p"+c, []string{c}, nil, nil)
		e.payment("pay"+c, "p"+c, 10000, "SEK", 2)
	}
	ft.createFn = func(p *model.Payout) (*stripe.Transfer, error) {
		switch p.CoachID {
		case "broke":
			return nil, &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeBalanceInsufficient}
		case "refused":
			return nil, &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: "account_invalid"}
		case "flaky":
			return nil, &stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI}
		}
		return &stripe.Transfer{ID: "tr_" + p.PayoutID}, nil
	}
	// "sent": an earlier attempt reached Stripe but its answer was lost.
	e.set("payouts/"+pid("sent", "SEK", "2026-05-04"), model.Payout{PayoutID: pid("sent", "SEK", "2026-05-04"), CoachID: "sent", Amount: 8000, Currency: "SEK",
		Status: model.PayoutPending, Processor: ProcessorStripeConnect, TransferStartedAt: &t0, PayoutDate: t0, CreatedAt: t0, UpdatedAt: t0})
	ft.existing[pid("sent", "SEK", "2026-05-04")] = &stripe.Transfer{ID: "tr_earlier", TransferGroup: pid("sent", "SEK", "2026-05-04")}
	e.update("payments/paysent", fsUpdate("status", string(model.PaymentPending))...) // its payment is not paid again here

	rep := e.run(RunRequest{})
	if rep.Transfers.Processing != 2 || rep.Transfers.Waiting != 2 || rep.Transfers.Failed != 1 {
		t.Fatalf("transfers %+v", rep.Transfers)
	}
	checks := map[string]struct {
		status model.PayoutStatus
		reason string
	}{
		pid("broke", "SEK", "2026-05-04"):   {model.PayoutPending, ReasonNoBalance},
		pid("refused", "SEK", "2026-05-04"): {model.PayoutFailed, "Stripe refused the transfer: account_invalid"},
		pid("flaky", "SEK", "2026-05-04"):   {model.PayoutPending, "Stripe unavailable (503); retried on the next run"},
		pid("sent", "SEK", "2026-05-04"):    {model.PayoutProcessing, ""},
		pid("rev", "SEK", "2026-05-04"):     {model.PayoutProcessing, ""},
	}
	for id, w := range checks {
		if p := e.payout(id); p.Status != w.status || p.Reason != w.reason {
			t.Errorf("%s: status %s reason %q, want %s %q", id, p.Status, p.Reason, w.status, w.reason)
		}
	}
	if ft.creates[pid("sent", "SEK", "2026-05-04")] != 0 {
		t.Error("a transfer that was already made was made again")
	}
	if p := e.payout(pid("sent", "SEK", "2026-05-04")); p.ProcessorPayoutID == nil || *p.ProcessorPayoutID != "tr_earlier" {
		t.Errorf("recovered transfer id %+v", p.ProcessorPayoutID)
	}
	// The flaky and broke ones succeed next time; the reversed one is
	// failed on confirmation; a webhook's completion is never undone.
	ft.createFn = nil
	e.update("payouts/"+pid("sent", "SEK", "2026-05-04"), fsUpdate("status", string(model.PayoutCompleted))...)
	e.clock.Add(2 * time.Hour)
	rep = e.run(RunRequest{Scheduled: true})
	if rep.Transfers.Processing != 2 || rep.Transfers.Confirmed != 1 {
		t.Errorf("second run: %+v, want the flaky and broke ones created, the reversed one settled", rep.Transfers)
	}
	if p := e.payout(pid("flaky", "SEK", "2026-05-04")); p.Status != model.PayoutProcessing || ft.creates[pid("flaky", "SEK", "2026-05-04")] != 2 {
		t.Errorf("flaky retry: %+v (%d creates)", p, ft.creates[pid("flaky", "SEK", "2026-05-04")])
	}
	if p := e.payout(pid("rev", "SEK", "2026-05-04")); p.Status != model.PayoutFailed || p.Reason != "transfer reversed" {
		t.Errorf("reversed: %+v", p)
	}
	if p := e.payout(pid("sent", "SEK", "2026-05-04")); p.Status != model.PayoutCompleted {
		t.Errorf("webhook status undone: %+v", p)
	}
	if _, err := classifyOnly(errors.New("dial tcp: connection refused")); err != model.PayoutPending {
		t.Errorf("network error must leave the payout pending")
	}
}

func classifyOnly(err error) (string, model.PayoutStatus) {
	st, why := classifyStripe(err)
	return why, st
}

// TestClassifyStripeCredentialErrorsStayPending: Stripe refusing the
// platform's own credentials (401: a revoked or wrong key; 403: a
// restricted key without transfer permission) says nothing about the
// payout: it stays pending and the next run, after the key is fixed, pays
// it. Regression: every payout of the run was marked failed, each then
// needing `ops payouts retry` by hand.
func TestClassifyStripeCredentialErrorsStayPending(t *testing.T) {
	for _, tc := range []struct {
		err  *stripe.Error
		want model.PayoutStatus
	}{
		{&stripe.Error{HTTPStatusCode: http.StatusUnauthorized, Type: stripe.ErrorTypeInvalidRequest}, model.PayoutPending},
		{&stripe.Error{HTTPStatusCode: http.StatusForbidden, Type: stripe.ErrorTypeInvalidRequest}, model.PayoutPending},
		{&stripe.Error{HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeAccountInvalid}, model.PayoutFailed},
	} {
		if st, why := classifyStripe(tc.err); st != tc.want {
			t.Errorf("Stripe %d %s: %s (%q), want %s", tc.err.HTTPStatusCode, tc.err.Code, st, why, tc.want)
		}
	}
}
