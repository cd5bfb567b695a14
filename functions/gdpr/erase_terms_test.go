package gdpr

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	goreflect "reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/model"
)

// termsRule is the rule that finds a coach's sales by the program terms
// frozen on them (payments.programTerms.coachIds).
const termsRule = "payments.programTerms.coachIds"

// sell records a paid sale of program to buyer through the payments
// webhook (payment_intent.succeeded, as Stripe delivers it), which freezes
// the program's terms on the payment; it returns the payment.
func (e *env) sell(pi, buyer, program string, amount int64, at time.Time) model.Payment {
	e.t.Helper()
	obj := map[string]any{"id": pi, "object": "payment_intent", "amount": amount, "currency": "sek",
		"customer": "cus_" + buyer, "status": "succeeded", "created": at.Unix(), "latest_charge": "ch_" + pi,
		"metadata": map[string]any{"uid": buyer, "programId": program, "kind": "program"}}
	raw, err := json.Marshal(map[string]any{"id": "evt_" + pi, "object": "event", "api_version": stripe.APIVersion,
		"created": at.Unix(), "type": "payment_intent.succeeded", "livemode": false, "data": map[string]any{"object": obj}})
	if err != nil {
		e.t.Fatal(err)
	}
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		e.t.Fatal(err)
	}
	ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
	if res, err := ps.Process(e.ctx, &ev); err != nil || res.Status != payments.StatusProcessed {
		e.t.Fatalf("webhook for %s: %+v %v", pi, res, err)
	}
	return e.payment(pi)
}

// payment reads payments/{id}.
func (e *env) payment(id string) model.Payment {
	e.t.Helper()
	var p model.Payment
	snap, err := e.fs.Collection(model.ColPayments).Doc(id).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("payment %s: %v", id, err)
	}
	if err := snap.DataTo(&p); err != nil {
		e.t.Fatalf("payment %s: %v", id, err)
	}
	return p
}

// allocation reads payout_allocations/{paymentID}.
func (e *env) allocation(paymentID string) model.PayoutAllocation {
	e.t.Helper()
	var a model.PayoutAllocation
	snap, err := e.fs.Collection(model.ColPayoutAllocations).Doc(paymentID).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("allocation %s: %v", paymentID, err)
	}
	if err := snap.DataTo(&a); err != nil {
		e.t.Fatalf("allocation %s: %v", paymentID, err)
	}
	return a
}

// archive writes the export of uid and returns its files.
func (e *env) archive(uid string) map[string][]byte {
	e.t.Helper()
	var buf bytes.Buffer
	if err := e.s.WriteArchive(e.ctx, &buf, uid, "req-terms", nil); err != nil {
		e.t.Fatalf("export: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// TestErasureReplacesCoachInFrozenTerms is the regression test of a
// coach's uid left in the program terms frozen on their sales
// (payments.programTerms, which the payments webhook writes when it first
// records a sale paid and by which the payouts allocate it). A coach with
// a sale whose terms name them and another coach is erased: the payment's
// terms name the coach as erased-user wherever the program named them (in
// coachIds and as a coachSplits key, their share added to erased-user's,
// as the erasure does in the program), the other coach's entries and the
// rest of the payment are unchanged, the erasure finishes done with
// nothing left (its verification and final check run the finder), and a
// payouts run afterwards allocates the sale with the same weights as a
// legacy payment of the erased program (allocated from the program) —
// erased-user's share, never the raw uid. Also when an admin deleted the
// program after the sale, so that only the payment still names the coach.
// Before the erasure, the coach's export holds the sale as it concerns
// them: their own share, not the customer, not the other coach.
func TestErasureReplacesCoachInFrozenTerms(t *testing.T) {
	const C, O, E = "C", "O", ErasedRef // the erased coach, the other coach, an earlier erased one
	tests := []struct {
		name string
		// createdBy and coachSplits of the program when it was sold.
		createdBy []string
		splits    map[string]int
		// deleteProgram: an admin deletes the program after the sale.
		deleteProgram bool
		// the frozen terms after the erasure, and the allocation's weights.
		wantIDs     []string
		wantSplits  map[string]int
		wantWeights map[string]int64
	}{
		{name: "split", createdBy: []string{C, O}, splits: map[string]int{C: 7000, O: 3000},
			wantIDs: []string{E, O}, wantSplits: map[string]int{E: 7000, O: 3000}, wantWeights: map[string]int64{E: 7000, O: 3000}},
		{name: "equal shares", createdBy: []string{O, C},
			wantIDs: []string{O, E}, wantWeights: map[string]int64{O: 1, E: 1}},
		{name: "another coach of the program erased before", createdBy: []string{C, E, O}, splits: map[string]int{C: 2000, E: 5000, O: 3000},
			wantIDs: []string{E, O}, wantSplits: map[string]int{E: 7000, O: 3000}, wantWeights: map[string]int64{E: 7000, O: 3000}},
		{name: "program deleted since the sale", createdBy: []string{C, O}, splits: map[string]int{C: 7000, O: 3000}, deleteProgram: true,
			wantIDs: []string{E, O}, wantSplits: map[string]int{E: 7000, O: 3000}, wantWeights: map[string]int64{E: 7000, O: 3000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			c, o, buyer, prog := uid("coach"), uid("cocoach"), uid("buyer"), uid("prog")
			who := func(s string) string {
				switch s {
				case C:
					return c
				case O:
					return o
				}
				return s
			}
			ids := func(list []string) []string {
				out := []string{}
				for _, s := range list {
					out = append(out, who(s))
				}
				return out
			}
			splits := func(m map[string]int) map[string]int {
				if m == nil {
					return nil
				}
				out := map[string]int{}
				for k, v := range m {
					out[who(k)] = v
				}
				return out
			}
			e.set("users/"+c, model.User{UserID: c, CreatedAt: e.clock.Now()})
			e.createAccount(c)
			bps := 1000
			e.set("programs/"+prog, model.Program{ProgramID: prog, Title: "Program", CreatedBy: ids(tc.createdBy),
				CoachSplits: splits(tc.splits), CommissionBps: &bps})

			paid := e.clock.Now().AddDate(0, 0, -3)
			sale := e.sell(uid("pi_sale"), buyer, prog, 10000, paid)
			if sale.ProgramTerms == nil || !slices.Equal(sale.ProgramTerms.CoachIDs, ids(tc.createdBy)) {
				t.Fatalf("the webhook froze %+v, want the program's coaches %v", sale.ProgramTerms, ids(tc.createdBy))
			}
			// A legacy payment of the same program (recorded before terms
			// were frozen): the payouts allocate it from the program.
			legacy := uid("pi_legacy")
			if !tc.deleteProgram {
				e.set("payments/"+legacy, model.Payment{PaymentID: legacy, UserID: buyer, Amount: 10000, Currency: "SEK",
					PaymentDate: paid, Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: legacy,
					ProgramID: &prog, CreatedAt: paid, UpdatedAt: paid})
			} else if _, err := e.fs.Collection(model.ColPrograms).Doc(prog).Delete(e.ctx); err != nil {
				t.Fatal(err)
			}

			// The coach's export holds the sale as it concerns them.
			files := e.archive(c)
			var docs []ExportDoc
			if err := json.Unmarshal(files["data/"+termsRule+".json"], &docs); err != nil || len(docs) != 1 {
				t.Errorf("export: data/%s.json holds %d sales (%v), want the one sale", termsRule, len(docs), err)
			} else {
				d := docs[0].Data
				terms, _ := d["programTerms"].(map[string]any)
				wantSplits := map[string]any{}
				if share, ok := splits(tc.splits)[c]; ok {
					wantSplits[c] = float64(share)
				}
				gotSplits, _ := terms["coachSplits"].(map[string]any)
				if docs[0].Path != "payments/"+sale.PaymentID || d["programId"] != prog ||
					!goreflect.DeepEqual(terms["coachIds"], []any{c}) || len(gotSplits) != len(wantSplits) ||
					(len(wantSplits) > 0 && !goreflect.DeepEqual(gotSplits, wantSplits)) || terms["commissionBps"] != float64(bps) {
					t.Errorf("exported sale %s: %v", docs[0].Path, d)
				}
			}
			for name, b := range files {
				for _, other := range []string{buyer, o} {
					if strings.Contains(string(b), other) {
						t.Errorf("export %s holds another person's uid %s", name, other)
					}
				}
			}

			if _, _, err := e.s.StartErasure(e.ctx, c, c, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			r := e.request(e.s.ErasureID(c))
			if r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			if r.Plan[termsRule] != 1 || r.Progress[termsRule] != 1 {
				t.Errorf("rule %s: plan %d, progress %d; want the one sale", termsRule, r.Plan[termsRule], r.Progress[termsRule])
			}
			if n, ok := r.Proof[termsRule]; !ok || n != 0 {
				t.Errorf("proof %s = %d (verified: %v), want 0 verified", termsRule, n, ok)
			}
			if left := mentions(e.dump(), nil, c); len(left) > 0 {
				t.Errorf("the coach's uid is still in %v", left)
			}
			// Only the coaches of the frozen terms changed, as in the program.
			want := sale
			wt := *sale.ProgramTerms
			wt.CoachIDs, wt.CoachSplits = ids(tc.wantIDs), splits(tc.wantSplits)
			want.ProgramTerms = &wt
			if got := e.payment(sale.PaymentID); !goreflect.DeepEqual(got, want) {
				t.Errorf("sale after the erasure:\n got %+v\n     %+v\nwant %+v\n     %+v", got, got.ProgramTerms, want, want.ProgramTerms)
			}
			if !tc.deleteProgram {
				var p model.Program
				snap, err := e.fs.Collection(model.ColPrograms).Doc(prog).Get(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := snap.DataTo(&p); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(p.CreatedBy, wt.CoachIDs) || !maps.Equal(p.CoachSplits, wt.CoachSplits) {
					t.Errorf("program %v %v and frozen terms %v %v replace the coach differently", p.CreatedBy, p.CoachSplits, wt.CoachIDs, wt.CoachSplits)
				}
			}

			// The payouts allocate the sale by its terms: the erased coach's
			// share to erased-user, as from the erased program.
			ps := &payouts.Service{Firestore: e.fs, Now: e.clock.Now, Settings: payouts.DefaultSettings(), PseudonymKey: testKey}
			rep, err := ps.Run(e.ctx, payouts.RunRequest{})
			if err != nil {
				t.Fatalf("payouts run: %v", err)
			}
			erased := false
			for _, l := range rep.Payouts {
				if l.CoachID == c {
					t.Errorf("payout %s pays the erased coach's uid", l.PayoutID)
				}
				erased = erased || l.CoachID == ErasedRef
			}
			if !erased {
				t.Errorf("no payout of the erased coach's share to %s: %+v", ErasedRef, rep.Payouts)
			}
			a := e.allocation(sale.PaymentID)
			if !maps.Equal(a.Weights, weightsOf(tc.wantWeights, who)) || a.TermsSource != payouts.TermsFromPayment || a.CommissionBps != bps {
				t.Errorf("sale allocated by %s with weights %v, commission %d; want payment, %v, %d", a.TermsSource, a.Weights, a.CommissionBps, weightsOf(tc.wantWeights, who), bps)
			}
			if !tc.deleteProgram {
				if l := e.allocation(legacy); !maps.Equal(l.Weights, a.Weights) || l.TermsSource != payouts.TermsFromProgram {
					t.Errorf("legacy payment allocated from the erased program with %v (%s), the frozen terms with %v", l.Weights, l.TermsSource, a.Weights)
				}
			}
			if left := mentions(e.dump(), nil, c); len(left) > 0 {
				t.Errorf("after the payouts run the coach's uid is in %v", left)
			}
		})
	}
}

// weightsOf maps the keys of a weights table through who.
func weightsOf(m map[string]int64, who func(string) string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[who(k)] = v
	}
	return out
}
