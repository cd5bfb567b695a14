package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview12StrayArgumentRefused: Go's flag parser stops at the first
// argument that is not a flag, so a uid given without --uid, or a
// --dry-run typed with an en dash (as a chat or a word processor turns
// "--" into), ended the flags and everything after it — a --dry-run
// included — was silently ignored: insights run wrote every opted-in
// user's insight, payouts run and fortnox sync ran for real, gdpr delete
// erased the first uid only and reported success, stripe replay replayed
// from the checkpoint instead of the time given. Each refuses a stray
// argument before it connects to anything, and writes nothing.
func TestReview12StrayArgumentRefused(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	testenv.AuthEmulator(t)
	t.Setenv("FIRESTORE_EMULATOR_HOST", fe.Host)
	t.Setenv("STRIPE_SECRET_KEY", "sk_test_123")
	t.Setenv("STRIPE_API_URL", testenv.StripeMock(t))
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "review12-bucket"})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	ctx := context.Background()

	seed := map[string]map[string]any{
		"users/r12-u1":            {"userId": "r12-u1", "insightsOptIn": true, "timeZone": "Europe/Stockholm"},
		"users/r12-u2":            {"userId": "r12-u2", "insightsOptIn": true},
		"user_activations/r12-j1": {"userId": "r12-u1", "text": "x"},
	}
	for _, c := range []struct {
		name string
		args []string // after the command's flags, --project P first
	}{
		{"insights run with a uid without --uid", []string{"insights", "run", "--project", "P", "--date", "2026-11-21", "r12-u1"}},
		{"payouts run with an en-dash dry run", []string{"payouts", "run", "--project", "P", "\u2013dry-run"}},
		{"payouts run with a flag after a stray word", []string{"payouts", "run", "--project", "P", "now", "--dry-run"}},
		{"fortnox sync with an en-dash dry run", []string{"fortnox", "sync", "--project", "P", "\u2013dry-run"}},
		{"gdpr delete of two uids", []string{"gdpr", "delete", "--project", "P", "--bucket", "review12-bucket", "--yes", "--uid", "r12-u1", "r12-u2"}},
		{"gdpr export of two uids", []string{"gdpr", "export", "--project", "P", "--bucket", "review12-bucket", "--uid", "r12-u1", "r12-u2"}},
		{"stripe replay with a bare duration", []string{"stripe", "replay", "48h"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			project := fe.NewProject(t)
			fs := fe.Client(t, project)
			t.Setenv("GOOGLE_CLOUD_PROJECT", project)
			for path, d := range seed {
				if _, err := fs.Doc(path).Set(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			before := testenv.DumpDatabase(t, fs, nil)
			args := append([]string(nil), c.args...)
			for i, a := range args {
				if a == "P" && args[i-1] == "--project" {
					args[i] = project
				}
			}
			code, out, errOut := runOps(t, args...)
			if code == 0 || !strings.Contains(errOut, "unexpected argument") {
				t.Errorf("ops %s: exit %d, stderr %q, stdout %q; want a refusal naming the unexpected argument", strings.Join(c.args, " "), code, errOut, out)
			}
			if diff := testenv.DiffDumps(before, testenv.DumpDatabase(t, fs, nil)); len(diff) > 0 {
				t.Errorf("ops %s wrote:\n%s", strings.Join(c.args, " "), strings.Join(diff, "\n"))
			}
		})
	}
}

// TestReview12InsightsRunNeedsProject: ops insights run writes an insight
// and a notification for every opted-in user; like every other ops
// command that writes user data, it must not take its project from
// $GOOGLE_CLOUD_PROJECT outside the emulators (it did, and defaulted to
// demo-innerjourney when unset).
func TestReview12InsightsRunNeedsProject(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "ij-prod")
	if _, set := os.LookupEnv("GOOGLE_APPLICATION_CREDENTIALS"); !set {
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/review12-credentials.json")
	}
	code, out, errOut := runOps(t, "insights", "run", "--date", "2026-11-21")
	if code == 0 || !strings.Contains(errOut, "--project is required") {
		t.Errorf("insights run without --project against a real project: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

// TestReview12BackfillReflectorsNeedsNoPseudonymKey: the README's
// "After deploying" step `ops gdpr backfill-reflectors --project P` only
// adds reflection authors' uids to reflectionUserIds; it refused to run
// against a real project unless the production pseudonym key, a secret,
// was exported in the operator's shell. (With no credentials here the
// command fails further on, at Firestore; the point is that the key is
// not what stops it.) The subcommands that build pseudonyms or erasure
// ids still require it.
func TestReview12BackfillReflectorsNeedsNoPseudonymKey(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	t.Setenv("IJ_PSEUDONYM_KEY", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/review12-credentials.json")
	for _, c := range []struct {
		args    []string
		needKey bool
	}{
		{[]string{"gdpr", "backfill-reflectors", "--project", "ij-prod"}, false},
		{[]string{"gdpr", "delete", "--project", "ij-prod", "--uid", "u1", "--dry-run"}, true},
		{[]string{"gdpr", "export", "--project", "ij-prod", "--uid", "u1"}, true},
	} {
		code, out, errOut := runOps(t, c.args...)
		if code == 0 {
			t.Errorf("ops %s succeeded without credentials: %s", strings.Join(c.args, " "), out)
		}
		if got := strings.Contains(errOut, "IJ_PSEUDONYM_KEY"); got != c.needKey {
			t.Errorf("ops %s: stderr %q; refused for want of IJ_PSEUDONYM_KEY: %v, want %v", strings.Join(c.args, " "), errOut, got, c.needKey)
		}
	}
}
