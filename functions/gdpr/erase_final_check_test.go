package gdpr

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// webhookWrite writes what the payments webhook writes for a user whose
// erasure is not done (functions/payments erasureDone is false until the
// request's status is done): a payment with userId = uid and the
// stripe_customers mapping of its customer.
func webhookWrite(e *env, u, pi, cus string) {
	now := e.clock.Now()
	e.set("payments/"+pi, model.Payment{PaymentID: pi, UserID: u, Amount: 100, Currency: "SEK",
		Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: pi, CustomerID: cus,
		PaymentDate: now, CreatedAt: now, UpdatedAt: now})
	e.set("stripe_customers/"+cus, model.StripeCustomer{CustomerID: cus, UserID: u, CreatedAt: now})
}

// TestErasureCatchesWritesAfterVerification: a write linked to the
// subject that lands after verifyStep's counts but before the request is
// done (the payments webhook keeps writing until then) is found by the
// final verification of finishStep, or by its check inside the
// transaction that writes done, and erased by another pass; the request
// ends done with nothing left, and the audit record and the proof are
// those of the final pass. Cases: the write lands at the audit
// checkpoint, at the finish checkpoint, in a run resumed at the audit
// checkpoint (which never runs verifyStep again), and between finishStep's
// counts and its done transaction.
func TestErasureCatchesWritesAfterVerification(t *testing.T) {
	for _, tc := range []string{"audit", "finish", "resumed at audit", "done transaction"} {
		t.Run(tc, func(t *testing.T) {
			e := newEnv(t, true)
			u := uid("vwin")
			e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
			e.createAccount(u)
			injected := 0
			inject := func() {
				injected++
				webhookWrite(e, u, "pi_"+u, "cus_"+u)
			}
			switch tc {
			case "done transaction":
				e.s.beforeDone = func(string) {
					if injected == 0 {
						inject()
					}
				}
			default:
				at := strings.TrimPrefix(tc, "resumed at ")
				e.s.OnProgress = func(req *model.GDPRRequest) {
					if step, _ := req.Checkpoint["step"].(string); injected > 0 || req.Kind != KindErasure || step != at {
						return
					}
					if req.Status == StatusDone {
						t.Errorf("status done at the %s checkpoint", at)
					}
					if tc == "resumed at audit" {
						// The run parks at this checkpoint; the write lands
						// before the continuation runs.
						e.s.runBudget = time.Nanosecond
						return
					}
					inject()
				}
			}
			if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
				t.Fatal(err)
			}
			e.deliver()
			if tc == "resumed at audit" {
				r := e.request(e.s.ErasureID(u))
				if step, _ := r.Checkpoint["step"].(string); r.Status != StatusVerifying || step != "audit" {
					t.Fatalf("parked run: status %s at %q, want verifying at audit", r.Status, step)
				}
				e.s.runBudget = 0
				inject()
				e.deliver()
			}
			if injected != 1 {
				t.Fatalf("the write was injected %d times", injected)
			}
			r := e.request(e.s.ErasureID(u))
			if r.Status != StatusDone {
				t.Fatalf("erasure %s: %s", r.Status, r.Error)
			}
			for _, col := range []string{model.ColPayments, model.ColStripeCustomers} {
				docs, err := e.fs.Collection(col).Where("userId", "==", u).Documents(e.ctx).GetAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(docs) > 0 {
					t.Errorf("%s: %d document(s) still carry the erased uid after the erasure is done", col, len(docs))
				}
			}
			snap, err := e.fs.Doc("payments/pi_" + u).Get(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ps, _ := snap.DataAt("userId"); ps != e.s.pseudonym(u) {
				t.Errorf("the late payment is not held under the pseudonym: userId %v", ps)
			}
			e.stripe.mu.Lock()
			deleted := slices.Contains(e.stripe.deleted, "cus_"+u)
			e.stripe.mu.Unlock()
			if !deleted {
				t.Error("the late Stripe customer was not deleted at Stripe")
			}
			if p, _ := r.Checkpoint["pass"].(int64); p != 1 {
				t.Errorf("final pass %d, want 1 (the second)", p)
			}
			if r.Proof["held:payments.userId"] != 1 {
				t.Errorf("proof %v: want the late payment held", r.Proof)
			}
			a, err := e.fs.Doc(fmt.Sprintf("%s/gdpr_%s_%d", model.ColAuditLog, r.RequestID, r.Runs)).Get(e.ctx)
			if err != nil {
				t.Fatalf("audit record: %v", err)
			}
			var entry model.AuditEntry
			if err := a.DataTo(&entry); err != nil {
				t.Fatal(err)
			}
			proof, _ := entry.Details["proof"].(map[string]any)
			if entry.Details["passes"] != int64(2) || proof["held:payments.userId"] != int64(1) {
				t.Errorf("audit record of pass %v, proof %v: want the second pass's", entry.Details["passes"], proof)
			}
		})
	}
}

// TestErasureFailsWhenWritesOutlastEveryPass: a write linked to the
// subject before every done transaction makes every pass find leftovers;
// after MaxPasses the request fails (for an admin, with the alert) instead
// of being marked done.
func TestErasureFailsWhenWritesOutlastEveryPass(t *testing.T) {
	e := newEnv(t, true)
	u := uid("vlate")
	e.set("users/"+u, model.User{UserID: u, CreatedAt: e.clock.Now()})
	e.createAccount(u)
	n := 0
	e.s.beforeDone = func(string) {
		n++
		webhookWrite(e, u, fmt.Sprintf("pi_%s_%d", u, n), fmt.Sprintf("cus_%s_%d", u, n))
	}
	if _, _, err := e.s.StartErasure(e.ctx, u, u, SourceUser, true); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	r := e.request(e.s.ErasureID(u))
	if r.Status != StatusFailed || !strings.Contains(r.Error, fmt.Sprintf("after %d passes", MaxPasses)) {
		t.Errorf("request %s (%q), want failed after %d passes", r.Status, r.Error, MaxPasses)
	}
	if n != MaxPasses {
		t.Errorf("final checks %d, want %d", n, MaxPasses)
	}
}
