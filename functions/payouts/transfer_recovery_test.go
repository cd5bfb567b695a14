package payouts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/model"
)

// TestLostTransferAnswerSettledAfterTransferWebhook is the regression test
// of a payout stuck in processing: the transfer request times out after
// Stripe made the transfer, then Stripe's transfer.created webhook
// (metadata payoutId) moves the payout to processing. The webhook records
// the transfer id, so the later runs confirm the payout from its transfer
// (completed, ready for Fortnox) without ever transferring it again.
func TestLostTransferAnswerSettledAfterTransferWebhook(t *testing.T) {
	e := newEnv(t)
	ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
	e.svc.Transfers = ft
	e.coach("c", "acct_c", true)
	e.program("pc", []string{"c"}, nil, nil)
	e.payment("payc", "pc", 10000, "SEK", 2)
	id := pid("c", "SEK", "2026-05-04")

	// Stripe makes the transfer, but the answer is lost (timeout).
	ft.createFn = func(p *model.Payout) (*stripe.Transfer, error) {
		ft.existing[p.PayoutID] = &stripe.Transfer{ID: "tr_real", TransferGroup: p.PayoutID, Amount: p.Amount,
			Metadata: map[string]string{"payoutId": p.PayoutID}}
		return nil, context.DeadlineExceeded
	}
	e.run(RunRequest{})
	if p := e.payout(id); p.Status != model.PayoutPending || p.TransferStartedAt == nil || p.ProcessorPayoutID != nil {
		t.Fatalf("after the lost answer: %+v", p)
	}

	// Stripe's transfer.created webhook arrives (payments area).
	deliverTransferCreated(t, e, "evt_tr_created", "tr_real", id, 8000)
	if p := e.payout(id); p.Status != model.PayoutProcessing || fmtPtr(p.ProcessorPayoutID) != `"tr_real"` {
		t.Fatalf("after the webhook: status %s processorPayoutId %s", p.Status, fmtPtr(p.ProcessorPayoutID))
	}

	// Later runs (a day, a week).
	ft.createFn = nil
	for _, d := range []time.Duration{2 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		e.clock.Add(d)
		e.run(RunRequest{Scheduled: true})
	}
	p := e.payout(id)
	if ft.creates[id] != 1 {
		t.Errorf("transfer created %d times", ft.creates[id])
	}
	if fmtPtr(p.ProcessorPayoutID) != `"tr_real"` || p.Status != model.PayoutCompleted {
		t.Errorf("payout not settled: status %s processorPayoutId %s (want completed, tr_real)", p.Status, fmtPtr(p.ProcessorPayoutID))
	}
}

// TestConfirmFindsUnrecordedTransfer: without any webhook, the run finds
// the transfer of a payout that has none recorded (processing, or pending
// with transferStartedAt) by its transfer_group, records it and confirms
// the payout from it; a payout whose transfer cannot be found stays as it
// is. No case creates a transfer.
func TestConfirmFindsUnrecordedTransfer(t *testing.T) {
	cases := []struct {
		name     string
		status   model.PayoutStatus // stored status, no processorPayoutId
		enabled  bool               // the coach's payoutsEnabled now
		transfer *stripe.Transfer   // on Stripe under the payout's transfer_group (ID set per case)
		findErr  error
		want     model.PayoutStatus
		reason   string
		wantID   string // "" = none recorded
	}{
		{name: "processing, transfer stands", status: model.PayoutProcessing, enabled: true,
			transfer: &stripe.Transfer{ID: "tr_found"}, want: model.PayoutCompleted, wantID: "tr_found"},
		{name: "processing, transfer reversed", status: model.PayoutProcessing, enabled: true,
			transfer: &stripe.Transfer{ID: "tr_found", Reversed: true}, want: model.PayoutFailed, reason: "transfer reversed", wantID: "tr_found"},
		{name: "processing, no transfer on Stripe", status: model.PayoutProcessing, enabled: true,
			want: model.PayoutProcessing},
		{name: "processing, lookup fails", status: model.PayoutProcessing, enabled: true,
			transfer: &stripe.Transfer{ID: "tr_found"}, findErr: errors.New("stripe down"), want: model.PayoutProcessing},
		{name: "pending, run died after the transfer", status: model.PayoutPending, enabled: true,
			transfer: &stripe.Transfer{ID: "tr_found"}, want: model.PayoutCompleted, wantID: "tr_found"},
		{name: "pending, account disabled since the transfer", status: model.PayoutPending, enabled: false,
			transfer: &stripe.Transfer{ID: "tr_found"}, want: model.PayoutCompleted, wantID: "tr_found"},
		{name: "pending, account disabled, no transfer", status: model.PayoutPending, enabled: false,
			want: model.PayoutPending, reason: ReasonPayoutsDisabled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ft := &fakeTransfers{existing: map[string]*stripe.Transfer{}}
			e.svc.Transfers = ft
			e.coach("c", "acct_c", c.enabled)
			id := pid("c", "SEK", "2026-05-04")
			seedStartedPayout(t, e, id, "c", c.status)
			if c.transfer != nil {
				tr := *c.transfer
				tr.TransferGroup, tr.Amount, tr.Metadata = id, 8000, map[string]string{"payoutId": id}
				ft.existing[id] = &tr
			}

			e.clock.Add(2 * time.Hour)
			if _, err := e.svc.ExecuteTransfers(e.ctx); err != nil {
				t.Fatalf("ExecuteTransfers: %v", err)
			}
			ft.findErr = c.findErr
			e.clock.Add(2 * time.Hour)
			if _, err := e.svc.Confirm(e.ctx); err != nil {
				t.Fatalf("Confirm: %v", err)
			}

			p := e.payout(id)
			if p.Status != c.want || p.Reason != c.reason {
				t.Errorf("status %s reason %q, want %s %q", p.Status, p.Reason, c.want, c.reason)
			}
			wantID := "<nil>"
			if c.wantID != "" {
				wantID = fmt.Sprintf("%q", c.wantID)
			}
			if got := fmtPtr(p.ProcessorPayoutID); got != wantID {
				t.Errorf("processorPayoutId %s, want %s", got, wantID)
			}
			if n := ft.creates[id]; n != 0 {
				t.Errorf("transfer created %d times; the payout's transfer already existed", n)
			}
		})
	}
}

// seedStartedPayout writes a Stripe Connect payout of 80.00 SEK whose
// transfer was requested at t0 (transferStartedAt) but whose transfer id
// was never recorded.
func seedStartedPayout(t *testing.T, e *env, id, coach string, status model.PayoutStatus) {
	t.Helper()
	e.set("payouts/"+id, model.Payout{PayoutID: id, CoachID: coach, Amount: 8000, Currency: "SEK", Status: status,
		Processor: ProcessorStripeConnect, TransferStartedAt: &t0, PayoutDate: t0, CreatedAt: t0, UpdatedAt: t0})
}

// deliverTransferCreated hands Stripe's transfer.created event for transfer
// trID of payout payoutID to the payments area's webhook processing.
func deliverTransferCreated(t *testing.T, e *env, evtID, trID, payoutID string, amount int64) {
	t.Helper()
	ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
	raw, err := json.Marshal(map[string]any{
		"id": evtID, "object": "event", "api_version": stripe.APIVersion, "created": e.clock.Now().Unix(),
		"type": "transfer.created", "livemode": false,
		"data": map[string]any{"object": map[string]any{"id": trID, "object": "transfer", "amount": amount,
			"amount_reversed": 0, "reversed": false, "currency": "sek", "destination": "acct_c",
			"transfer_group": payoutID, "metadata": map[string]any{"payoutId": payoutID}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if res, err := ps.Process(e.ctx, &ev); err != nil || res.Status != payments.StatusProcessed {
		t.Fatalf("webhook %s: %+v %v", evtID, res, err)
	}
}

// fmtPtr formats an optional id for messages and comparisons.
func fmtPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", *s)
}
