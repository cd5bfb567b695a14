package profile

import (
	"context"
	"net/http"
	"testing"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview24AckEventIDNotADocID: an acknowledgeWellbeingEvent eventId
// that is no document id ("__x__", ".", "a/b") is the admin's mistake:
// 400 INVALID_ARGUMENT (model.ValidDocID), not Firestore's INVALID_ARGUMENT
// answered INTERNAL as a dependency's failure with an ERROR for on-call.
func TestReview24AckEventIDNotADocID(t *testing.T) {
	a := testenv.AuthEmulator(t)
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	s, _ := newService(c)
	deps := callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return a.Client, nil }}
	ack := callable.New(s.AcknowledgeWellbeingEvent, callable.Options{Name: "acknowledgeWellbeingEvent", RequireAuth: true, RequireAdmin: true}, deps)
	admin := a.SignIn(t, "r24-admin", map[string]any{"admin": true})
	for _, id := range []string{"__x__", ".", "..", "a/b"} {
		r := call(t, ack, admin, map[string]any{"eventId": id})
		e, _ := r.body["error"].(map[string]any)
		if r.status != http.StatusBadRequest || e == nil || e["status"] != "INVALID_ARGUMENT" {
			t.Errorf("eventId %q: %d %v, want 400 INVALID_ARGUMENT", id, r.status, r.body)
		}
	}
}
