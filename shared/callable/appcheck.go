package callable

import (
	"context"
	"fmt"

	"firebase.google.com/go/v4/appcheck"
)

// FirebaseAppCheck adapts the Admin SDK's App Check client to
// AppCheckVerifier.
type FirebaseAppCheck struct{ Client *appcheck.Client }

// VerifyAppCheck verifies token and returns its app id. The SDK checks the
// token against the key set it fetched when the client was created (and
// refreshes in the background), so this does no network I/O; ctx is only
// checked first.
func (f FirebaseAppCheck) VerifyAppCheck(ctx context.Context, token string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("verify App Check token: %w", err)
	}
	t, err := f.Client.VerifyToken(token)
	if err != nil {
		return "", fmt.Errorf("verify App Check token: %w", err)
	}
	return t.AppID, nil
}
