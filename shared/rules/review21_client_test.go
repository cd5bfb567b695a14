package rules

import (
	"net/http"
	"testing"
)

// clientGetOutcome is what a client SDK sees of a document get: allowed (the
// document, or "not found" for a missing one) or PERMISSION_DENIED.
type clientGetOutcome int

const (
	clientGotAllowed clientGetOutcome = iota + 1
	clientGotDenied
)

func (o clientGetOutcome) String() string {
	return map[clientGetOutcome]string{clientGotAllowed: "allowed (found or not found)", clientGotDenied: "PERMISSION_DENIED"}[o]
}

// clientGetAs gets path as actor a and classifies the answer: 200 and 404 are
// allowed, 403 denied; anything else fails the test.
func (w *world) clientGetAs(t *testing.T, a actor, path string) clientGetOutcome {
	t.Helper()
	status, body := w.send(t, rcase{as: a, req: get(path)})
	switch status {
	case http.StatusOK, http.StatusNotFound:
		return clientGotAllowed
	case http.StatusForbidden:
		return clientGotDenied
	}
	t.Fatalf("get %s as %s: status %d: %v", path, a, status, body)
	return 0
}

// TestReview21ClientOwnMissingEnrollmentReadsAsNotFound walks the purchase flow
// as the app performs it: the README documents enrollments/{uid}_{programId}
// as readable by its user, so the program screen reads (and, after
// checkout, listens to) the caller's own enrolment by that id to show
// "enrolled" or "buy". Before the purchase, and between Checkout's return
// and the webhook's write, the document does not exist: the SDK must see
// "not found", not PERMISSION_DENIED (which a snapshot listener reports as
// an error and then stops listening, so the app never sees the enrolment
// arrive). Nobody may use a missing id to learn about another user's
// enrolments.
func TestReview21ClientOwnMissingEnrollmentReadsAsNotFound(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name string
		as   actor
		path string
		want clientGetOutcome
	}{
		{"alice, her enrolment before buying", owner, "enrollments/alice_prog-new", clientGotAllowed},
		{"alice, her enrolment in another program", owner, "enrollments/alice_prog-dave", clientGotAllowed},
		{"alice, her existing enrolment", owner, "enrollments/alice_prog-carol", clientGotAllowed},
		{"carol (a coach of it), alice's existing enrolment", coach, "enrollments/alice_prog-carol", clientGotAllowed},
		{"admin, a missing enrolment", admin, "enrollments/bob_prog-new", clientGotAllowed},
		{"bob, alice's existing enrolment", other, "enrollments/alice_prog-carol", clientGotDenied},
		{"bob, alice's missing enrolment", other, "enrollments/alice_prog-new", clientGotDenied},
		{"alice, an id that only starts with her uid", owner, "enrollments/alicex_prog-new", clientGotDenied},
		{"alice, her bare uid as the id", owner, "enrollments/alice_", clientGotDenied},
		{"dave (a coach), alice's missing enrolment", stranger, "enrollments/alice_prog-new", clientGotDenied},
		{"unauthenticated, a missing enrolment", anon, "enrollments/alice_prog-new", clientGotDenied},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := w.clientGetAs(t, c.as, c.path); got != c.want {
				t.Errorf("get %s as %s: %s, want %s", c.path, c.as, got, c.want)
			}
		})
	}
}
