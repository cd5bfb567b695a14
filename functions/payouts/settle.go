package payouts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/fortnox"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/store"
)

// AuditSettleVoucher is the audit_log action of SettleVoucher.
const AuditSettleVoucher = "payouts.fortnoxSettle"

// Settlement is payouts.fortnoxSettlement (the payout's own voucher) and
// payouts.reversalBookings[].settlement (a reversal voucher), server-only,
// added here: the voucher recorded as the booking's fortnoxReference was
// booked by hand in Fortnox and recorded by an operator (SettleVoucher,
// `ops fortnox settle`) after it was checked against Fortnox.
type Settlement struct {
	// At is when it was recorded.
	At time.Time `firestore:"at" json:"at"`
	// VoucherDate is the hand-booked voucher's transaction date (it may
	// differ from the business event's date, e.g. after a locked period).
	VoucherDate string `firestore:"voucherDate" json:"voucherDate"`
	// AuditID is the audit_log entry naming who recorded it (the name is
	// kept there, not in the payout the coach reads; see README).
	AuditID string `firestore:"auditId" json:"auditId"`
}

// SettleOptions are the operator's choices for SettleVoucher.
type SettleOptions struct {
	// Seq names the reversal voucher to settle (its seq in
	// payouts.reversalBookings, marker {payoutId}_r{seq}, as reversalError
	// and `ops fortnox sync --dry-run` show it); 0 settles the payout's own
	// voucher.
	Seq int
	// ReversalID, when set, must be the Stripe reversal (trr_…) that
	// voucher Seq books: a cross-check of Seq.
	ReversalID string
	// Voucher is the voucher booked by hand, "SERIES/NUMBER/YEAR" with YEAR
	// Fortnox's financial-year id (the form of fortnoxReference).
	Voucher string
	// By names the operator in the audit entry (required; 1–100 printable
	// characters).
	By string
	// DryRun makes every check, Fortnox included, and reports what would
	// be recorded, writing nothing.
	DryRun bool
}

// SettleReport is what SettleVoucher recorded (or, in a dry run, would
// record). It carries ids, dates and amounts only.
type SettleReport struct {
	PayoutID string `json:"payoutId"`
	// Purpose is "payout" (the payout's own voucher) or "reversal".
	Purpose    string `json:"purpose"`
	Seq        int    `json:"seq,omitempty"`
	ReversalID string `json:"reversalId,omitempty"`
	// Marker is the sync's marker of the voucher settled.
	Marker   string `json:"marker"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// BookingDate is the date the sync would have booked it on.
	BookingDate string `json:"bookingDate"`
	Voucher     string `json:"voucher"`
	VoucherDate string `json:"voucherDate,omitempty"`
	DryRun      bool   `json:"dryRun"`
	// Settled: recorded now (false in a dry run and when it already was).
	Settled bool `json:"settled"`
	// AlreadySettled: the booking already records this voucher; nothing
	// was checked nor written.
	AlreadySettled bool `json:"alreadySettled"`
	// ReversalsAwaited is the number of reversal vouchers the payout
	// awaits afterwards: the next sync books them.
	ReversalsAwaited int `json:"reversalsAwaited"`
}

// settleTarget is the booking a settlement records: the payout's own
// voucher or its first awaited reversal voucher.
type settleTarget struct {
	purpose    string // "payout" or "reversal"
	seq        int
	reversalID string
	amount     int64
	marker     string
	date       string                // the sync's transaction date: its mark's, else the event's local date
	mark       *model.FortnoxBooking // the sync's mark, if it marked the voucher
	resumed    bool                  // reversal: reversalBookings has an entry of seq
	already    bool                  // the booking records the voucher asked for
}

func (t settleTarget) same(o settleTarget) bool {
	return t.purpose == o.purpose && t.seq == o.seq && t.reversalID == o.reversalID && t.amount == o.amount &&
		t.date == o.date && t.resumed == o.resumed && (t.mark == nil) == (o.mark == nil) && t.already == o.already
}

// errAlreadySettled ends a settlement transaction that found the voucher
// recorded by an earlier call.
var errAlreadySettled = errors.New("already settled")

// SettleVoucher records a voucher booked by hand in Fortnox as the booking
// the sync keeps failing on (say, its date is in a locked period): the
// payout's own voucher (opts.Seq 0) or the reversal voucher the payout's
// later reversals wait behind (the first it awaits, opts.Seq). The voucher
// must exist in Fortnox and book, per account, exactly what the sync would
// have booked (same accounts, sides and amount; any series and date), and
// a voucher the sync may have posted under its marker (the booking was
// marked) must not exist beside it. In one transaction that re-reads the
// payout and the sync's lease it writes the reference (fortnoxReference,
// as the sync does), the Settlement, clears the booking error, and adds
// the audit_log entry naming opts.By. The next sync goes on with the
// payout's later reversals. Idempotent: a booking that already records
// this voucher is reported (AlreadySettled) and nothing is written.
//
// Errors (nothing is written with any of them): InvalidArgument for an
// unusable payout id, seq, reversal id, voucher reference or operator
// name; NotFound for an unknown payout; FailedPrecondition when Fortnox or
// the pseudonym key is not configured, the payout is released, not
// completed, not in the books' currency or has no amount, the booking has
// another voucher already, a reversal is asked for while the payout's own
// voucher is not booked, seq is not the first voucher the payout awaits
// (or is not marked and of an amount known only cumulatively),
// opts.ReversalID is not the one seq books, the voucher is not in Fortnox,
// books something else, or is the voucher of another booking, or the
// sync's own voucher exists in Fortnox; Aborted when a sync holds the
// lease jobs/fortnox-sync or the payout changed during the checks (run it
// again); Fortnox and Firestore failures keep their codes.
func (s *Service) SettleVoucher(ctx context.Context, payoutID string, opts SettleOptions) (*SettleReport, error) {
	rep, err := s.settleVoucher(ctx, payoutID, opts)
	if err != nil {
		return nil, fmt.Errorf("settle fortnox voucher of payout %s: %w", idPart(payoutID), err)
	}
	return rep, nil
}

func (s *Service) settleVoucher(ctx context.Context, payoutID string, opts SettleOptions) (*SettleReport, error) {
	by := strings.TrimSpace(opts.By)
	switch {
	case !safeID.MatchString(payoutID):
		return nil, fault.Invalid("payout id must be 1–100 letters, digits, '_' or '-'")
	case opts.Seq < 0:
		return nil, fault.Invalid("reversal seq must be positive (0: the payout's own voucher)")
	case opts.ReversalID != "" && (opts.Seq == 0 || !safeID.MatchString(opts.ReversalID)):
		return nil, fault.Invalid("a reversal id names the Stripe reversal (trr_…) of a reversal voucher given by its seq")
	case by == "" || len(by) > 100 || strings.IndexFunc(by, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return nil, fault.Invalid("name the operator (1–100 printable characters)")
	}
	vref, err := fortnox.ParseVoucherRef(strings.TrimSpace(opts.Voucher))
	if err != nil {
		return nil, err
	}
	voucher := vref.String()
	ref := s.Firestore.Collection(model.ColPayouts).Doc(payoutID)

	p, released, err := s.readSettlable(ctx, ref)
	if err != nil {
		return nil, err
	}
	t, err := s.settleTarget(p, released, opts.Seq, opts.ReversalID, voucher)
	if err != nil {
		return nil, err
	}
	rep := &SettleReport{PayoutID: payoutID, Purpose: t.purpose, Seq: t.seq, ReversalID: t.reversalID, Marker: t.marker,
		Amount: t.amount, Currency: p.Currency, BookingDate: t.date, Voucher: voucher, DryRun: opts.DryRun}
	if t.already {
		rep.AlreadySettled = true
		rep.ReversalsAwaited = len(p.awaited())
		return rep, nil
	}
	if s.Fortnox == nil {
		return nil, fault.New(fault.FailedPrecondition, "Fortnox is not configured: the voucher cannot be checked")
	}
	if len(s.PseudonymKey) == 0 {
		return nil, fault.New(fault.FailedPrecondition, "the pseudonym key is not configured: the audit entry cannot name the coach's pseudonym")
	}
	c, err := s.Fortnox(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.checkSettlement(ctx, c, p, t, vref)
	if err != nil {
		return nil, err
	}
	rep.VoucherDate = v.TransactionDate
	if err := s.voucherOfAnotherPayout(ctx, payoutID, voucher); err != nil {
		return nil, err
	}

	auditID := "payouts_settle_" + t.marker // one settlement per booking, ever
	leaseRef := s.Firestore.Collection(model.ColJobs).Doc(JobFortnoxSync)
	claimRef := settledVoucherRef(leaseRef, vref)
	txOpts := []firestore.TransactionOption{firestore.MaxAttempts(txAttempts)}
	if opts.DryRun {
		txOpts = append(txOpts, firestore.ReadOnly)
	}
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snaps, err := tx.GetAll([]*firestore.DocumentRef{ref, leaseRef, claimRef})
		if err != nil {
			return err
		}
		if snaps[2].Exists() {
			if m, _ := snaps[2].DataAt("marker"); m != t.marker {
				p, _ := snaps[2].DataAt("payoutId")
				return fault.New(fault.FailedPrecondition, "voucher %s is recorded already for %v (payout %v)", voucher, m, p)
			}
		}
		now := s.now()
		if holder, until := leaseHolder(snaps[1]); holder != "" && until.After(now) {
			return fault.New(fault.Aborted, "a Fortnox sync is running (lease %s held until %s): run again when it has finished",
				JobFortnoxSync, until.UTC().Format(time.RFC3339))
		}
		cur, released, err := settlable(snaps[0])
		if err != nil {
			return err
		}
		again, err := s.settleTarget(cur, released, opts.Seq, opts.ReversalID, voucher)
		if err != nil {
			return err
		}
		if again.already {
			return errAlreadySettled
		}
		if !again.same(t) {
			return fault.New(fault.Aborted, "the payout changed while the voucher was being checked: run again")
		}
		set := &Settlement{At: now, VoucherDate: v.TransactionDate, AuditID: auditID}
		var ups []firestore.Update
		if t.purpose == "payout" {
			ups = []firestore.Update{
				{Path: "fortnoxReference", Value: voucher},
				{Path: "fortnoxVoucher", Value: model.FortnoxVoucher{Series: vref.Series, Number: vref.Number, Year: vref.Year}},
				{Path: "fortnoxSettlement", Value: set},
				{Path: "fortnoxError", Value: firestore.Delete},
			}
		} else {
			r := voucher
			if t.resumed {
				for i := range cur.ReversalBookings {
					if b := &cur.ReversalBookings[i]; b.Seq == t.seq {
						b.Reference, b.Settlement = &r, set
					}
				}
			} else {
				cur.ReversalBookings = append(cur.ReversalBookings,
					ReversalBooking{Seq: t.seq, ReversalID: t.reversalID, Amount: t.amount, Reference: &r, Settlement: set})
			}
			ups = []firestore.Update{
				{Path: "reversalBookings", Value: cur.ReversalBookings},
				{Path: "reversalPending", Value: len(cur.awaited()) > 0},
				{Path: "reversalError", Value: firestore.Delete},
			}
		}
		rep.ReversalsAwaited = len(cur.awaited()) // with this one recorded
		if opts.DryRun {
			return nil
		}
		details := map[string]any{"payoutId": payoutID, "purpose": t.purpose, "marker": t.marker, "voucher": voucher,
			"voucherDate": v.TransactionDate, "bookingDate": t.date, "amount": t.amount, "currency": cur.Currency}
		if t.purpose == "reversal" {
			details["seq"] = int64(t.seq)
			if t.reversalID != "" {
				details["reversalId"] = t.reversalID
			}
		}
		audit := model.AuditEntry{Action: AuditSettleVoucher, SubjectHash: s.coachSubject(cur.CoachID), Actor: by,
			Details: details, CreatedAt: now, ExpiresAt: now.AddDate(model.AuditRetentionYears, 0, 0)}
		if err := tx.Set(s.Firestore.Collection(model.ColAuditLog).Doc(auditID), audit); err != nil {
			return err
		}
		if err := tx.Set(claimRef, map[string]any{"voucher": voucher, "payoutId": payoutID, "marker": t.marker, "at": now}); err != nil {
			return err
		}
		return tx.Update(ref, append(ups, firestore.Update{Path: "updatedAt", Value: now}))
	}, txOpts...)
	if errors.Is(err, errAlreadySettled) {
		// A concurrent call recorded it between our checks and the
		// transaction.
		rep.AlreadySettled, rep.VoucherDate = true, ""
		return rep, nil
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Unknown {
			err = store.Classify("record settlement", err)
		}
		return nil, err
	}
	rep.Settled = !opts.DryRun
	if rep.Settled {
		slog.InfoContext(ctx, "fortnox voucher settled by hand", "payoutId", payoutID, "purpose", t.purpose,
			"seq", t.seq, "voucher", voucher, "reversalsAwaited", rep.ReversalsAwaited)
	}
	return rep, nil
}

// readSettlable reads payouts/{id} (settlable). Errors: settlable's;
// Firestore failures classified.
func (s *Service) readSettlable(ctx context.Context, ref *firestore.DocumentRef) (*reversalPayout, bool, error) {
	snap, err := ref.Get(ctx)
	if err != nil && !store.IsNotFound(err) {
		return nil, false, store.Classify("read payout", err)
	}
	return settlable(snap)
}

// settlable decodes a payout snapshot with its reversal vouchers and
// whether it was released. Errors: NotFound when it does not exist;
// Internal when it does not decode.
func settlable(snap *firestore.DocumentSnapshot) (*reversalPayout, bool, error) {
	if !snap.Exists() {
		return nil, false, fault.New(fault.NotFound, "no such payout")
	}
	var p reversalPayout
	if err := snap.DataTo(&p); err != nil {
		return nil, false, fault.Wrap(err, fault.Internal, "decode payout")
	}
	p.PayoutID = snap.Ref.ID
	return &p, isReleased(snap), nil
}

// settleTarget finds the booking of p that a settlement with seq (0: the
// payout's own voucher) and voucher would record, or says why none may be
// (FailedPrecondition). It reads p only.
func (s *Service) settleTarget(p *reversalPayout, released bool, seq int, reversalID, voucher string) (settleTarget, error) {
	st := s.settings()
	var t settleTarget
	switch {
	case released:
		return t, fault.New(fault.FailedPrecondition, "the payout was released to another payout: it is never booked")
	case p.Status != model.PayoutCompleted:
		return t, fault.New(fault.FailedPrecondition, "the payout is %s: only a completed payout is booked in Fortnox", p.Status)
	case p.Currency != st.AccountingCurrency:
		return t, fault.New(fault.FailedPrecondition, "the payout is in %s, not the books' currency %s: the sync never books it, nothing to settle",
			p.Currency, st.AccountingCurrency)
	case p.Amount <= 0:
		return t, fault.New(fault.FailedPrecondition, "the payout has no amount: nothing is booked")
	}
	if seq == 0 {
		t = settleTarget{purpose: "payout", marker: p.PayoutID, amount: p.Amount, date: s.localDate(p.PayoutDate), mark: p.FortnoxBooking}
		if p.FortnoxBooking != nil {
			t.date = p.FortnoxBooking.Date
		}
		if p.FortnoxReference != nil {
			if *p.FortnoxReference == voucher {
				t.already = true
				return t, nil
			}
			return t, fault.New(fault.FailedPrecondition, "the payout's voucher is booked already (%s): nothing to settle", *p.FortnoxReference)
		}
		return t, usedInPayout(p, voucher)
	}
	if p.FortnoxReference == nil {
		return t, fault.New(fault.FailedPrecondition,
			"the payout's own voucher is not booked yet and its reversals wait for it: settle that one first (no reversal seq), or let the sync book it")
	}
	for _, b := range p.ReversalBookings {
		if b.Seq != seq || b.Reference == nil {
			continue
		}
		t = settleTarget{purpose: "reversal", seq: seq, reversalID: b.ReversalID, amount: b.Amount, marker: reversalMarker(p.PayoutID, seq),
			mark: b.Booking, resumed: true}
		if b.Booking != nil {
			t.date = b.Booking.Date
		}
		if *b.Reference == voucher && (reversalID == "" || reversalID == b.ReversalID) {
			t.already = true
			return t, nil
		}
		return t, fault.New(fault.FailedPrecondition, "reversal voucher %d is booked already (%s): nothing to settle", seq, *b.Reference)
	}
	awaited := p.awaited()
	if len(awaited) == 0 {
		return t, fault.New(fault.FailedPrecondition, "the payout awaits no reversal voucher: nothing to settle")
	}
	first := awaited[0]
	if first.seq != seq {
		for _, it := range awaited[1:] {
			if it.seq == seq {
				return t, fault.New(fault.FailedPrecondition,
					"reversal voucher %d waits behind voucher %d (marker %s, %d minor units), the one holding the payout's reversals back: settle that one first",
					seq, first.seq, reversalMarker(p.PayoutID, first.seq), first.amount)
			}
		}
		return t, fault.New(fault.FailedPrecondition, "the payout awaits no reversal voucher %d; the first it awaits is %d (marker %s, %d minor units)",
			seq, first.seq, reversalMarker(p.PayoutID, first.seq), first.amount)
	}
	if reversalID != "" && first.id != reversalID {
		return t, fault.New(fault.FailedPrecondition, "reversal voucher %d books reversal %q, not %q", seq, first.id, reversalID)
	}
	if !first.resumed && first.id == "" {
		// An amount the payout's known reversals do not explain: the sync
		// lists the transfer's reversals first and may split it.
		return t, fault.New(fault.FailedPrecondition,
			"reversal voucher %d is of an amount not yet matched to Stripe's reversals and not marked by a sync: let a sync list the reversals first", seq)
	}
	t = settleTarget{purpose: "reversal", seq: seq, reversalID: first.id, amount: first.amount, marker: reversalMarker(p.PayoutID, seq),
		date: s.localDate(first.at), mark: first.booking, resumed: first.resumed}
	if first.booking != nil {
		t.date = first.booking.Date
	}
	return t, usedInPayout(p, voucher)
}

// usedInPayout refuses a voucher that p records for another booking.
func usedInPayout(p *reversalPayout, voucher string) error {
	if p.FortnoxReference != nil && *p.FortnoxReference == voucher {
		return fault.New(fault.FailedPrecondition, "voucher %s is the payout's own voucher", voucher)
	}
	for _, b := range p.ReversalBookings {
		if b.Reference != nil && *b.Reference == voucher {
			return fault.New(fault.FailedPrecondition, "voucher %s is the payout's reversal voucher %d", voucher, b.Seq)
		}
	}
	return nil
}

// voucherOfAnotherPayout refuses a voucher that another payout records as
// its own (payouts.fortnoxReference).
func (s *Service) voucherOfAnotherPayout(ctx context.Context, payoutID, voucher string) error {
	snaps, err := indexes.MustLookup(indexes.QPayoutsByVoucher).MustBuild(s.Firestore, voucher).Documents(ctx).GetAll()
	if err != nil {
		return store.Classify("look the voucher up among payouts", err)
	}
	for _, snap := range snaps {
		if snap.Ref.ID != payoutID {
			return fault.New(fault.FailedPrecondition, "voucher %s is the voucher of payout %s", voucher, snap.Ref.ID)
		}
	}
	return nil
}

// checkSettlement reads the hand-booked voucher vref from Fortnox and
// checks it books, account by account, what the sync would have booked for
// t, and that the sync's own voucher (when it marked the booking) does not
// exist beside it. It returns the voucher.
func (s *Service) checkSettlement(ctx context.Context, c *fortnox.Client, p *reversalPayout, t settleTarget, vref fortnox.VoucherRef) (fortnox.Voucher, error) {
	v, err := c.Voucher(ctx, vref.Year, vref.Series, vref.Number)
	switch code := fault.CodeOf(err); {
	case err == nil:
	case code == fault.NotFound || code == fault.InvalidArgument:
		return v, fault.Wrap(err, fault.FailedPrecondition,
			fmt.Sprintf("voucher %s is not in Fortnox (series %s, number %d, financial-year id %d)", vref, vref.Series, vref.Number, vref.Year))
	default:
		return v, fmt.Errorf("read voucher %s from Fortnox: %w", vref, err)
	}
	var want fortnox.Voucher
	if t.purpose == "payout" {
		want = s.payoutVoucher(&p.Payout, t.date, s.settings().VoucherSeries)
	} else {
		want = s.reversalVoucher(p.PayoutID, t.seq, t.amount, t.date, s.settings().VoucherSeries)
	}
	if w, g := accountNets(want.VoucherRows), accountNets(v.VoucherRows); !sameNets(w, g) {
		return v, fault.New(fault.FailedPrecondition, "voucher %s books %s, not what the sync books for %s: %s",
			vref, describeNets(g), t.marker, describeNets(w))
	}
	if m := syncMarkers.FindAllStringSubmatch(v.Description, -1); len(m) > 0 {
		for _, g := range m {
			if g[1] != t.marker {
				return v, fault.New(fault.FailedPrecondition, "voucher %s is the sync's voucher of %s, not of %s", vref, g[1], t.marker)
			}
		}
	}
	if t.mark != nil {
		other, found, err := c.FindVoucher(ctx, t.mark.FinancialYear, t.mark.Series, t.mark.Date, t.marker)
		if err != nil {
			return v, fmt.Errorf("look for the sync's voucher %s in Fortnox: %w", t.marker, err)
		}
		if found && other != vref {
			return v, fault.New(fault.FailedPrecondition,
				"the sync's own voucher %s exists in Fortnox (%s): the next sync records it; recording %s too would book it twice",
				t.marker, other, vref)
		}
	}
	return v, nil
}

// syncMarkers finds the markers in the descriptions of the vouchers the
// sync posts (payoutVoucher, reversalVoucher, the sales vouchers): a
// voucher posted for another booking is never this one's.
var syncMarkers = regexp.MustCompile(`(?:Coach payout (?:transfer reversal )?|Program sale )([A-Za-z0-9_-]+)`)

// settledVoucherRef is the claim of a voucher recorded by SettleVoucher
// (jobs/fortnox-sync/settled/{series}_{number}_{year}: voucher, payoutId,
// marker, at), written in the settlement's transaction so that one
// voucher is never recorded for two bookings, also by two calls at once:
// Firestore cannot query the references inside payouts.reversalBookings.
func settledVoucherRef(lease *firestore.DocumentRef, v fortnox.VoucherRef) *firestore.DocumentRef {
	return lease.Collection("settled").Doc(fmt.Sprintf("%s_%d_%d", v.Series, v.Number, v.Year))
}

// accountNets sums rows per account as debit − credit (öre), leaving out
// removed rows and accounts that net to zero.
func accountNets(rows []fortnox.VoucherRow) map[int]fortnox.Amount {
	m := map[int]fortnox.Amount{}
	for _, r := range rows {
		if !r.Removed {
			m[r.Account] += r.Debit - r.Credit
		}
	}
	for a, n := range m {
		if n == 0 {
			delete(m, a)
		}
	}
	return m
}

func sameNets(a, b map[int]fortnox.Amount) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// describeNets writes nets as "1580 D 30.00, 2890 C 30.00".
func describeNets(m map[int]fortnox.Amount) string {
	accounts := make([]int, 0, len(m))
	for a := range m {
		accounts = append(accounts, a)
	}
	sort.Ints(accounts)
	var parts []string
	for _, a := range accounts {
		if n := m[a]; n > 0 {
			parts = append(parts, strconv.Itoa(a)+" D "+n.String())
		} else {
			parts = append(parts, strconv.Itoa(a)+" C "+(-n).String())
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// leaseHolder reads the holder of the sync's lease and until when it
// holds it ("" when the lease document is missing or released).
func leaseHolder(snap *firestore.DocumentSnapshot) (string, time.Time) {
	if snap == nil || !snap.Exists() {
		return "", time.Time{}
	}
	h, _ := snap.DataAt("checkpoint.holder")
	u, _ := snap.DataAt("checkpoint.leaseUntil")
	holder, _ := h.(string)
	until, _ := u.(time.Time)
	return holder, until
}

// coachSubject is the audit subject of a payout's coach: the coach's
// pseudonym (an erased coach's coachId already is one), as functions/gdpr
// keys its audit entries, so a coach's export and erasure find them.
func (s *Service) coachSubject(coachID string) string {
	if erasedCoachID(coachID) {
		return coachID
	}
	return pseudonym.Of(s.PseudonymKey, coachID)
}
