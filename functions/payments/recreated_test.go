package payments

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

// checkoutMeta is the metadata createCheckoutSession puts on a purchase of
// prog-1 by u1: uid, programId, kind and, unless created is zero, the
// program's version (programCreated).
func checkoutMeta(created time.Time) map[string]any {
	m := map[string]any{"uid": "u1", "programId": "prog-1", "kind": "program"}
	if !created.IsZero() {
		m["programCreated"] = created.UTC().Format(time.RFC3339Nano) // the wire format, spelled out
	}
	return m
}

// withMeta returns obj with its metadata replaced by meta.
func withMeta(obj, meta map[string]any) map[string]any {
	obj["metadata"] = meta
	return obj
}

// recreateProgram deletes programs/prog-1 (an admin) and creates it again
// as coach-x's, with the same price (any coach may create a program under
// a free id).
func (h *harness) recreateProgram() {
	h.t.Helper()
	if _, err := h.db.Doc("programs/prog-1").Delete(context.Background()); err != nil {
		h.t.Fatalf("delete program: %v", err)
	}
	h.set("programs/prog-1", map[string]any{"programId": "prog-1", "title": "Taken", "createdBy": []any{"coach-x"},
		"price": 49900, "currency": "SEK", "coachSplits": map[string]any{"coach-x": 10000}, "commissionBps": 0})
}

// TestCheckoutCarriesProgramVersion: createCheckoutSession sends the
// program document's create time as metadata programCreated on the session
// and on its PaymentIntent (as programId), and the idempotency key depends
// on it, so a program created again with the same price within Stripe's
// key window is a new checkout, not a conflicting replay.
func TestCheckoutCarriesProgramVersion(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	tok := c.auth.SignIn(t, h.project+"-buyer", nil)
	in := map[string]any{"programId": "prog-1", "requestId": "click-1"}

	checkout := func(n int) recorded {
		t.Helper()
		if code, res, st := call(t, c.checkout, tok, in); code != 200 || st != "" {
			t.Fatalf("checkout: %d %v %s", code, res, st)
		}
		reqs := h.rec.find("POST", "/v1/checkout/sessions")
		if len(reqs) != n {
			t.Fatalf("%d checkout requests, want %d", len(reqs), n)
		}
		return reqs[n-1]
	}
	checkVersion := func(r recorded, created time.Time) {
		t.Helper()
		want := created.UTC().Format(time.RFC3339Nano)
		for _, k := range []string{"metadata[programCreated]", "payment_intent_data[metadata][programCreated]"} {
			if got := r.Form.Get(k); got != want {
				t.Errorf("%s = %q, want %q (the program's create time)", k, got, want)
			}
		}
		if got, err := time.Parse(time.RFC3339Nano, r.Form.Get("metadata[programCreated]")); err != nil || !got.Equal(created) {
			t.Errorf("programCreated %q does not parse back to %v: %v", r.Form.Get("metadata[programCreated]"), created, err)
		}
	}

	first := checkout(1)
	created, _ := h.programVersion("prog-1")
	checkVersion(first, created)

	// The same click, the program unchanged: the same key.
	again := checkout(2)
	if again.Header.Get("Idempotency-Key") != first.Header.Get("Idempotency-Key") {
		t.Errorf("retry changed the idempotency key")
	}

	// Created again (same price, same currency) and bought with the same
	// request id: new version, new key.
	h.recreateProgram()
	third := checkout(3)
	recreated, _ := h.programVersion("prog-1")
	if recreated.Equal(created) {
		t.Fatalf("the program's create time did not change")
	}
	checkVersion(third, recreated)
	if k := third.Header.Get("Idempotency-Key"); k == first.Header.Get("Idempotency-Key") || !strings.HasPrefix(k, "ij-checkout-") {
		t.Errorf("idempotency key %q after the program was created again, first %q", k, first.Header.Get("Idempotency-Key"))
	}
}

// TestCheckoutVersionReachesPayment: the metadata the checkout sends is
// what the webhook records: a payment whose events carry it stores the
// program's version, and when the program was created again before the
// success was recorded the terms say so.
func TestCheckoutVersionReachesPayment(t *testing.T) {
	h := newHarness(t)
	h.seed()
	c := serveCallables(t, h)
	tok := c.auth.SignIn(t, h.project+"-buyer", nil)
	if code, res, st := call(t, c.checkout, tok, map[string]any{"programId": "prog-1"}); code != 200 || st != "" {
		t.Fatalf("checkout: %d %v %s", code, res, st)
	}
	f := h.rec.find("POST", "/v1/checkout/sessions")[0].Form
	meta := map[string]any{}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "payment_intent_data[metadata]["); ok {
			meta[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	meta["uid"] = "u1" // the fixtures' customer cus_1
	created, _ := h.programVersion("prog-1")

	h.mustDeliver(event("evt_v1", "payment_intent.processing", t0, objPI("pi_v", "cus_1", "processing", 49900, meta, false)))
	h.recreateProgram()
	h.mustDeliver(event("evt_v2", "payment_intent.succeeded", t0+60, objPI("pi_v", "cus_1", "succeeded", 49900, meta, false)))

	var p model.Payment
	if !h.get("payments/pi_v", &p) || p.ProgramCreated == nil || !p.ProgramCreated.Equal(created) {
		t.Fatalf("payment programCreated = %v, want %v", p.ProgramCreated, created)
	}
	if p.ProgramTerms == nil || p.ProgramTerms.ProgramFound || !p.ProgramTerms.RecreatedAfterCheckout {
		t.Errorf("programTerms = %+v, want not found, re-created after checkout", p.ProgramTerms)
	}
}

// TestTermsOfProgramRecreatedAfterCheckout is the regression test of a
// sale's terms taken from a program deleted and created again (by another
// coach) between the checkout and the webhook's recording of the payment as
// paid. For every event that can freeze the terms — a success as the
// first event, a success after an unpaid first recording, and a refund or
// dispute arriving first after an unpaid one — the payment's version of the
// program (metadata programCreated) is compared with the program read:
// the same version (also with its split changed since) freezes its terms
// as before; another version freezes terms the payouts do not pay
// (programFound false, recreatedAfterCheckout); a missing program and a
// payment without a version are frozen as before. The terms are frozen
// once: a later success event changes neither them nor the payment's
// version.
func TestTermsOfProgramRecreatedAfterCheckout(t *testing.T) {
	// firsts are the unpaid events that record the payment with its
	// programId before the freezing one (none: the freezing event is the
	// first); at t0.
	firsts := []struct {
		name string
		ev   func(meta map[string]any) []byte
	}{
		{"first", nil},
		{"after payment_intent.processing", func(meta map[string]any) []byte {
			return event("evt_r1", "payment_intent.processing", t0, objPI("pi_r", "cus_1", "processing", 49900, meta, false))
		}},
		{"after payment_intent.payment_failed", func(meta map[string]any) []byte {
			return event("evt_r1", "payment_intent.payment_failed", t0, objPI("pi_r", "cus_1", "requires_payment_method", 49900, meta, true))
		}},
		{"after unpaid checkout.session.completed", func(meta map[string]any) []byte {
			return event("evt_r1", "checkout.session.completed", t0,
				withMeta(objCheckout("cs_r", "pi_r", "cus_1", "u1", "prog-1", 49900, "unpaid"), meta))
		}},
	}
	// freezers are the events that record the payment as paid; refund and
	// dispute events carry no metadata (they freeze only a payment already
	// recorded with its programId).
	freezers := []struct {
		name     string
		needsPID bool
		ev       func(meta map[string]any) []byte
	}{
		{"payment_intent.succeeded", false, func(meta map[string]any) []byte {
			return event("evt_r2", "payment_intent.succeeded", t0+60, objPI("pi_r", "cus_1", "succeeded", 49900, meta, false))
		}},
		{"checkout.session.completed paid", false, func(meta map[string]any) []byte {
			return event("evt_r2", "checkout.session.completed", t0+60,
				withMeta(objCheckout("cs_r", "pi_r", "cus_1", "u1", "prog-1", 49900, "paid"), meta))
		}},
		{"charge.succeeded", false, func(meta map[string]any) []byte {
			return event("evt_r2", "charge.succeeded", t0+60, withMeta(objCharge("ch_r", "pi_r", "cus_1", 49900, 0), meta))
		}},
		{"refund.created", true, func(map[string]any) []byte {
			return event("evt_r2", "refund.created", t0+100, objRefund("re_r", "pi_r", "ch_r", 10000, "succeeded", t0+100))
		}},
		{"charge.dispute.created", true, func(map[string]any) []byte {
			return event("evt_r2", "charge.dispute.created", t0+1000, objDispute("dp_r", "pi_r", "ch_r", 49900, "needs_response"))
		}},
	}
	// program is what programs/prog-1 held at checkout (the fixtures').
	coaches := []string{"coach-1", "coach-2"}
	scenarios := []struct {
		name string
		// noVersion sends the metadata without programCreated (checkouts
		// made before it, objects not from our checkout); badVersion sends
		// one that is not a time.
		noVersion, badVersion bool
		// change alters the program between the first event and the
		// freezing one.
		change func(h *harness)
		// want are the frozen terms; the program's create and update times
		// are those of the program read, unless gone.
		want func(h *harness) *model.ProgramTerms
	}{
		{name: "same version", want: func(h *harness) *model.ProgramTerms {
			return h.versioned(&model.ProgramTerms{ProgramFound: true, CoachIDs: coaches, FrozenAt: testNow})
		}},
		{name: "same version, split changed since", change: func(h *harness) {
			if _, err := h.db.Doc("programs/prog-1").Update(context.Background(), []firestore.Update{
				{Path: "coachSplits", Value: map[string]any{"coach-1": 7000, "coach-2": 3000}}}); err != nil {
				h.t.Fatal(err)
			}
		}, want: func(h *harness) *model.ProgramTerms {
			return h.versioned(&model.ProgramTerms{ProgramFound: true, CoachIDs: coaches,
				CoachSplits: map[string]int{"coach-1": 7000, "coach-2": 3000}, FrozenAt: testNow})
		}},
		{name: "re-created by another coach", change: (*harness).recreateProgram, want: func(h *harness) *model.ProgramTerms {
			return h.versioned(&model.ProgramTerms{ProgramFound: false, RecreatedAfterCheckout: true, CoachIDs: []string{}, FrozenAt: testNow})
		}},
		{name: "deleted", change: func(h *harness) {
			if _, err := h.db.Doc("programs/prog-1").Delete(context.Background()); err != nil {
				h.t.Fatal(err)
			}
		}, want: func(h *harness) *model.ProgramTerms {
			return &model.ProgramTerms{ProgramFound: false, CoachIDs: []string{}, FrozenAt: testNow}
		}},
		{name: "no version, re-created", noVersion: true, change: (*harness).recreateProgram, want: func(h *harness) *model.ProgramTerms {
			return h.versioned(&model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"coach-x"},
				CoachSplits: map[string]int{"coach-x": 10000}, CommissionBps: ptr(0), FrozenAt: testNow})
		}},
		{name: "malformed version, re-created", badVersion: true, change: (*harness).recreateProgram, want: func(h *harness) *model.ProgramTerms {
			return h.versioned(&model.ProgramTerms{ProgramFound: true, CoachIDs: []string{"coach-x"},
				CoachSplits: map[string]int{"coach-x": 10000}, CommissionBps: ptr(0), FrozenAt: testNow})
		}},
	}
	for _, fz := range freezers {
		for _, first := range firsts {
			if fz.needsPID && first.ev == nil {
				continue // a refund or dispute seen first names no program: nothing to freeze
			}
			for _, sc := range scenarios {
				t.Run(fz.name+" "+first.name+"/"+sc.name, func(t *testing.T) {
					h := newHarness(t)
					h.seed()
					created, _ := h.programVersion("prog-1")
					meta := checkoutMeta(created)
					switch {
					case sc.noVersion:
						delete(meta, "programCreated")
					case sc.badVersion:
						meta["programCreated"] = "yesterday"
					}
					if first.ev != nil {
						h.mustDeliver(first.ev(meta))
						if got := h.termsOf("pi_r"); got != nil {
							t.Fatalf("terms frozen by an unpaid event: %+v", got)
						}
					}
					if sc.change != nil {
						sc.change(h)
					}
					h.mustDeliver(fz.ev(meta))
					want := sc.want(h)
					checkTerms(t, h.termsOf("pi_r"), want)

					var p model.Payment
					if !h.get("payments/pi_r", &p) {
						t.Fatal("no payment")
					}
					wantVersion := &created
					if sc.noVersion || sc.badVersion {
						wantVersion = nil
					}
					if !sameVersion(p.ProgramCreated, wantVersion) {
						t.Errorf("payment programCreated = %v, want %v", p.ProgramCreated, wantVersion)
					}

					// Frozen once: a later success carrying another version
					// changes neither the terms nor the payment's version
					// (set once; one stored without it gets none once its
					// terms are frozen: TestVersionAfterFrozenTermsChangesNothing).
					frozen := h.termsOf("pi_r")
					late := checkoutMeta(created.Add(time.Hour))
					h.mustDeliver(event("evt_r3", "payment_intent.succeeded", t0+5000, objPI("pi_r", "cus_1", "succeeded", 49900, late, false)))
					if got := h.termsOf("pi_r"); !reflect.DeepEqual(got, frozen) {
						t.Errorf("a later event changed the terms: %+v, want %+v", got, frozen)
					}
					var after model.Payment
					h.get("payments/pi_r", &after)
					if p.ProgramCreated != nil && !sameVersion(after.ProgramCreated, p.ProgramCreated) {
						t.Errorf("a later event changed programCreated: %v, want %v", after.ProgramCreated, p.ProgramCreated)
					}
				})
			}
		}
	}
}

// versioned sets want's program create and update times to those of
// programs/prog-1 as it is now.
func (h *harness) versioned(want *model.ProgramTerms) *model.ProgramTerms {
	h.t.Helper()
	c, u := h.programVersion("prog-1")
	want.ProgramCreateTime, want.ProgramUpdateTime = &c, &u
	return want
}

// sameVersion reports whether two optional times are both absent or the
// same instant.
func sameVersion(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// TestRecreatedProgramGrantsNoAccess: a payment whose checkout was for a
// program since deleted and created again by another coach enrols the
// buyer in nothing, assigns the new program's coach nothing (they would
// see the buyer's client profile), and is not described with the new
// program's title; the same version enrols as before. Regression: the
// buyer was enrolled in the impostor's program and became their client.
func TestRecreatedProgramGrantsNoAccess(t *testing.T) {
	for _, tt := range []struct {
		name      string
		recreate  bool
		wantCoach string // the coach assigned to the buyer; "" none
	}{
		{"same version", false, "coach-1"},
		{"re-created by another coach", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			created, _ := h.programVersion("prog-1")
			meta := checkoutMeta(created)
			h.mustDeliver(event("evt_g1", "payment_intent.processing", t0, objPI("pi_g", "cus_1", "processing", 49900, meta, false)))
			if tt.recreate {
				h.recreateProgram()
			}
			h.mustDeliver(event("evt_g2", "payment_intent.succeeded", t0+60, objPI("pi_g", "cus_1", "succeeded", 49900, meta, false)))

			var en model.Enrollment
			enrolled := h.get("enrollments/"+EnrollmentID("u1", "prog-1"), &en)
			if enrolled != (tt.wantCoach != "") {
				t.Errorf("enrolled = %v (%+v), want %v", enrolled, en, tt.wantCoach != "")
			}
			for _, c := range []string{"coach-1", "coach-x"} {
				assigned := h.get("users/u1/coaches/"+c, &map[string]any{})
				if want := c == tt.wantCoach; assigned != want {
					t.Errorf("%s assigned to the buyer: %v, want %v", c, assigned, want)
				}
			}
			var p model.Payment
			if !h.get("payments/pi_g", &p) || strings.Contains(p.Description, "Taken") {
				t.Errorf("payment description %q names the re-created program", p.Description)
			}
		})
	}
}
