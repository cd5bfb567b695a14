package payouts

import (
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
)

// TestPayoutIDsNameCoachesByPseudonym: payout ids carry the coach's keyed
// pseudonym (the GDPR erasure's HMAC), never the uid: not in the payouts'
// ids, in payments.payoutId, in the allocation entries' payoutId nor in the
// Fortnox vouchers' descriptions, suffixes included; the ids stay
// deterministic. A service without a key refuses to run, dry runs too,
// rather than fall back to raw uids, and writes nothing.
func TestPayoutIDsNameCoachesByPseudonym(t *testing.T) {
	const coach = "coachUid42"
	tests := []struct {
		name    string
		key     []byte
		dryRun  bool
		wantErr bool
	}{
		{name: "keyed run", key: testKey},
		{name: "keyed dry run", key: testKey, dryRun: true},
		{name: "no key", key: nil, wantErr: true},
		{name: "no key, dry run", key: nil, dryRun: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.PseudonymKey = tc.key
			e.svc.Settings.MaxPaymentsPerPayout = 1 // a second payout: the _2 suffix
			e.program("p1", []string{coach}, nil, nil)
			e.payment("a", "p1", 10000, "SEK", 3)
			e.payment("b", "p1", 5000, "SEK", 2)
			rep, err := e.svc.Run(e.ctx, RunRequest{DryRun: tc.dryRun})
			if tc.wantErr {
				if fault.CodeOf(err) != fault.FailedPrecondition || !strings.Contains(err.Error(), "IJ_PSEUDONYM_KEY") {
					t.Fatalf("Run without a key: %v, want FailedPrecondition naming IJ_PSEUDONYM_KEY", err)
				}
				if n := len(e.payouts()); n != 0 {
					t.Errorf("Run without a key wrote %d payouts", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			base := BasePayoutID(testKey, coach, "SEK", "2026-05-04")
			if want := "po_" + pseudonym.Of(testKey, coach) + "_sek_20260504"; base != want {
				t.Fatalf("BasePayoutID = %q, want %q", base, want)
			}
			var ids []string
			for _, l := range rep.Payouts {
				ids = append(ids, l.PayoutID)
			}
			if strings.Join(ids, " ") != base+" "+base+"_2" {
				t.Fatalf("payout ids %v, want %s and %s_2", ids, base, base)
			}
			if tc.dryRun {
				return
			}
			var held []string // every stored id or description that names a payout
			for _, p := range e.payouts() {
				held = append(held, p.PayoutID)
				e.update("payouts/"+p.PayoutID, fsUpdate("status", string(model.PayoutCompleted))...)
			}
			for _, id := range []string{"a", "b"} {
				snap, err := e.fs.Doc("payments/" + id).Get(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				v, _ := snap.DataAt("payoutId")
				s, _ := v.(string)
				held = append(held, s)
				for _, en := range e.allocation(id).Entries {
					held = append(held, en.PayoutID)
				}
			}
			s := withFortnox(t, e, fortnoxfake.Options{}, nil)
			if rep := e.sync(SyncRequest{}); rep.Booked != 2 {
				t.Fatalf("sync booked %d payouts, want 2: %+v", rep.Booked, rep)
			}
			for _, v := range s.Vouchers(s.Tenant()) {
				held = append(held, v.Description)
			}
			for _, h := range held {
				if !strings.Contains(h, base) {
					t.Errorf("%q names no payout of the run", h)
				}
				if strings.Contains(h, coach) {
					t.Errorf("%q carries the coach's uid", h)
				}
			}
		})
	}
}
