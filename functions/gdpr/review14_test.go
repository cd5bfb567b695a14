package gdpr

import (
	"strings"
	"testing"

	"firebase.google.com/go/v4/auth"
)

// TestReview14ExportHoldsTheAccount: the archive holds what Firebase Auth
// keeps about the subject: the sign-in account's e-mail address and phone
// number (data the subject provided, Art. 20) and the custom claims other
// functions set on it (the payments webhook's entitlements of a
// subscription). Regression: the policy exported nothing of the account
// ("—") and the manifest did not list it as omitted, so an archive of
// "everything held about the user" lacked the e-mail address the user
// signs in with.
func TestReview14ExportHoldsTheAccount(t *testing.T) {
	e := newEnv(t, true)
	subject := uid("acct")
	e.createAccount(subject)
	if _, err := e.auth.Client.UpdateUser(e.ctx, subject, (&auth.UserToUpdate{}).Email(subject+"@example.org").
		PhoneNumber("+46701234567").DisplayName("Ada Export")); err != nil {
		t.Fatal(err)
	}
	// What functions/payments writes for an active subscription.
	if err := e.auth.Client.SetCustomUserClaims(e.ctx, subject, map[string]any{"entitlements": []any{"premium-insights"}}); err != nil {
		t.Fatal(err)
	}
	e.set("users/"+subject, map[string]any{"userId": subject, "displayName": "Ada Export"})
	res, err := e.s.RequestDataExport(e.ctx, call(subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.deliver(); n != 1 {
		t.Fatalf("%d messages", n)
	}
	r := e.request(res.(RequestView).RequestID)
	if r.Status != StatusDone {
		t.Fatalf("export %s: %s", r.Status, r.Error)
	}
	var all strings.Builder
	for name, b := range e.readZip(r.ExportPath) {
		all.WriteString(name + "\n")
		all.Write(b)
	}
	for _, want := range []string{subject + "@example.org", "+46701234567", "premium-insights"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the archive lacks %q of the subject's account", want)
		}
	}
}
