package payouts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// settleCase is a booking the sync keeps failing on because its date is in
// a period locked in Fortnox, with what comes after it.
type settleCase struct {
	e  *env
	s  *fortnoxfake.Server
	id string // the payout
	// seq, reversalID and rows are what SettleVoucher records (seq 0: the
	// payout's own voucher) and what the hand-booked voucher must book.
	seq        int
	reversalID string
	rows       []fortnox.VoucherRow
	// handDate is when the accountant books it by hand (after the lock).
	handDate string
	// later are the reversal vouchers ("date amount") the failing one holds
	// back.
	later []string
}

func debit(account int, ore int64) fortnox.VoucherRow {
	return fortnox.VoucherRow{Account: account, Debit: fortnox.Amount(ore)}
}

func credit(account int, ore int64) fortnox.VoucherRow {
	return fortnox.VoucherRow{Account: account, Credit: fortnox.Amount(ore)}
}

// lockedReversal: a booked payout (8 000 öre, 4 May) whose transfer Stripe
// reverses in part on 30 May (3 000), 2 June (1 000) and 5 June (500) after
// May's books were locked in Fortnox. The first reversal's voucher fails
// on every sync and holds the two others back.
func lockedReversal(t *testing.T) *settleCase {
	t.Helper()
	e := newEnv(t)
	l := newRevLedger()
	e.svc.Transfers = l
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	id, tr := bookedPayout(t, e, true)
	s.LockPeriodThrough("2026-05-31")
	for i, at := range []time.Time{
		time.Date(2026, 5, 30, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 5, 9, 0, 0, 0, time.UTC),
	} {
		e.clock.Set(at)
		deliverListed(t, e, fmt.Sprintf("evt_%d", i+1), "transfer.reversed", l.reverseAt(tr, []int64{3000, 1000, 500}[i], at))
	}
	e.clock.Set(time.Date(2026, 6, 8, 6, 0, 0, 0, time.UTC))
	first := ""
	for rid, r := range e.reversalPayout(id).TransferReversals {
		if r.Amount == 3000 {
			first = rid
		}
	}
	return &settleCase{e: e, s: s, id: id, seq: 1, reversalID: first,
		rows: []fortnox.VoucherRow{debit(1580, 3000), credit(2890, 3000)}, handDate: "2026-06-01", later: []string{"2026-06-02 1000", "2026-06-05 500"}}
}

// lockedPayout: a payout (8 000 öre, 4 May) completed after the books were
// locked through 4 May, its transfer reversed in part (3 000) on 6 May:
// the payout's voucher fails on every sync, and its reversal waits for it.
func lockedPayout(t *testing.T) *settleCase {
	t.Helper()
	e := newEnv(t)
	l := newRevLedger()
	e.svc.Transfers = l
	s := withFortnox(t, e, fortnoxfake.Options{}, nil)
	id, tr := bookedPayout(t, e, false)
	s.LockPeriodThrough("2026-05-04")
	at := time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)
	e.clock.Set(at)
	l.reverseAt(tr, 3000, at) // Confirm reads it from the transfer
	e.clock.Set(time.Date(2026, 5, 7, 6, 0, 0, 0, time.UTC))
	return &settleCase{e: e, s: s, id: id, rows: []fortnox.VoucherRow{debit(2890, 8000), credit(1580, 8000)}, handDate: "2026-05-05",
		later: []string{"2026-05-06 3000"}}
}

// handBooked posts a voucher in series P on date as an accountant would by
// hand (no sync marker) and returns its reference.
func handBooked(t *testing.T, e *env, date string, rows ...fortnox.VoucherRow) string {
	t.Helper()
	return postVoucher(t, e, fortnox.Voucher{Description: "Booked by hand", TransactionDate: date,
		VoucherSeries: "P", VoucherRows: rows}, fmt.Sprintf("hand_%d", time.Now().UnixNano()))
}

// postVoucher posts v under marker in the financial year of its date and
// returns its reference.
func postVoucher(t *testing.T, e *env, v fortnox.Voucher, marker string) string {
	t.Helper()
	c, err := e.svc.Fortnox(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	fy, err := c.FinancialYear(e.ctx, v.TransactionDate)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := c.CreateVoucherOnce(e.ctx, fy.ID, v, marker)
	if err != nil {
		t.Fatalf("post voucher %s: %v", marker, err)
	}
	return ref.String()
}

// heldBack runs two syncs and checks that the failing voucher is recorded
// as failing and that nothing after it is booked.
func (sc *settleCase) heldBack(t *testing.T) {
	t.Helper()
	for range 2 {
		sc.e.sync(SyncRequest{})
	}
	p := sc.e.reversalPayout(sc.id)
	if sc.seq == 0 {
		if p.FortnoxReference != nil || !strings.Contains(p.FortnoxError, "låst") || p.Status != model.PayoutCompleted {
			t.Fatalf("payout voucher: reference %v, error %q, status %s", p.FortnoxReference, p.FortnoxError, p.Status)
		}
	} else if len(p.ReversalBookings) != 1 || p.ReversalBookings[0].Reference != nil || p.ReversalBookings[0].Booking == nil ||
		!strings.Contains(p.ReversalError, reversalMarker(sc.id, 1)) {
		t.Fatalf("reversal voucher 1: bookings %+v, error %q", p.ReversalBookings, p.ReversalError)
	}
	if got := reversalVouchers(t, sc.s); len(got) != 0 {
		t.Fatalf("reversal vouchers %q booked behind the failing one", got)
	}
}

func (sc *settleCase) opts(voucher string) SettleOptions {
	return SettleOptions{Seq: sc.seq, ReversalID: sc.reversalID, Voucher: voucher, By: "ops:tester"}
}

// unchanged calls fn and fails the test when the database differs after
// it.
func unchanged(t *testing.T, e *env, fn func()) {
	t.Helper()
	before := testenv.DumpDatabase(t, e.fs, nil)
	fn()
	if diff := testenv.DiffDumps(before, testenv.DumpDatabase(t, e.fs, nil)); len(diff) > 0 {
		t.Errorf("the database changed:\n%s", strings.Join(diff, "\n"))
	}
}

// TestSettleVoucherRefusals: every refusal of SettleVoucher (bad input,
// an unknown payout, a voucher missing from Fortnox or booking other
// accounts, sides or amounts, another booking's voucher, a booking that
// is not the one holding the others back or is booked already, a payout
// released, not completed, in another currency or not booked yet, a sync
// holding the lease, Fortnox or the pseudonym key not configured, Fortnox
// down, the sync's own voucher posted meanwhile) says why and writes
// nothing, and posts nothing to Fortnox.
func TestSettleVoucherRefusals(t *testing.T) {
	sc := lockedReversal(t)
	e, s := sc.e, sc.s
	sc.heldBack(t)
	good := handBooked(t, e, "2026-06-01", sc.rows...)
	lessByOre := handBooked(t, e, "2026-06-01", debit(1580, 2999), credit(2890, 2999))
	bankAccount := handBooked(t, e, "2026-06-01", debit(1930, 3000), credit(2890, 3000))
	swapped := handBooked(t, e, "2026-06-01", debit(2890, 3000), credit(1580, 3000))
	own := *e.payout(sc.id).FortnoxReference
	mark := e.reversalPayout(sc.id).ReversalBookings[0].Booking
	payoutRef := "payouts/" + sc.id
	set := func(path string, v any) func() {
		return func() { e.update(payoutRef, fsUpdate(path, v)...) }
	}

	tests := []struct {
		name     string
		payout   string // default the case's payout
		opts     SettleOptions
		mutate   func() // before the call (counted as the state before)
		restore  func()
		code     fault.Code
		contains string
	}{
		{name: "voucher not series/number/year", opts: sc.opts("P/2"), code: fault.InvalidArgument, contains: "is not series/number/year"},
		{name: "no operator", opts: SettleOptions{Seq: 1, Voucher: good}, code: fault.InvalidArgument, contains: "name the operator"},
		{name: "negative seq", opts: SettleOptions{Seq: -1, Voucher: good, By: "ops:tester"}, code: fault.InvalidArgument, contains: "seq"},
		{name: "reversal id without seq", opts: SettleOptions{ReversalID: sc.reversalID, Voucher: good, By: "ops:tester"},
			code: fault.InvalidArgument, contains: "reversal id"},
		{name: "unknown payout", payout: "po_nope", opts: sc.opts(good), code: fault.NotFound, contains: "no such payout"},
		{name: "voucher not in Fortnox", opts: sc.opts("P/99/7"), code: fault.FailedPrecondition, contains: "is not in Fortnox"},
		{name: "voucher in a financial year Fortnox does not have", opts: sc.opts("P/2/99"), code: fault.FailedPrecondition, contains: "is not in Fortnox"},
		{name: "amount one öre less", opts: sc.opts(lessByOre), code: fault.FailedPrecondition,
			contains: "books 1580 D 29.99, 2890 C 29.99, not what the sync books for " + reversalMarker(sc.id, 1) + ": 1580 D 30.00, 2890 C 30.00"},
		{name: "bank account instead of the clearing account", opts: sc.opts(bankAccount), code: fault.FailedPrecondition, contains: "books 1930 D 30.00"},
		{name: "debit and credit swapped", opts: sc.opts(swapped), code: fault.FailedPrecondition, contains: "books 1580 C 30.00, 2890 D 30.00"},
		{name: "the payout's own voucher", opts: sc.opts(own), code: fault.FailedPrecondition, contains: "is the payout's own voucher"},
		{name: "payout voucher booked already", opts: SettleOptions{Voucher: good, By: "ops:tester"}, code: fault.FailedPrecondition,
			contains: "the payout's voucher is booked already (" + own + ")"},
		{name: "a voucher behind the failing one", opts: SettleOptions{Seq: 2, Voucher: good, By: "ops:tester"}, code: fault.FailedPrecondition,
			contains: "reversal voucher 2 waits behind voucher 1"},
		{name: "no such reversal voucher", opts: SettleOptions{Seq: 7, Voucher: good, By: "ops:tester"}, code: fault.FailedPrecondition,
			contains: "awaits no reversal voucher 7; the first it awaits is 1"},
		{name: "another Stripe reversal", opts: SettleOptions{Seq: 1, ReversalID: "trr_999", Voucher: good, By: "ops:tester"},
			code: fault.FailedPrecondition, contains: `not "trr_999"`},
		{name: "a sync holds the lease", opts: sc.opts(good),
			mutate: func() {
				e.set("jobs/"+JobFortnoxSync, map[string]any{"name": JobFortnoxSync,
					"checkpoint": map[string]any{"holder": "other", "leaseUntil": e.clock.Now().Add(time.Minute)}})
			},
			restore: func() { e.update("jobs/"+JobFortnoxSync, fsUpdate("checkpoint.holder", "")...) },
			code:    fault.Aborted, contains: "a Fortnox sync is running"},
		{name: "released payout", opts: sc.opts(good), mutate: set("release", map[string]any{"by": "ops:x"}), restore: set("release", nil),
			code: fault.FailedPrecondition, contains: "released to another payout"},
		{name: "payout not completed", opts: sc.opts(good), mutate: set("status", "processing"), restore: set("status", "completed"),
			code: fault.FailedPrecondition, contains: "the payout is processing"},
		{name: "payout in another currency", opts: sc.opts(good), mutate: set("currency", "EUR"), restore: set("currency", "SEK"),
			code: fault.FailedPrecondition, contains: "not the books' currency SEK"},
		{name: "payout voucher not booked yet", opts: sc.opts(good), mutate: set("fortnoxReference", nil), restore: set("fortnoxReference", own),
			code: fault.FailedPrecondition, contains: "own voucher is not booked yet"},
		{name: "Fortnox not configured", opts: sc.opts(good),
			mutate: func() { e.svc.Fortnox = nil }, restore: func() { withFortnoxClient(t, e, s, nil) },
			code: fault.FailedPrecondition, contains: "Fortnox is not configured"},
		{name: "no pseudonym key", opts: sc.opts(good), mutate: func() { e.svc.PseudonymKey = nil }, restore: func() { e.svc.PseudonymKey = testKey },
			code: fault.FailedPrecondition, contains: "pseudonym key"},
		{name: "Fortnox down", opts: sc.opts(good), mutate: func() { s.FailNext(1000, 503) }, restore: func() { s.FailNext(0, 0) },
			code: fault.Unavailable, contains: "read voucher " + good},
		// Last: the sync's voucher, posted under its marker by an earlier
		// sync that died before recording it (the lock lifted meanwhile).
		{name: "the sync's own voucher exists", opts: sc.opts(good),
			mutate: func() {
				s.LockPeriodThrough("")
				c, _ := e.svc.Fortnox(e.ctx)
				if _, err := c.CreateVoucherOnce(e.ctx, mark.FinancialYear, e.svc.reversalVoucher(sc.id, 1, 3000, mark.Date, mark.Series),
					reversalMarker(sc.id, 1)); err != nil {
					t.Fatal(err)
				}
			},
			code: fault.FailedPrecondition, contains: "the sync's own voucher " + reversalMarker(sc.id, 1) + " exists in Fortnox"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mutate != nil {
				tc.mutate()
			}
			if tc.restore != nil {
				defer tc.restore()
			}
			id := sc.id
			if tc.payout != "" {
				id = tc.payout
			}
			vouchers := len(s.Vouchers(s.Tenant()))
			unchanged(t, e, func() {
				rep, err := e.svc.SettleVoucher(e.ctx, id, tc.opts)
				if fault.CodeOf(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.contains) {
					t.Errorf("SettleVoucher = %+v, %v; want %s containing %q", rep, err, tc.code, tc.contains)
				}
			})
			if n := len(s.Vouchers(s.Tenant())); n != vouchers {
				t.Errorf("Fortnox holds %d vouchers, %d before", n, vouchers)
			}
		})
	}
}

// TestSettleVoucherRecordsHandBookedVoucher: the happy path, for a
// reversal voucher and for the payout's own voucher. A dry run checks
// everything and writes nothing; the settlement records the reference as
// the sync would (with the sync's mark kept), the settlement (when, the
// voucher's date, the audit entry) and the audit_log entry naming the
// operator, which the payout itself does not; the booking error is
// cleared. Settling again with the same voucher changes nothing; with
// another voucher it is refused.
func TestSettleVoucherRecordsHandBookedVoucher(t *testing.T) {
	tests := []struct {
		name     string
		scenario func(t *testing.T) *settleCase
	}{
		{name: "reversal voucher in a locked period", scenario: lockedReversal},
		{name: "payout voucher in a locked period", scenario: lockedPayout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.scenario(t)
			e := sc.e
			sc.heldBack(t)
			voucher := handBooked(t, e, sc.handDate, sc.rows...)
			var dry *SettleReport
			unchanged(t, e, func() {
				o := sc.opts(voucher)
				o.DryRun = true
				var err error
				if dry, err = e.svc.SettleVoucher(e.ctx, sc.id, o); err != nil {
					t.Fatalf("dry run: %v", err)
				}
			})
			if !dry.DryRun || dry.Settled || dry.VoucherDate != sc.handDate || dry.ReversalsAwaited != len(sc.later) {
				t.Errorf("dry run report %+v", dry)
			}

			rep, err := e.svc.SettleVoucher(e.ctx, sc.id, sc.opts(voucher))
			if err != nil {
				t.Fatalf("SettleVoucher: %v", err)
			}
			wantMarker := sc.id
			if sc.seq > 0 {
				wantMarker = reversalMarker(sc.id, sc.seq)
			}
			if !rep.Settled || rep.AlreadySettled || rep.Voucher != voucher || rep.VoucherDate != sc.handDate || rep.Marker != wantMarker ||
				rep.ReversalsAwaited != len(sc.later) || rep.Seq != sc.seq || rep.ReversalID != sc.reversalID {
				t.Errorf("report %+v", rep)
			}
			p := e.reversalPayout(sc.id)
			var got *Settlement
			if sc.seq == 0 {
				var doc struct {
					Settlement *Settlement `firestore:"fortnoxSettlement"`
				}
				snap, _ := e.fs.Doc("payouts/" + sc.id).Get(e.ctx)
				if err := snap.DataTo(&doc); err != nil {
					t.Fatal(err)
				}
				got = doc.Settlement
				ref, _ := fortnox.ParseVoucherRef(voucher)
				if p.FortnoxReference == nil || *p.FortnoxReference != voucher || p.FortnoxError != "" || p.FortnoxBooking == nil || p.FortnoxVoucher == nil ||
					*p.FortnoxVoucher != (model.FortnoxVoucher{Series: ref.Series, Number: ref.Number, Year: ref.Year}) {
					t.Errorf("payout: reference %v %+v, error %q, mark %+v", p.FortnoxReference, p.FortnoxVoucher, p.FortnoxError, p.FortnoxBooking)
				}
			} else {
				b := p.ReversalBookings[0]
				got = b.Settlement
				if b.Seq != 1 || b.ReversalID != sc.reversalID || b.Amount != 3000 || b.Reference == nil || *b.Reference != voucher ||
					b.Booking == nil || p.ReversalError != "" || !p.ReversalPending {
					t.Errorf("reversal booking %+v, error %q, pending %v", b, p.ReversalError, p.ReversalPending)
				}
			}
			if got == nil || !got.At.Equal(e.clock.Now()) || got.VoucherDate != sc.handDate || got.AuditID == "" {
				t.Fatalf("settlement %+v", got)
			}
			snap, err := e.fs.Collection(model.ColAuditLog).Doc(got.AuditID).Get(e.ctx)
			if err != nil {
				t.Fatalf("audit entry: %v", err)
			}
			var a model.AuditEntry
			if err := snap.DataTo(&a); err != nil {
				t.Fatal(err)
			}
			if a.Action != AuditSettleVoucher || a.Actor != "ops:tester" || a.SubjectHash != pseudonym.Of(testKey, relCoach) ||
				a.Details["voucher"] != voucher || a.Details["marker"] != wantMarker || !a.CreatedAt.Equal(e.clock.Now()) ||
				!a.ExpiresAt.After(a.CreatedAt.AddDate(2, 11, 0)) {
				t.Errorf("audit entry %+v", a)
			}
			raw, _ := json.Marshal(testenv.DumpDatabase(t, e.fs, nil)["payouts/"+sc.id])
			if strings.Contains(string(raw), "tester") {
				t.Errorf("the payout, which its coach reads, names the operator: %s", raw)
			}

			unchanged(t, e, func() {
				again, err := e.svc.SettleVoucher(e.ctx, sc.id, sc.opts(voucher))
				if err != nil || !again.AlreadySettled || again.Settled {
					t.Errorf("settled again: %+v, %v", again, err)
				}
				other := handBooked(t, e, sc.handDate, sc.rows...)
				if _, err := e.svc.SettleVoucher(e.ctx, sc.id, sc.opts(other)); fault.CodeOf(err) != fault.FailedPrecondition ||
					!strings.Contains(err.Error(), "booked already ("+voucher+")") {
					t.Errorf("another voucher: %v", err)
				}
			})
		})
	}
}

// TestSettleVoucherLetsSyncGoOn: end to end, a voucher in a locked
// period fails on every sync and holds back what comes after it (the
// payout's later reversals; the reversals of a payout whose own voucher
// fails); once it is booked by hand and settled, the next sync books the
// rest, each on its own day, and books nothing twice (the failing voucher
// is never posted under its marker).
func TestSettleVoucherLetsSyncGoOn(t *testing.T) {
	tests := []struct {
		name     string
		scenario func(t *testing.T) *settleCase
		// clearing is the clearing account (1580) over all vouchers of
		// series P: the transfer less what came back.
		clearing int64
	}{
		{name: "later reversals behind a reversal voucher", scenario: lockedReversal, clearing: -8000 + 3000 + 1000 + 500},
		{name: "reversals behind the payout voucher", scenario: lockedPayout, clearing: -8000 + 3000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.scenario(t)
			e, s := sc.e, sc.s
			sc.heldBack(t)
			voucher := handBooked(t, e, sc.handDate, sc.rows...)
			if _, err := e.svc.SettleVoucher(e.ctx, sc.id, sc.opts(voucher)); err != nil {
				t.Fatalf("SettleVoucher: %v", err)
			}
			rep := e.sync(SyncRequest{})
			if rep.ReversalsBooked != len(sc.later) || rep.ReversalsFailed != 0 || rep.Booked != 0 || rep.Failed != 0 {
				t.Errorf("sync after the settlement: %+v", rep)
			}
			e.sync(SyncRequest{}) // nothing more
			if got := reversalVouchers(t, s); fmt.Sprint(got) != fmt.Sprint(sc.later) {
				t.Errorf("reversal vouchers %q, want %q", got, sc.later)
			}
			var clearing int64
			for _, v := range clearingByDate(s, "P") {
				clearing += v
			}
			if clearing != tc.clearing {
				t.Errorf("clearing (1580) booked %d in all, want %d", clearing, tc.clearing)
			}
			failing := sc.id
			if sc.seq > 0 {
				failing = reversalMarker(sc.id, sc.seq)
			}
			for _, v := range s.Vouchers(s.Tenant()) {
				if strings.HasSuffix(v.Description, " "+failing) || strings.Contains(v.Description, "["+failing+"]") {
					t.Errorf("the settled voucher was posted by the sync too: %+v", v)
				}
			}
			p := e.reversalPayout(sc.id)
			if p.ReversalPending || p.ReversalError != "" || p.FortnoxError != "" || len(p.ReversalBookings) != len(sc.later)+min(sc.seq, 1) {
				t.Errorf("payout: pending %v, errors %q %q, bookings %+v", p.ReversalPending, p.ReversalError, p.FortnoxError, p.ReversalBookings)
			}
			for _, b := range p.ReversalBookings {
				if b.Reference == nil || (b.Settlement != nil) != (sc.seq > 0 && b.Seq == sc.seq) {
					t.Errorf("reversal booking %+v", b)
				}
			}
		})
	}
}
