package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDeployRefusesUncheckableOptionalSecret: an optional secret that is
// absent (NOT_FOUND, or a latest version not enabled) is left out of the
// mounts, but one whose check fails for another reason (no permission to
// read its metadata, gcloud not logged in, a Secret Manager outage) may
// well exist and be mounted by the functions deployed now: leaving it out
// would redeploy them without it (the on-call webhook of wellbeing alerts,
// say) on a passing error. The deploy refuses instead, naming the secret,
// and runs nothing.
func TestDeployRefusesUncheckableOptionalSecret(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   string // fakeGcloud state of ij-oncall-webhook-url
		refused bool
	}{
		{name: "unreadable", state: "PERMISSION_DENIED", refused: true},
		{name: "missing", state: "NOT_FOUND"},
		{name: "disabled", state: "DISABLED"},
		{name: "enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeGcloud{states: map[string]string{"ij-oncall-webhook-url": tc.state}}
			withFakeGcloud(t, fake)
			var out, errb bytes.Buffer
			code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb},
				[]string{"deploy", "--project", "ij-prod", "deliverWellbeingAlert", "sweepWellbeingAlerts"})
			var deployed []string
			for _, c := range fake.commands() {
				if !isSecretProbe(c) {
					deployed = append(deployed, strings.Join(c, " "))
				}
			}
			if !tc.refused {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
				if len(deployed) == 0 {
					t.Error("nothing deployed")
				}
				return
			}
			if code == 0 {
				t.Fatalf("deploy went on with an unchecked optional secret:\n%s", out.String())
			}
			if len(deployed) > 0 {
				t.Errorf("ran %q before refusing", deployed)
			}
			msg := errb.String()
			for _, want := range []string{"nothing deployed", "ij-oncall-webhook-url (IJ_ONCALL_WEBHOOK_URL) for deliverWellbeingAlert, sweepWellbeingAlerts: could not be checked"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}
