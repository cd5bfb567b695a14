package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/store"
)

func init() {
	register(&command{name: "smoke", summary: "end-to-end check of the running local stack (a client write reaches a trigger)", run: runSmoke})
}

// signIn returns a real ID token from the Auth emulator for a demo user.
func signIn(ctx context.Context, authHost, uid string) (string, error) {
	body, _ := json.Marshal(map[string]any{"email": uid + "@demo.innerjourney.test", "password": "demo-password", "returnSecureToken": true})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+authHost+"/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.IDToken == "" {
		return "", fmt.Errorf("sign in %s: status %d", uid, resp.StatusCode)
	}
	return out.IDToken, nil
}

// restPatch writes fields of a document through the Firestore REST API as
// the holder of idToken (so the security rules apply).
func restPatch(ctx context.Context, fsHost, project, path, idToken string, fields map[string]any) error {
	f := map[string]any{}
	u := fmt.Sprintf("http://%s/v1/projects/%s/databases/(default)/documents/%s?", fsHost, project, path)
	for k, v := range fields {
		f[k] = store.RESTValue(v)
		u += "updateMask.fieldPaths=" + k + "&"
	}
	status, b, err := sendAs(ctx, "PATCH", u, idToken, map[string]any{"fields": f})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("write %s: %d %s", path, status, b)
	}
	return nil
}

// callCallable calls a Firebase callable over HTTP as the holder of
// idToken, and fails unless it answers with a result.
func callCallable(ctx context.Context, url, idToken string, data any) error {
	status, b, err := sendAs(ctx, "POST", url, idToken, map[string]any{"data": data})
	if err != nil {
		return err
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Result == nil {
		return fmt.Errorf("call %s: %d %s", url, status, b)
	}
	return nil
}

// sendAs sends body as JSON to url with idToken as the bearer and returns
// the answer's status and (its first 4 KiB of) body.
func sendAs(ctx context.Context, method, url, idToken string, body any) (int, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+idToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, b, nil
}

// waitConsent waits until onConsentsWritten shows status as uid's
// current choice of consent typ.
func waitConsent(ctx context.Context, client *firestore.Client, uid, typ, status string) error {
	return waitFor(ctx, 20*time.Second, func() (bool, error) {
		s, err := client.Doc("consents/" + uid).Get(ctx)
		if err != nil {
			return false, err
		}
		v, err := s.DataAt("current." + typ + ".status")
		return err == nil && v == status, nil
	})
}

// waitFor polls fn until it reports done or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, fn func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := fn()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func runSmoke(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "smoke", "smoke [--project P]   (needs the stack of scripts/dev.sh)")
	project := fs.String("project", envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fsHost, authHost := os.Getenv("FIRESTORE_EMULATOR_HOST"), os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")
	if fsHost == "" || authHost == "" {
		return fmt.Errorf("FIRESTORE_EMULATOR_HOST and FIREBASE_AUTH_EMULATOR_HOST must be set (source .dev/env)")
	}
	client, err := firestore.NewClient(ctx, *project)
	if err != nil {
		return err
	}
	defer client.Close()
	results := map[string]any{}

	// 1. A signed-in user appends a consent entry through the REST API
	// (rules enforced); onConsentsWritten brings consents.current in step.
	tok, err := signIn(ctx, authHost, "demo-ada")
	if err != nil {
		return err
	}
	snap, err := client.Doc("consents/demo-ada").Get(ctx)
	if err != nil {
		return fmt.Errorf("consents of demo-ada: %w (seed first)", err)
	}
	history, _ := snap.DataAt("consentsGiven")
	list, _ := history.([]any)
	now := time.Now().UTC()
	list = append(list, map[string]any{"type": "marketing_emails", "version": "v1.0", "agreedAt": now, "status": "granted"})
	start := time.Now()
	if err := restPatch(ctx, fsHost, *project, "consents/demo-ada", tok, map[string]any{"consentsGiven": list}); err != nil {
		return err
	}
	if err := waitConsent(ctx, client, "demo-ada", "marketing_emails", "granted"); err != nil {
		return fmt.Errorf("consent trigger round trip: %w", err)
	}
	results["consentTriggerRoundTripMs"] = time.Since(start).Milliseconds()

	// 2. The same user withdraws it through the recordConsent callable
	// (dated by the server's clock), and current follows.
	if fnURL := os.Getenv("FUNCTIONS_URL"); fnURL != "" {
		start = time.Now()
		if err := callCallable(ctx, fnURL+"/recordConsent", tok,
			map[string]any{"type": "marketing_emails", "version": "v1.0", "status": "revoked"}); err != nil {
			return err
		}
		if err := waitConsent(ctx, client, "demo-ada", "marketing_emails", "revoked"); err != nil {
			return fmt.Errorf("recordConsent round trip: %w", err)
		}
		results["recordConsentRoundTripMs"] = time.Since(start).Milliseconds()
	}

	for _, check := range smokeChecks {
		ms, err := check.run(ctx, client)
		if err != nil {
			return fmt.Errorf("%s: %w", check.name, err)
		}
		results[check.name] = ms
	}
	return json.NewEncoder(env.stdout).Encode(results)
}

// smokeCheck is an area's end-to-end check over the seeded demo data; it
// returns how long its effect took to appear, in ms.
type smokeCheck struct {
	name string
	run  func(ctx context.Context, c *firestore.Client) (int64, error)
}

// smokeChecks are added by the areas (smoke_*.go).
var smokeChecks []smokeCheck
