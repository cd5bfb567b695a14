package gdpr

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/shared/model"
)

// r3Paid delivers payment_intent.succeeded of pi (buyer, program) with
// event id evt through the payments webhook.
func (e *env) r3Paid(ps *payments.Service, evt, pi, buyer, program string, at time.Time) {
	e.t.Helper()
	obj := map[string]any{"id": pi, "object": "payment_intent", "amount": 10000, "currency": "sek",
		"customer": "cus_" + pi, "status": "succeeded", "created": at.Unix(), "latest_charge": "ch_" + pi,
		"metadata": map[string]any{"uid": buyer, "programId": program, "kind": "program"}}
	raw, _ := json.Marshal(map[string]any{"id": evt, "object": "event", "api_version": stripe.APIVersion,
		"created": at.Unix(), "type": "payment_intent.succeeded", "livemode": false, "data": map[string]any{"object": obj}})
	var ev stripe.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		e.t.Fatal(err)
	}
	if _, err := ps.Process(e.ctx, &ev); err != nil {
		e.t.Fatalf("webhook %s: %v", pi, err)
	}
}

// TestReview3ErasureConvergesWithProgramSync pins the interplay of an
// erasure with onProgramWritten and the payments webhook: at every
// checkpoint of the erasure (and once more after it is done) every
// program's enrolments are synced (as onProgramWritten would, also for the
// erasure's own write of programs.createdBy) and the buyer's payments are
// redelivered (new event ids). Erasing the coach (of a co-created and a
// sole-creator program) or the buyer ends done with the uid nowhere, and,
// for the coach, the buyer keeps exactly the co-coach.
func TestReview3ErasureConvergesWithProgramSync(t *testing.T) {
	for _, who := range []string{"coach", "buyer"} {
		t.Run(who, func(t *testing.T) {
			e := newEnv(t, true)
			ps := &payments.Service{Firestore: e.fs, Now: e.clock.Now, PseudonymKey: testKey}
			x, y, b1, b2 := uid("x"), uid("y"), uid("b1"), uid("b2")
			p, q := uid("p"), uid("q")
			for _, u := range []string{x, y, b1, b2} {
				e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
				e.createAccount(u)
			}
			e.set("programs/"+p, model.Program{ProgramID: p, Title: "P", CreatedBy: []string{x, y}})
			e.set("programs/"+q, model.Program{ProgramID: q, Title: "Q", CreatedBy: []string{x}})
			paid := e.clock.Now().Add(-time.Hour)
			e.r3Paid(ps, "evt_a", "pi_a", b1, p, paid)
			e.r3Paid(ps, "evt_b", "pi_b", b2, q, paid)
			e.r3Paid(ps, "evt_c", "pi_c", b1, q, paid)
			subject := x
			if who == "buyer" {
				subject = b1
			}
			n := 0
			poke := func() {
				n++
				for _, id := range []string{p, q} {
					if _, err := ps.SyncProgramCoaches(e.ctx, id); err != nil {
						t.Errorf("sync %s: %v", id, err)
					}
				}
				e.r3Paid(ps, fmt.Sprint("evt_a", n), "pi_a", b1, p, paid)
				e.r3Paid(ps, fmt.Sprint("evt_c", n), "pi_c", b1, q, paid)
			}
			e.s.OnProgress = func(req *model.GDPRRequest) {
				if req.Kind == KindErasure && req.Status != StatusDone {
					poke()
				}
			}
			if _, _, err := e.s.StartErasure(e.ctx, subject, subject, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			if r := e.request(e.s.ErasureID(subject)); r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			e.s.OnProgress = nil
			poke()
			if left := mentions(e.dump(), nil, subject); len(left) > 0 {
				t.Errorf("the erased uid is in %v", left)
			}
			if who != "coach" {
				return
			}
			var en model.Enrollment
			snap, err := e.fs.Doc("enrollments/" + payments.EnrollmentID(b1, p)).Get(e.ctx)
			if err != nil || snap.DataTo(&en) != nil || !slices.Equal(en.CoachIDs, []string{y}) || en.Status != payments.EnrollmentActive {
				t.Errorf("the buyer's enrolment in the co-created program: %+v (%v), want active with the co-coach", en, err)
			}
			if _, err := e.fs.Doc("users/" + b1 + "/coaches/" + y).Get(e.ctx); err != nil {
				t.Errorf("the buyer lost the co-coach's assignment: %v", err)
			}
		})
	}
}
