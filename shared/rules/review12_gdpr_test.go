package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// erasingMarker is the path of uid's erasure marker, which functions/gdpr
// writes before it revokes the account's tokens (model.ErasingMarkerID):
// gdpr_requests/erasing_<lowercase hex SHA-256 of the uid>.
func erasingMarker(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return "gdpr_requests/erasing_" + hex.EncodeToString(sum[:])
}

// TestReview12ErasingAccountWritesNothing: an ID token stays valid for up
// to an hour after an erasure revoked the account's refresh tokens and
// disabled or deleted it, and rules cannot check revocation. Without a
// check, a client holding such a token writes a profile, journal entries,
// consents, or as a coach a coach profile, activations, programs and live
// sessions under the erased uid after the erasure is done, and no erasure
// pass finds them again. Every create and update the access matrix allows
// must be refused to a caller whose erasure marker exists, and only to
// that caller.
func TestReview12ErasingAccountWritesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mark := func(uids ...string) {
		t.Helper()
		for _, u := range uids {
			if _, err := w.c.Doc(erasingMarker(u)).Set(ctx, map[string]any{"kind": "erasing",
				"legalHoldUntil": time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	writes := func(keep func(rcase) bool) []rcase {
		var out []rcase
		for _, a := range accessMatrix {
			if a.req.op != opCreate && a.req.op != opUpdate {
				continue
			}
			for _, c := range a.expand() {
				if c.allow && keep(c) {
					out = append(out, c)
				}
			}
		}
		return out
	}

	// alice is being erased: her writes are refused, carol's (the
	// assigned coach, not erased) still pass.
	mark(uidOf[owner])
	t.Run("owner marked", func(t *testing.T) {
		for _, c := range writes(func(c rcase) bool { return c.as == owner || c.as == coach }) {
			if c.as == owner {
				c.allow = false
			}
			t.Run(c.name, func(t *testing.T) { w.check(t, c) })
		}
	})

	// Everyone is being erased: no create or update passes.
	mark(uidOf[other], uidOf[coach], uidOf[stranger], uidOf[admin])
	t.Run("everyone marked", func(t *testing.T) {
		for _, c := range writes(func(rcase) bool { return true }) {
			c.allow = false
			t.Run(c.name, func(t *testing.T) { w.check(t, c) })
		}
	})
}
