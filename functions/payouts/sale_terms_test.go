package payouts

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/model"
)

// webhook applies a Stripe event of type typ about obj, created at, through
// the payments area's webhook processing (inbox, transaction, merge), as
// Stripe's delivery would.
func webhook(t *testing.T, e *env, evtID, typ string, at time.Time, obj map[string]any) {
	t.Helper()
	ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
	raw, err := json.Marshal(map[string]any{
		"id": evtID, "object": "event", "api_version": stripe.APIVersion, "created": at.Unix(),
		"type": typ, "livemode": false, "data": map[string]any{"object": obj},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	res, err := ps.Process(e.ctx, &ev)
	if err != nil || (res.Status != payments.StatusProcessed && res.Status != payments.StatusDuplicate) {
		t.Fatalf("webhook %s (%s): %+v %v", evtID, typ, res, err)
	}
}

// paidAt is when the tests' customer pays: two days before the default
// period end.
var paidAt = time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)

// saleMeta is the metadata createCheckoutSession puts on a program
// purchase.
func saleMeta(program string) map[string]any {
	return map[string]any{"uid": "u-buyer", "programId": program, "kind": "program"}
}

func objSucceededPI(pi, program string, amount int64, at time.Time) map[string]any {
	return map[string]any{"id": pi, "object": "payment_intent", "amount": amount, "currency": "sek",
		"customer": "cus_buyer", "status": "succeeded", "created": at.Unix(), "metadata": saleMeta(program),
		"latest_charge": "ch_" + pi}
}

func objPaidCheckout(cs, pi, program string, amount int64, at time.Time) map[string]any {
	return map[string]any{"id": cs, "object": "checkout.session", "mode": "payment", "payment_intent": pi,
		"customer": "cus_buyer", "client_reference_id": "u-buyer", "amount_total": amount, "currency": "sek",
		"payment_status": "paid", "status": "complete", "created": at.Unix(), "metadata": saleMeta(program)}
}

func objRefundedCharge(pi string, amount, refunded int64, at time.Time) map[string]any {
	return map[string]any{"id": "ch_" + pi, "object": "charge", "payment_intent": pi, "customer": "cus_buyer",
		"amount": amount, "amount_refunded": refunded, "refunded": refunded >= amount, "currency": "sek",
		"paid": true, "status": "succeeded", "created": at.Unix()}
}

func objSaleDispute(pi string, amount int64, status string, at time.Time) map[string]any {
	return map[string]any{"id": "dp_" + pi, "object": "dispute", "payment_intent": pi, "charge": "ch_" + pi,
		"amount": amount, "currency": "sek", "status": status, "reason": "fraudulent", "created": at.Unix()}
}

// TestSaleAllocatedByTermsWhenPaid is the regression test of sales paid to
// whoever owns the program id at payout time. The payments webhook records
// each sale with the terms of its program when the customer paid; the
// payouts allocate by those, whatever happened to the program since — it
// was deleted by an admin and created again under the same id by another
// coach, its split and commission changed, or later events (a redelivery,
// an inbox-expired replay, a late checkout event, a refund, a dispute)
// arrived after the change. Only a legacy payment recorded without terms
// is allocated from the program as it is at payout time (the fallback). A
// sale of a program that did not exist when it was paid is not paid to the
// coach who creates the program later.
func TestSaleAllocatedByTermsWhenPaid(t *testing.T) {
	const end = "2026-05-04"
	a, b := pid("coach-a", "SEK", end), pid("coach-b", "SEK", end)
	cases := []struct {
		name string
		// before sets the programs up before the sale; after changes them
		// once the sale is recorded (and may deliver later events).
		before, after func(t *testing.T, e *env)
		// legacy writes the payment as payments recorded before frozen
		// terms were (no programTerms) instead of through the webhook.
		legacy  bool
		want    map[string]want
		skipped map[string]int
		source  string // payout_allocations.termsSource; "" when none is made
	}{
		{
			name:   "program deleted by an admin and created again by another coach",
			before: func(t *testing.T, e *env) { e.program("prog-p", []string{"coach-a"}, nil, nil) },
			after:  recreateAsCoachB,
			want:   map[string]want{a: {amount: 8000, gross: 10000, commission: 2000, payments: 1}},
			source: "payment",
		},
		{
			name: "split and commission changed after the payment",
			before: func(t *testing.T, e *env) {
				e.program("prog-p", []string{"coach-a", "coach-b"}, map[string]int{"coach-a": 7000, "coach-b": 3000}, intp(1000))
			},
			after: func(t *testing.T, e *env) {
				e.program("prog-p", []string{"coach-a", "coach-b"}, map[string]int{"coach-a": 2000, "coach-b": 8000}, intp(3000))
			},
			// 10 000 at 70/30 with 10 %: pool 9 000 → 6 300 / 2 700.
			want: map[string]want{
				a: {amount: 6300, gross: 7000, commission: 700, payments: 1},
				b: {amount: 2700, gross: 3000, commission: 300, payments: 1},
			},
			source: "payment",
		},
		{
			name:   "late and replayed events for the payment after the program was taken over",
			before: func(t *testing.T, e *env) { e.program("prog-p", []string{"coach-a"}, nil, nil) },
			after: func(t *testing.T, e *env) {
				recreateAsCoachB(t, e)
				later := paidAt.Add(time.Hour)
				// A redelivery (a duplicate in the inbox), the same event
				// after its inbox record expired, a late checkout event, a
				// partial refund and a dispute that is won.
				webhook(t, e, "evt_paid", "payment_intent.succeeded", paidAt, objSucceededPI("pi_sale", "prog-p", 10000, paidAt))
				if _, err := e.fs.Doc("webhook_events/evt_paid").Delete(e.ctx); err != nil {
					t.Fatal(err)
				}
				webhook(t, e, "evt_paid", "payment_intent.succeeded", paidAt, objSucceededPI("pi_sale", "prog-p", 10000, paidAt))
				webhook(t, e, "evt_checkout", "checkout.session.completed", later, objPaidCheckout("cs_sale", "pi_sale", "prog-p", 10000, later))
				webhook(t, e, "evt_refund", "charge.refunded", later.Add(time.Minute), objRefundedCharge("pi_sale", 10000, 2500, later))
				webhook(t, e, "evt_dispute", "charge.dispute.created", later.Add(2*time.Minute), objSaleDispute("pi_sale", 7500, "needs_response", later))
				webhook(t, e, "evt_won", "charge.dispute.closed", later.Add(3*time.Minute), objSaleDispute("pi_sale", 7500, "won", later))
			},
			// Net 7 500 after the refund, 20 % default commission.
			want:   map[string]want{a: {amount: 6000, gross: 7500, commission: 1500, payments: 1}},
			source: "payment",
		},
		{
			name:   "program missing when paid, created later by a coach",
			before: func(t *testing.T, e *env) {},
			after: func(t *testing.T, e *env) {
				e.program("prog-p", []string{"coach-b"}, nil, nil)
			},
			want:    map[string]want{},
			skipped: map[string]int{"program not found when paid": 1},
		},
		{
			name: "legacy payment without frozen terms: the program as it is now",
			before: func(t *testing.T, e *env) {
				e.program("prog-p", []string{"coach-a", "coach-b"}, map[string]int{"coach-a": 5000, "coach-b": 5000}, nil)
			},
			legacy: true,
			after: func(t *testing.T, e *env) {
				e.program("prog-p", []string{"coach-a", "coach-b"}, map[string]int{"coach-a": 7000, "coach-b": 3000}, nil)
			},
			want: map[string]want{
				a: {amount: 5600, gross: 7000, commission: 1400, payments: 1},
				b: {amount: 2400, gross: 3000, commission: 600, payments: 1},
			},
			source: "program",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.before(t, e)
			if tc.legacy {
				e.payment("pi_sale", "prog-p", 10000, "SEK", 2)
			} else {
				webhook(t, e, "evt_paid", "payment_intent.succeeded", paidAt, objSucceededPI("pi_sale", "prog-p", 10000, paidAt))
			}
			tc.after(t, e)

			rep := e.run(RunRequest{})
			checkPayouts(t, e, tc.want)
			for r, n := range tc.skipped {
				if rep.Skipped[r] != n {
					t.Errorf("skipped[%s] = %d, want %d (%v)", r, rep.Skipped[r], n, rep.Skipped)
				}
			}
			snap, err := e.fs.Doc("payout_allocations/pi_sale").Get(e.ctx)
			switch {
			case tc.source == "" && err == nil:
				t.Errorf("allocation made: %v", snap.Data())
			case tc.source != "" && err != nil:
				t.Errorf("no allocation: %v", err)
			case tc.source != "" && snap.Data()["termsSource"] != tc.source:
				t.Errorf("allocation termsSource = %v, want %q", snap.Data()["termsSource"], tc.source)
			}
			// The next run, the program unchanged, pays nothing more.
			if rep := e.run(RunRequest{}); len(rep.Payouts) != 0 {
				t.Errorf("rerun wrote %+v", rep.Payouts)
			}
		})
	}
}

// recreateAsCoachB deletes programs/prog-p (an admin; coaches cannot) and
// creates it again as coach-b alone (any coach may create a program under
// a free id with createdBy [themselves]; shared/rules tests both).
func recreateAsCoachB(t *testing.T, e *env) {
	t.Helper()
	if _, err := e.fs.Doc("programs/prog-p").Delete(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.set("programs/prog-p", model.Program{ProgramID: "prog-p", Title: "p", CreatedBy: []string{"coach-b"}})
}

// TestSaleOfProgramRecreatedBeforeRecording is the regression test of a
// sale paid to whoever re-created its program while the webhook had not
// yet recorded the payment as paid (a webhook outage: Stripe retries each
// event on its own, so a refund may even freeze the terms first). The
// checkout's metadata carries the program's version (programCreated, the
// program document's create time); when the program read at freezing is
// another version, the sale's terms say so and the run pays nobody,
// reporting "program re-created after checkout". The same version pays as
// before; a payment without a version (a checkout made before it) is
// frozen from the program found, as before.
func TestSaleOfProgramRecreatedBeforeRecording(t *testing.T) {
	const end = "2026-05-04"
	a, b := pid("coach-a", "SEK", end), pid("coach-b", "SEK", end)
	processing := func(meta map[string]any) (string, string, map[string]any) {
		o := objSucceededPI("pi_sale", "prog-p", 10000, paidAt)
		o["status"], o["metadata"] = "processing", meta
		return "evt_processing", "payment_intent.processing", o
	}
	succeeded := func(meta map[string]any) (string, string, map[string]any) {
		o := objSucceededPI("pi_sale", "prog-p", 10000, paidAt)
		o["metadata"] = meta
		return "evt_paid", "payment_intent.succeeded", o
	}
	refunded := func(map[string]any) (string, string, map[string]any) {
		return "evt_refund", "refund.created", map[string]any{"id": "re_sale", "object": "refund", "payment_intent": "pi_sale",
			"charge": "ch_pi_sale", "amount": 2500, "currency": "sek", "status": "succeeded", "reason": "requested_by_customer",
			"created": paidAt.Unix()}
	}
	type step func(meta map[string]any) (id, typ string, obj map[string]any)
	cases := []struct {
		name string
		// first is the unpaid event recorded before the program changes
		// (nil: none); freeze records the payment as paid after it.
		first, freeze step
		recreate      bool
		noVersion     bool
		want          map[string]want
		skipped       map[string]int
	}{
		{name: "re-created before the success was recorded", first: processing, freeze: succeeded, recreate: true,
			want: map[string]want{}, skipped: map[string]int{"program re-created after checkout": 1}},
		{name: "re-created before any event was recorded", freeze: succeeded, recreate: true,
			want: map[string]want{}, skipped: map[string]int{"program re-created after checkout": 1}},
		{name: "re-created, then a refund arrives before the success", first: processing, freeze: refunded, recreate: true,
			want: map[string]want{}, skipped: map[string]int{"program re-created after checkout": 1}},
		{name: "same version", first: processing, freeze: succeeded,
			want: map[string]want{a: {amount: 8000, gross: 10000, commission: 2000, payments: 1}}},
		{name: "same version, a refund arrives before the success", first: processing, freeze: refunded,
			// Net 7 500 after the refund, 20 % default commission.
			want: map[string]want{a: {amount: 6000, gross: 7500, commission: 1500, payments: 1}}},
		{name: "no version (a checkout made before it): as before", first: processing, freeze: succeeded, recreate: true, noVersion: true,
			want: map[string]want{b: {amount: 8000, gross: 10000, commission: 2000, payments: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.program("prog-p", []string{"coach-a"}, nil, nil)
			meta := saleMeta("prog-p")
			if !tc.noVersion {
				snap, err := e.fs.Doc("programs/prog-p").Get(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				meta["programCreated"] = snap.CreateTime.UTC().Format(time.RFC3339Nano) // as createCheckoutSession sends it
			}
			if tc.first != nil {
				id, typ, obj := tc.first(meta)
				webhook(t, e, id, typ, paidAt, obj)
			}
			if tc.recreate {
				recreateAsCoachB(t, e)
			}
			id, typ, obj := tc.freeze(meta)
			webhook(t, e, id, typ, paidAt.Add(time.Minute), obj)

			rep := e.run(RunRequest{})
			checkPayouts(t, e, tc.want)
			for r, n := range tc.skipped {
				if rep.Skipped[r] != n {
					t.Errorf("skipped[%s] = %d, want %d (%v)", r, rep.Skipped[r], n, rep.Skipped)
				}
			}
			if rep := e.run(RunRequest{}); len(rep.Payouts) != 0 {
				t.Errorf("rerun wrote %+v", rep.Payouts)
			}
		})
	}
}
