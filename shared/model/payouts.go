package model

import "time"

// Collections and documents of the payout job (functions/payouts).
const (
	// ColPayoutAllocations holds payout_allocations/{paymentId}: how one
	// payment's net amount is shared among its coaches and which payout
	// took each share. Server-only (no rule grants access).
	ColPayoutAllocations = "payout_allocations"
	// DocPayoutState is users/{coachUid}/private/payouts: the coach's
	// carry-forward balance (server-only).
	DocPayoutState = "payouts"
	// ColServerPrivate holds server-only state that no client, admins
	// included, may read: server_private/fortnox-token (the rotating
	// Fortnox refresh token).
	ColServerPrivate = "server_private"
)

// FortnoxBooking is payouts.fortnoxBooking (and the same mark on a sales
// booking): written before a voucher is posted, so that a rerun finding
// it without a reference looks the voucher up (by its marker) instead of
// posting a second one. Date, Series and FinancialYear are the values the
// voucher was (or is being) posted with.
type FortnoxBooking struct {
	StartedAt     time.Time `firestore:"startedAt" json:"startedAt"`
	Date          string    `firestore:"date" json:"date"` // YYYY-MM-DD, the voucher's transaction date
	Series        string    `firestore:"series" json:"series"`
	FinancialYear int       `firestore:"financialYear" json:"financialYear"` // Fortnox financial-year id
}

// PayoutAllocation is payout_allocations/{paymentId}: the frozen split of
// one payment among its coaches. It is created, in a transaction, by the
// first payout that takes a share of the payment; every later change (a
// refund or a lost dispute after allocation) is appended as an adjustment
// event computed with the same weights and commission, so that the shares
// of all coaches always sum exactly to the payment's net amount less the
// commission.
type PayoutAllocation struct {
	PaymentID string `firestore:"paymentId" json:"paymentId"`
	ProgramID string `firestore:"programId" json:"programId"`
	Currency  string `firestore:"currency" json:"currency"`
	// PaymentDate is the payment's date (the sale's date in the books).
	PaymentDate time.Time `firestore:"paymentDate" json:"paymentDate"`
	// Net is the payment's net amount (amount − refunds − lost disputes,
	// minor units) that the entries currently add up to.
	Net int64 `firestore:"net" json:"net"`
	// Commission is the platform's commission on Net.
	Commission    int64 `firestore:"commission" json:"commission"`
	CommissionBps int   `firestore:"commissionBps" json:"commissionBps"`
	// Weights are the coaches' split weights (basis points of
	// program.coachSplits, or 1 each for an equal split).
	Weights map[string]int64 `firestore:"weights" json:"weights"`
	// TermsSource says where the coaches, weights and commission came
	// from: "payment" (the terms frozen on the payment when it was paid,
	// payments.programTerms) or "program" (a legacy payment without
	// frozen terms: the program as read at allocation). Empty for
	// allocations made before the field existed (from the program).
	TermsSource string `firestore:"termsSource,omitempty" json:"termsSource,omitempty"`
	// Events are the allocation (seq 1) and its adjustments, in order.
	Events []AllocationEvent `firestore:"events" json:"events"`
	// Entries are the per-coach shares of the events.
	Entries []AllocationEntry `firestore:"entries" json:"entries"`
	// Open lists coaches with an entry not yet taken by a payout; HasOpen
	// is len(Open) > 0 (the queried field: arrays get no range index).
	Open    []string `firestore:"open" json:"open"`
	HasOpen bool     `firestore:"hasOpen" json:"hasOpen"`
	// SalesPending is true while an event awaits its sales voucher
	// (only when the sales booking is enabled).
	SalesPending bool      `firestore:"salesPending" json:"salesPending"`
	CreatedAt    time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt    time.Time `firestore:"updatedAt" json:"updatedAt"`
	// PseudonymisedCoaches and LegalHoldUntil are written by a coach's GDPR
	// erasure (functions/gdpr): the pseudonyms that replaced erased
	// coaches' uids, and when retentionCleanup may delete the allocation.
	// They are part of the model because the payouts run rewrites the whole
	// document: a later run (a refund after the erasure) keeps them, and
	// extends LegalHoldUntil to the hold of each event it appends.
	PseudonymisedCoaches []string   `firestore:"pseudonymisedCoaches,omitempty" json:"pseudonymisedCoaches,omitempty"`
	LegalHoldUntil       *time.Time `firestore:"legalHoldUntil,omitempty" json:"legalHoldUntil,omitempty"`
}

// AllocationEvent is one change of a payment's allocated net amount: the
// allocation itself or an adjustment (deltas may be negative).
type AllocationEvent struct {
	Seq        int       `firestore:"seq" json:"seq"`
	Kind       string    `firestore:"kind" json:"kind"` // allocation, adjustment
	Net        int64     `firestore:"net" json:"net"`   // change of the net amount
	Commission int64     `firestore:"commission" json:"commission"`
	At         time.Time `firestore:"at" json:"at"`
	// RefundID is the Stripe refund an adjustment books (one event per
	// refund, dated the refund's creation); empty for the sale and for a
	// change no listed refund explains (a lost dispute).
	RefundID string `firestore:"refundId,omitempty" json:"refundId,omitempty"`
	// Sales booking in Fortnox (when enabled): the mark and the reference.
	SalesBooking   *FortnoxBooking `firestore:"salesBooking,omitempty" json:"salesBooking,omitempty"`
	SalesReference *string         `firestore:"salesReference,omitempty" json:"salesReference,omitempty"`
	SalesError     string          `firestore:"salesError,omitempty" json:"salesError,omitempty"`
	// SalesExempt (server-only) marks an event booked outside this
	// service: created while the sales booking (FORTNOX_BOOK_SALES) was
	// off, when sales are booked from Stripe's reports. The sales sync
	// never books it and it never makes the allocation salesPending.
	SalesExempt bool `firestore:"salesExempt,omitempty" json:"salesExempt,omitempty"`
}

// AwaitsSale reports whether the event still awaits its sales voucher: not
// booked (SalesReference) and not booked outside this service
// (SalesExempt).
func (e *AllocationEvent) AwaitsSale() bool { return e.SalesReference == nil && !e.SalesExempt }

// AllocationEntry is one coach's share of one event. PayoutID is empty
// until a payout takes the entry (set exactly once, in the transaction
// that creates that payout).
type AllocationEntry struct {
	Seq        int    `firestore:"seq" json:"seq"`
	CoachID    string `firestore:"coachId" json:"coachId"`
	Gross      int64  `firestore:"gross" json:"gross"`           // the coach's share of the net change
	Commission int64  `firestore:"commission" json:"commission"` // the coach's share of the commission change
	Amount     int64  `firestore:"amount" json:"amount"`         // Gross − Commission
	PayoutID   string `firestore:"payoutId" json:"payoutId"`
}

// CoachPayoutState is users/{coachUid}/private/payouts.
type CoachPayoutState struct {
	CoachID string `firestore:"coachId" json:"coachId"`
	// CarryForward is the negative balance per currency (minor units,
	// ≤ 0) left when refunds exceeded earnings, netted against the next
	// payout in that currency.
	CarryForward map[string]int64 `firestore:"carryForward" json:"carryForward"`
	// LastPayoutID is the payout that last changed the balance.
	LastPayoutID string    `firestore:"lastPayoutId" json:"lastPayoutId"`
	UpdatedAt    time.Time `firestore:"updatedAt" json:"updatedAt"`
}
