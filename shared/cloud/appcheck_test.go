package cloud

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"firebase.google.com/go/v4/appcheck"

	"github.com/innerjourney/functions/shared/config"
)

const testProject = "demo-appcheck"

// jwksServer is a stand-in for the App Check key-set endpoint
// (appcheck.JWKSUrl points at it for the test). When hang is set, it
// answers no request until the client gives up; each request it sees is
// announced on requests and, once the client gave up, on abandoned.
type jwksServer struct {
	key       *rsa.PrivateKey
	hang      bool
	hits      atomic.Int32
	requests  chan struct{}
	abandoned chan struct{}
}

// startJWKS serves a key set holding one fresh RSA key and points the
// App Check SDK at it until the test ends.
func startJWKS(t *testing.T, hang bool) *jwksServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	s := &jwksServer{key: key, hang: hang, requests: make(chan struct{}, 100), abandoned: make(chan struct{}, 100)}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.requests <- struct{}{}
		if s.hang {
			select {
			case <-r.Context().Done():
				s.abandoned <- struct{}{}
			case <-done:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "test-key",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	old := appcheck.JWKSUrl
	appcheck.JWKSUrl = srv.URL
	t.Cleanup(func() {
		appcheck.JWKSUrl = old
		close(done) // before srv.Close, which waits for the handlers
		srv.Close()
	})
	return s
}

// token returns an App Check token for appID signed with key.
func token(t *testing.T, key *rsa.PrivateKey, appID string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test-key"}) + "." + enc(map[string]any{
		"iss": "https://firebaseappcheck.googleapis.com/123", "sub": appID,
		"aud": []string{"projects/123", "projects/" + testProject},
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// testClients are Clients of the test project.
func testClients() *Clients {
	return New(func() (*config.Config, error) { return &config.Config{ProjectID: testProject}, nil })
}

// TestAppCheckCreationBoundedByCaller: creating the App Check client
// fetches the key set; when the endpoint hangs, the caller gets its
// context's error as soon as its context ends (the SDK alone would wait a
// minute), and the fetch is abandoned, not left running.
func TestAppCheckCreationBoundedByCaller(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		// cancelOnRequest cancels the context once the fetch has started.
		cancelOnRequest bool
		want            error
	}{
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name:            "cancelled",
			ctx:             func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			cancelOnRequest: true,
			want:            context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startJWKS(t, true)
			c := testClients()
			ctx, cancel := tt.ctx()
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := c.AppCheck(ctx)
				errc <- err
			}()
			await(t, s.requests, "key-set request")
			if tt.cancelOnRequest {
				cancel()
			}
			err := await(t, errc, "AppCheck with a hung key set, after its context ended")
			if !errors.Is(err, tt.want) {
				t.Errorf("AppCheck = %v, want an error wrapping %v", err, tt.want)
			}
			await(t, s.abandoned, "key-set request abandoned by the client")
		})
	}
}

// TestAppCheckClientVerifiesAfterBoundedCreation: the client created under
// a bounded context keeps working once that context has ended (it
// verifies tokens against the fetched key set), and is created once.
func TestAppCheckClientVerifiesAfterBoundedCreation(t *testing.T) {
	s := startJWKS(t, false)
	c := testClients()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	ac, err := c.AppCheck(ctx)
	cancel()
	if err != nil {
		t.Fatalf("AppCheck: %v", err)
	}
	tok, err := ac.VerifyToken(token(t, s.key, "1:123:web:abc"))
	if err != nil {
		t.Fatalf("VerifyToken after the creating context ended: %v", err)
	}
	if tok.AppID != "1:123:web:abc" {
		t.Errorf("AppID = %q, want 1:123:web:abc", tok.AppID)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	if _, err := ac.VerifyToken(token(t, other, "1:123:web:abc")); err == nil {
		t.Error("VerifyToken accepted a token signed with a key not in the key set")
	}
	again, err := c.AppCheck(context.Background())
	if err != nil || again != ac {
		t.Errorf("second AppCheck = %p, %v; want the same client %p", again, err, ac)
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("key set fetched %d times, want 1", n)
	}
}
