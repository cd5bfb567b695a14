package gdpr

import (
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/model"
)

// TestErasureLeavesNoCoachUIDInHeldPayouts: a coach's payouts are held
// pseudonymised after the coach's erasure, and no held record still names
// the coach's uid: not the payout's id (payouts.BasePayoutID is built from
// the coach's keyed pseudonym), nor payments.payoutId, nor the allocation
// entries' payoutId. The pseudonym in the id is the coachId the erasure
// writes, so the held records stay linkable to each other. Both a payout
// seeded under the id the job uses and one written by the payouts job
// itself.
func TestErasureLeavesNoCoachUIDInHeldPayouts(t *testing.T) {
	tests := []struct {
		name string
		// write stores coach c's payout of payment pi and returns its id.
		write func(t *testing.T, e *env, c, pi string) string
	}{
		{name: "seeded under the job's id", write: func(t *testing.T, e *env, c, pi string) string {
			now := e.clock.Now()
			poID := payouts.BasePayoutID(testKey, c, "SEK", "2026-05-04")
			e.set("payouts/"+poID, model.Payout{PayoutID: poID, CoachID: c, Amount: 500, Currency: "SEK", PayoutDate: now,
				RelatedPaymentIDs: []string{pi}})
			e.set("payments/"+pi, model.Payment{PaymentID: pi, UserID: "client-x", Amount: 1000, Currency: "SEK",
				PaymentDate: now, PayoutID: poID})
			e.set("payout_allocations/"+pi, model.PayoutAllocation{PaymentID: pi, Currency: "SEK",
				Weights: map[string]int64{c: 1}, Entries: []model.AllocationEntry{{Seq: 1, CoachID: c, Amount: 500, PayoutID: poID}},
				CreatedAt: now.Add(-time.Hour)})
			return poID
		}},
		{name: "written by the payouts job", write: func(t *testing.T, e *env, c, pi string) string {
			t.Helper()
			paid := e.clock.Now().AddDate(0, 0, -3)
			prog := "prog-held"
			e.set("programs/"+prog, model.Program{ProgramID: prog, Title: "p", CreatedBy: []string{c}})
			e.set("payments/"+pi, model.Payment{PaymentID: pi, UserID: "client-x", Amount: 1000, Currency: "SEK",
				PaymentDate: paid, Status: model.PaymentSucceeded, Processor: "stripe", ProgramID: &prog,
				CreatedAt: paid, UpdatedAt: paid})
			ps := &payouts.Service{Firestore: e.fs, Now: e.clock.Now, Settings: payouts.DefaultSettings(), PseudonymKey: testKey}
			rep, err := ps.Run(e.ctx, payouts.RunRequest{})
			if err != nil || len(rep.Payouts) != 1 {
				t.Fatalf("payouts run: %+v %v", rep, err)
			}
			return rep.Payouts[0].PayoutID
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			c := uid("coachsubj")
			e.set("users/"+c, model.User{UserID: c, CreatedAt: e.clock.Now()})
			e.createAccount(c)
			poID := tc.write(t, e, c, "pi_held1")
			if strings.Contains(poID, c) {
				t.Fatalf("payout id %q carries the coach's uid", poID)
			}
			if _, _, err := e.s.StartErasure(e.ctx, c, c, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			if r := e.request(e.s.ErasureID(c)); r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			if left := mentions(e.dump(), nil, c); len(left) > 0 {
				t.Errorf("the coach's uid is still in held records %v", left)
			}
			snap, err := e.fs.Collection(model.ColPayouts).Doc(poID).Get(e.ctx)
			if err != nil {
				t.Fatalf("held payout %s: %v", poID, err)
			}
			var po model.Payout
			if err := snap.DataTo(&po); err != nil {
				t.Fatal(err)
			}
			if ps := Pseudonym(testKey, c); po.CoachID != ps || !po.Pseudonymised || !strings.Contains(poID, ps) {
				t.Errorf("held payout %s: coachId %q pseudonymised %v, want coachId %q, also in the id", poID, po.CoachID, po.Pseudonymised, ps)
			}
		})
	}
}
