package payouts

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// ledger is a stateful Stripe Connect for the release tests: transfers
// are kept, the idempotency key (the payout id) returns the transfer made
// for it, restricted accounts refuse transfers, and reversals are kept.
type ledger struct {
	mu         sync.Mutex
	transfers  map[string]*stripe.Transfer // by id
	byKey      map[string]string           // idempotency key → transfer id
	restricted map[string]bool             // destination accounts that refuse
	creates    map[string]int              // Create calls per payout id
	findErr    error
	beforeFind func() // called by Find (a crash hook)
}

func newLedger() *ledger {
	return &ledger{transfers: map[string]*stripe.Transfer{}, byKey: map[string]string{}, restricted: map[string]bool{}, creates: map[string]int{}}
}

func (l *ledger) Create(_ context.Context, p *model.Payout, dest string) (*stripe.Transfer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creates[p.PayoutID]++
	if id, ok := l.byKey[p.PayoutID]; ok {
		return l.transfers[id], nil
	}
	if l.restricted[dest] {
		return nil, &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: "transfers_not_allowed"}
	}
	tr := &stripe.Transfer{ID: fmt.Sprintf("tr_%d", len(l.transfers)+1), Amount: p.Amount, Currency: stripe.Currency(strings.ToLower(p.Currency)),
		Destination: &stripe.Account{ID: dest}, TransferGroup: p.PayoutID, Metadata: map[string]string{"payoutId": p.PayoutID}}
	l.transfers[tr.ID] = tr
	l.byKey[p.PayoutID] = tr.ID
	return tr, nil
}

func (l *ledger) Find(_ context.Context, payoutID string) (*stripe.Transfer, error) {
	if l.beforeFind != nil {
		l.beforeFind()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.findErr != nil {
		return nil, l.findErr
	}
	ids := make([]string, 0, len(l.transfers))
	for id := range l.transfers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if tr := l.transfers[id]; tr.TransferGroup == payoutID || tr.Metadata["payoutId"] == payoutID {
			c := *tr
			return &c, nil
		}
	}
	return nil, nil
}

func (l *ledger) Get(_ context.Context, id string) (*stripe.Transfer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tr, ok := l.transfers[id]
	if !ok {
		return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing}
	}
	c := *tr
	return &c, nil
}

// reverse reverses amount of transfer id (all of it when amount is 0).
func (l *ledger) reverse(id string, amount int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tr := l.transfers[id]
	if amount == 0 {
		amount = tr.Amount
	}
	tr.AmountReversed += amount
	tr.Reversed = tr.AmountReversed >= tr.Amount
}

// paid is what the account holds from the platform's transfers (net of
// reversals), and how many transfers stand.
func (l *ledger) paid(account string) (amount int64, standing int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, tr := range l.transfers {
		if tr.Destination.ID == account {
			amount += tr.Amount - tr.AmountReversed
			if tr.AmountReversed < tr.Amount {
				standing++
			}
		}
	}
	return amount, standing
}

// Coach "c" (account acct_c) sells two sales of program "p": 10 000 and
// 5 000 öre, 8 000 + 4 000 to the coach after the 20 % commission, less
// the 1 500 the coach owed from earlier refunds: 10 500 to pay.
const (
	relCoach   = "c"
	relAccount = "acct_c"
	relDue     = int64(10500)
	relEnd     = "2026-05-04"
)

var relPayout = pid(relCoach, "SEK", relEnd)

// failedPayout runs the payouts while Stripe refuses transfers to the
// coach's account (just restricted), then records what the account.updated
// webhook then writes (payoutsEnabled false). It returns the failed
// payout's id.
func failedPayout(t *testing.T, e *env, tr TransferAPI, refuse func(bool)) string {
	t.Helper()
	e.svc.Transfers = tr
	e.program("p", []string{relCoach}, nil, nil)
	e.coach(relCoach, relAccount, true)
	e.payment("a", "p", 10000, "SEK", 3)
	e.payment("b", "p", 5000, "SEK", 1)
	e.set("users/"+relCoach+"/private/payouts", model.CoachPayoutState{CoachID: relCoach, CarryForward: map[string]int64{"SEK": -1500}})
	refuse(true)
	rep := e.run(RunRequest{})
	if rep.Transfers.Failed != 1 {
		t.Fatalf("first run: transfers %+v", rep.Transfers)
	}
	p := e.payout(relPayout)
	if p.Status != model.PayoutFailed || p.Amount != relDue || p.CarriedIn != -1500 || !strings.HasPrefix(p.Reason, "Stripe refused the transfer") {
		t.Fatalf("failed payout: %+v", p)
	}
	if c := e.carry(relCoach, "SEK"); c != 0 {
		t.Fatalf("carry-forward after the failed payout %d, want 0", c)
	}
	e.coach(relCoach, relAccount, false)
	return relPayout
}

// fixAccount is the coach fixing the account: Stripe accepts transfers
// again and the webhook records payoutsEnabled.
func fixAccount(e *env, refuse func(bool)) {
	e.t.Helper()
	refuse(false)
	e.coach(relCoach, relAccount, true)
}

// docs fingerprints every document a release may write (payouts,
// allocations, payments, the coach's balance, jobs), by path.
func docs(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, col := range []string{model.ColPayouts, model.ColPayoutAllocations, model.ColPayments, model.ColJobs} {
		snaps, err := e.fs.Collection(col).Documents(e.ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			out[s.Ref.Path] = s.UpdateTime.String() + " " + fmt.Sprint(s.Data())
		}
	}
	if s, err := e.fs.Doc("users/" + relCoach + "/private/payouts").Get(e.ctx); err == nil {
		out[s.Ref.Path] = s.UpdateTime.String() + " " + fmt.Sprint(s.Data())
	}
	return out
}

// sameDocs fails when a document was written between the fingerprints.
func sameDocs(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if before[p] != v {
			t.Errorf("document written: %s\n before %s\n after  %s", p, before[p], v)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("document deleted: %s", p)
		}
	}
}

func (e *env) release(id string, opts ReleaseOptions) *ReleaseReport {
	e.t.Helper()
	if opts.By == "" {
		opts.By = "ops:test"
	}
	rep, err := e.svc.ReleaseFailed(e.ctx, id, opts)
	if err != nil {
		e.t.Fatalf("ReleaseFailed(%s): %v", id, err)
	}
	return rep
}

func (e *env) paymentPayoutID(paymentID string) string {
	e.t.Helper()
	snap, err := e.fs.Doc("payments/" + paymentID).Get(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	v, _ := snap.DataAt("payoutId")
	s, _ := v.(string)
	return s
}

func (e *env) releaseRecord(id string) *Release {
	e.t.Helper()
	snap, err := e.fs.Collection(model.ColPayouts).Doc(id).Get(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var p releasedPayout
	if err := snap.DataTo(&p); err != nil {
		e.t.Fatal(err)
	}
	return p.Release
}

// countingTransfers counts the Create calls per payout made through a
// TransferAPI (stripe-mock) and refuses them while refuse is set, as
// Stripe does for a restricted account (stripe-mock cannot).
type countingTransfers struct {
	TransferAPI
	mu      sync.Mutex
	refuse  bool
	creates map[string]int
}

func (c *countingTransfers) Create(ctx context.Context, p *model.Payout, dest string) (*stripe.Transfer, error) {
	c.mu.Lock()
	c.creates[p.PayoutID]++
	refuse := c.refuse
	c.mu.Unlock()
	if refuse {
		return nil, &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: "transfers_not_allowed"}
	}
	return c.TransferAPI.Create(ctx, p, dest)
}

// TestReleaseFailedPayoutThroughStripeMock is the whole path: a transfer
// refused (restricted account) fails the payout; the release is refused
// while the coach cannot receive payouts; once the account is fixed the
// release frees the sales and restores the balance the payout had
// absorbed; the next run pays them in a new payout through stripe-mock,
// once, and the Fortnox sync books that payout once and never the failed
// one. Repeated releases change nothing.
func TestReleaseFailedPayoutThroughStripeMock(t *testing.T) {
	e := newEnv(t)
	ct := &countingTransfers{TransferAPI: NewStripeTransfers("sk_test_123", testenv.StripeMock(t)), creates: map[string]int{}}
	refuse := func(v bool) { ct.mu.Lock(); ct.refuse = v; ct.mu.Unlock() }
	id := failedPayout(t, e, ct, refuse)
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)

	// Still restricted: refused, nothing written.
	before := docs(t, e)
	_, err := e.svc.ReleaseFailed(e.ctx, id, ReleaseOptions{By: "ops:test"})
	if fault.CodeOf(err) != fault.FailedPrecondition || !strings.Contains(err.Error(), ReasonPayoutsDisabled) {
		t.Fatalf("release while disabled: %v", err)
	}
	sameDocs(t, before, docs(t, e))

	fixAccount(e, refuse)
	e.clock.Add(time.Hour)
	rep := e.release(id, ReleaseOptions{})
	if !rep.Released || rep.AlreadyReleased || rep.Entries != 2 || rep.Payments != 2 || rep.EntriesAmount != 12000 ||
		rep.CarriedInRestored != -1500 || rep.Attempt != 1 || rep.Waiting != 2 || rep.LastPeriodEnd != relEnd || rep.Status != "failed" {
		t.Fatalf("release: %+v", rep)
	}
	rec := e.releaseRecord(id)
	if rec == nil || rec.By != "ops:test" || !rec.At.Equal(e.clock.Now()) || rec.Attempt != 1 || len(rec.Entries) != 2 || rec.Amount != 12000 ||
		!strings.HasPrefix(rec.FailedReason, "Stripe refused") || rec.TransferID != "" {
		t.Errorf("audit record: %+v", rec)
	}
	if p := e.payout(id); p.Status != model.PayoutFailed {
		t.Errorf("released payout status %s, want failed", p.Status)
	}
	for _, pay := range []string{"a", "b"} {
		if a := e.allocation(pay); !a.HasOpen || len(a.Open) != 1 || a.Entries[0].PayoutID != "" {
			t.Errorf("allocation %s not released: %+v", pay, a)
		}
		if got := e.paymentPayoutID(pay); got != "" {
			t.Errorf("payments/%s.payoutId = %q, want none until paid", pay, got)
		}
	}
	if c := e.carry(relCoach, "SEK"); c != -1500 {
		t.Errorf("carry-forward %d, want -1500 restored", c)
	}

	// Released twice: nothing more.
	before = docs(t, e)
	if rep := e.release(id, ReleaseOptions{}); rep.Released || !rep.AlreadyReleased || rep.Waiting != 2 || len(rep.TakenBy) != 0 {
		t.Errorf("second release: %+v", rep)
	}
	sameDocs(t, before, docs(t, e))

	// Paid now without moving the schedule: a run ending at the last
	// period's end.
	run := e.run(RunRequest{PeriodEnd: relEnd})
	next := relPayout + "_2"
	if len(run.Payouts) != 1 || run.Payouts[0].PayoutID != next || run.Payouts[0].Amount != relDue || run.Transfers.Processing != 1 {
		t.Fatalf("run after release: %+v", run)
	}
	if p := e.payout(next); p.Status != model.PayoutProcessing || p.CarriedIn != -1500 || p.ProcessorPayoutID == nil {
		t.Errorf("new payout: %+v", p)
	}
	for _, pay := range []string{"a", "b"} {
		if got := e.paymentPayoutID(pay); got != next {
			t.Errorf("payments/%s.payoutId = %q, want %s", pay, got, next)
		}
	}
	if c := e.carry(relCoach, "SEK"); c != 0 {
		t.Errorf("carry-forward %d after the new payout, want 0", c)
	}
	if rep := e.release(id, ReleaseOptions{}); !rep.AlreadyReleased || rep.Waiting != 0 || fmt.Sprint(rep.TakenBy) != "["+next+"]" {
		t.Errorf("release after the run: %+v", rep)
	}

	// Later runs confirm, pay nothing more; the sync books the new payout
	// once and never the failed one.
	for range 2 {
		e.clock.Add(2 * time.Hour)
		e.run(RunRequest{Scheduled: true})
	}
	if p := e.payout(next); p.Status != model.PayoutCompleted {
		t.Errorf("new payout not confirmed: %s", p.Status)
	}
	if ct.creates[id] != 1 || ct.creates[next] != 1 || len(ct.creates) != 2 {
		t.Errorf("transfer requests %v, want one refused and one made", ct.creates)
	}
	if n := len(e.payouts()); n != 2 {
		t.Errorf("%d payouts, want 2", n)
	}
	for range 2 {
		e.sync(SyncRequest{})
	}
	checkBooked(t, e, s, next)
	if p := e.payout(id); p.FortnoxReference != nil || p.FortnoxBooking != nil {
		t.Errorf("failed payout booked: %+v", p)
	}
	if last, _ := e.svc.lastPeriodEnd(e.ctx); last.Format(time.DateOnly) != relEnd {
		t.Errorf("schedule moved to %s", last.Format(time.DateOnly))
	}
}

// TestReleaseFailedPayoutRefusals: a payout that is not failed, a coach
// who still cannot be paid, a transfer that stands, a payout booked in
// Fortnox, Stripe unknown or down, bad input: refused with a clear error,
// and nothing is written. A dry run checks everything and writes nothing.
func TestReleaseFailedPayoutRefusals(t *testing.T) {
	cases := []struct {
		name   string
		id     string // default the failed payout
		opts   ReleaseOptions
		setup  func(e *env, l *ledger, id string)
		code   fault.Code // "" = success (dry run)
		reason string     // in the error
	}{
		{name: "pending", setup: status(model.PayoutPending), code: fault.FailedPrecondition, reason: "is pending, not failed"},
		{name: "processing", setup: status(model.PayoutProcessing), code: fault.FailedPrecondition, reason: "is processing, not failed"},
		{name: "completed", setup: status(model.PayoutCompleted), code: fault.FailedPrecondition, reason: "is completed, not failed"},
		{name: "coach still not enabled", setup: func(e *env, l *ledger, id string) { e.coach(relCoach, relAccount, false) },
			code: fault.FailedPrecondition, reason: ReasonPayoutsDisabled},
		{name: "coach has no account any more", setup: func(e *env, l *ledger, id string) { e.coach(relCoach, "", false) },
			code: fault.FailedPrecondition, reason: ReasonNoAccount},
		{name: "recorded transfer stands", setup: func(e *env, l *ledger, id string) {
			tr := standing(l, id, relDue)
			e.update("payouts/"+id, fsUpdate("processorPayoutId", tr)...)
		}, code: fault.FailedPrecondition, reason: "stands"},
		{name: "recorded transfer partly reversed", setup: func(e *env, l *ledger, id string) {
			tr := standing(l, id, relDue)
			l.reverse(tr, 500)
			e.update("payouts/"+id, fsUpdate("processorPayoutId", tr)...)
		}, code: fault.FailedPrecondition, reason: "(500 of 10500 reversed)"},
		{name: "unrecorded transfer found by transfer_group stands", setup: func(e *env, l *ledger, id string) { standing(l, id, relDue) },
			code: fault.FailedPrecondition, reason: "stands"},
		{name: "booked in Fortnox", setup: func(e *env, l *ledger, id string) { e.update("payouts/"+id, fsUpdate("fortnoxReference", "P/42/7")...) },
			code: fault.FailedPrecondition, reason: "booked in Fortnox (P/42/7)"},
		{name: "Fortnox booking started", setup: func(e *env, l *ledger, id string) {
			e.update("payouts/"+id, fsUpdate("fortnoxBooking", model.FortnoxBooking{StartedAt: t0, Date: relEnd, Series: "P", FinancialYear: 7})...)
		}, code: fault.FailedPrecondition, reason: "Fortnox booking of the payout was started"},
		{name: "Stripe not configured", setup: func(e *env, l *ledger, id string) { e.svc.Transfers = nil },
			code: fault.FailedPrecondition, reason: "Stripe is not configured"},
		{name: "Stripe down", setup: func(e *env, l *ledger, id string) {
			l.findErr = &stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI}
		}, code: fault.Unavailable, reason: "look the payout's transfer up"},
		{name: "allocations do not add up", setup: func(e *env, l *ledger, id string) { e.update("payouts/"+id, fsUpdate("amount", relDue+1)...) },
			code: fault.FailedPrecondition, reason: "do not add up"},
		{name: "unknown payout", id: "po_nope", code: fault.NotFound},
		{name: "not a document id", id: "../users/x", code: fault.InvalidArgument},
		{name: "no operator named", opts: ReleaseOptions{By: " "}, code: fault.InvalidArgument, reason: "name the operator"},
		{name: "dry run", opts: ReleaseOptions{DryRun: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			l := newLedger()
			id := failedPayout(t, e, l, func(v bool) { l.restricted[relAccount] = v })
			fixAccount(e, func(v bool) { l.restricted[relAccount] = v })
			if c.setup != nil {
				c.setup(e, l, id)
			}
			if c.id != "" {
				id = c.id
			}
			opts := c.opts
			if opts.By == "" {
				opts.By = "ops:test"
			}
			before := docs(t, e)
			rep, err := e.svc.ReleaseFailed(e.ctx, id, opts)
			if c.code == "" {
				if err != nil || rep.Released || !rep.DryRun || rep.Entries != 2 || rep.EntriesAmount != 12000 || rep.CarriedInRestored != -1500 {
					t.Fatalf("dry run: %+v %v", rep, err)
				}
			} else if fault.CodeOf(err) != c.code || !strings.Contains(fmt.Sprint(err), c.reason) || rep != nil {
				t.Fatalf("got %v (%s), want %s containing %q", err, fault.CodeOf(err), c.code, c.reason)
			}
			if err != nil && !strings.Contains(err.Error(), "release failed payout") {
				t.Errorf("error does not name the operation: %v", err)
			}
			sameDocs(t, before, docs(t, e))
			if n := l.creates[relPayout]; n != 1 || len(l.creates) != 1 {
				t.Errorf("transfer requests %v", l.creates)
			}
		})
	}
}

func status(st model.PayoutStatus) func(e *env, l *ledger, id string) {
	return func(e *env, l *ledger, id string) { e.update("payouts/"+id, fsUpdate("status", string(st))...) }
}

// standing puts a transfer of the payout on Stripe (as if an earlier
// request had made it) and returns its id.
func standing(l *ledger, payoutID string, amount int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	tr := &stripe.Transfer{ID: "tr_earlier", Amount: amount, Destination: &stripe.Account{ID: relAccount}, TransferGroup: payoutID,
		Metadata: map[string]string{"payoutId": payoutID}}
	l.transfers[tr.ID] = tr
	return tr.ID
}

// TestReleaseFailedPayoutPaysOnce: however the release is repeated,
// interrupted or raced, the sales are paid once: the coach's account ends
// up with exactly what was due, through one standing transfer.
func TestReleaseFailedPayoutPaysOnce(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T, e *env, l *ledger, id string)
	}{
		{"released twice, then two runs", func(t *testing.T, e *env, l *ledger, id string) {
			e.release(id, ReleaseOptions{})
			if rep := e.release(id, ReleaseOptions{}); !rep.AlreadyReleased || rep.Released {
				t.Errorf("second release: %+v", rep)
			}
			e.run(RunRequest{PeriodEnd: relEnd})
			e.run(RunRequest{PeriodEnd: relEnd})
		}},
		{"crash after the Stripe check, command run again", func(t *testing.T, e *env, l *ledger, id string) {
			ctx, cancel := context.WithCancel(e.ctx)
			l.beforeFind = cancel // the process dies before the transaction
			before := docs(t, e)
			if _, err := e.svc.ReleaseFailed(ctx, id, ReleaseOptions{By: "ops:test"}); err == nil {
				t.Fatal("interrupted release succeeded")
			}
			sameDocs(t, before, docs(t, e))
			l.beforeFind = nil
			e.release(id, ReleaseOptions{})
			e.run(RunRequest{PeriodEnd: relEnd})
		}},
		{"command repeated after the run paid", func(t *testing.T, e *env, l *ledger, id string) {
			e.release(id, ReleaseOptions{})
			e.run(RunRequest{PeriodEnd: relEnd})
			before := docs(t, e)
			if rep := e.release(id, ReleaseOptions{}); !rep.AlreadyReleased || len(rep.TakenBy) != 1 {
				t.Errorf("release after the run: %+v", rep)
			}
			sameDocs(t, before, docs(t, e))
			e.run(RunRequest{PeriodEnd: relEnd})
		}},
		{"five concurrent releases", func(t *testing.T, e *env, l *ledger, id string) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			released := 0
			for range 5 {
				wg.Go(func() {
					rep, err := e.svc.ReleaseFailed(e.ctx, id, ReleaseOptions{By: "ops:test"})
					if err != nil {
						t.Errorf("concurrent release: %v", err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if rep.Released {
						released++
					}
				})
			}
			wg.Wait()
			if released != 1 {
				t.Errorf("%d releases took effect, want 1", released)
			}
			e.run(RunRequest{PeriodEnd: relEnd})
		}},
		{"paid by the next scheduled period", func(t *testing.T, e *env, l *ledger, id string) {
			e.release(id, ReleaseOptions{})
			e.clock.Add(7 * 24 * time.Hour)
			if rep := e.run(RunRequest{Scheduled: true}); rep.Due || len(rep.Payouts) != 0 {
				t.Errorf("off-week run: %+v", rep)
			}
			e.clock.Add(7 * 24 * time.Hour)
			if rep := e.run(RunRequest{Scheduled: true}); !rep.Due || len(rep.Payouts) != 1 || rep.Payouts[0].Amount != relDue {
				t.Errorf("due run: %+v", rep)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			l := newLedger()
			refuse := func(v bool) { l.mu.Lock(); l.restricted[relAccount] = v; l.mu.Unlock() }
			id := failedPayout(t, e, l, refuse)
			fixAccount(e, refuse)
			c.do(t, e, l, id)
			for range 2 {
				e.clock.Add(2 * time.Hour)
				e.run(RunRequest{Scheduled: true})
			}
			if amount, n := l.paid(relAccount); amount != relDue || n != 1 {
				t.Errorf("coach's account holds %d from %d transfers, want %d from 1", amount, n, relDue)
			}
			paid := 0
			for _, p := range e.payouts() {
				switch {
				case p.PayoutID == id:
					if p.Status != model.PayoutFailed {
						t.Errorf("released payout is %s", p.Status)
					}
				case p.Status == model.PayoutCompleted && p.Amount == relDue:
					paid++
				default:
					t.Errorf("unexpected payout %+v", p)
				}
			}
			if paid != 1 {
				t.Errorf("%d completed payouts, want 1", paid)
			}
			if e.carry(relCoach, "SEK") != 0 {
				t.Errorf("carry-forward %d, want 0", e.carry(relCoach, "SEK"))
			}
		})
	}
}

// TestReleaseReversedPayoutBookedOnce: a payout whose transfer was made
// and then reversed (failed) may be paid again. Reversed while
// processing, it was never booked: released at once, and only the new
// payout is booked. Completed and booked before the reversal, the release
// is refused until the operator states the voucher was reversed by hand;
// the new payout is then booked once. A released payout that a late event
// marks completed is never booked.
func TestReleaseReversedPayoutBookedOnce(t *testing.T) {
	for _, booked := range []bool{false, true} {
		t.Run(fmt.Sprintf("booked %v", booked), func(t *testing.T) {
			e := newEnv(t)
			l := newLedger()
			e.svc.Transfers = l
			s := withFortnox(t, e, fortnoxfake.Options{}, nil)
			e.program("p", []string{relCoach}, nil, nil)
			e.coach(relCoach, relAccount, true)
			e.payment("a", "p", 10000, "SEK", 3)
			e.run(RunRequest{})
			id := pid(relCoach, "SEK", relEnd)
			tr := *e.payout(id).ProcessorPayoutID
			if booked {
				e.clock.Add(2 * time.Hour)
				e.run(RunRequest{Scheduled: true}) // confirmed: completed
				e.sync(SyncRequest{})
				checkBooked(t, e, s, id)
			}
			// The coach's account is closed; Stripe reverses the transfer
			// and the transfer.reversed webhook fails the payout.
			l.reverse(tr, 0)
			e.update("payouts/"+id, fsUpdate("status", string(model.PayoutFailed))...)
			e.update("payouts/"+id, fsUpdate("reason", "transfer_reversed")...)

			if booked {
				before := docs(t, e)
				if _, err := e.svc.ReleaseFailed(e.ctx, id, ReleaseOptions{By: "ops:test"}); fault.CodeOf(err) != fault.FailedPrecondition {
					t.Fatalf("booked payout released without the voucher reversed: %v", err)
				}
				sameDocs(t, before, docs(t, e))
			}
			rep := e.release(id, ReleaseOptions{VoucherReversed: booked})
			if !rep.Released || rep.TransferID != tr || rep.EntriesAmount != 8000 {
				t.Fatalf("release: %+v", rep)
			}
			if rec := e.releaseRecord(id); rec.VoucherReversedByHand != booked || rec.FailedReason != "transfer_reversed" {
				t.Errorf("audit record %+v", rec)
			}
			e.run(RunRequest{PeriodEnd: relEnd})
			e.clock.Add(2 * time.Hour)
			e.run(RunRequest{Scheduled: true})
			next := id + "_2"
			if p := e.payout(next); p.Status != model.PayoutCompleted || p.Amount != 8000 {
				t.Fatalf("new payout %+v", p)
			}
			if amount, n := l.paid(relAccount); amount != 8000 || n != 1 {
				t.Errorf("coach's account holds %d from %d transfers", amount, n)
			}
			if rep := e.sync(SyncRequest{}); rep.Booked != 1 {
				t.Errorf("new payout not booked: %+v", rep)
			}
			// A late event marks the released payout completed: not booked
			// (nor listed again when it already was).
			e.update("payouts/"+id, fsUpdate("status", string(model.PayoutCompleted))...)
			rep2 := e.sync(SyncRequest{})
			e.sync(SyncRequest{})
			if want := map[bool]int{false: 1, true: 0}[booked]; rep2.NotBooked[notBookedReleased] != want || rep2.Booked != 0 {
				t.Errorf("sync report %+v", rep2)
			}
			var want []string
			for _, v := range s.Vouchers(s.Tenant()) {
				want = append(want, strings.TrimPrefix(v.Description, "Coach payout "))
			}
			sort.Strings(want)
			exp := []string{next}
			if booked {
				exp = []string{id, next} // the first voucher, reversed by hand in Fortnox
			}
			if fmt.Sprint(want) != fmt.Sprint(exp) {
				t.Errorf("vouchers for %v, want %v", want, exp)
			}
			if p := e.payout(id); booked != (p.FortnoxReference != nil) || booked == (p.FortnoxError != "") {
				t.Errorf("released payout booking: ref %v error %q", p.FortnoxReference, p.FortnoxError)
			}
		})
	}
}

// TestReleaseFailedPayoutAgain: the new payout fails too (the account is
// restricted again); it is released in turn as attempt 2, and the third
// payout pays the sales once.
func TestReleaseFailedPayoutAgain(t *testing.T) {
	e := newEnv(t)
	l := newLedger()
	refuse := func(v bool) { l.mu.Lock(); l.restricted[relAccount] = v; l.mu.Unlock() }
	id := failedPayout(t, e, l, refuse)
	fixAccount(e, refuse)
	e.release(id, ReleaseOptions{})
	refuse(true)
	e.run(RunRequest{PeriodEnd: relEnd})
	second := id + "_2"
	if p := e.payout(second); p.Status != model.PayoutFailed {
		t.Fatalf("second payout %+v", p)
	}
	fixAccount(e, refuse)
	if rep := e.release(second, ReleaseOptions{}); rep.Attempt != 2 || rep.CarriedInRestored != -1500 {
		t.Errorf("second release %+v", rep)
	}
	e.run(RunRequest{PeriodEnd: relEnd})
	e.clock.Add(2 * time.Hour)
	e.run(RunRequest{Scheduled: true})
	if p := e.payout(id + "_3"); p.Status != model.PayoutCompleted || p.Amount != relDue {
		t.Errorf("third payout %+v", p)
	}
	if amount, n := l.paid(relAccount); amount != relDue || n != 1 {
		t.Errorf("coach's account holds %d from %d transfers", amount, n)
	}
	if rep := e.release(id, ReleaseOptions{}); !rep.AlreadyReleased || fmt.Sprint(rep.TakenBy) != "["+id+"_3]" {
		t.Errorf("first payout's entries now %+v", rep)
	}
}

// TestReleaseFailedPayoutErrorsKeepCodes: the error contract of a Stripe
// lookup failure (for errors.Is callers).
func TestReleaseFailedPayoutErrorsKeepCodes(t *testing.T) {
	cases := []struct {
		err  error
		want fault.Code
	}{
		{&stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI}, fault.Unavailable},
		{&stripe.Error{HTTPStatusCode: 429}, fault.Unavailable},
		{&stripe.Error{HTTPStatusCode: 401, Type: stripe.ErrorTypeInvalidRequest}, fault.FailedPrecondition},
		{context.DeadlineExceeded, fault.DeadlineExceeded},
		{errors.New("dial tcp: refused"), fault.Unavailable},
	}
	for _, c := range cases {
		if got := stripeCode(c.err); got != c.want {
			t.Errorf("stripeCode(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}
