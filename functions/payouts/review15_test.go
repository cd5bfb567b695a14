package payouts

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
)

// rawAllocation returns payout_allocations/{id} as stored (fields the
// model may not have included).
func (e *env) rawAllocation(id string) map[string]any {
	e.t.Helper()
	snap, err := e.fs.Doc("payout_allocations/" + id).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("allocation %s: %v", id, err)
	}
	return snap.Data()
}

// retainAt runs the GDPR retention clean-up as of at.
func (e *env) retainAt(at time.Time) {
	e.t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "review15-bucket"})
	gs := &gdpr.Service{Firestore: e.fs, Storage: srv.Client(), Bucket: "review15-bucket", PseudonymKey: testKey,
		Now: func() time.Time { return at }}
	if _, err := gs.Retain(e.ctx); err != nil {
		e.t.Fatalf("retention at %s: %v", at.Format(time.DateOnly), err)
	}
}

// TestReview15ErasedCoachRecordsStayOnHoldAfterLaterRuns: a coach's
// erasure holds the allocations of their sales pseudonymised until
// legalHoldUntil (7 years after the end of the year), when retentionCleanup
// deletes them with the coach's held payouts. A sale paid out to the coach
// in December is partly refunded in January, after the erasure: the next
// payouts run appends the adjustment to the held allocation and writes the
// erased coach's (negative) share as a payout of the pseudonym. Both are
// records of the erased coach and must stay under the legal hold: the
// allocation keeps legalHoldUntil (extended to the new event's year) and
// pseudonymisedCoaches, the new payout is pseudonymised with its own
// legalHoldUntil, so that retention deletes them when the hold of their
// last booking year ends — not never, and the allocation not before its
// January event's hold.
func TestReview15ErasedCoachRecordsStayOnHoldAfterLaterRuns(t *testing.T) {
	e := newEnv(t)
	c := fmt.Sprintf("coach15-%d", time.Now().UnixNano())
	ps := pseudonym.Of(testKey, c)
	e.program("p15", []string{c, "c2"}, nil, nil)
	paid := time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC)
	prog := "p15"
	e.set("payments/x", model.Payment{PaymentID: "x", UserID: "u-x", Amount: 10000, Currency: "SEK", PaymentDate: paid,
		Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: "pi_x", ProgramID: &prog,
		CreatedAt: paid, UpdatedAt: paid})

	// Monday 28 December 2026: the sale is allocated and paid out.
	e.clock.Set(time.Date(2026, 12, 28, 4, 0, 0, 0, time.UTC))
	if rep := e.run(RunRequest{}); len(rep.Payouts) != 2 {
		t.Fatalf("first run: %+v", rep.Payouts)
	}
	eraseCoach(t, e, c)
	held := e.rawAllocation("x")
	if held["legalHoldUntil"] == nil {
		t.Fatalf("the erasure did not hold the allocation: %v", held)
	}

	// Monday 11 January 2027: 4 000 refunded; the next run.
	e.clock.Set(time.Date(2027, 1, 11, 4, 0, 0, 0, time.UTC))
	e.refund("x", 4000, false)
	e.run(RunRequest{})

	a := e.rawAllocation("x")
	wantHold := pseudonym.BookkeepingHoldUntil(e.clock.Now())
	if h, _ := a["legalHoldUntil"].(time.Time); !h.Equal(wantHold) {
		t.Errorf("after the run the held allocation's legalHoldUntil is %v, want %s (its January 2027 event's hold)", a["legalHoldUntil"], wantHold.Format(time.DateOnly))
	}
	if list, _ := a["pseudonymisedCoaches"].([]any); !slices.Contains(list, any(ps)) {
		t.Errorf("after the run the held allocation's pseudonymisedCoaches is %v, want it to list %s", a["pseudonymisedCoaches"], ps)
	}
	var mine []model.Payout
	for _, po := range e.payouts() {
		if po.CoachID == ps {
			mine = append(mine, po)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("payouts of the erased coach's pseudonym: %+v, want the held one and the January one", mine)
	}
	for _, po := range mine {
		if !strings.HasPrefix(po.PayoutID, "po_"+ps+"_") {
			t.Errorf("payout %s of the erased coach does not carry the pseudonym %s its coachId and held payouts carry", po.PayoutID, ps)
		}
		if !po.Pseudonymised || po.LegalHoldUntil == nil {
			t.Errorf("payout %s of the erased coach (pseudonym %s): pseudonymised %v legalHoldUntil %v, want it held",
				po.PayoutID, ps, po.Pseudonymised, po.LegalHoldUntil)
		}
	}

	// 2034: the 2026 records' hold is over, not the allocation's 2027 event's.
	e.retainAt(time.Date(2034, 6, 1, 0, 0, 0, 0, time.UTC))
	if snap, err := e.fs.Doc("payout_allocations/x").Get(e.ctx); err != nil || !snap.Exists() {
		t.Errorf("in 2034 retention deleted the allocation whose January 2027 adjustment is held until 2035 (%v)", err)
	}
	// 2035: nothing of the erased coach is held any more.
	e.retainAt(time.Date(2035, 6, 1, 0, 0, 0, 0, time.UTC))
	if snap, err := e.fs.Doc("payout_allocations/x").Get(e.ctx); err == nil && snap.Exists() {
		t.Errorf("in 2035 the erased coach's allocation is still kept: %v", snap.Data())
	}
	for _, po := range e.payouts() {
		if po.CoachID == ps {
			t.Errorf("in 2035 the erased coach's payout %s is still kept (pseudonymised %v, legalHoldUntil %v)",
				po.PayoutID, po.Pseudonymised, po.LegalHoldUntil)
		}
	}
}
