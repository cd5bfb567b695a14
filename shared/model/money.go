package model

import (
	"time"

	"cloud.google.com/go/firestore"
)

// Payment is payments/{paymentId}. Server-owned in every field.
type Payment struct {
	PaymentID          string        `firestore:"paymentId" json:"paymentId"`
	UserID             string        `firestore:"userId" json:"userId"`
	Amount             int64         `firestore:"amount" json:"amount"` // minor units
	Currency           string        `firestore:"currency" json:"currency"`
	PaymentDate        time.Time     `firestore:"paymentDate" json:"paymentDate"`
	Status             PaymentStatus `firestore:"status" json:"status"`
	Processor          string        `firestore:"processor" json:"processor"` // "stripe", "paypal"
	ProcessorPaymentID string        `firestore:"processorPaymentId" json:"processorPaymentId"`
	Description        string        `firestore:"description" json:"description"`
	ProgramID          *string       `firestore:"programId" json:"programId"`
	SubscriptionID     *string       `firestore:"subscriptionId" json:"subscriptionId"`

	// Added fields.
	InvoiceURL    string         `firestore:"invoiceUrl,omitempty" json:"invoiceUrl,omitempty"`
	RefundDetails *RefundDetails `firestore:"refundDetails,omitempty" json:"refundDetails,omitempty"`
	Dispute       *Dispute       `firestore:"dispute,omitempty" json:"dispute,omitempty"`
	ChargeID      string         `firestore:"chargeId,omitempty" json:"chargeId,omitempty"`
	CustomerID    string         `firestore:"customerId,omitempty" json:"customerId,omitempty"`
	// PayoutID is the payout this payment was paid out in (set once, in
	// the transaction that creates the payout).
	PayoutID string `firestore:"payoutId,omitempty" json:"payoutId,omitempty"`
	// SourceUpdated is the Stripe object's own time of the state written
	// here; an older event never overwrites a newer one.
	SourceUpdated time.Time `firestore:"sourceUpdated" json:"sourceUpdated"`
	CreatedAt     time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt     time.Time `firestore:"updatedAt" json:"updatedAt"`
	// Pseudonymised is set when the payment is kept under legal hold after
	// its user's erasure (identifiers replaced by keyed hashes).
	Pseudonymised bool `firestore:"pseudonymised,omitempty" json:"pseudonymised,omitempty"`
	// LegalHoldUntil is set with Pseudonymised: the end of the bookkeeping
	// retention (7 years after the end of the payment's calendar year),
	// after which the retention job deletes the record (functions/gdpr).
	LegalHoldUntil *time.Time `firestore:"legalHoldUntil,omitempty" json:"legalHoldUntil,omitempty"`
	// ProgramTerms are the program's terms (coaches, splits, commission)
	// frozen when the payment was first recorded as paid; nil for a
	// payment without a program and for payments recorded before the
	// field existed. See ProgramTerms.
	ProgramTerms *ProgramTerms `firestore:"programTerms,omitempty" json:"programTerms,omitempty"`
	// ProgramCreated is the Firestore create time of programs/{programId}
	// when createCheckoutSession started the checkout (metadata
	// programCreated on the session, its PaymentIntent and charge): the
	// version of the program the customer bought. Set once, with
	// programId and from the same metadata, by the payments webhook; nil
	// for checkouts made before the field existed, subscriptions and
	// payments not started by our checkout. When the terms are frozen and
	// the program then has another create time, it was deleted and created
	// again since the checkout, and the terms say so
	// (ProgramTerms.RecreatedAfterCheckout). Not personal data.
	ProgramCreated *time.Time `firestore:"programCreated,omitempty" json:"programCreated,omitempty"`
}

// PaymentStatus is payments.status.
type PaymentStatus string

// Payment statuses, in order of precedence for the order guard.
const (
	PaymentPending           PaymentStatus = "pending"
	PaymentFailed            PaymentStatus = "failed"
	PaymentSucceeded         PaymentStatus = "succeeded"
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentRefunded          PaymentStatus = "refunded"
)

// Valid reports whether s is a known payment status.
func (s PaymentStatus) Valid() bool {
	switch s {
	case PaymentPending, PaymentFailed, PaymentSucceeded, PaymentPartiallyRefunded, PaymentRefunded:
		return true
	}
	return false
}

// RefundDetails is payments.refundDetails.
type RefundDetails struct {
	AmountRefunded int64    `firestore:"amountRefunded" json:"amountRefunded"`
	Refunds        []Refund `firestore:"refunds" json:"refunds"`
}

// Refund is one Stripe refund.
type Refund struct {
	RefundID  string    `firestore:"refundId" json:"refundId"`
	Amount    int64     `firestore:"amount" json:"amount"`
	Reason    string    `firestore:"reason,omitempty" json:"reason,omitempty"`
	Status    string    `firestore:"status" json:"status"`
	CreatedAt time.Time `firestore:"createdAt" json:"createdAt"`
}

// Dispute is payments.dispute.
type Dispute struct {
	DisputeID string     `firestore:"disputeId" json:"disputeId"`
	Amount    int64      `firestore:"amount" json:"amount"`
	Reason    string     `firestore:"reason" json:"reason"`
	Status    string     `firestore:"status" json:"status"` // Stripe's dispute status
	Open      bool       `firestore:"open" json:"open"`
	Lost      bool       `firestore:"lost" json:"lost"`
	CreatedAt time.Time  `firestore:"createdAt" json:"createdAt"`
	ClosedAt  *time.Time `firestore:"closedAt,omitempty" json:"closedAt,omitempty"`
}

// Payout is payouts/{payoutId}. Server-owned in every field.
type Payout struct {
	PayoutID          string       `firestore:"payoutId" json:"payoutId"`
	CoachID           string       `firestore:"coachId" json:"coachId"`
	Amount            int64        `firestore:"amount" json:"amount"` // minor units
	Currency          string       `firestore:"currency" json:"currency"`
	PayoutDate        time.Time    `firestore:"payoutDate" json:"payoutDate"`
	Status            PayoutStatus `firestore:"status" json:"status"`
	Processor         string       `firestore:"processor" json:"processor"` // "stripe_connect", "paypal", "bank_transfer"
	ProcessorPayoutID *string      `firestore:"processorPayoutId" json:"processorPayoutId"`
	// FortnoxReference is "SERIES/NUMBER/YEAR" (fortnox.VoucherRef.String,
	// YEAR = Fortnox's financial-year id), e.g. "P/42/7"; the parts are in
	// FortnoxVoucher.
	FortnoxReference  *string  `firestore:"fortnoxReference" json:"fortnoxReference"`
	RelatedPaymentIDs []string `firestore:"relatedPaymentIds" json:"relatedPaymentIds"`

	// Added fields.
	CalculationPeriod *Period         `firestore:"calculationPeriod,omitempty" json:"calculationPeriod,omitempty"`
	FortnoxVoucher    *FortnoxVoucher `firestore:"fortnoxVoucher,omitempty" json:"fortnoxVoucher,omitempty"`
	Reason            string          `firestore:"reason,omitempty" json:"reason,omitempty"`
	Gross             int64           `firestore:"gross,omitempty" json:"gross,omitempty"`
	Commission        int64           `firestore:"commission,omitempty" json:"commission,omitempty"`
	CarriedIn         int64           `firestore:"carriedIn,omitempty" json:"carriedIn,omitempty"`
	// CarriedOut is the negative balance left after this payout (refunds
	// exceeded earnings), carried into the coach's next payout.
	CarriedOut int64 `firestore:"carriedOut,omitempty" json:"carriedOut,omitempty"`
	// TransferStartedAt is set before the Stripe transfer is requested; a
	// rerun that finds it without ProcessorPayoutID looks the transfer up
	// (transfer_group = payoutId) before creating one.
	TransferStartedAt *time.Time `firestore:"transferStartedAt,omitempty" json:"transferStartedAt,omitempty"`
	// FortnoxBooking is set before the voucher is posted; a rerun that
	// finds it without FortnoxReference looks the voucher up first.
	FortnoxBooking *FortnoxBooking `firestore:"fortnoxBooking,omitempty" json:"fortnoxBooking,omitempty"`
	// FortnoxError is the last booking problem (cleared when booked).
	FortnoxError  string    `firestore:"fortnoxError,omitempty" json:"fortnoxError,omitempty"`
	CreatedAt     time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt     time.Time `firestore:"updatedAt" json:"updatedAt"`
	Pseudonymised bool      `firestore:"pseudonymised,omitempty" json:"pseudonymised,omitempty"`
	// LegalHoldUntil: as Payment.LegalHoldUntil.
	LegalHoldUntil *time.Time `firestore:"legalHoldUntil,omitempty" json:"legalHoldUntil,omitempty"`
	// SourceUpdated is the time of the Stripe event (transfer.*, payout.*)
	// that set Status; the webhook's order guard.
	SourceUpdated *time.Time `firestore:"sourceUpdated,omitempty" json:"sourceUpdated,omitempty"`
	// TransferReversal is how much of the payout's transfer Stripe took
	// back while the transfer stands (a partial reversal; a full one fails
	// the payout). Written by the transfer.* webhook (functions/payments)
	// and by the payouts' Confirm and Fortnox sync; it only grows, and is
	// never less than the sum of TransferReversals.
	TransferReversal *TransferReversal `firestore:"transferReversal,omitempty" json:"transferReversal,omitempty"`
	// TransferReversals are those partial reversals one by one, keyed by
	// Stripe's reversal id (trr_…): each one's amount and when Stripe made
	// it (its created time). Written with TransferReversal by the same
	// writers (see ReversalNews); an entry is never changed nor removed.
	// Recorded before this field existed, a reversal is only in
	// TransferReversal until the payouts' Fortnox sync lists the
	// transfer's reversals from Stripe.
	TransferReversals map[string]TransferReversal `firestore:"transferReversals,omitempty" json:"transferReversals,omitempty"`
	// ReversalPending is set with TransferReversal until the Fortnox sync
	// has booked what was reversed (functions/payouts syncReversals).
	ReversalPending bool `firestore:"reversalPending,omitempty" json:"reversalPending,omitempty"`
}

// TransferReversal is payouts.transferReversal: the amount reversed so
// far (cumulative, minor units) and when it last grew; and, in
// payouts.transferReversals, one reversal: its amount and when Stripe
// made it.
type TransferReversal struct {
	Amount int64     `firestore:"amount" json:"amount"`
	At     time.Time `firestore:"at" json:"at"`
}

// ListedReversal is the entry of payouts.transferReversals for one
// reversal as Stripe lists it (its id, amount in minor units and created
// time in Unix seconds); ok is false for an entry that cannot be recorded:
// an id unusable as a key (ValidDocID), no amount, or no time. The payments webhook and the
// payouts' Confirm and sync all read Stripe's lists through it.
func ListedReversal(id string, amount, created int64) (r TransferReversal, ok bool) {
	if !ValidDocID(id) || amount <= 0 || created <= 0 {
		return r, false
	}
	return TransferReversal{Amount: amount, At: time.Unix(created, 0).UTC()}, true
}

// ReversalNews is what a report of the payout's transfer adds to the
// reversals p records: reversed is the transfer's amount_reversed (of a
// transfer that stands), listed the reversals the report names, by id
// (Stripe embeds only the newest ten in a transfer), at when the report
// was made. It returns the listed reversals p does not record yet
// (entries with an empty id or no amount are left out) and the new
// cumulative record, nil unless the amount reversed grows: the larger of
// reversed and the sum of the reversals known, dated the latest known
// reversal when one is listed, else at. Both empty: the report brings
// nothing new (a repeated, stale or out-of-order one). It never lowers
// anything, so reports can be merged in any order, any number of times.
func (p *Payout) ReversalNews(reversed int64, listed map[string]TransferReversal, at time.Time) (added map[string]TransferReversal, total *TransferReversal) {
	sum := p.ReversalsKnown()
	var latest time.Time
	for id, r := range listed {
		if id == "" || r.Amount <= 0 {
			continue
		}
		if r.At.After(latest) {
			latest = r.At
		}
		if _, ok := p.TransferReversals[id]; ok {
			continue
		}
		if added == nil {
			added = map[string]TransferReversal{}
		}
		added[id] = r
		sum += r.Amount
	}
	if amount := max(reversed, sum); amount > p.ReversedAmount() {
		if latest.IsZero() {
			latest = at
		}
		total = &TransferReversal{Amount: amount, At: latest}
	}
	return added, total
}

// ReversalUpdates records ReversalNews(reversed, listed, at) in p and
// returns the updates of p's document that record it: each new reversal
// its own field of transferReversals (so writers never drop one
// another's), the cumulative transferReversal when it grows, and
// reversalPending; nil (p unchanged) when the report brings nothing new.
func (p *Payout) ReversalUpdates(reversed int64, listed map[string]TransferReversal, at time.Time) []firestore.Update {
	added, total := p.ReversalNews(reversed, listed, at)
	if len(added) == 0 && total == nil {
		return nil
	}
	p.ReversalPending = true
	upd := []firestore.Update{{Path: "reversalPending", Value: true}}
	if len(added) > 0 && p.TransferReversals == nil {
		p.TransferReversals = map[string]TransferReversal{}
	}
	for id, r := range added {
		p.TransferReversals[id] = r
		upd = append(upd, firestore.Update{FieldPath: firestore.FieldPath{"transferReversals", id}, Value: r})
	}
	if total != nil {
		p.TransferReversal = total
		upd = append(upd, firestore.Update{Path: "transferReversal", Value: *total})
	}
	return upd
}

// ReversalsKnown is the sum of the reversals p records one by one
// (TransferReversals); less than ReversedAmount when some are known only
// by the cumulative amount.
func (p *Payout) ReversalsKnown() int64 {
	var sum int64
	for _, r := range p.TransferReversals {
		sum += r.Amount
	}
	return sum
}

// ReversedAmount is the partly reversed amount p records (0 when none).
func (p *Payout) ReversedAmount() int64 {
	if p.TransferReversal == nil {
		return 0
	}
	return p.TransferReversal.Amount
}

// PayoutStatus is payouts.status.
type PayoutStatus string

// Payout statuses.
const (
	PayoutPending    PayoutStatus = "pending"
	PayoutProcessing PayoutStatus = "processing"
	PayoutCompleted  PayoutStatus = "completed"
	PayoutFailed     PayoutStatus = "failed"
)

// Valid reports whether s is a known payout status.
func (s PayoutStatus) Valid() bool {
	switch s {
	case PayoutPending, PayoutProcessing, PayoutCompleted, PayoutFailed:
		return true
	}
	return false
}

// Period is a half-open interval [Start, End) in UTC.
type Period struct {
	Start time.Time `firestore:"start" json:"start"`
	End   time.Time `firestore:"end" json:"end"`
}

// FortnoxVoucher identifies a booked voucher.
type FortnoxVoucher struct {
	Series string `firestore:"series" json:"series"`
	Number int    `firestore:"number" json:"number"`
	Year   int    `firestore:"year" json:"year"`
}
