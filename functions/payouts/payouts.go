// Package payouts computes coaches' payouts from settled payments, pays
// them through Stripe Connect transfers and books them in Fortnox.
//
// A payout run (Run) takes, per coach and currency, the coach's share of
// every succeeded payment not yet paid out (paymentDate before the period
// end), less the platform commission, plus any adjustment for refunds and
// lost disputes of payments paid out earlier, plus a negative balance
// carried forward; it writes a payouts document with status "pending" and
// then transfers it (ExecuteTransfers). Each payment is allocated once, in
// the transaction that creates the first payout taking a share of it
// (payout_allocations/{paymentId}, payments/{id}.payoutId), and each
// coach's share is taken by exactly one payout: reruns and concurrent runs
// cannot pay a payment twice. The Fortnox sync (SyncFortnox) books every
// completed payout as one voucher, exactly once, under a lease on
// jobs/fortnox-sync. A failed payout stays failed; an operator pays its
// sales again by releasing them to the next run (ReleaseFailed, `ops
// payouts retry`). A voucher the sync cannot book (a locked period) is
// booked by hand and recorded by an operator (SettleVoucher, `ops fortnox
// settle`), after which the sync goes on with the payout's later vouchers.
//
// Money is integer minor units throughout; see calc.go for the rounding
// rules and README.md in this directory for the accounting.
package payouts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fortnox"
)

// Service holds the dependencies of the payout functions.
type Service struct {
	// Firestore is the admin client.
	Firestore *firestore.Client
	// Now is the clock.
	Now func() time.Time
	// Settings are the rules (DefaultSettings or LoadSettings).
	Settings Settings
	// PseudonymKey keys the coaches' pseudonyms in payout ids
	// (BasePayoutID): the GDPR erasure's key (IJ_PSEUDONYM_KEY, see
	// functions/gdpr), so that a held payout's id names its coach by the
	// same pseudonym the erasure writes as coachId. Required: Run fails
	// with FailedPrecondition without it rather than fall back to raw uids.
	// The key is a secret: never log it.
	PseudonymKey []byte
	// Transfers creates Stripe Connect transfers; nil leaves payouts
	// pending with the reason "Stripe is not configured".
	Transfers TransferAPI
	// Fortnox returns the Fortnox client (built lazily on first use); nil
	// makes SyncFortnox fail with FailedPrecondition.
	Fortnox func(ctx context.Context) (*fortnox.Client, error)
	// Progress, when set, is told how far a stage ("payouts", "transfers",
	// "confirm", "vouchers", "sales") has come.
	Progress func(stage string, done, total int)
	// Holder names this process in the sync lease (default a random id).
	Holder string
}

func (s *Service) settings() Settings { return s.Settings.withDefaults() }

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) progress(stage string, done, total int) {
	if s.Progress != nil {
		s.Progress(stage, done, total)
	}
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// idPart returns id when it is safe inside a document id and a Fortnox
// marker (letters, digits, '_' and '-'), else a hash of it.
func idPart(id string) string {
	if safeID.MatchString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h" + hex.EncodeToString(sum[:10])
}
