package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// ErasingMarkerID is the id of uid's erasure marker in gdpr_requests,
// which the erasure writes before it disables the account and keeps until
// no ID token minted before can be valid: "erasing_" and the lowercase hex
// SHA-256 of the uid, which firestore.rules computes from
// request.auth.uid (hashing.sha256(uid).toHexString().lower()) to refuse
// the subject's writes. An unkeyed hash, because the rules hold no key;
// it names no request and no other record. Server code that writes user
// data on a user's behalf checks it the same way (consents.RecordConsent).
func ErasingMarkerID(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return "erasing_" + hex.EncodeToString(sum[:])
}
