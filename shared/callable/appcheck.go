package callable

import (
	"context"

	"firebase.google.com/go/v4/appcheck"
)

// FirebaseAppCheck adapts the Admin SDK's App Check client to
// AppCheckVerifier.
type FirebaseAppCheck struct{ Client *appcheck.Client }

// VerifyAppCheck verifies token and returns its app id.
func (f FirebaseAppCheck) VerifyAppCheck(_ context.Context, token string) (string, error) {
	t, err := f.Client.VerifyToken(token)
	if err != nil {
		return "", err
	}
	return t.AppID, nil
}
