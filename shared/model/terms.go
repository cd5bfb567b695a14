package model

import "time"

// ProgramTerms is payments.programTerms (an added, server-only field): the
// terms of the program a payment bought — whom the sale pays and how — as
// they stood when the payments webhook first recorded the payment as paid
// (functions/payments). It is written once, in the transaction that
// records the success, and never changed by a later event for the payment
// (a refund, a dispute, a redelivery or a replay). The payouts
// (functions/payouts) allocate the sale by these terms, so that neither a
// later change of the program's split or commission nor a program deleted
// and created again under the same id changes who is paid for a sale
// already made. Payments recorded before the field existed have none; the
// payouts read the program for those (see functions/payouts/README.md).
type ProgramTerms struct {
	// ProgramFound is false when programs/{programId} did not exist when
	// the payment was recorded, or was not the version the checkout was
	// for (RecreatedAfterCheckout): the sale has no terms, and the payouts
	// never take any from a program created later under that id.
	ProgramFound bool `firestore:"programFound" json:"programFound"`
	// CoachIDs are the program's coaches: the string elements of its
	// createdBy (ProgramCoachIDs), in order.
	CoachIDs []string `firestore:"coachIds" json:"coachIds"`
	// CoachSplits is the program's coachSplits (coach → basis points);
	// absent for an equal split. A value that was not an integer in
	// 0–10000 is kept as -1, so that the payouts reject the terms as the
	// program's were.
	CoachSplits map[string]int `firestore:"coachSplits,omitempty" json:"coachSplits,omitempty"`
	// CoachSplitsInvalid is set when the program's coachSplits was present
	// but not a map (the payouts reject the terms).
	CoachSplitsInvalid bool `firestore:"coachSplitsInvalid,omitempty" json:"coachSplitsInvalid,omitempty"`
	// CommissionBps is the program's commissionBps override; absent when
	// the program had none (the payouts' default commission applies), -1
	// when it was not an integer in 0–10000.
	CommissionBps *int `firestore:"commissionBps,omitempty" json:"commissionBps,omitempty"`
	// ProgramCreateTime and ProgramUpdateTime are the program document's
	// own Firestore create and update times when the terms were read
	// (server-maintained, unlike the program's createdAt/updatedAt fields):
	// the version of the program the terms come from. A program created
	// after the payment's paymentDate was created again since the sale's
	// checkout; one updated after it may have had other terms at the
	// moment of payment (the webhook reads the program when it records the
	// payment, not at paymentDate).
	ProgramCreateTime *time.Time `firestore:"programCreateTime,omitempty" json:"programCreateTime,omitempty"`
	ProgramUpdateTime *time.Time `firestore:"programUpdateTime,omitempty" json:"programUpdateTime,omitempty"`
	// RecreatedAfterCheckout is set, with ProgramFound false, when the
	// payment records the program version its checkout was for
	// (Payment.ProgramCreated) and programs/{programId} had another create
	// time when the terms were frozen: the program was deleted and created
	// again (possibly by someone else) between the checkout and the
	// recording of the payment, so its terms are not those of the sale and
	// the payouts never pay it automatically. ProgramCreateTime and
	// ProgramUpdateTime are then those of the program found, whose terms
	// were not taken. A program missing at that moment is frozen as
	// ProgramFound false alone, as without the checkout's version.
	RecreatedAfterCheckout bool `firestore:"recreatedAfterCheckout,omitempty" json:"recreatedAfterCheckout,omitempty"`
	// FrozenAt is when the webhook recorded the terms.
	FrozenAt time.Time `firestore:"frozenAt" json:"frozenAt"`
}

// maxTermsBps is 100 % in basis points, the upper bound of a program's
// coachSplits values and commissionBps.
const maxTermsBps = 10000

// ProgramTermsOf reads the terms of a program document's data: createdBy
// (ProgramCoachIDs), coachSplits and commissionBps, field by field. It
// never fails: programs are written by their coaches and admins, and a
// malformed split or commission must not keep the webhook from recording a
// sale. A split or commission value that is not an integer in 0–10000 is
// kept as -1 and a coachSplits that is not a map sets CoachSplitsInvalid,
// so that whoever allocates by the terms rejects them. ProgramFound is
// set; the caller sets the times.
func ProgramTermsOf(data map[string]any) ProgramTerms {
	t := ProgramTerms{ProgramFound: true, CoachIDs: ProgramCoachIDs(data)}
	switch splits := data["coachSplits"].(type) {
	case nil:
	case map[string]any:
		t.CoachSplits = make(map[string]int, len(splits))
		for c, v := range splits {
			t.CoachSplits[c] = TermsBps(v)
		}
	default:
		t.CoachSplitsInvalid = true
	}
	if v := data["commissionBps"]; v != nil {
		b := TermsBps(v)
		t.CommissionBps = &b
	}
	return t
}

// TermsBps is a stored basis-point value (a share of coachSplits, a
// commissionBps) as an int, or -1 (out of range: rejected by the payouts)
// when it is not an integer in 0–10000.
func TermsBps(v any) int {
	if n, ok := v.(int64); ok && n >= 0 && n <= maxTermsBps {
		return int(n)
	}
	return -1
}
