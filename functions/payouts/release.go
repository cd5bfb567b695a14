package payouts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
	"unicode"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// Release is payouts.release (server-only, added here): the audit record
// of a failed payout whose sales were released for a new payout
// (ReleaseFailed). A payout carrying it stays failed for good; its sales
// are paid by the payout that takes the released allocation entries.
type Release struct {
	// At and By say when and by whom (the operator named by `ops payouts
	// retry --by`, default the operator's login) the payout was released.
	At time.Time `firestore:"at" json:"at"`
	By string    `firestore:"by" json:"by"`
	// Attempt is the payout attempt of these sales that failed: 1 for a
	// first payout, 1 + the highest Attempt of the coach's earlier
	// released payouts that covered any of the same payments otherwise.
	Attempt int `firestore:"attempt" json:"attempt"`
	// Entries are the allocation entries released (payout_allocations/
	// {paymentId}, the coach's entry of event seq); the payout that
	// holds each now is in the allocation.
	Entries []ReleasedEntry `firestore:"entries" json:"entries"`
	// Amount is the sum of the released entries' amounts (minor units);
	// Amount + the payout's carriedIn is the payout's amount.
	Amount int64 `firestore:"amount" json:"amount"`
	// CarriedInRestored is the negative balance the payout had absorbed
	// (its carriedIn, ≤ 0), put back into the coach's carry-forward.
	CarriedInRestored int64 `firestore:"carriedInRestored" json:"carriedInRestored"`
	// TransferID is the payout's transfer, checked on Stripe to be fully
	// reversed; empty when Stripe had no transfer for the payout.
	TransferID string `firestore:"transferId,omitempty" json:"transferId,omitempty"`
	// FailedReason is the payout's reason when it was released.
	FailedReason string `firestore:"failedReason" json:"failedReason"`
	// VoucherReversedByHand: the payout had been booked in Fortnox before
	// it failed, and the operator stated that its voucher was reversed by
	// hand (ReleaseOptions.VoucherReversed).
	VoucherReversedByHand bool `firestore:"voucherReversedByHand,omitempty" json:"voucherReversedByHand,omitempty"`
}

// ReleasedEntry names one released allocation entry.
type ReleasedEntry struct {
	PaymentID string `firestore:"paymentId" json:"paymentId"`
	Seq       int    `firestore:"seq" json:"seq"`
	Amount    int64  `firestore:"amount" json:"amount"`
}

// ReleaseOptions are the operator's choices for ReleaseFailed.
type ReleaseOptions struct {
	// By names the operator in the audit record (required; no control
	// characters, at most 100 characters).
	By string
	// DryRun makes every check and reports what would be released,
	// writing nothing.
	DryRun bool
	// VoucherReversed states that the payout's Fortnox voucher (it was
	// booked while completed, before its transfer was reversed) has been
	// reversed by hand; without it such a payout is refused, so that the
	// money paid again is not booked twice.
	VoucherReversed bool
}

// ReleaseReport is what ReleaseFailed did (or, in a dry run, would do).
// It carries ids and amounts only, no personal data.
type ReleaseReport struct {
	PayoutID string `json:"payoutId"`
	Status   string `json:"status"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"` // the failed payout's amount
	DryRun   bool   `json:"dryRun"`
	// Released: the entries were released now (false in a dry run and
	// when they already had been).
	Released bool `json:"released"`
	// AlreadyReleased: an earlier call released the payout; nothing was
	// written now.
	AlreadyReleased   bool   `json:"alreadyReleased"`
	Payments          int    `json:"payments"`
	Entries           int    `json:"entries"`
	EntriesAmount     int64  `json:"entriesAmount"`
	CarriedInRestored int64  `json:"carriedInRestored"`
	Attempt           int    `json:"attempt"`
	TransferID        string `json:"transferId,omitempty"`
	// TakenBy lists the payouts that hold released entries now; Waiting
	// counts released entries no payout has taken yet (the next run).
	TakenBy []string `json:"takenBy"`
	Waiting int      `json:"waiting"`
	// LastPeriodEnd is jobs/payouts' last period end: `ops payouts run
	// --period ..LastPeriodEnd` pays the released entries now without
	// moving the schedule.
	LastPeriodEnd string `json:"lastPeriodEnd,omitempty"`
}

// releasedPayout is a payout with its release record.
type releasedPayout struct {
	model.Payout
	Release *Release `firestore:"release,omitempty"`
}

// errAlreadyReleased ends a release transaction that found the payout
// released by an earlier call.
var errAlreadyReleased = errors.New("already released")

// ReleaseFailed makes the money of a failed payout payable again: it
// releases the payout's allocation entries (their payoutId emptied, so
// that the next payout run takes them into a new payout with its own id,
// Stripe idempotency key and transfer_group), puts the negative balance
// the payout had absorbed (carriedIn) back into the coach's carry-forward,
// clears payments.payoutId where it names the payout (the new payout sets
// it), and records the audit trail in payouts.release. The payout itself
// stays failed (statuses never move backwards) and is never transferred
// nor booked.
//
// All writes happen in one Firestore transaction that re-reads the
// payout, the coach's Connect state, the allocations, the payments and the
// balance. It is idempotent: a payout already released is reported
// (AlreadyReleased, with the payouts that took its entries) and nothing is
// written, whatever its coach's state now.
//
// Errors (nothing is written with any of them): InvalidArgument for an
// unusable payout id or an empty or unprintable opts.By; NotFound for an
// unknown payout; FailedPrecondition when the payout is not failed, its
// coach was erased (a payout held with ReasonCoachErased is settled by
// hand), it is not a Stripe Connect payout with an amount, its coach's connected account
// cannot receive payouts (coach_profiles/{coach}/private/connect:
// stripeAccountId and payoutsEnabled, as the runner decides), Stripe is
// not configured (the transfer cannot be checked), a transfer of the
// payout stands on Stripe (not fully reversed: the money reached the
// coach's account), it was booked in Fortnox and opts.VoucherReversed is
// not set, or its allocation entries do not add up to its amount;
// Aborted when the payout changed during the Stripe check (run it again);
// Stripe lookup and Firestore failures keep their codes (retryable ones
// are worth a retry).
func (s *Service) ReleaseFailed(ctx context.Context, payoutID string, opts ReleaseOptions) (*ReleaseReport, error) {
	rep, err := s.releaseFailed(ctx, payoutID, opts)
	if err != nil {
		return nil, fmt.Errorf("release failed payout %s: %w", idPart(payoutID), err)
	}
	return rep, nil
}

func (s *Service) releaseFailed(ctx context.Context, payoutID string, opts ReleaseOptions) (*ReleaseReport, error) {
	if !safeID.MatchString(payoutID) {
		return nil, fault.Invalid("payout id must be 1–100 letters, digits, '_' or '-'")
	}
	by := strings.TrimSpace(opts.By)
	if by == "" || len(by) > 100 || strings.IndexFunc(by, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return nil, fault.Invalid("name the operator (1–100 printable characters)")
	}
	ref := s.Firestore.Collection(model.ColPayouts).Doc(payoutID)
	po, err := s.readReleasable(ctx, payoutID)
	if err != nil {
		return nil, err
	}
	if po.Release != nil {
		return s.releasedReport(ctx, po, opts.DryRun)
	}
	if err := releasable(&po.Payout, opts); err != nil {
		return nil, err
	}
	// The coach must be able to receive the money now, exactly as the
	// runner decides (re-checked in the transaction).
	if _, reason, err := s.destination(ctx, po.CoachID); err != nil {
		return nil, err
	} else if reason != "" {
		return nil, fault.New(fault.FailedPrecondition, "the coach cannot receive payouts yet: %s", reason)
	}
	// The money must not have reached the coach: no transfer, or one
	// fully reversed.
	transferID, err := s.checkNoStandingTransfer(ctx, &po.Payout)
	if err != nil {
		return nil, err
	}
	attempt, err := s.releaseAttempt(ctx, &po.Payout)
	if err != nil {
		return nil, err
	}

	rel := &Release{By: by, Attempt: attempt, TransferID: transferID, FailedReason: po.Reason,
		VoucherReversedByHand: opts.VoucherReversed && (po.FortnoxReference != nil || po.FortnoxBooking != nil)}
	var entries []ReleasedEntry
	var payments int
	txOpts := []firestore.TransactionOption{firestore.MaxAttempts(txAttempts)}
	if opts.DryRun {
		txOpts = append(txOpts, firestore.ReadOnly)
	}
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		entries, payments, err = s.releaseTx(tx, ref, &po.Payout, rel, opts.DryRun)
		return err
	}, txOpts...)
	if errors.Is(err, errAlreadyReleased) {
		// A concurrent call released it between our read and the
		// transaction.
		return s.ReleaseFailedReport(ctx, payoutID, opts.DryRun)
	}
	if err != nil {
		if fault.CodeOf(err) == fault.Unknown {
			err = store.Classify("release allocations", err)
		}
		return nil, err
	}
	rep := &ReleaseReport{PayoutID: payoutID, Status: string(po.Status), Currency: po.Currency, Amount: po.Amount,
		DryRun: opts.DryRun, Released: !opts.DryRun, Payments: payments, Entries: len(entries),
		CarriedInRestored: rel.CarriedInRestored, Attempt: attempt, TransferID: transferID, TakenBy: []string{}, Waiting: len(entries)}
	for _, e := range entries {
		rep.EntriesAmount += e.Amount
	}
	if last, err := s.lastPeriodEnd(ctx); err == nil && !last.IsZero() {
		rep.LastPeriodEnd = last.Format(time.DateOnly)
	}
	if !opts.DryRun {
		slog.InfoContext(ctx, "failed payout released", "payoutId", payoutID, "entries", len(entries),
			"amount", rep.EntriesAmount, "currency", po.Currency, "attempt", attempt)
	}
	return rep, nil
}

// ReleaseFailedReport reports on a payout released earlier (nothing is
// written): where its released entries are now. Errors: InvalidArgument,
// NotFound, FailedPrecondition when the payout has not been released;
// Firestore failures keep their codes.
func (s *Service) ReleaseFailedReport(ctx context.Context, payoutID string, dryRun bool) (*ReleaseReport, error) {
	if !safeID.MatchString(payoutID) {
		return nil, fault.Invalid("payout id must be 1–100 letters, digits, '_' or '-'")
	}
	po, err := s.readReleasable(ctx, payoutID)
	if err != nil {
		return nil, err
	}
	if po.Release == nil {
		return nil, fault.New(fault.FailedPrecondition, "payout is not released")
	}
	return s.releasedReport(ctx, po, dryRun)
}

// readReleasable reads payouts/{payoutID} with its release record.
// Errors: NotFound; Internal when it does not decode; Firestore failures
// classified (store.Classify).
func (s *Service) readReleasable(ctx context.Context, payoutID string) (*releasedPayout, error) {
	snap, err := s.Firestore.Collection(model.ColPayouts).Doc(payoutID).Get(ctx)
	if store.IsNotFound(err) {
		return nil, fault.New(fault.NotFound, "no such payout")
	}
	if err != nil {
		return nil, store.Classify("read payout", err)
	}
	var po releasedPayout
	if err := snap.DataTo(&po); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "decode payout")
	}
	po.PayoutID = payoutID
	return &po, nil
}

// releasable checks what the payout document alone says: a failed Stripe
// Connect payout with an amount, of a coach not erased (coachErased), not
// booked (unless the voucher was reversed by hand).
func releasable(po *model.Payout, opts ReleaseOptions) error {
	switch {
	case po.Status != model.PayoutFailed:
		return fault.New(fault.FailedPrecondition, "payout is %s, not failed: only a failed payout can be paid again", po.Status)
	case coachErased(po):
		return fault.New(fault.FailedPrecondition, "the payout's coach was erased: nobody can receive it; settle it by hand")
	case po.Processor != ProcessorStripeConnect:
		return fault.New(fault.FailedPrecondition, "payout is not a Stripe Connect payout (%s)", po.Processor)
	case po.Amount <= 0:
		return fault.New(fault.FailedPrecondition, "payout has no amount to pay")
	case po.FortnoxReference != nil && !opts.VoucherReversed:
		return fault.New(fault.FailedPrecondition,
			"payout was booked in Fortnox (%s) before it failed: reverse that voucher by hand, then release with the voucher-reversed option", *po.FortnoxReference)
	case po.FortnoxBooking != nil && !opts.VoucherReversed:
		return fault.New(fault.FailedPrecondition,
			"a Fortnox booking of the payout was started (voucher \"Coach payout %s\", %s): check Fortnox, reverse any such voucher by hand, then release with the voucher-reversed option",
			po.PayoutID, po.FortnoxBooking.Date)
	}
	return nil
}

// checkNoStandingTransfer makes sure that no money of payout po reached
// its coach: the recorded transfer (processorPayoutId) and any transfer
// found by the payout's transfer_group must be fully reversed. It returns
// the reversed transfer's id ("" when Stripe has none).
func (s *Service) checkNoStandingTransfer(ctx context.Context, po *model.Payout) (string, error) {
	if s.Transfers == nil {
		return "", fault.New(fault.FailedPrecondition, "Stripe is not configured: the payout's transfer cannot be checked")
	}
	var checked string
	check := func(tr *stripe.Transfer) error {
		if tr == nil {
			return nil
		}
		if !fullyReversed(tr) {
			return fault.New(fault.FailedPrecondition,
				"transfer %s of the payout stands (%d of %d reversed): the money reached the coach's Stripe account; settle it there, do not pay again",
				tr.ID, tr.AmountReversed, tr.Amount)
		}
		checked = tr.ID
		return nil
	}
	if id := po.ProcessorPayoutID; id != nil && *id != "" {
		tr, err := s.Transfers.Get(ctx, *id)
		if err != nil {
			return "", fault.Wrap(err, stripeCode(err), "read the payout's transfer on Stripe")
		}
		if err := check(tr); err != nil {
			return "", err
		}
	}
	tr, err := s.Transfers.Find(ctx, po.PayoutID)
	if err != nil {
		return "", fault.Wrap(err, stripeCode(err), "look the payout's transfer up on Stripe")
	}
	if err := check(tr); err != nil {
		return "", err
	}
	return checked, nil
}

// fullyReversed reports whether all of tr's amount went back to the
// platform.
func fullyReversed(tr *stripe.Transfer) bool {
	return tr.Reversed || (tr.Amount > 0 && tr.AmountReversed >= tr.Amount)
}

// stripeCode is the fault code of a failed Stripe lookup: retryable
// (Unavailable) unless Stripe rejected the request itself.
func stripeCode(err error) fault.Code {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != 429 {
		return fault.FailedPrecondition
	}
	if c := fault.CodeOf(err); c != fault.Unknown {
		return c
	}
	return fault.Unavailable
}

// releaseAttempt is the attempt number of po's sales (see
// Release.Attempt), from the coach's earlier released payouts.
func (s *Service) releaseAttempt(ctx context.Context, po *model.Payout) (int, error) {
	mine := map[string]bool{}
	for _, id := range po.RelatedPaymentIDs {
		mine[id] = true
	}
	snaps, err := indexes.MustLookup(indexes.QPayoutsByCoach).MustBuild(s.Firestore, po.CoachID).Documents(ctx).GetAll()
	if err != nil {
		return 0, store.Classify("read the coach's payouts", err)
	}
	attempt := 1
	for _, snap := range snaps {
		if snap.Ref.ID == po.PayoutID {
			continue
		}
		var other releasedPayout
		if err := snap.DataTo(&other); err != nil || other.Release == nil {
			continue
		}
		for _, e := range other.Release.Entries {
			if mine[e.PaymentID] {
				attempt = max(attempt, other.Release.Attempt+1)
				break
			}
		}
	}
	return attempt, nil
}

// releaseTx is the release transaction: it re-reads and re-checks the
// payout (and that nothing the checks relied on changed), the coach's
// Connect state, every allocation and payment of the payout and the
// coach's balance, and, unless dryRun, writes the release. It fills rel
// and returns the released entries and the number of payments.
func (s *Service) releaseTx(tx *firestore.Transaction, ref *firestore.DocumentRef, seen *model.Payout, rel *Release, dryRun bool) ([]ReleasedEntry, int, error) {
	fs := s.Firestore
	coach := seen.CoachID
	if !safeID.MatchString(coach) {
		return nil, 0, fault.New(fault.FailedPrecondition, "the coach cannot receive payouts yet: %s", ReasonNoAccount)
	}
	stateRef := fs.Collection(model.ColUsers).Doc(coach).Collection(model.SubColPrivate).Doc(model.DocPayoutState)
	refs := []*firestore.DocumentRef{ref, fs.Doc(model.CoachConnectPath(coach)), stateRef}
	ids := append([]string(nil), seen.RelatedPaymentIDs...)
	sort.Strings(ids)
	for _, id := range ids {
		if !safeID.MatchString(id) {
			return nil, 0, fault.New(fault.Internal, "payout lists a payment id that is not a document id")
		}
		refs = append(refs, fs.Collection(model.ColPayoutAllocations).Doc(id), fs.Collection(model.ColPayments).Doc(id))
	}
	snaps, err := tx.GetAll(refs)
	if err != nil {
		return nil, 0, err
	}
	if !snaps[0].Exists() {
		return nil, 0, fault.New(fault.NotFound, "no such payout")
	}
	var cur releasedPayout
	if err := snaps[0].DataTo(&cur); err != nil {
		return nil, 0, fault.Wrap(err, fault.Internal, "decode payout")
	}
	cur.PayoutID = seen.PayoutID
	if cur.Release != nil {
		return nil, 0, errAlreadyReleased
	}
	if err := releasable(&cur.Payout, ReleaseOptions{VoucherReversed: rel.VoucherReversedByHand}); err != nil {
		return nil, 0, err
	}
	if ptr(cur.ProcessorPayoutID) != ptr(seen.ProcessorPayoutID) || ptr(cur.FortnoxReference) != ptr(seen.FortnoxReference) ||
		(cur.FortnoxBooking == nil) != (seen.FortnoxBooking == nil) || cur.Amount != seen.Amount || cur.CarriedIn != seen.CarriedIn {
		return nil, 0, fault.New(fault.Aborted, "the payout changed while it was being checked: run again")
	}
	var cc *model.CoachConnect
	if snaps[1].Exists() {
		c := model.DecodeCoachConnect(snaps[1].Data())
		cc = &c
	}
	if _, reason := connectDestination(cc); reason != "" {
		return nil, 0, fault.New(fault.FailedPrecondition, "the coach cannot receive payouts yet: %s", reason)
	}

	now := s.now()
	type allocWrite struct {
		ref   *firestore.DocumentRef
		alloc *model.PayoutAllocation
	}
	var allocs []allocWrite
	var clearPayment []*firestore.DocumentRef
	var entries []ReleasedEntry
	var sum int64
	for i, id := range ids {
		as, ps := snaps[3+2*i], snaps[4+2*i]
		if !as.Exists() {
			continue
		}
		var a model.PayoutAllocation
		if err := as.DataTo(&a); err != nil {
			return nil, 0, fault.Wrap(err, fault.Internal, "decode allocation")
		}
		n := 0
		for j := range a.Entries {
			e := &a.Entries[j]
			if e.PayoutID != seen.PayoutID {
				continue
			}
			e.PayoutID = ""
			entries = append(entries, ReleasedEntry{PaymentID: id, Seq: e.Seq, Amount: e.Amount})
			sum += e.Amount
			n++
		}
		if n == 0 {
			continue
		}
		refreshOpen(&a, now)
		allocs = append(allocs, allocWrite{as.Ref, &a})
		if ps.Exists() {
			if v, _ := ps.DataAt("payoutId"); v == seen.PayoutID {
				clearPayment = append(clearPayment, ps.Ref)
			}
		}
	}
	carryIn := min(cur.CarriedIn, 0)
	if len(entries) == 0 || sum+carryIn != cur.Amount {
		return nil, 0, fault.New(fault.FailedPrecondition,
			"the payout's allocation entries (%d, %d in all) and carried-in balance (%d) do not add up to its amount (%d): check by hand",
			len(entries), sum, carryIn, cur.Amount)
	}
	rel.At, rel.Entries, rel.Amount, rel.CarriedInRestored = now, entries, sum, carryIn
	if dryRun {
		return entries, len(allocs), nil
	}

	for _, w := range allocs {
		if err := tx.Update(w.ref, []firestore.Update{
			{Path: "entries", Value: w.alloc.Entries}, {Path: "open", Value: w.alloc.Open},
			{Path: "hasOpen", Value: w.alloc.HasOpen}, {Path: "updatedAt", Value: now},
		}); err != nil {
			return nil, 0, err
		}
	}
	for _, r := range clearPayment {
		if err := tx.Update(r, []firestore.Update{{Path: "payoutId", Value: firestore.Delete}}); err != nil {
			return nil, 0, err
		}
	}
	if carryIn < 0 {
		st := model.CoachPayoutState{CoachID: coach, CarryForward: map[string]int64{}}
		if snaps[2].Exists() {
			if err := snaps[2].DataTo(&st); err != nil {
				return nil, 0, fault.Wrap(err, fault.Internal, "decode payout state")
			}
		}
		balance := min(st.CarryForward[cur.Currency], 0) + carryIn
		if err := tx.Set(stateRef, map[string]any{
			"coachId": coach, "carryForward": map[string]any{cur.Currency: balance},
			"lastPayoutId": seen.PayoutID, "updatedAt": now,
		}, firestore.MergeAll); err != nil {
			return nil, 0, err
		}
	}
	if err := tx.Update(ref, []firestore.Update{{Path: "release", Value: rel}, {Path: "updatedAt", Value: now}}); err != nil {
		return nil, 0, err
	}
	return entries, len(allocs), nil
}

// releasedReport reports a payout released earlier: where its released
// entries are now (read, nothing written).
func (s *Service) releasedReport(ctx context.Context, po *releasedPayout, dryRun bool) (*ReleaseReport, error) {
	r := po.Release
	rep := &ReleaseReport{PayoutID: po.PayoutID, Status: string(po.Status), Currency: po.Currency, Amount: po.Amount,
		DryRun: dryRun, AlreadyReleased: true, Entries: len(r.Entries), EntriesAmount: r.Amount,
		CarriedInRestored: r.CarriedInRestored, Attempt: r.Attempt, TransferID: r.TransferID, TakenBy: []string{}}
	seqs := map[string][]int{}
	for _, e := range r.Entries {
		seqs[e.PaymentID] = append(seqs[e.PaymentID], e.Seq)
	}
	rep.Payments = len(seqs)
	var refs []*firestore.DocumentRef
	for id := range seqs {
		refs = append(refs, s.Firestore.Collection(model.ColPayoutAllocations).Doc(id))
	}
	taken := map[string]bool{}
	err := getEach(ctx, s.Firestore, refs, func(snap *firestore.DocumentSnapshot) error {
		if !snap.Exists() {
			return nil
		}
		var a model.PayoutAllocation
		if err := snap.DataTo(&a); err != nil {
			return fault.Wrap(err, fault.Internal, "decode allocation")
		}
		for _, seq := range seqs[snap.Ref.ID] {
			for _, e := range a.Entries {
				if e.Seq != seq || e.CoachID != po.CoachID {
					continue
				}
				if e.PayoutID == "" {
					rep.Waiting++
				} else {
					taken[e.PayoutID] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range taken {
		rep.TakenBy = append(rep.TakenBy, id)
	}
	sort.Strings(rep.TakenBy)
	if last, err := s.lastPeriodEnd(ctx); err == nil && !last.IsZero() {
		rep.LastPeriodEnd = last.Format(time.DateOnly)
	}
	return rep, nil
}

// ptr is *p, or "" for nil.
func ptr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
