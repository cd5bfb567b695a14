package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestFortnoxSettleCommand: `ops fortnox settle` against the Firestore
// emulator and the Fortnox fake (configured through FORTNOX_* as in a
// shell): flag and --project rules, a voucher that books another amount
// refused, a dry run writing nothing, the settlement of a payout voucher
// that failed in a locked period (reference, audit entry naming the
// operator), and a repeat changing nothing; the output never names the
// coach.
func TestFortnoxSettleCommand(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	ctx := context.Background()

	s := fortnoxfake.New(fortnoxfake.Options{})
	t.Cleanup(s.Close)
	for k, v := range map[string]string{"FORTNOX_API_URL": s.URL, "FORTNOX_TOKEN_URL": s.TokenURL, "FORTNOX_CLIENT_ID": s.ClientID(),
		"FORTNOX_CLIENT_SECRET": s.ClientSecret(), "FORTNOX_TENANT_ID": s.Tenant()} {
		t.Setenv(k, v)
	}
	c, err := fortnox.New(fortnox.Config{BaseURL: s.URL, TokenURL: s.TokenURL, ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), TenantID: s.Tenant()})
	if err != nil {
		t.Fatal(err)
	}
	book := func(marker string, amount int64) string {
		t.Helper()
		ref, err := c.CreateVoucherOnce(ctx, 7, fortnox.Voucher{Description: "Booked by hand", TransactionDate: "2026-05-05", VoucherSeries: "P",
			VoucherRows: []fortnox.VoucherRow{{Account: 2890, Debit: fortnox.Amount(amount)}, {Account: 1580, Credit: fortnox.Amount(amount)}}}, marker)
		if err != nil {
			t.Fatal(err)
		}
		return ref.String()
	}
	wrong, good := book("hand_1", 7999), book("hand_2", 8000)

	const coach, id = "coach-ops-uid-2", "po_ps_ops2_sek_20260504"
	at := time.Date(2026, 5, 4, 4, 0, 0, 0, time.UTC)
	if _, err := fs.Doc("payouts/"+id).Set(ctx, model.Payout{PayoutID: id, CoachID: coach, Amount: 8000, Currency: "SEK",
		Status: model.PayoutCompleted, Processor: payouts.ProcessorStripeConnect, PayoutDate: at, CreatedAt: at, UpdatedAt: at,
		FortnoxBooking: &model.FortnoxBooking{StartedAt: at, Date: "2026-05-04", Series: "P", FinancialYear: 7},
		FortnoxError:   "fortnox: create voucher [" + id + "]: Du har låst perioden t.o.m. 2026-05-04."}); err != nil {
		t.Fatal(err)
	}
	reference := func() string {
		t.Helper()
		snap, err := fs.Doc("payouts/" + id).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := snap.DataAt("fortnoxReference")
		s, _ := v.(string)
		return s
	}
	common := []string{"fortnox", "settle", "--project", project, "--by", "tester", "--payout", id}

	steps := []struct {
		name  string
		args  []string
		noEmu bool // run as against a real project (no FIRESTORE_EMULATOR_HOST)
		code  int
		inErr string
		// settled, already: the report's flags; ref: the payout's
		// fortnoxReference afterwards.
		settled, already bool
		ref              string
	}{
		{name: "help", args: []string{"fortnox", "settle", "--help"}, inErr: "usage: ops fortnox settle"},
		{name: "no payout", args: []string{"fortnox", "settle", "--project", project, "--voucher", good}, code: 1, inErr: "--payout is required"},
		{name: "no voucher", args: []string{"fortnox", "settle", "--project", project, "--payout", id}, code: 1, inErr: "--voucher is required"},
		{name: "reversal without seq", args: append(common, "--voucher", good, "--reversal", "trr_1"), code: 1, inErr: "INVALID_ARGUMENT: a reversal id names the Stripe reversal (trr_…) of a reversal voucher given by its seq"},
		{name: "no --project against a real project", args: []string{"fortnox", "settle", "--payout", id, "--voucher", good, "--by", "tester"},
			noEmu: true, code: 1, inErr: "--project is required"},
		{name: "stray argument", args: append(common, "--voucher", good, "now"), code: 1, inErr: `unexpected argument "now"`},
		{name: "voucher of another amount", args: append(common, "--voucher", wrong), code: 1,
			inErr: "books 1580 C 79.99, 2890 D 79.99, not what the sync books for " + id},
		{name: "dry run", args: append(common, "--voucher", good, "--dry-run"), inErr: "dry run: nothing written"},
		{name: "settle", args: append(common, "--voucher", good), inErr: "settled the payout's voucher", settled: true, ref: good},
		{name: "settle again", args: append(common, "--voucher", good), inErr: "already records " + good, already: true, ref: good},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.noEmu {
				t.Setenv("FIRESTORE_EMULATOR_HOST", "")
			}
			code, out, errOut := runOps(t, st.args...)
			if code != st.code || !strings.Contains(errOut, st.inErr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %s", code, st.code, errOut, st.inErr, out)
			}
			if strings.Contains(out+errOut, coach) {
				t.Errorf("output names the coach:\n%s\n%s", out, errOut)
			}
			if code == 0 && out != "" {
				var rep payouts.SettleReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("report %q: %v", out, err)
				}
				if rep.PayoutID != id || rep.Purpose != "payout" || rep.Voucher != good || rep.Settled != st.settled ||
					rep.AlreadySettled != st.already || rep.Amount != 8000 || rep.BookingDate != "2026-05-04" {
					t.Errorf("report %+v", rep)
				}
			}
			if got := reference(); got != st.ref {
				t.Errorf("fortnoxReference %q, want %q", got, st.ref)
			}
		})
	}
	snap, err := fs.Doc("payouts/" + id).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auditID, _ := snap.DataAt("fortnoxSettlement.auditId")
	if e, _ := snap.DataAt("fortnoxError"); e != nil {
		t.Errorf("fortnoxError %v still set", e)
	}
	aid, _ := auditID.(string)
	a, err := fs.Collection(model.ColAuditLog).Doc(aid).Get(ctx)
	if err != nil {
		t.Fatalf("audit entry %v: %v", auditID, err)
	}
	if actor, _ := a.DataAt("actor"); actor != "ops:tester" {
		t.Errorf("audit actor %v", actor)
	}
}
