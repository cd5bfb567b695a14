package payouts

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is one test's Firestore project and service.
type env struct {
	t     testing.TB
	ctx   context.Context
	fs    *firestore.Client
	clock *clock
	svc   *Service
}

// t0 is a Monday morning in Stockholm; period ends default to that day.
var t0 = time.Date(2026, 5, 4, 4, 0, 0, 0, time.UTC)

// testKey keys the coaches' pseudonyms in the tests' payout ids.
var testKey = []byte("payouts-test-pseudonym-key")

// pid is the id of coach's first payout in currency for the period ending
// at endDate (YYYY-MM-DD), as the tests' service builds it.
func pid(coach, currency, endDate string) string {
	return BasePayoutID(testKey, coach, currency, endDate)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	fs := emu.Client(t, emu.NewProject(t))
	c := &clock{t: t0}
	return &env{t: t, ctx: context.Background(), fs: fs, clock: c,
		svc: &Service{Firestore: fs, Now: c.Now, Settings: DefaultSettings(), PseudonymKey: testKey}}
}

func (e *env) set(path string, v any) {
	e.t.Helper()
	if _, err := e.fs.Doc(path).Set(e.ctx, v); err != nil {
		e.t.Fatalf("set %s: %v", path, err)
	}
}

func (e *env) program(id string, coaches []string, splits map[string]int, bps *int) {
	e.t.Helper()
	e.set("programs/"+id, model.Program{ProgramID: id, Title: "p", CreatedBy: coaches, CoachSplits: splits, CommissionBps: bps})
}

func (e *env) coach(uid, account string, enabled bool) {
	e.t.Helper()
	e.set("coach_profiles/"+uid, model.CoachProfile{CoachID: uid, DisplayName: "c"})
	e.set("coach_profiles/"+uid+"/private/connect", model.CoachConnect{CoachID: uid, StripeAccountID: account, PayoutsEnabled: enabled})
}

// payment writes a succeeded payment of program at day (days before t0's
// date; 1 = the day before the default period end).
func (e *env) payment(id, program string, amount int64, currency string, daysBefore int, mods ...func(*model.Payment)) {
	e.t.Helper()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC).AddDate(0, 0, -daysBefore)
	p := model.Payment{PaymentID: id, UserID: "u-" + id, Amount: amount, Currency: currency, PaymentDate: at,
		Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: "pi_" + id, CreatedAt: at, UpdatedAt: at}
	if program != "" {
		p.ProgramID = &program
	}
	for _, m := range mods {
		m(&p)
	}
	e.set("payments/"+id, p)
}

func (e *env) update(path string, ups ...firestore.Update) {
	e.t.Helper()
	if _, err := e.fs.Doc(path).Update(e.ctx, ups); err != nil {
		e.t.Fatalf("update %s: %v", path, err)
	}
}

// refund records a refund as the webhook would (field updates).
func (e *env) refund(id string, refunded int64, full bool) {
	e.t.Helper()
	st := model.PaymentPartiallyRefunded
	if full {
		st = model.PaymentRefunded
	}
	e.update("payments/"+id, firestore.Update{Path: "status", Value: string(st)},
		firestore.Update{Path: "refundDetails", Value: model.RefundDetails{AmountRefunded: refunded}},
		firestore.Update{Path: "updatedAt", Value: e.clock.Now()})
}

func (e *env) run(req RunRequest) *RunReport {
	e.t.Helper()
	rep, err := e.svc.Run(e.ctx, req)
	if err != nil {
		e.t.Fatalf("Run(%+v): %v", req, err)
	}
	return rep
}

func (e *env) payouts() []model.Payout {
	e.t.Helper()
	snaps, err := e.fs.Collection(model.ColPayouts).Documents(e.ctx).GetAll()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []model.Payout
	for _, s := range snaps {
		var p model.Payout
		if err := s.DataTo(&p); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PayoutID < out[j].PayoutID })
	return out
}

func (e *env) payout(id string) model.Payout {
	e.t.Helper()
	snap, err := e.fs.Collection(model.ColPayouts).Doc(id).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("payout %s: %v", id, err)
	}
	var p model.Payout
	if err := snap.DataTo(&p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) carry(coach, currency string) int64 {
	e.t.Helper()
	snap, err := e.fs.Doc("users/" + coach + "/private/payouts").Get(e.ctx)
	if err != nil {
		return 0
	}
	var st model.CoachPayoutState
	if err := snap.DataTo(&st); err != nil {
		e.t.Fatal(err)
	}
	return st.CarryForward[currency]
}

func intp(v int) *int { return &v }

func fsUpdate(path string, v any) []firestore.Update {
	return []firestore.Update{{Path: path, Value: v}}
}
