package payments

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/stripe/stripe-go/v76"

	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// payoutsReason explains why a Connect account cannot receive payouts
// (Stripe's codes and requirement names, never personal data).
func payoutsReason(a *stripe.Account) string {
	if a.PayoutsEnabled {
		return ""
	}
	if r := a.Requirements; r != nil {
		if r.DisabledReason != "" {
			return string(r.DisabledReason)
		}
		if len(r.PastDue) > 0 {
			return "past_due: " + strings.Join(r.PastDue, ",")
		}
		if len(r.CurrentlyDue) > 0 {
			return "currently_due: " + strings.Join(r.CurrentlyDue, ",")
		}
	}
	if !a.DetailsSubmitted {
		return "onboarding_incomplete"
	}
	return "payouts_disabled"
}

// connectRef is coach_profiles/{coach}/private/connect, the coach's
// server-owned Stripe Connect state.
func (s *Service) connectRef(coach string) *firestore.DocumentRef {
	return s.Firestore.Doc(model.CoachConnectPath(coach))
}

// connectUpdate is what one account.updated event, or one state of the
// account fetched by the reconciliation (reconcileAccounts), says about a
// coach's Connect account.
type connectUpdate struct {
	coach          string // the coach's uid
	account        string // the account's id (acct_…)
	payoutsEnabled bool
	reason         string // payoutsReason ("" when enabled)
	// at is the order guard's time: the event's creation second, or the
	// second the reconciliation sent its request for the account.
	at time.Time
	// fetched marks a state fetched by the reconciliation: it updates only
	// an existing Connect document that records this account (it never
	// creates one), and writes only when payoutsEnabled or payoutsReason
	// would change.
	fetched bool
}

// accountUpdate is the update an account object makes for coach at at.
func accountUpdate(a *stripe.Account, coach string, at time.Time) connectUpdate {
	return connectUpdate{coach: coach, account: a.ID, payoutsEnabled: a.PayoutsEnabled, reason: payoutsReason(a), at: at}
}

// Reasons of a Connect update that writes nothing.
const (
	// reasonOlderState: the stored state is newer than the update.
	reasonOlderState = "older than the stored state"
	// reasonSameState: the stored state already says what the (fetched)
	// update says.
	reasonSameState = "stored state unchanged"
)

// accountEffect handles account.updated: the coach's payout eligibility
// in coach_profiles/{coachUid}/private/connect. The coach is found through
// the account's metadata coachUid (set when the account was created) and
// must be linked to that account. Without Connect state yet (the event
// overtook the onboarding callable's write) the state is created, but only
// for a coach who still exists (a users or coach_profiles document), so
// that a late event never recreates data of an erased coach. Guard: the
// later event wins; of two in the same second, the one with payouts
// enabled.
func (s *Service) accountEffect(a *stripe.Account, at time.Time) effect {
	coach := a.Metadata[metaCoachUID]
	if !model.ValidDocID(coach) {
		return ignoreEffect("unknown account")
	}
	return s.connectEffectOf(accountUpdate(a, coach, at))
}

// connectEffectOf applies a Connect update to the coach's Connect state:
// the effect of account.updated (accountEffect) and of the
// reconciliation's accounts pass, so that both order their updates by the
// same guard (see accountEffect). It returns processed when it wrote,
// processed with reasonOlderState or reasonSameState when it had nothing
// to write, and ignored (with the reason) for an account that is not the
// coach's or a coach it may not create state for. Errors are Firestore's.
func (s *Service) connectEffectOf(u connectUpdate) effect {
	return effect{apply: func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
		ref := s.connectRef(u.coach)
		snap, err := tx.Get(ref)
		var cc model.CoachConnect
		switch {
		case store.IsNotFound(err):
			if u.fetched {
				return ignored("no Connect state"), nil
			}
			known, err := s.coachExists(tx, u.coach)
			if err != nil {
				return Result{}, err
			}
			if !known {
				return ignored("unknown coach"), nil
			}
		case err != nil:
			return Result{}, err
		default:
			cc = model.DecodeCoachConnect(snap.Data())
		}
		if (cc.StripeAccountID != "" || u.fetched) && cc.StripeAccountID != u.account {
			return ignored("account not linked to the coach"), nil
		}
		if cc.AccountUpdated != nil {
			prev := *cc.AccountUpdated
			if u.at.Before(prev) || u.at.Equal(prev) && (!u.payoutsEnabled || cc.PayoutsEnabled) {
				return Result{Status: StatusProcessed, Reason: reasonOlderState}, nil
			}
		}
		if u.fetched && cc.PayoutsEnabled == u.payoutsEnabled && cc.PayoutsReason == u.reason {
			return Result{Status: StatusProcessed, Reason: reasonSameState}, nil
		}
		err = tx.Set(ref, map[string]any{
			"coachId": u.coach, "stripeAccountId": u.account, "payoutsEnabled": u.payoutsEnabled,
			"payoutsReason": u.reason, "accountUpdatedAt": u.at,
		}, firestore.MergeAll)
		if err != nil {
			return Result{}, err
		}
		return processed, nil
	}}
}

// coachExists reports whether users/{coach} or coach_profiles/{coach}
// exists (read in tx).
func (s *Service) coachExists(tx *firestore.Transaction, coach string) (bool, error) {
	for _, ref := range []*firestore.DocumentRef{
		s.Firestore.Collection(model.ColUsers).Doc(coach),
		s.Firestore.Collection(model.ColCoachProfiles).Doc(coach),
	} {
		_, err := tx.Get(ref)
		if err == nil {
			return true, nil
		}
		if !store.IsNotFound(err) {
			return false, err
		}
	}
	return false, nil
}

// payoutRank orders payout statuses; completed and failed are final.
func payoutRank(st model.PayoutStatus) int {
	switch st {
	case model.PayoutProcessing:
		return 1
	case model.PayoutCompleted, model.PayoutFailed:
		return 2
	}
	return 0
}

// payoutUpdate is one event's news about a payout.
type payoutUpdate struct {
	payoutID  string // metadata payoutId ("" when absent)
	processor string // the transfer or payout id, to find the payout by processorPayoutId
	// transferID is the Connect transfer's id (transfer.* events only, ""
	// for payout.*): recorded in processorPayoutId when the payout has none.
	transferID string
	// reversed is the transfer's amount_reversed when it is partly
	// reversed (transfer.* events only; 0 otherwise): recorded in
	// payouts.transferReversal for the Fortnox sync (functions/payouts).
	reversed int64
	// reversals are the partial reversals the transfer lists (by id: its
	// newest ten), recorded one by one in payouts.transferReversals.
	reversals map[string]model.TransferReversal
	status    model.PayoutStatus
	reason    string
	at        time.Time
}

// ReasonTransferConflict is the inbox reason of a transfer.* event whose
// metadata payoutId names a payout that already records another transfer.
const ReasonTransferConflict = "transfer is not the payout's recorded transfer"

// payoutApplies is the payout order guard: status precedence
// (pending < processing < completed = failed); between the two final
// statuses the later event wins (ties: failed).
func payoutApplies(p *model.Payout, u payoutUpdate) bool {
	if p.Status == u.status {
		// Only the time moves forward (it is what the guard compares).
		return p.SourceUpdated == nil || u.at.After(*p.SourceUpdated)
	}
	or, nr := payoutRank(p.Status), payoutRank(u.status)
	if nr != or {
		return nr > or
	}
	if nr < 2 {
		return false
	}
	if p.SourceUpdated == nil {
		return true
	}
	return u.at.After(*p.SourceUpdated) || (u.at.Equal(*p.SourceUpdated) && u.status == model.PayoutFailed)
}

// payoutEffectOf applies a payout update: the payout is found by the
// metadata payoutId, else by processorPayoutId; an unknown payout is
// recorded as ignored.
//
// A transfer.* event also records its transfer id in processorPayoutId
// when the payout has none (the payouts run lost Stripe's answer or died
// before writing it), whatever the order guard says about the status, so
// that the payouts run can confirm the payout from its transfer. An id
// already recorded is never overwritten: when it differs from the event's
// transfer (a second transfer carrying the payout's metadata), the event
// changes nothing, is recorded as ignored with ReasonTransferConflict and
// logged at error severity with the ids only, for a person to check: the
// status of a transfer that is not the payout's must not settle it.
func (s *Service) payoutEffectOf(u payoutUpdate) effect {
	return effect{apply: func(ctx context.Context, tx *firestore.Transaction) (Result, error) {
		var snap *firestore.DocumentSnapshot
		if model.ValidDocID(u.payoutID) {
			sn, err := tx.Get(s.Firestore.Collection(model.ColPayouts).Doc(u.payoutID))
			if err != nil && !store.IsNotFound(err) {
				return Result{}, err
			}
			if err == nil {
				snap = sn
			}
		}
		if snap == nil && u.processor != "" {
			q, err := indexes.MustLookup(indexes.QPayoutByProcessorID).Build(s.Firestore, u.processor)
			if err != nil {
				return Result{}, err
			}
			docs, err := tx.Documents(q).GetAll()
			if err != nil {
				return Result{}, err
			}
			if len(docs) == 1 {
				snap = docs[0]
			}
		}
		if snap == nil {
			return ignored("unknown payout"), nil
		}
		var p model.Payout
		if err := snap.DataTo(&p); err != nil {
			return Result{}, fmt.Errorf("decode payout: %w", err)
		}
		record := false
		if u.transferID != "" {
			switch {
			case p.ProcessorPayoutID == nil || *p.ProcessorPayoutID == "":
				record = true
			case *p.ProcessorPayoutID != u.transferID:
				slog.ErrorContext(ctx, "transfer event for a payout that records another transfer",
					"alert", "payout_transfer_conflict", "payoutId", snap.Ref.ID, "transferId", u.transferID, "recordedTransferId", *p.ProcessorPayoutID)
				return ignored(ReasonTransferConflict), nil
			}
		}
		applies := payoutApplies(&p, u)
		var reversal []firestore.Update
		if u.transferID != "" && u.reversed > 0 {
			reversal = p.ReversalUpdates(u.reversed, u.reversals, u.at)
		}
		if !applies && !record && len(reversal) == 0 {
			return Result{Status: StatusProcessed, Reason: "older than the stored state"}, nil
		}
		upd := []firestore.Update{{Path: "updatedAt", Value: s.now()}}
		if applies {
			upd = append(upd,
				firestore.Update{Path: "status", Value: string(u.status)},
				firestore.Update{Path: "sourceUpdated", Value: u.at},
				firestore.Update{Path: "reason", Value: u.reason})
		}
		if record {
			upd = append(upd, firestore.Update{Path: "processorPayoutId", Value: u.transferID})
		}
		upd = append(upd, reversal...)
		if err := tx.Update(snap.Ref, upd); err != nil {
			return Result{}, err
		}
		switch {
		case !applies && record:
			return Result{Status: StatusProcessed, Reason: "older than the stored state; transfer id recorded"}, nil
		case !applies:
			return Result{Status: StatusProcessed, Reason: "older than the stored state; transfer reversal recorded"}, nil
		}
		return processed, nil
	}}
}

// listedReversals are the reversals transfer tr lists, by id (Stripe
// embeds its newest ten): amount and created time. Entries without a
// usable id, amount or time are left out (model.ListedReversal).
func listedReversals(tr *stripe.Transfer) map[string]model.TransferReversal {
	if tr.Reversals == nil {
		return nil
	}
	out := map[string]model.TransferReversal{}
	for _, r := range tr.Reversals.Data {
		if r == nil {
			continue
		}
		if e, ok := model.ListedReversal(r.ID, r.Amount, r.Created); ok {
			out[r.ID] = e
		}
	}
	return out
}

// transferEffect handles transfer.created / updated / reversed (the
// platform's transfer to the coach's Connect account): processing, or
// failed once fully reversed; the transfer id is recorded in
// processorPayoutId when the payout has none (see payoutEffectOf), and the
// partial reversals of the payout's own transfer, whatever the status
// guard says: each listed reversal not recorded yet in
// transferReversals[id] {amount, at} (its created time), and the
// cumulative transferReversal {amount, at} when it grows, with
// reversalPending (model.Payout.ReversalNews: repeated, late or
// out-of-order events add nothing twice and lower nothing).
func (s *Service) transferEffect(tr *stripe.Transfer, at time.Time) effect {
	u := payoutUpdate{payoutID: tr.Metadata[metaPayoutID], processor: tr.ID, transferID: tr.ID, status: model.PayoutProcessing, at: at}
	if tr.Reversed || (tr.Amount > 0 && tr.AmountReversed >= tr.Amount) {
		u.status, u.reason = model.PayoutFailed, "transfer_reversed"
	} else if tr.AmountReversed > 0 {
		// Partly reversed: the payout stands; what came back is recorded
		// (never lowered) and booked by the Fortnox sync, one voucher per
		// reversal.
		u.reversed, u.reversals = tr.AmountReversed, listedReversals(tr)
	}
	return s.payoutEffectOf(u)
}

// payoutEffect handles payout.paid / failed / canceled (the Connect
// account's payout to the coach's bank).
func (s *Service) payoutEffect(po *stripe.Payout, typ string, at time.Time) effect {
	u := payoutUpdate{payoutID: po.Metadata[metaPayoutID], processor: po.ID, at: at}
	switch typ {
	case "payout.paid":
		u.status = model.PayoutCompleted
	case "payout.failed":
		u.status, u.reason = model.PayoutFailed, string(po.FailureCode)
		if u.reason == "" {
			u.reason = "payout_failed"
		}
	default:
		u.status, u.reason = model.PayoutFailed, "payout_canceled"
	}
	return s.payoutEffectOf(u)
}
