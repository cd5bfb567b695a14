package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestPayoutsRetryCommand: `ops payouts retry` against the Firestore
// emulator and stripe-mock: flag and --project rules, a payout that is not
// failed refused, a dry run writing nothing, the release, and a repeated
// release changing nothing; the output never names the coach.
func TestPayoutsRetryCommand(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	t.Setenv("STRIPE_SECRET_KEY", "sk_test_123")
	t.Setenv("STRIPE_API_URL", testenv.StripeMock(t))
	ctx := context.Background()
	const coach, failed, pending = "coach-ops-uid-1", "po_ps_ops_sek_20260504", "po_ps_ops_sek_20260504_2"
	at := time.Date(2026, 5, 4, 4, 0, 0, 0, time.UTC)
	seed := map[string]any{
		"coach_profiles/" + coach + "/private/connect": model.CoachConnect{CoachID: coach, StripeAccountID: "acct_ops", PayoutsEnabled: true},
		"payouts/" + failed: model.Payout{PayoutID: failed, CoachID: coach, Amount: 8000, Currency: "SEK", Status: model.PayoutFailed,
			Processor: payouts.ProcessorStripeConnect, RelatedPaymentIDs: []string{"pay1"}, Reason: "Stripe refused the transfer: transfers_not_allowed",
			PayoutDate: at, CreatedAt: at, UpdatedAt: at},
		"payouts/" + pending: model.Payout{PayoutID: pending, CoachID: coach, Amount: 100, Currency: "SEK", Status: model.PayoutPending,
			Processor: payouts.ProcessorStripeConnect, PayoutDate: at, CreatedAt: at, UpdatedAt: at},
		"payout_allocations/pay1": model.PayoutAllocation{PaymentID: "pay1", ProgramID: "p", Currency: "SEK", PaymentDate: at, Net: 10000,
			Commission: 2000, CommissionBps: 2000, Weights: map[string]int64{coach: 1}, Open: []string{},
			Events:  []model.AllocationEvent{{Seq: 1, Kind: "allocation", Net: 10000, Commission: 2000, At: at, SalesExempt: true}},
			Entries: []model.AllocationEntry{{Seq: 1, CoachID: coach, Gross: 10000, Commission: 2000, Amount: 8000, PayoutID: failed}}},
		"jobs/payouts":  map[string]any{"name": "payouts", "checkpoint": map[string]any{"lastPeriodEnd": "2026-05-04"}},
		"payments/pay1": map[string]any{"paymentId": "pay1", "amount": 10000, "currency": "SEK", "status": "succeeded", "payoutId": failed},
	}
	for path, v := range seed {
		if _, err := fs.Doc(path).Set(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	entryPayout := func() string {
		t.Helper()
		snap, err := fs.Doc("payout_allocations/pay1").Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var a model.PayoutAllocation
		if err := snap.DataTo(&a); err != nil {
			t.Fatal(err)
		}
		return a.Entries[0].PayoutID
	}
	common := []string{"payouts", "retry", "--project", project, "--by", "tester"}

	steps := []struct {
		name  string
		args  []string
		noEmu bool // run as against a real project (no FIRESTORE_EMULATOR_HOST)
		// unsetBookSales: FORTNOX_BOOK_SALES is not in the environment.
		unsetBookSales bool
		code           int    // exit code
		inErr          string // in stderr
		released       bool
		already        bool
		entry          string // the allocation entry's payoutId afterwards
	}{
		{name: "no payout", args: []string{"payouts", "retry", "--project", project}, code: 1, inErr: "--payout is required", entry: failed},
		{name: "no --project against a real project", args: []string{"payouts", "retry", "--payout", failed, "--by", "tester"}, noEmu: true, code: 1,
			inErr: "--project is required", entry: failed},
		{name: "unknown subcommand", args: []string{"payouts", "redo"}, code: 1, inErr: "usage: ops payouts", entry: failed},
		{name: "run without --project against a real project", args: []string{"payouts", "run", "--dry-run"}, noEmu: true, code: 1,
			inErr: "--project is required", entry: failed},
		{name: "fortnox sync without --project against a real project", args: []string{"fortnox", "sync", "--dry-run"}, noEmu: true, code: 1,
			inErr: "--project is required", entry: failed},
		{name: "real project without FORTNOX_BOOK_SALES", args: []string{"payouts", "run", "--project", "ij-prod", "--dry-run"}, noEmu: true,
			unsetBookSales: true, code: 1, inErr: "set FORTNOX_BOOK_SALES", entry: failed},
		{name: "not failed", args: append(common, "--payout", pending), code: 1, inErr: "is pending, not failed", entry: failed},
		{name: "unknown payout", args: append(common, "--payout", "po_nope"), code: 1, inErr: "NOT_FOUND", entry: failed},
		{name: "dry run", args: append(common, "--payout", failed, "--dry-run"), inErr: "dry run: nothing written", entry: failed},
		{name: "retry", args: append(common, "--payout", failed), inErr: "ops payouts run --period ..2026-05-04", released: true},
		{name: "retry again", args: append(common, "--payout", failed), inErr: "already released", already: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.noEmu {
				t.Setenv("FIRESTORE_EMULATOR_HOST", "")
			}
			if s.unsetBookSales {
				t.Setenv("FORTNOX_BOOK_SALES", "") // restored after the test
				os.Unsetenv("FORTNOX_BOOK_SALES")
			}
			code, out, errOut := runOps(t, s.args...)
			if code != s.code || !strings.Contains(errOut, s.inErr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %s", code, s.code, errOut, s.inErr, out)
			}
			if strings.Contains(out+errOut, coach) {
				t.Errorf("output names the coach:\n%s\n%s", out, errOut)
			}
			if code == 0 {
				var rep payouts.ReleaseReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("report %q: %v", out, err)
				}
				if rep.PayoutID != failed || rep.Released != s.released || rep.AlreadyReleased != s.already || rep.Entries != 1 || rep.EntriesAmount != 8000 {
					t.Errorf("report %+v", rep)
				}
			}
			if got := entryPayout(); got != s.entry {
				t.Errorf("allocation entry taken by %q, want %q", got, s.entry)
			}
		})
	}
	snap, err := fs.Doc("payouts/" + failed).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if by, _ := snap.DataAt("release.by"); by != "ops:tester" {
		t.Errorf("release.by = %v", by)
	}
	if st, _ := snap.DataAt("status"); st != string(model.PayoutFailed) {
		t.Errorf("status %v", st)
	}
	if snap, err := fs.Doc("payments/pay1").Get(ctx); err != nil {
		t.Fatal(err)
	} else if _, err := snap.DataAt("payoutId"); err == nil {
		t.Error("payments/pay1.payoutId still names the failed payout")
	}
}
