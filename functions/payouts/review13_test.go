package payouts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// refundedInFull writes payment id of program p, paid at paid and refunded
// in full at refunded (as the webhook records it).
func (e *env) refundedInFull(id, prog string, amount int64, paid, refunded time.Time) {
	e.t.Helper()
	e.set("payments/"+id, model.Payment{PaymentID: id, UserID: "u-" + id, Amount: amount, Currency: "SEK", PaymentDate: paid,
		Status: model.PaymentRefunded, Processor: "stripe", ProcessorPaymentID: "pi_" + id, ProgramID: &prog,
		RefundDetails: &model.RefundDetails{AmountRefunded: amount, Refunds: []model.Refund{{RefundID: "re_" + id, Amount: amount, Status: "succeeded", CreatedAt: refunded}}},
		CreatedAt:     paid, UpdatedAt: refunded})
}

// TestReview13RefundedSaleWhileBookingOffNotBookedLater: a sale paid and
// refunded in full while the sales booking is off is booked from Stripe's
// reports, as every event made while the booking is off (salesExempt).
// Switching the booking on must not book it again: the first run with the
// booking on finds it (unallocated, in the lookback) and must not allocate
// it as a sale awaiting its vouchers. A sale of the same period that was
// not refunded (allocated while the booking was off) is the control.
func TestReview13RefundedSaleWhileBookingOffNotBookedLater(t *testing.T) {
	e := newEnv(t)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	e.program("p", []string{"c1"}, nil, nil)
	paid := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e.refundedInFull("x", "p", 10000, paid, paid.Add(24*time.Hour))
	e.payment("y", "p", 5000, "SEK", 3)
	e.run(RunRequest{}) // 2026-05-04, the booking off
	e.sync(SyncRequest{})

	e.svc.Settings.BookSales = true
	e.clock.Set(time.Date(2026, 5, 18, 4, 0, 0, 0, time.UTC))
	e.run(RunRequest{Scheduled: true})
	rep := e.sync(SyncRequest{})
	e.sync(SyncRequest{})
	if got := clearingByDate(s, "A"); len(got) != 0 || rep.SalesBooked != 0 {
		t.Errorf("sales booked after the booking was switched on: 1580 by date %v (report %+v); the sale and its refund of May were booked from Stripe's reports",
			got, rep)
	}
	if a := e.allocation("x"); a.SalesPending || len(a.Entries) != 0 || a.Net != 0 {
		t.Errorf("allocation of the refunded sale %+v", a)
	}
}

// eraseCoach runs the GDPR erasure of coach uid c (functions/gdpr) as the
// worker would, against this env's Firestore.
func eraseCoach(t *testing.T, e *env, c string) {
	t.Helper()
	au := testenv.AuthEmulator(t)
	_ = au.Client.DeleteUser(e.ctx, c)
	if _, err := au.Client.CreateUser(e.ctx, (&auth.UserToCreate{}).UID(c)); err != nil {
		t.Fatalf("create account: %v", err)
	}
	t.Cleanup(func() { _ = au.Client.DeleteUser(context.Background(), c) })
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "review13-bucket"})
	pub := &queue.Recorder{}
	gs := &gdpr.Service{Firestore: e.fs, Auth: au.Client, Storage: srv.Client(), Bucket: "review13-bucket", Publisher: pub,
		Signer: gdpr.EmulatorURLs{Host: "127.0.0.1:4443"}, PseudonymKey: testKey, Now: e.clock.Now}
	e.set("users/"+c, model.User{UserID: c, CreatedAt: e.clock.Now()})
	if _, _, err := gs.StartErasure(e.ctx, c, c, gdpr.SourceUser, true); err != nil {
		t.Fatal(err)
	}
	for i, m := range pub.On(gdpr.TopicRequests) {
		if err := gs.GDPRWorker(e.ctx, &events.PubSubMessage{ID: fmt.Sprint("m", i), Data: m.Data}); err != nil {
			t.Fatalf("gdpr worker: %v", err)
		}
	}
	snap, err := e.fs.Collection(model.ColGDPRRequests).Doc(gs.ErasureID(c)).Get(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := snap.DataAt("status"); st != string(gdpr.StatusDone) {
		e, _ := snap.DataAt("error")
		t.Fatalf("erasure %v: %v", st, e)
	}
}

// TestReview13ErasureFindsRefundedSaleAllocation: the allocation of a sale
// refunded in full before its allocation (allocateRefunded) names the
// program's coaches in its weights, like every allocation, but has no
// entries (so no open share) and no payout names its payment (no
// relatedPaymentIds): the erasure of a coach must still find it and
// replace the coach's uid by the keyed pseudonym, as for the coach's
// other allocations (payout_allocations: legal hold, pseudonymised).
func TestReview13ErasureFindsRefundedSaleAllocation(t *testing.T) {
	e := newEnv(t)
	e.svc.Settings.BookSales = true
	c := fmt.Sprintf("coach13-%d", time.Now().UnixNano())
	e.program("p", []string{c, "c2"}, nil, nil)
	paid := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e.refundedInFull("x", "p", 10000, paid, paid.Add(24*time.Hour))
	e.run(RunRequest{})
	if a := e.allocation("x"); a.Weights[c] == 0 {
		t.Fatalf("allocation %+v does not name the coach", a)
	}
	eraseCoach(t, e, c)
	a := e.allocation("x")
	ps := pseudonym.Of(testKey, c)
	if _, still := a.Weights[c]; still || a.Weights[ps] == 0 || a.Weights["c2"] == 0 {
		t.Errorf("after the coach's erasure the allocation's weights are %v: want the coach's uid replaced by its pseudonym %s", a.Weights, ps)
	}
}

// roundTripHook runs before, once, ahead of the first request whose URL
// contains match, then sends every request on.
type roundTripHook struct {
	match  string
	once   sync.Once
	before func()
}

func (h *roundTripHook) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.String(), h.match) {
		h.once.Do(h.before)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// transferEvent hands Stripe's transfer event typ for tr to the payments
// webhook processing (deliverTransferEvent without testing.T, for other
// goroutines).
func transferEvent(e *env, evtID, typ string, tr *stripe.Transfer) error {
	ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
	raw, err := json.Marshal(map[string]any{
		"id": evtID, "object": "event", "api_version": stripe.APIVersion, "created": e.clock.Now().Unix(),
		"type": typ, "livemode": false,
		"data": map[string]any{"object": map[string]any{"id": tr.ID, "object": "transfer", "amount": tr.Amount,
			"amount_reversed": tr.AmountReversed, "reversed": tr.Reversed, "currency": string(tr.Currency),
			"destination": tr.Destination.ID, "transfer_group": tr.TransferGroup, "metadata": tr.Metadata}},
	})
	if err != nil {
		return err
	}
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err
	}
	_, err = ps.Process(e.ctx, &ev)
	return err
}

// TestReview13ReversalDuringSyncBookedOnItsDay: a transfer's first partial
// reversal (3 000, 31 January) is planned by a sync on 1 February; while
// that sync books it (here: as it asks Fortnox for the financial year),
// Stripe reverses 1 000 more, that day. Each reversal must be booked on the
// day it happened (the second by the next sync, as a reversal seen after a
// sync's plan is): the sync must not book the 1 000 of 1 February in the
// voucher dated 31 January (another month, here also the amount the
// voucher of the planned reversal was not made for).
func TestReview13ReversalDuringSyncBookedOnItsDay(t *testing.T) {
	e := newEnv(t)
	l := newLedger()
	e.svc.Transfers = l
	var hookErr error
	var trID string
	hook := &roundTripHook{match: "/3/financialyears?date=2027-01-31"}
	hook.before = func() {
		l.reverse(trID, 1000)
		tr, _ := l.Get(e.ctx, trID)
		hookErr = transferEvent(e, "evt_rev_during", "transfer.updated", tr)
	}
	s := withFortnox(t, e, fortnoxfake.Options{}, func(c *fortnox.Config) { c.HTTPClient = &http.Client{Transport: hook} })
	e.program("p", []string{relCoach}, nil, nil)
	e.coach(relCoach, relAccount, true)
	e.payment("a", "p", 10000, "SEK", 3)
	e.run(RunRequest{})
	id := pid(relCoach, "SEK", relEnd)
	trID = *e.payout(id).ProcessorPayoutID
	e.clock.Add(2 * time.Hour)
	e.run(RunRequest{Scheduled: true})
	e.sync(SyncRequest{}) // the payout's voucher, 2026-05-04

	e.clock.Set(time.Date(2027, 1, 31, 15, 0, 0, 0, time.UTC))
	l.reverse(trID, 3000)
	tr, _ := l.Get(e.ctx, trID)
	if err := transferEvent(e, "evt_rev1", "transfer.reversed", tr); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC))
	e.sync(SyncRequest{})
	if hookErr != nil {
		t.Fatalf("webhook during the sync: %v", hookErr)
	}
	e.sync(SyncRequest{})
	want := map[string]int64{"2026-05-04": -8000, "2027-01-31": 3000, "2027-02-01": 1000}
	if got := clearingByDate(s, "P"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stripe clearing (1580) booked by date %v, want %v (3 000 came back on 31 January, 1 000 on 1 February)", got, want)
	}
	if p := e.payout(id); p.ReversalPending {
		t.Errorf("payout still awaits a reversal voucher: %+v", p.TransferReversal)
	}
}
