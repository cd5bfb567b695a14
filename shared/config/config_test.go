package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, ""},
		{"bad env", map[string]string{"IJ_ENV": "prod"}, "IJ_ENV"},
		{"bad stripe key", map[string]string{"STRIPE_SECRET_KEY": "pk_test_x"}, "STRIPE_SECRET_KEY"},
		{"bad webhook secret", map[string]string{"STRIPE_WEBHOOK_SECRETS": "whsec_a, nope"}, "STRIPE_WEBHOOK_SECRETS"},
		{"emulator in production", map[string]string{"IJ_ENV": "production", "FIRESTORE_EMULATOR_HOST": "x:1"}, "emulator"},
		// Staging is a deployed project too: an Auth emulator host there
		// makes the Admin SDK accept unsigned ID tokens.
		{"auth emulator in staging", map[string]string{"IJ_ENV": "staging", "FIREBASE_AUTH_EMULATOR_HOST": "x:1"}, "emulator"},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		// Separators only: an empty origin list would allow every origin.
		{"CORS origins without an origin", map[string]string{"IJ_CORS_ORIGINS": " , "}, "IJ_CORS_ORIGINS"},
		{"App Check neither monitored nor enforced", map[string]string{"IJ_APP_CHECK": "on"}, "IJ_APP_CHECK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if c.Region != "europe-north1" || c.StorageBucket != "p.appspot.com" || c.Env != "development" || c.AppCheckEnforced {
					t.Errorf("defaults not applied: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || fault.CodeOf(err) != fault.FailedPrecondition {
				t.Fatalf("Load error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestAppCheckEnforce(t *testing.T) {
	c, err := Load(env(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "IJ_APP_CHECK": "enforce"}))
	if err != nil || !c.AppCheckEnforced {
		t.Errorf("IJ_APP_CHECK=enforce: %+v, %v", c, err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := Load(env(map[string]string{"STRIPE_SECRET_KEY": "sk_test_supersecret", "STRIPE_WEBHOOK_SECRETS": "whsec_abc,whsec_def"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "config", c, "key", c.StripeSecretKey)
	js, _ := json.Marshal(c)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c.StripeSecretKey), buf.String(), string(js)} {
		if strings.Contains(out, "supersecret") || strings.Contains(out, "whsec_abc") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if c.StripeSecretKey.Reveal() != "sk_test_supersecret" || len(c.StripeWebhookSecrets) != 2 {
		t.Errorf("secret values lost")
	}
}

func TestRequire(t *testing.T) {
	c, err := Load(env(map[string]string{"FORTNOX_CLIENT_ID": "id"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Require("FORTNOX_CLIENT_ID"); err != nil {
		t.Errorf("Require(set) = %v", err)
	}
	err = c.Require("FORTNOX_CLIENT_SECRET", "FORTNOX_CLIENT_ID", "FORTNOX_TENANT_ID")
	if err == nil || !strings.Contains(err.Error(), "FORTNOX_CLIENT_SECRET, FORTNOX_TENANT_ID") {
		t.Errorf("Require(missing) = %v", err)
	}
}
