package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestReview7SecretNeverPrintsInAnyVerb: Secret promises to format as
// "[redacted]" in every verb. fmt uses String only for %v %s %x %X %q;
// any other verb (a %d in a format string built at run time, which vet
// cannot check) reports a bad verb and prints the raw value beside it,
// bypassing String. The same happens to a Secret inside a struct
// printed with such a verb (the whole Config). %w on a value that is not
// an error (fmt.Errorf("…: %w", cfg.StripeSecretKey)) is the same bad
// verb, except that fmt prints the operand by reflection without calling
// any of its methods, so only a value behind a pointer stays hidden.
func TestReview7SecretNeverPrintsInAnyVerb(t *testing.T) {
	c, err := Load(env(map[string]string{"STRIPE_SECRET_KEY": "sk_live_supersecret"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%d", "%t", "%c", "%e", "%U", "%b", "%o", "%w"} {
		format := verb // not a constant: as when a format is assembled at run time
		for what, arg := range map[string]any{"secret": c.StripeSecretKey, "config": c} {
			if out := fmt.Sprintf(format, arg); strings.Contains(out, "supersecret") {
				t.Errorf("%s of the %s prints the secret: %s", verb, what, out)
			}
			if out := fmt.Errorf(format, arg).Error(); strings.Contains(out, "supersecret") {
				t.Errorf("fmt.Errorf %s of the %s prints the secret: %s", verb, what, out)
			}
		}
	}
}
