package callable

import (
	"context"
	"errors"
	"maps"

	"firebase.google.com/go/v4/auth"
)

// RoleClaims are the custom claims the callables authorize with (Auth.Admin,
// Auth.Coach). FirebaseAuth reads them from the account at every call, not
// from the ID token, so that a role removed from an account stops at once.
var RoleClaims = []string{"admin", "coach"}

// Errors of FirebaseAuth's own checks (the Admin SDK's are returned as
// they are); idTokenFault answers both UNAUTHENTICATED.
var (
	// ErrIDTokenRevoked: the token was issued before the account's refresh
	// tokens were revoked.
	ErrIDTokenRevoked = errors.New("callable: ID token revoked")
	// ErrAccountDisabled: the account is disabled.
	ErrAccountDisabled = errors.New("callable: account disabled")
)

// FirebaseAuth adapts the Admin SDK's Auth client to IDTokenVerifier. Its
// VerifyIDTokenAndCheckRevoked makes the checks of the SDK's own (the
// token, then one lookup of the account: deleted, disabled, tokens
// revoked) and returns the token with the RoleClaims of the account as it
// is now: the SDK's would keep the roles the token was minted with, so an
// admin whose claim was removed would keep every admin callable for up to
// an hour. Same cost: one Auth lookup per call.
//
// (The security rules read the roles from the token and cannot look them
// up: a demotion reaches them when the token expires; see the README.)
type FirebaseAuth struct{ Client AuthClient }

// AuthClient is what FirebaseAuth needs of the Admin SDK's *auth.Client.
type AuthClient interface {
	// VerifyIDToken verifies the token itself (outside the Auth emulator,
	// no lookup of the account).
	VerifyIDToken(ctx context.Context, idToken string) (*auth.Token, error)
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
}

// VerifyIDTokenAndCheckRevoked verifies idToken and returns it with the
// account's current roles. Errors: the SDK's for a token that does not
// verify and for the lookup (auth.IsUserNotFound for a deleted account),
// ErrAccountDisabled, ErrIDTokenRevoked.
func (f FirebaseAuth) VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*auth.Token, error) {
	t, err := f.Client.VerifyIDToken(ctx, idToken)
	if err != nil {
		return nil, err
	}
	u, err := f.Client.GetUser(ctx, t.UID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrAccountDisabled
	}
	// IssuedAt is in seconds, TokensValidAfterMillis in milliseconds (as
	// the SDK compares them).
	if t.IssuedAt*1000 < u.TokensValidAfterMillis {
		return nil, ErrIDTokenRevoked
	}
	current := *t
	current.Claims = maps.Clone(t.Claims)
	for _, r := range RoleClaims {
		delete(current.Claims, r)
		if v, ok := u.CustomClaims[r]; ok {
			current.Claims[r] = v
		}
	}
	return &current, nil
}
