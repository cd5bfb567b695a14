package gdpr

import (
	"context"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/store"
)

// The update functions of the policy table: what anonymisation and
// pseudonymisation write to one document. Each makes the document stop
// matching its rule's query, so erasure can re-run a query until it finds
// nothing.

// setField sets field to v.
func setField(field string, v any) func(*run, *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	return func(*run, *firestore.DocumentSnapshot) ([]firestore.Update, error) {
		return []firestore.Update{{Path: field, Value: v}}, nil
	}
}

// setPseudonym sets field to the subject's pseudonym.
func setPseudonym(field string) func(*run, *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	return func(r *run, _ *firestore.DocumentSnapshot) ([]firestore.Update, error) {
		return []firestore.Update{{Path: field, Value: r.ps}}, nil
	}
}

// arrayRemoveUID removes the subject's uid from an array field.
func arrayRemoveUID(field string) func(*run, *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	return func(r *run, _ *firestore.DocumentSnapshot) ([]firestore.Update, error) {
		return []firestore.Update{{Path: field, Value: firestore.ArrayRemove(r.uid)}}, nil
	}
}

// removeParticipant removes the subject from a live session: their uid
// from participants and each of their reflections, exactly as read
// (arrayRemove of whole elements, so concurrent appends by others stay).
// It leaves the uid in reflectionUserIds: a reflection the subject
// appended after the read (while still a participant) would otherwise be
// found by no finder; the live_sessions.reflectionUserIds rule, which runs
// next, removes the uid under its guard.
func removeParticipant(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	ups := []firestore.Update{{Path: "participants", Value: firestore.ArrayRemove(r.uid)}}
	if own := ownReflections(snap, r.uid); len(own) > 0 {
		ups = append(ups, firestore.Update{Path: "reflections", Value: firestore.ArrayRemove(own...)})
	}
	return ups, nil
}

// removeReflector removes the subject from a live session they reflected
// in, whether or not they still take part: each of their reflections as
// read, and their uid from reflectionUserIds and participants. The rule is
// guarded (the write applies only to the version read), so the uid leaves
// reflectionUserIds, the field that finds the session, only in the same
// write that removes every reflection of theirs: a reflection appended
// meanwhile makes the write fail, and the session is read again. The
// removals are arrayRemove of whole elements, so a repeated write changes
// nothing more.
func removeReflector(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	ups := []firestore.Update{
		{Path: "reflectionUserIds", Value: firestore.ArrayRemove(r.uid)},
		{Path: "participants", Value: firestore.ArrayRemove(r.uid)},
	}
	if own := ownReflections(snap, r.uid); len(own) > 0 {
		ups = append(ups, firestore.Update{Path: "reflections", Value: firestore.ArrayRemove(own...)})
	}
	return ups, nil
}

// ownReflections returns the entries of a live session's reflections
// written by uid, exactly as stored.
func ownReflections(snap *firestore.DocumentSnapshot, uid string) []any {
	refl, _ := snap.DataAt("reflections")
	list, _ := refl.([]any)
	var own []any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["userId"] == uid {
			own = append(own, m)
		}
	}
	return own
}

// replaceProgramCreator replaces the subject by ErasedRef in a program's
// createdBy and coachSplits (the program stays for the users enrolled).
func replaceProgramCreator(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	data := snap.Data()
	list, _ := data["createdBy"].([]any)
	ids, splits := replaceCoach(r.uid, list, data["coachSplits"])
	ups := []firestore.Update{{Path: "createdBy", Value: ids}}
	if splits != nil {
		ups = append(ups, firestore.Update{Path: "coachSplits", Value: splits})
	}
	return ups, nil
}

// replaceTermsCoach replaces the subject by ErasedRef in the program terms
// frozen on a payment when it was paid (payments.programTerms: coachIds
// and the keys of coachSplits), exactly as replaceProgramCreator does in
// the program itself (replaceCoach). The payment stays its customer's
// accounting record; the payouts allocate a sale not yet allocated by
// these terms, so the erased coach's share goes to ErasedRef, as it does
// for a legacy payment allocated from the erased coach's program. Nothing
// else of the payment or its terms changes.
func replaceTermsCoach(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	v, _ := snap.DataAt("programTerms")
	terms, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	list, _ := terms["coachIds"].([]any)
	ids, splits := replaceCoach(r.uid, list, terms["coachSplits"])
	ups := []firestore.Update{{FieldPath: firestore.FieldPath{"programTerms", "coachIds"}, Value: ids}}
	if splits != nil {
		ups = append(ups, firestore.Update{FieldPath: firestore.FieldPath{"programTerms", "coachSplits"}, Value: splits})
	}
	return ups, nil
}

// replaceCoach replaces uid by ErasedRef in the coaches of a program or of
// a sale's frozen terms: in ids (createdBy, programTerms.coachIds; order
// kept, duplicates dropped, so an erased coach already there stays once)
// and as a key of splits (coachSplits, programTerms.coachSplits: coach →
// basis points), where uid's share is added to ErasedRef's. The split
// keeps its sum, so the payouts pay the erased coach's share to ErasedRef
// (and the shares of every coach erased from the program together). A
// share that is not an integer in 0–10000 (model.TermsBps), or a share
// added to one, is kept as -1: the payouts reject such a split
// (model.ProgramTermsOf) and must still reject it after the merge. outSplits is nil when splits is
// not a map naming uid (nothing to write).
func replaceCoach(uid string, ids []any, splits any) (outIDs []any, outSplits map[string]any) {
	outIDs = []any{}
	seen := map[string]bool{}
	for _, v := range ids {
		s, _ := v.(string)
		if s == uid {
			s = ErasedRef
		}
		if !seen[s] {
			seen[s] = true
			outIDs = append(outIDs, s)
		}
	}
	m, ok := splits.(map[string]any)
	if !ok {
		return outIDs, nil
	}
	share, ok := m[uid]
	if !ok {
		return outIDs, nil
	}
	outSplits = make(map[string]any, len(m))
	for k, v := range m {
		if k != uid {
			outSplits[k] = v
		}
	}
	merged := int64(model.TermsBps(share))
	if prev, has := outSplits[ErasedRef]; has && merged >= 0 {
		if p := model.TermsBps(prev); p >= 0 {
			merged += int64(p)
		} else {
			merged = -1
		}
	}
	outSplits[ErasedRef] = merged
	return outIDs, outSplits
}

// pseudonymisePayment keeps a payment for bookkeeping without direct
// identifiers.
func pseudonymisePayment(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	ups := []firestore.Update{{Path: "userId", Value: r.ps}, {Path: "pseudonymised", Value: true},
		{Path: "legalHoldUntil", Value: pseudonym.BookkeepingHoldUntil(dateOf(snap, "paymentDate", "createdAt"))},
		{Path: "invoiceUrl", Value: firestore.Delete}}
	if v, _ := snap.DataAt("customerId"); v != nil {
		if c, ok := v.(string); ok && c != "" {
			ups = append(ups, firestore.Update{Path: "customerId", Value: r.s.pseudonym(c)})
		}
	}
	return ups, nil
}

// pseudonymisePayout keeps a payout for bookkeeping without the coach's uid.
func pseudonymisePayout(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	return []firestore.Update{{Path: "coachId", Value: r.ps}, {Path: "pseudonymised", Value: true},
		{Path: "legalHoldUntil", Value: pseudonym.BookkeepingHoldUntil(dateOf(snap, "payoutDate", "createdAt"))}}, nil
}

// pseudonymiseWellbeing keeps a safety record without the uid and without
// the trigger (screening values or reflection flags: health data): userId
// becomes the pseudonym, so does the uid inside episodeId (records written
// before episode ids stopped embedding the uid, "{uid}:{time}"), and
// sourceKey is removed (a reflection's key could embed the journal entry
// id, which may embed the uid).
func pseudonymiseWellbeing(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	at := dateOf(snap, "createdAt")
	ups := []firestore.Update{{Path: "userId", Value: r.ps}, {Path: "pseudonymised", Value: true},
		{Path: "trigger", Value: firestore.Delete}, {Path: "sourceKey", Value: firestore.Delete},
		{Path: "legalHoldUntil", Value: at.AddDate(WellbeingHoldYears, 0, 0)}}
	if v, err := snap.DataAt("episodeId"); err == nil {
		if ep, ok := v.(string); ok && r.uid != "" && strings.Contains(ep, r.uid) {
			ups = append(ups, firestore.Update{Path: "episodeId", Value: strings.ReplaceAll(ep, r.uid, r.ps)})
		}
	}
	return ups, nil
}

// dateOf returns the first timestamp field present, or the document's
// creation time.
func dateOf(snap *firestore.DocumentSnapshot, fields ...string) time.Time {
	for _, f := range fields {
		if v, err := snap.DataAt(f); err == nil {
			if t, ok := v.(time.Time); ok && !t.IsZero() {
				return t
			}
		}
	}
	return snap.CreateTime
}

// pseudonymiseAllocation replaces the subject's coach uid in a payout
// allocation (weights keys, entries, open) by the pseudonym; other
// coaches' shares stay as they are. A document that does not mention the
// subject is left alone.
func pseudonymiseAllocation(r *run, snap *firestore.DocumentSnapshot) ([]firestore.Update, error) {
	data := snap.Data()
	mentions := false
	swap := func(v any) any {
		if v == r.uid {
			mentions = true
			return r.ps
		}
		return v
	}
	var ups []firestore.Update
	if w, ok := data["weights"].(map[string]any); ok {
		if _, has := w[r.uid]; has {
			nw := map[string]any{}
			for k, v := range w {
				nw[swap(k).(string)] = v
			}
			ups = append(ups, firestore.Update{Path: "weights", Value: nw})
		}
	}
	if list, ok := data["entries"].([]any); ok {
		changed := false
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = e
			if m, ok := e.(map[string]any); ok && m["coachId"] == r.uid {
				nm := map[string]any{}
				for k, v := range m {
					nm[k] = v
				}
				nm["coachId"] = swap(m["coachId"])
				out[i], changed = nm, true
			}
		}
		if changed {
			ups = append(ups, firestore.Update{Path: "entries", Value: out})
		}
	}
	if list, ok := data["open"].([]any); ok {
		out := make([]any, len(list))
		changed := false
		for i, v := range list {
			out[i] = swap(v)
			changed = changed || out[i] != v
		}
		if changed {
			ups = append(ups, firestore.Update{Path: "open", Value: out})
		}
	}
	if !mentions {
		return nil, nil
	}
	return append(ups, firestore.Update{Path: "pseudonymisedCoaches", Value: firestore.ArrayUnion(r.ps)},
		firestore.Update{Path: "legalHoldUntil", Value: pseudonym.BookkeepingHoldUntil(dateOf(snap, "createdAt"))}), nil
}

// allocationsViaPayouts resolves the allocations of the payments in the
// subject's payouts (payout_allocations/{paymentId} for each
// relatedPaymentIds entry): exact document ids, no scan.
func allocationsViaPayouts(ctx context.Context, s *Service, uid string) ([]*firestore.DocumentRef, error) {
	q, err := indexes.MustLookup(indexes.QGDPRPayouts).Build(s.Firestore, uid)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "gdpr: payouts query")
	}
	docs, err := q.Select("relatedPaymentIds").Documents(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("gdpr: payouts", err)
	}
	seen := map[string]bool{}
	var refs []*firestore.DocumentRef
	for _, d := range docs {
		v, _ := d.DataAt("relatedPaymentIds")
		list, _ := v.([]any)
		for _, x := range list {
			id, ok := x.(string)
			if !ok || !model.ValidDocID(id) || seen[id] {
				continue
			}
			seen[id] = true
			refs = append(refs, s.Firestore.Collection(model.ColPayoutAllocations).Doc(id))
		}
	}
	return refs, nil
}

// allocationsByWeight resolves the allocations that name the subject in
// their weights but in none of their entries: those the other two rules
// miss (no open share, no payout of the subject names the payment), a sale
// refunded in full before its allocation (no entries at all). One query on
// the map field weights.{uid} (weights are positive), which the automatic
// single-field index serves as long as firestore.indexes.json exempts
// nothing under payout_allocations.weights; the entries are read to leave
// out the allocations the other rules find (no document twice in an
// export).
func allocationsByWeight(ctx context.Context, s *Service, uid string) ([]*firestore.DocumentRef, error) {
	// index check: qAllocationsByWeight describes this query.
	docs, err := s.Firestore.Collection(model.ColPayoutAllocations).WherePath(firestore.FieldPath{"weights", uid}, ">", 0).
		Select("entries").Documents(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("gdpr: allocations by weight", err)
	}
	var refs []*firestore.DocumentRef
	for _, d := range docs {
		mine := false
		list, _ := d.Data()["entries"].([]any)
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["coachId"] == uid {
				mine = true
				break
			}
		}
		if !mine {
			refs = append(refs, d.Ref)
		}
	}
	return refs, nil
}

// mentionsCoach reports whether an allocation still names uid.
func mentionsCoach(snap *firestore.DocumentSnapshot, uid string) bool {
	data := snap.Data()
	if w, ok := data["weights"].(map[string]any); ok {
		if _, has := w[uid]; has {
			return true
		}
	}
	for _, f := range []string{"entries", "open"} {
		list, _ := data[f].([]any)
		for _, e := range list {
			if e == uid {
				return true
			}
			if m, ok := e.(map[string]any); ok && m["coachId"] == uid {
				return true
			}
		}
	}
	return false
}
