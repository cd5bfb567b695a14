// Package pseudonym computes the keyed pseudonyms that stand for a person's
// identifier in records kept after the person's data is erased (GDPR
// erasure with a bookkeeping hold) and in identifiers that must never
// carry the raw identifier (payout ids).
//
// The contract, relied on by stored data: Of(key, id) is "ps_" followed by
// the first 128 bits, in lower-case hex, of HMAC-SHA256 keyed with key over
// the bytes of id (35 characters, [a-z0-9_] only, safe in document ids and
// Fortnox markers). It is deterministic: the same key and id always give
// the same pseudonym, so records of one person stay linkable to each other,
// and to the person only by whoever holds both the key and the id; without
// the key the id can be neither recovered nor tested. Changing the format
// or the key orphans every pseudonym already stored.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Prefix starts every pseudonym.
const Prefix = "ps_"

// Of returns the keyed pseudonym of id: Prefix and the first 128 bits of
// HMAC-SHA256(key, id) in hex (see the package documentation). It does not
// check the key; callers that must not run without one check it first.
func Of(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return Prefix + hex.EncodeToString(m.Sum(nil))[:32]
}

// Is reports whether id has the form of Of's result: Prefix and 32
// lowercase hex digits (Firebase uids are 28 letters and digits, so a uid
// is never taken for one).
func Is(id string) bool {
	h, ok := strings.CutPrefix(id, Prefix)
	if !ok || len(h) != 32 {
		return false
	}
	for _, r := range h {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// ErasureRequestID is the document id of a subject's erasure request,
// gdpr_requests/{id}: "erasure_" and 24 hex characters of
// Of(key, "erasure:"+uid). Every path to an erasure (the user, an admin,
// the Auth backstop, the reconciler) finds the same request with it, and
// so does the payments webhook, which must not re-create personal data of
// an erased subject. Like Of, it is part of the stored format.
func ErasureRequestID(key []byte, uid string) string {
	return "erasure_" + Of(key, "erasure:"+uid)[len(Prefix):len(Prefix)+24]
}

// BookkeepingYears is how long a payment is held after the end of its
// calendar year (Bokföringslagen 7 kap. 2 §); gdpr.BookkeepingYears.
const BookkeepingYears = 7

// BookkeepingHoldUntil is the end of the bookkeeping hold of a record
// dated t (a payment's legalHoldUntil once it is pseudonymised): the start
// of the year after BookkeepingYears full calendar years after t's year.
func BookkeepingHoldUntil(t time.Time) time.Time {
	return time.Date(t.UTC().Year()+BookkeepingYears+1, 1, 1, 0, 0, 0, 0, time.UTC)
}
