package main

import (
	"bytes"
	"context"
	"github.com/innerjourney/functions/shared/store"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"time"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// runOps runs `ops args…` with empty stdin and returns the exit code and
// the outputs.
func runOps(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runOpsIn(t, "", args...)
}

// runOpsIn runs `ops args…` with stdin and returns the exit code and the
// outputs.
func runOpsIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	code := run(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		var out, errb bytes.Buffer
		env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		if code := run(context.Background(), env, []string{name, "--help"}); code != 0 {
			t.Errorf("ops %s --help exited %d: %s", name, code, errb.String())
		}
		if !strings.Contains(errb.String(), "usage: ops "+name) {
			t.Errorf("ops %s --help printed no usage: %q", name, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, []string{"no-such-command"}); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}

// TestDeployDryRunCoversEveryFunction checks that the dry run deploys every
// registered function with its trigger, and creates its topic and its
// scheduler job.
func TestDeployDryRunCoversEveryFunction(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cmdEnv{stdout: &out, stderr: &errb}
	if code := run(context.Background(), env, []string{"deploy", "--dry-run", "--project", "ij-prod", "--region", "europe-north1"}); code != 0 {
		t.Fatalf("deploy --dry-run exited %d: %s", code, errb.String())
	}
	plan := out.String()
	lines := strings.Split(plan, "\n")
	for _, f := range functions.Registry() {
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, "gcloud functions deploy "+f.Name+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("%s: not deployed by the dry run", f.Name)
			continue
		}
		for _, want := range []string{"--gen2", "--runtime=go126", "--source=.", "--entry-point=" + f.Name, "--region=europe-north1"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: deploy lacks %s: %s", f.Name, want, line)
			}
		}
		switch f.Trigger {
		case functions.HTTP, functions.Callable:
			if !strings.Contains(line, "--trigger-http") {
				t.Errorf("%s: no --trigger-http", f.Name)
			}
		case functions.Firestore:
			if !strings.Contains(line, "type="+f.EventType) || !strings.Contains(line, "document="+f.Document) {
				t.Errorf("%s: Firestore filters missing: %s", f.Name, line)
			}
		case functions.PubSub:
			if !strings.Contains(line, "--trigger-topic="+f.Topic) || !strings.Contains(plan, "gcloud pubsub topics create "+f.Topic+" ") {
				t.Errorf("%s: topic %s not wired", f.Name, f.Topic)
			}
		}
		if f.Schedule != "" && !strings.Contains(plan, "gcloud scheduler jobs create pubsub "+f.Name+"-schedule") {
			t.Errorf("%s: no scheduler job", f.Name)
		}
		for _, s := range f.Secrets {
			if !strings.Contains(line, s+"="+secretName(s)+":latest") {
				t.Errorf("%s: secret %s not mounted", f.Name, s)
			}
		}
	}
	for _, want := range []string{"firebase deploy --only firestore", "--collection-group=processed_events",
		// The Auth backstop's Log Router sink and its right to publish;
		// the export download's right to sign URLs as itself.
		"gcloud logging sinks create auth-user-deleted pubsub.googleapis.com/projects/ij-prod/topics/auth-user-deleted",
		`protoPayload.methodName:"DeleteAccount"`, "--role=roles/pubsub.publisher",
		"--role=roles/iam.serviceAccountTokenCreator"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	// One function alone, and an unknown name.
	out.Reset()
	one := functions.Registry()[0].Name
	if code := run(context.Background(), env, []string{"deploy", "--dry-run", "--project", "p", one}); code != 0 || strings.Count(out.String(), "gcloud functions deploy") != 1 {
		t.Errorf("deploy %s: exit %d, %s", one, code, out.String())
	}
	if code := run(context.Background(), env, []string{"deploy", "--dry-run", "--project", "p", "nope"}); code == 0 {
		t.Error("deploying an unknown function succeeded")
	}
}

// served is the local server of TestServeRoundTrips, started once: the
// functions' clients are process-wide (created on first use for one
// project), so every end-to-end case shares its project.
type served struct {
	ctx     context.Context
	fs      *testenv.Firestore
	project string
	admin   *firestore.Client
}

// TestServeRoundTrips runs the local server with the real registry and
// checks that client writes through the emulator's REST API (as the
// signed-in user, rules enforced) reach the triggers and their effects
// appear.
func TestServeRoundTrips(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	psHost := testenv.PubSub(t)
	project := fs.NewProject(t)
	fs.LoadRepoRules(t, project)
	l := testenv.TriggerListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("GOOGLE_CLOUD_PROJECT", project)
	st, err := startLocal(ctx, serveOptions{Project: project, Listener: l, FirestoreHost: fs.Host, PubSubHost: psHost})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Triggers) == 0 {
		t.Fatal("no Firestore triggers registered")
	}
	s := &served{ctx: ctx, fs: fs, project: project, admin: fs.Client(t, project)}
	t.Run("consents", func(t *testing.T) { serveConsentRoundTrip(t, s) })
	t.Run("reflection", func(t *testing.T) { serveReflectionRoundTrip(t, s) })
	t.Run("insights", func(t *testing.T) { serveInsightsRoundTrip(t, s) })
	t.Run("programs", func(t *testing.T) { serveProgramRoundTrip(t, s) })
}

// serveConsentRoundTrip: a user appends a consent entry; onConsentsWritten
// brings consents.current in step.
func serveConsentRoundTrip(t *testing.T, s *served) {
	ctx, fs, project, admin := s.ctx, s.fs, s.project, s.admin
	now := time.Now().UTC()
	if _, err := admin.Doc("consents/u1").Set(ctx, model.Consents{UserID: "u1", ConsentsGiven: []model.ConsentEntry{
		{Type: model.ConsentTermsOfService, Version: "v1", AgreedAt: now.Add(-time.Hour), Status: model.ConsentGranted}}}); err != nil {
		t.Fatal(err)
	}
	entries := []any{
		map[string]any{"type": "terms_of_service", "version": "v1", "agreedAt": now.Add(-time.Hour), "status": "granted"},
		map[string]any{"type": "ai_analysis", "version": "v1", "agreedAt": now, "status": "granted"},
	}
	body := map[string]any{"fields": map[string]any{"consentsGiven": store.RESTValue(entries)}}
	tok := testenv.UnsignedIDToken(project, "u1", nil)
	if status, resp := fs.REST(project, "PATCH", "/consents/u1?updateMask.fieldPaths=consentsGiven", tok, body); status != 200 {
		t.Fatalf("append consent as the user: %d %v", status, resp)
	}
	err := waitFor(ctx, 20*time.Second, func() (bool, error) {
		s, err := admin.Doc("consents/u1").Get(ctx)
		if err != nil {
			return false, err
		}
		v, err := s.DataAt("current.ai_analysis.status")
		return err == nil && v == "granted", nil
	})
	if err != nil {
		t.Fatalf("trigger effect never appeared: %v", err)
	}
}
