package payouts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/transfer"
	"github.com/stripe/stripe-go/v76/transferreversal"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// TransferAPI is the part of Stripe Connect the payouts use.
type TransferAPI interface {
	// Create creates the transfer of payout p to the connected account
	// destination, with p.PayoutID as idempotency key and transfer_group
	// and metadata[payoutId].
	Create(ctx context.Context, p *model.Payout, destination string) (*stripe.Transfer, error)
	// Find returns the transfer whose transfer_group or metadata[payoutId]
	// is payoutID, or nil when there is none.
	Find(ctx context.Context, payoutID string) (*stripe.Transfer, error)
	// Get returns a transfer by id.
	Get(ctx context.Context, id string) (*stripe.Transfer, error)
}

// ReversalLister is implemented by a TransferAPI that can list every
// reversal of a transfer: a transfer object embeds only its newest ten.
// The Fortnox sync uses it when a payout records a reversed amount that
// its known reversals do not add up to (see syncReversals).
type ReversalLister interface {
	// Reversals returns every reversal of transfer transferID, paging
	// through Stripe's list.
	Reversals(ctx context.Context, transferID string) ([]*stripe.TransferReversal, error)
}

// StripeTransfers implements TransferAPI and ReversalLister with
// stripe-go.
type StripeTransfers struct {
	Client transfer.Client
}

// NewStripeTransfers returns a TransferAPI for the secret key, talking to
// apiURL when set (stripe-mock locally), else to Stripe.
func NewStripeTransfers(key, apiURL string) *StripeTransfers {
	cfg := &stripe.BackendConfig{MaxNetworkRetries: stripe.Int64(2), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	if apiURL != "" {
		cfg.URL = stripe.String(apiURL)
	}
	return &StripeTransfers{Client: transfer.Client{B: stripe.GetBackendWithConfig(stripe.APIBackend, cfg), Key: key}}
}

// Create implements TransferAPI.
func (t *StripeTransfers) Create(ctx context.Context, p *model.Payout, destination string) (*stripe.Transfer, error) {
	params := &stripe.TransferParams{
		Amount:        stripe.Int64(p.Amount),
		Currency:      stripe.String(strings.ToLower(p.Currency)),
		Destination:   stripe.String(destination),
		TransferGroup: stripe.String(p.PayoutID),
		Description:   stripe.String("Inner Journey coach payout " + p.PayoutID),
	}
	params.Context = ctx
	params.SetIdempotencyKey(p.PayoutID)
	params.AddMetadata("payoutId", p.PayoutID)
	return t.Client.New(params)
}

// Find implements TransferAPI.
func (t *StripeTransfers) Find(ctx context.Context, payoutID string) (*stripe.Transfer, error) {
	params := &stripe.TransferListParams{TransferGroup: stripe.String(payoutID)}
	params.Context = ctx
	params.Limit = stripe.Int64(10)
	params.Single = true
	it := t.Client.List(params)
	for it.Next() {
		tr := it.Transfer()
		if tr.TransferGroup == payoutID || tr.Metadata["payoutId"] == payoutID {
			return tr, nil
		}
	}
	return nil, it.Err()
}

// Get implements TransferAPI.
func (t *StripeTransfers) Get(ctx context.Context, id string) (*stripe.Transfer, error) {
	params := &stripe.TransferParams{}
	params.Context = ctx
	return t.Client.Get(id, params)
}

// Reversals implements ReversalLister (GET /v1/transfers/{id}/reversals,
// 100 a page, every page).
func (t *StripeTransfers) Reversals(ctx context.Context, transferID string) ([]*stripe.TransferReversal, error) {
	params := &stripe.TransferReversalListParams{ID: stripe.String(transferID)}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	it := transferreversal.Client{B: t.Client.B, Key: t.Client.Key}.List(params)
	var out []*stripe.TransferReversal
	for it.Next() {
		out = append(out, it.TransferReversal())
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// TransferReport counts what ExecuteTransfers and Confirm did.
type TransferReport struct {
	Processing int `json:"processing"` // transfers created (status processing)
	Waiting    int `json:"waiting"`    // left pending with a reason (no eligible account, retry later)
	Failed     int `json:"failed"`
	Confirmed  int `json:"confirmed"` // processing payouts settled from the transfer's state
	// CoachErased counts the payouts this run held because their coach
	// was erased (status failed, reason ReasonCoachErased, alert
	// AlertCoachErased): never transferred, to be settled by hand.
	CoachErased int `json:"coachErased"`
}

// Reasons a payout stays pending.
const (
	ReasonNoAccount       = "coach has no Stripe Connect account"
	ReasonPayoutsDisabled = "payouts are not enabled on the coach's Stripe account"
	ReasonNoStripe        = "Stripe is not configured"
	ReasonNoBalance       = "insufficient platform balance; retried on the next run"
	// reasonErasedUnchecked: a payout of an erased coach whose earlier
	// transfer attempt Stripe could not be asked about (held once it is
	// known that no transfer was made).
	reasonErasedUnchecked = "an earlier transfer attempt of this erased coach's payout could not be checked on Stripe; retried on the next run"
	// reasonErasedInFlight: a payout of an erased coach whose transfer
	// another run started less than Settings.ConfirmAfter ago (it may be
	// in flight: held only once it is known that none was made).
	reasonErasedInFlight = "a transfer of this erased coach's payout may be in flight; checked again on the next run"
)

// ReasonCoachErased is the reason of a payout held because its coach was
// erased (see holdErased): it is failed, never transferred, and settled by
// hand (paid by other means or booked as the platform's). Operators find
// such payouts by status "failed" and this reason.
const ReasonCoachErased = "coach erased: nobody can receive this payout; settle it by hand"

// AlertCoachErased is the "alert" attribute of the ERROR line logged once
// when a run holds a payout because its coach was erased (payoutId,
// amount, currency; nothing about the coach).
const AlertCoachErased = "payout_coach_erased"

// ExecuteTransfers transfers every pending payout with an amount to its
// coach's connected account. A coach without an eligible account (no
// stripeAccountId in coach_profiles/{coach}/private/connect, or
// payoutsEnabled false there) keeps the payout pending with a reason. A
// transfer that may have been sent before
// (transferStartedAt set, no processorPayoutId) is looked up by its
// transfer_group first, so a payout is never transferred twice even after
// Stripe's 24-hour idempotency window; a transfer found that way is
// recorded even when the account is no longer eligible. Errors from Stripe are recorded on
// the payout: retryable ones and an insufficient balance leave it pending,
// others mark it failed. A payout whose coach was erased (coachErased) is
// never transferred: it is held once (holdErased). Only Firestore failures
// are returned.
func (s *Service) ExecuteTransfers(ctx context.Context) (TransferReport, error) {
	var rep TransferReport
	snaps, err := indexes.MustLookup(indexes.QPayoutsPending).MustBuild(s.Firestore, string(model.PayoutPending)).Documents(ctx).GetAll()
	if err != nil {
		return rep, store.Classify("query pending payouts", err)
	}
	for i, snap := range snaps {
		var po model.Payout
		if err := snap.DataTo(&po); err != nil {
			continue
		}
		po.PayoutID = snap.Ref.ID
		if po.Processor != ProcessorStripeConnect || po.Amount <= 0 || po.ProcessorPayoutID != nil {
			continue
		}
		var status model.PayoutStatus
		held := false
		if coachErased(&po) {
			status, held, err = s.holdErased(ctx, &po)
		} else {
			status, err = s.transferOne(ctx, &po)
		}
		if err != nil {
			return rep, err
		}
		switch {
		case held:
			rep.CoachErased++
		case status == model.PayoutProcessing, status == model.PayoutCompleted:
			rep.Processing++
		case status == model.PayoutFailed:
			rep.Failed++
		case status == model.PayoutPending:
			rep.Waiting++
		}
		s.progress("transfers", i+1, len(snaps))
	}
	return rep, nil
}

// transferOne transfers one pending payout and returns its new status.
func (s *Service) transferOne(ctx context.Context, po *model.Payout) (model.PayoutStatus, error) {
	ref := s.Firestore.Collection(model.ColPayouts).Doc(po.PayoutID)
	dest, reason, err := s.destination(ctx, po.CoachID)
	if err != nil {
		return "", err
	}
	if reason == "" && s.Transfers == nil {
		reason = ReasonNoStripe
	}
	if reason != "" {
		// An earlier attempt may have made the transfer before the account
		// became ineligible (or Stripe was unconfigured): adopt it rather
		// than leave the payout pending for ever.
		if po.TransferStartedAt != nil && s.Transfers != nil {
			tr, err := s.Transfers.Find(ctx, po.PayoutID)
			if err != nil {
				slog.WarnContext(ctx, "payout transfer lookup failed", "payoutId", po.PayoutID)
			} else if tr != nil {
				return s.adoptTransfer(ctx, ref, po.PayoutID, tr)
			}
		}
		return model.PayoutPending, s.setReason(ctx, ref, reason)
	}
	// Mark the attempt, unless another run got here first.
	var started bool
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := readIn[model.Payout](tx, ref)
		if err != nil {
			return err
		}
		if cur.Status != model.PayoutPending || cur.ProcessorPayoutID != nil {
			return errSkip
		}
		started = cur.TransferStartedAt != nil
		now := s.now()
		return tx.Update(ref, []firestore.Update{{Path: "transferStartedAt", Value: now}, {Path: "updatedAt", Value: now}})
	}, firestore.MaxAttempts(txAttempts))
	if errors.Is(err, errSkip) {
		return po.Status, nil
	}
	if err != nil {
		return "", store.Classify("mark transfer "+po.PayoutID, err)
	}

	var tr *stripe.Transfer
	if started {
		tr, err = s.Transfers.Find(ctx, po.PayoutID)
	}
	if err == nil && tr == nil {
		tr, err = s.Transfers.Create(ctx, po, dest)
	}
	if err != nil {
		status, why := classifyStripe(err)
		slog.WarnContext(ctx, "payout transfer not made", "payoutId", po.PayoutID, "reason", why)
		return status, s.finishTransfer(ctx, ref, status, nil, why)
	}
	return s.adoptTransfer(ctx, ref, po.PayoutID, tr)
}

// holdErased settles pending payout po of an erased coach (coachErased):
// nobody can receive a transfer under its coachId, so rather than wait for
// a Connect account for ever it is made final once, in a transaction that
// re-reads it: status failed with ReasonCoachErased (pseudonymised and
// legalHoldUntil untouched: it stays on its legal hold), and one ERROR
// line with AlertCoachErased (payout id, amount, currency). A transfer an
// earlier attempt may have made (transferStartedAt) is looked up first and
// recorded when found (adoptTransfer: the money reached the coach's
// account before the erasure); while Stripe cannot be asked (not
// configured, lookup failed), or another run started a transfer less than
// Settings.ConfirmAfter ago (it may be in flight: not found yet, made
// after the lookup), the payout stays pending with a reason and is looked
// at again on the next run. The hold is claimed (reason
// ReasonCoachErased while still pending) before the alert is logged and
// made final after it, so that a run dying in between leaves the alert to
// the next run (once the claim is older than Settings.ConfirmAfter):
// logged at least once, and once unless the hold cannot be made final
// after the alert (the process died, Firestore failed). held
// reports that this call made it final; status is the payout's status
// then ("" when another run changed or holds it meanwhile). Only
// Firestore failures are returned.
func (s *Service) holdErased(ctx context.Context, po *model.Payout) (status model.PayoutStatus, held bool, err error) {
	ref := s.Firestore.Collection(model.ColPayouts).Doc(po.PayoutID)
	if po.TransferStartedAt != nil {
		if s.now().Sub(*po.TransferStartedAt) < s.settings().ConfirmAfter {
			// Another run may be waiting for Stripe's answer right now.
			return model.PayoutPending, false, s.setReason(ctx, ref, reasonErasedInFlight)
		}
		if s.Transfers == nil {
			return model.PayoutPending, false, s.setReason(ctx, ref, ReasonNoStripe)
		}
		tr, err := s.Transfers.Find(ctx, po.PayoutID)
		if err != nil {
			slog.WarnContext(ctx, "payout transfer lookup failed", "payoutId", po.PayoutID)
			return model.PayoutPending, false, s.setReason(ctx, ref, reasonErasedUnchecked)
		}
		if tr != nil {
			status, err := s.adoptTransfer(ctx, ref, po.PayoutID, tr)
			return status, false, err
		}
	}
	// Claim the hold first (reason ReasonCoachErased, still pending), then
	// alert, then make it final: a run that dies after the claim leaves
	// the payout pending, and the next run (the claim older than
	// ConfirmAfter: its run is gone) alerts and holds it, so the alert is
	// never lost; while a claim is fresh, another run is alerting.
	var amount int64
	var currency string
	err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := readIn[model.Payout](tx, ref)
		if err != nil {
			return err
		}
		// Another run moved it, or started a transfer after this one read
		// it (that run, or the next, looks the transfer up first), or is
		// holding it now.
		if cur.Status != model.PayoutPending || cur.ProcessorPayoutID != nil ||
			(cur.TransferStartedAt != nil && (po.TransferStartedAt == nil || !cur.TransferStartedAt.Equal(*po.TransferStartedAt))) ||
			(cur.Reason == ReasonCoachErased && s.now().Sub(cur.UpdatedAt) < s.settings().ConfirmAfter) {
			return errSkip
		}
		amount, currency = cur.Amount, cur.Currency
		return tx.Update(ref, []firestore.Update{{Path: "reason", Value: ReasonCoachErased}, {Path: "updatedAt", Value: s.now()}})
	}, firestore.MaxAttempts(txAttempts))
	if errors.Is(err, errSkip) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.Classify("hold payout "+po.PayoutID, err)
	}
	slog.ErrorContext(ctx, "payout of an erased coach held: settle it by hand", "alert", AlertCoachErased,
		"payoutId", po.PayoutID, "amount", amount, "currency", currency)
	// Alerted now: make the hold final even if the run is being stopped.
	err = s.Firestore.RunTransaction(context.WithoutCancel(ctx), func(ctx context.Context, tx *firestore.Transaction) error {
		held = false
		cur, err := readIn[model.Payout](tx, ref)
		if err != nil {
			return err
		}
		if cur.Status != model.PayoutPending || cur.ProcessorPayoutID != nil || cur.Reason != ReasonCoachErased {
			return errSkip
		}
		held = true
		return tx.Update(ref, []firestore.Update{{Path: "status", Value: string(model.PayoutFailed)}, {Path: "updatedAt", Value: s.now()}})
	}, firestore.MaxAttempts(txAttempts))
	if errors.Is(err, errSkip) {
		return "", false, nil
	}
	if err != nil {
		return "", false, store.Classify("hold payout "+po.PayoutID, err)
	}
	return model.PayoutFailed, true, nil
}

// adoptTransfer records transfer tr, created or found for the pending
// payout at ref, and returns the payout's new status: processing, or
// failed when the transfer was already reversed.
func (s *Service) adoptTransfer(ctx context.Context, ref *firestore.DocumentRef, payoutID string, tr *stripe.Transfer) (model.PayoutStatus, error) {
	status := model.PayoutProcessing
	why := ""
	if fullyReversed(tr) {
		status, why = model.PayoutFailed, "transfer reversed"
	}
	slog.InfoContext(ctx, "payout transfer recorded", "payoutId", payoutID, "transferId", tr.ID)
	return status, s.finishTransfer(ctx, ref, status, &tr.ID, why)
}

var errSkip = errors.New("skip")

// destination returns the coach's connected account, or why there is none.
func (s *Service) destination(ctx context.Context, coach string) (account, reason string, err error) {
	if !safeID.MatchString(coach) {
		return "", ReasonNoAccount, nil
	}
	snap, err := s.Firestore.Doc(model.CoachConnectPath(coach)).Get(ctx)
	if store.IsNotFound(err) {
		return "", ReasonNoAccount, nil
	}
	if err != nil {
		return "", "", store.Classify("read connect state", err)
	}
	cc := model.DecodeCoachConnect(snap.Data())
	account, reason = connectDestination(&cc)
	return account, reason, nil
}

// connectDestination decides a coach's payout destination from their
// Connect state (nil: none recorded): the connected account, or why there
// is none (ReasonNoAccount, ReasonPayoutsDisabled).
func connectDestination(cc *model.CoachConnect) (account, reason string) {
	switch {
	case cc == nil || cc.StripeAccountID == "":
		return "", ReasonNoAccount
	case !cc.PayoutsEnabled:
		return "", ReasonPayoutsDisabled
	}
	return cc.StripeAccountID, ""
}

// setReason records why a payout waits (only when it changes).
func (s *Service) setReason(ctx context.Context, ref *firestore.DocumentRef, reason string) error {
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := readIn[model.Payout](tx, ref)
		if err != nil {
			return err
		}
		if cur.Status != model.PayoutPending || cur.Reason == reason {
			return nil
		}
		return tx.Update(ref, []firestore.Update{{Path: "reason", Value: reason}, {Path: "updatedAt", Value: s.now()}})
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("record payout reason", err)
}

// finishTransfer records a transfer's outcome, never moving a payout that a
// webhook has already advanced back to an earlier status.
func (s *Service) finishTransfer(ctx context.Context, ref *firestore.DocumentRef, status model.PayoutStatus, transferID *string, reason string) error {
	err := s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		cur, err := readIn[model.Payout](tx, ref)
		if err != nil {
			return err
		}
		now := s.now()
		ups := []firestore.Update{{Path: "updatedAt", Value: now}}
		if transferID != nil && cur.ProcessorPayoutID == nil {
			ups = append(ups, firestore.Update{Path: "processorPayoutId", Value: *transferID})
		}
		if cur.Status == model.PayoutPending {
			ups = append(ups, firestore.Update{Path: "status", Value: string(status)}, firestore.Update{Path: "reason", Value: reason})
			if status == model.PayoutProcessing {
				ups = append(ups, firestore.Update{Path: "payoutDate", Value: now})
			}
		}
		return tx.Update(ref, ups)
	}, firestore.MaxAttempts(txAttempts))
	return store.Classify("record transfer", err)
}

// classifyStripe maps a Stripe error to the payout's status and a reason
// without personal data: retryable failures (network, 429, 5xx, an
// idempotent request still in flight), the platform's key refused (401,
// 403) and an insufficient balance leave the payout pending; other
// refusals mark it failed.
func classifyStripe(err error) (model.PayoutStatus, string) {
	var se *stripe.Error
	if !errors.As(err, &se) {
		if fault.Retryable(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return model.PayoutPending, "transfer not confirmed; retried on the next run"
		}
		return model.PayoutPending, "transfer request failed; retried on the next run"
	}
	code := string(se.Code)
	switch {
	case se.Code == stripe.ErrorCodeBalanceInsufficient:
		return model.PayoutPending, ReasonNoBalance
	case se.HTTPStatusCode == http.StatusTooManyRequests, se.HTTPStatusCode == http.StatusConflict,
		se.HTTPStatusCode >= 500, se.HTTPStatusCode == 0, se.Type == stripe.ErrorTypeAPI:
		return model.PayoutPending, fmt.Sprintf("Stripe unavailable (%d); retried on the next run", se.HTTPStatusCode)
	case se.HTTPStatusCode == http.StatusUnauthorized, se.HTTPStatusCode == http.StatusForbidden:
		// The platform's own key was refused (revoked, wrong, or without
		// the transfer permission): nothing about this payout.
		return model.PayoutPending, fmt.Sprintf("Stripe refused the platform's API key (%d): fix STRIPE_SECRET_KEY; retried on the next run", se.HTTPStatusCode)
	}
	if code == "" {
		code = string(se.Type)
	}
	return model.PayoutFailed, "Stripe refused the transfer: " + code
}

// Confirm settles processing payouts that no webhook has settled within
// Settings.ConfirmAfter from their transfer: completed when the transfer
// stands, failed when it was reversed. A transfer that stands but was
// partly reversed has its reversals recorded as the webhook records them
// (model.Payout.ReversalNews: each listed reversal by id, and the amount
// reversed), to be booked by the Fortnox sync. It returns how many it
// settled.
//
// A Stripe Connect payout in processing without processorPayoutId (a
// transfer.* webhook moved it there, but the run that made the transfer
// lost Stripe's answer or died before recording it) has its transfer
// looked up by transfer_group / metadata payoutId (TransferAPI.Find); the
// transfer id is recorded in the same transaction that settles the
// payout. A payout whose transfer is not found stays processing and is
// looked up again on the next run. Confirm never creates a transfer.
func (s *Service) Confirm(ctx context.Context) (int, error) {
	if s.Transfers == nil {
		return 0, nil
	}
	cutoff := s.now().Add(-s.settings().ConfirmAfter)
	snaps, err := indexes.MustLookup(indexes.QPayoutsStuck).MustBuild(s.Firestore, string(model.PayoutProcessing), cutoff).
		Documents(ctx).GetAll()
	if err != nil {
		return 0, store.Classify("query processing payouts", err)
	}
	n := 0
	for i, snap := range snaps {
		var po model.Payout
		if err := snap.DataTo(&po); err != nil {
			continue
		}
		tr, err := s.settledTransfer(ctx, snap.Ref.ID, &po)
		if err != nil {
			slog.WarnContext(ctx, "payout transfer not readable", "payoutId", snap.Ref.ID)
			continue
		}
		if tr == nil {
			continue
		}
		status, reason := model.PayoutCompleted, ""
		if fullyReversed(tr) {
			status, reason = model.PayoutFailed, "transfer reversed"
		}
		err = s.Firestore.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			cur, err := tx.Get(snap.Ref)
			if err != nil {
				return err
			}
			var p model.Payout
			if err := cur.DataTo(&p); err != nil {
				return err
			}
			if p.Status != model.PayoutProcessing {
				return errSkip
			}
			ups := []firestore.Update{{Path: "status", Value: string(status)}, {Path: "updatedAt", Value: s.now()}}
			switch {
			case p.ProcessorPayoutID == nil || *p.ProcessorPayoutID == "":
				ups = append(ups, firestore.Update{Path: "processorPayoutId", Value: tr.ID})
			case *p.ProcessorPayoutID != tr.ID:
				// Recorded meanwhile (a webhook) with another id: the next
				// run confirms from that one.
				return errSkip
			}
			if reason != "" {
				ups = append(ups, firestore.Update{Path: "reason", Value: reason})
			}
			if rev := partlyReversed(tr); rev > 0 {
				ups = append(ups, p.ReversalUpdates(rev, listedReversals(tr.Reversals), s.now())...)
			}
			return tx.Update(snap.Ref, ups)
		}, firestore.MaxAttempts(txAttempts))
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return n, store.Classify("confirm payout", err)
		}
		n++
		s.progress("confirm", i+1, len(snaps))
	}
	return n, nil
}

// partlyReversed is the amount reversed of a transfer that still stands
// (0 when none was reversed or all of it was: a full reversal fails the
// payout).
func partlyReversed(tr *stripe.Transfer) int64 {
	if fullyReversed(tr) || tr.AmountReversed <= 0 {
		return 0
	}
	return tr.AmountReversed
}

// listedReversals are the reversals of a list (a transfer's embedded
// one: its newest ten; or all of them, ReversalLister) by id: amount and
// created time. Entries without a usable id, amount or time are left out
// (model.ListedReversal).
func listedReversals(list *stripe.TransferReversalList) map[string]model.TransferReversal {
	if list == nil {
		return nil
	}
	return reversalsByID(list.Data)
}

func reversalsByID(rs []*stripe.TransferReversal) map[string]model.TransferReversal {
	out := map[string]model.TransferReversal{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		if e, ok := model.ListedReversal(r.ID, r.Amount, r.Created); ok {
			out[r.ID] = e
		}
	}
	return out
}

// settledTransfer returns the transfer of processing payout po (id
// payoutID): by its processorPayoutId, or, when it has none and is a
// Stripe Connect payout, found by transfer_group / metadata payoutId. It
// returns nil when there is nothing to confirm from.
func (s *Service) settledTransfer(ctx context.Context, payoutID string, po *model.Payout) (*stripe.Transfer, error) {
	if po.ProcessorPayoutID != nil && *po.ProcessorPayoutID != "" {
		tr, err := s.Transfers.Get(ctx, *po.ProcessorPayoutID)
		if err != nil {
			return nil, fmt.Errorf("get transfer: %w", err)
		}
		return tr, nil
	}
	if po.Processor != ProcessorStripeConnect {
		return nil, nil
	}
	tr, err := s.Transfers.Find(ctx, payoutID)
	if err != nil {
		return nil, fmt.Errorf("find transfer: %w", err)
	}
	if tr == nil {
		slog.WarnContext(ctx, "processing payout without a transfer on Stripe", "payoutId", payoutID)
		return nil, nil
	}
	slog.InfoContext(ctx, "payout transfer found", "payoutId", payoutID, "transferId", tr.ID)
	return tr, nil
}

// readIn reads the document at ref in tx and decodes it into a T (a
// payout, an allocation). Errors: tx.Get's (NotFound for a missing
// document) and the decoding's, as they are.
func readIn[T any](tx *firestore.Transaction, ref *firestore.DocumentRef) (T, error) {
	var v T
	snap, err := tx.Get(ref)
	if err != nil {
		return v, err
	}
	return v, snap.DataTo(&v)
}
