package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// migrateLine is one count line of ops migrate's output.
var migrateLine = regexp.MustCompile(`(?m)^(.*\S)\s+(\d+)$`)

// runMigrateOps runs `ops migrate args…` and returns its counts by name.
func runMigrateOps(t *testing.T, args ...string) (map[string]int, string) {
	t.Helper()
	code, out, errOut := runOps(t, append([]string{"migrate"}, args...)...)
	if code != 0 {
		t.Fatalf("ops migrate %v exited %d: %s %s", args, code, out, errOut)
	}
	counts := map[string]int{}
	for _, m := range migrateLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		counts[m[1]] = n
	}
	return counts, out + errOut
}

func checkCounts(t *testing.T, what string, got map[string]int, out string, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %q = %d, want %d\n%s", what, k, got[k], n, out)
		}
	}
}

// migrateData is a document's data, or nil when it does not exist.
func migrateData(t *testing.T, c *firestore.Client, path string) map[string]any {
	t.Helper()
	snap, err := c.Doc(path).Get(context.Background())
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return nil
		}
		t.Fatal(err)
	}
	return snap.Data()
}

// TestMigrateBringsOldDataInLine seeds one user of each case the deploy's
// fixes left behind and checks that ops migrate fixes them, that its dry
// run and a second run change nothing, and that it resumes after a user.
//
//   - m-current: profile of the current version under a sensitive_data
//     grant, ai_analysis granted, an analysed entry: untouched.
//   - m-old: a profile of an older rules version holding screening scores,
//     no consents at all: recomputed without them.
//   - m-revoked: ai_analysis granted, then revoked by an entry dated before
//     the grant, current still the grant (the old "latest agreedAt" rule),
//     two analysed entries: current recomputed, analyses removed.
func TestMigrateBringsOldDataInLine(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	user := func(uid string) map[string]any {
		return map[string]any{"userId": uid, "createdAt": now, "displayName": "Test User",
			"birthDate": "1990-05-01", "timeZone": "Europe/Stockholm"}
	}
	entry := func(typ model.ConsentType, st model.ConsentStatus, at time.Time) model.ConsentEntry {
		return model.ConsentEntry{Type: typ, Version: "v1", AgreedAt: at, Status: st}
	}
	analysed := map[string]any{"text": "A calm day.", "aiAnalysis": map[string]any{"sentiment": "positive"}}
	set := func(path string, d any) {
		t.Helper()
		if _, err := fs.Doc(path).Set(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	// m-current
	set("users/m-current", user("m-current"))
	granted := []model.ConsentEntry{entry(model.ConsentSensitiveData, model.ConsentGranted, now),
		entry(model.ConsentAIAnalysis, model.ConsentGranted, now)}
	set("consents/m-current", model.Consents{UserID: "m-current", ConsentsGiven: granted, Current: consents.Current(granted)})
	svc := &profile.Service{Firestore: fs, Now: func() time.Time { return now }}
	if _, err := svc.Recompute(ctx, "m-current", false); err != nil {
		t.Fatal(err)
	}
	set("user_activations/ua-c1", map[string]any{"userId": "m-current", "log": analysed})
	currentBefore := migrateData(t, fs, "users/m-current")["profile"]

	// m-old
	old := user("m-old")
	old["neuroTendencies"] = map[string]any{"adhdScore": 7, "autismScore": 4}
	old["wellbeingFlags"] = map[string]any{"depressionRisk": true, "suicideRisk": false}
	old["profile"] = map[string]any{"computedAt": now, "calculationVersion": "profile-1+astro-1", "inputHash": "old",
		"screening": map[string]any{"scores": map[string]any{"phq9": 12}}}
	set("users/m-old", old)

	// m-revoked
	set("users/m-revoked", user("m-revoked"))
	grant := entry(model.ConsentAIAnalysis, model.ConsentGranted, now)
	revoke := entry(model.ConsentAIAnalysis, model.ConsentRevoked, now.Add(-time.Minute)) // a slower clock
	set("consents/m-revoked", model.Consents{UserID: "m-revoked", ConsentsGiven: []model.ConsentEntry{grant, revoke},
		Current: map[string]model.ConsentEntry{"ai_analysis": grant}})
	set("user_activations/ua-r1", map[string]any{"userId": "m-revoked", "log": analysed})
	set("user_activations/ua-r2", map[string]any{"userId": "m-revoked", "log": analysed})
	set("user_activations/ua-r3", map[string]any{"userId": "m-revoked", "log": map[string]any{"text": "Not analysed."}})

	common := []string{"--project", project}
	changes := map[string]int{"users scanned": 3, "consents current recomputed": 1, "profiles outdated": 1,
		"profiles recomputed": 1, "users without ai_analysis holding analyses": 1, "ai analyses removed": 2,
		"users skipped (documents that do not decode)": 0}

	// The dry run counts what a run changes and writes nothing.
	got, out := runMigrateOps(t, append(common, "--dry-run")...)
	checkCounts(t, "dry run", got, out, changes)
	if !strings.Contains(out, "dry run: nothing written") {
		t.Errorf("dry run output does not say so:\n%s", out)
	}
	if d := migrateData(t, fs, "users/m-old"); d["neuroTendencies"] == nil {
		t.Error("the dry run recomputed m-old's profile")
	}
	if d := migrateData(t, fs, "user_activations/ua-r1"); d["log"].(map[string]any)["aiAnalysis"] == nil {
		t.Error("the dry run removed an analysis")
	}

	// Resumable: after m-old (ids in order: m-current, m-old, m-revoked)
	// only m-revoked is left.
	got, out = runMigrateOps(t, append(common, "--dry-run", "--start-after", "m-old", "--page", "1")...)
	checkCounts(t, "dry run after m-old", got, out, map[string]int{"users scanned": 1, "consents current recomputed": 1,
		"profiles outdated": 0, "ai analyses removed": 2})

	// The run, in pages of one user.
	got, out = runMigrateOps(t, append(common, "--page", "1")...)
	checkCounts(t, "run", got, out, changes)
	if !strings.Contains(out, "resume with --start-after m-revoked") {
		t.Errorf("no resume hint:\n%s", out)
	}
	for _, w := range []string{"Test User", "1990-05-01", "A calm day", "phq9"} {
		if strings.Contains(out, w) {
			t.Errorf("ops migrate printed personal data %q:\n%s", w, out)
		}
	}

	// m-old: recomputed at the current version, without screening output.
	d := migrateData(t, fs, "users/m-old")
	prof, _ := d["profile"].(map[string]any)
	scr, _ := prof["screening"].(map[string]any)
	if _, ok := d["neuroTendencies"]; ok || prof["calculationVersion"] != profile.CalculationVersion() ||
		scr["sensitiveDataConsent"] != false || scr["scores"] != nil {
		t.Errorf("m-old after the migration: neuroTendencies %v, profile %v", d["neuroTendencies"], prof)
	}
	if flags, _ := d["wellbeingFlags"].(map[string]any); len(flags) != 1 || flags["suicideRisk"] != false {
		t.Errorf("m-old wellbeingFlags %v, want only suicideRisk false", d["wellbeingFlags"])
	}

	// m-revoked: current follows list order; analyses removed, text kept.
	var cs model.Consents
	if snap, err := fs.Doc("consents/m-revoked").Get(ctx); err != nil {
		t.Fatal(err)
	} else if err := snap.DataTo(&cs); err != nil {
		t.Fatal(err)
	}
	if c := cs.Current["ai_analysis"]; c.Status != model.ConsentRevoked || len(cs.ConsentsGiven) != 2 {
		t.Errorf("m-revoked current ai_analysis %+v (history %d entries), want the revocation", c, len(cs.ConsentsGiven))
	}
	for _, id := range []string{"ua-r1", "ua-r2", "ua-r3"} {
		l, _ := migrateData(t, fs, "user_activations/"+id)["log"].(map[string]any)
		if _, ok := l["aiAnalysis"]; ok || l["text"] == nil {
			t.Errorf("%s log after the migration: %v, want text without aiAnalysis", id, l)
		}
	}

	// m-current: untouched.
	if l, _ := migrateData(t, fs, "user_activations/ua-c1")["log"].(map[string]any); l["aiAnalysis"] == nil {
		t.Error("the analysis of a user granting ai_analysis was removed")
	}
	if p := migrateData(t, fs, "users/m-current")["profile"]; !equalJSON(t, p, currentBefore) {
		t.Errorf("m-current's up-to-date profile was rewritten:\n%v\n%v", currentBefore, p)
	}

	// A second run changes nothing.
	got, out = runMigrateOps(t, common...)
	checkCounts(t, "second run", got, out, map[string]int{"users scanned": 3, "consents current recomputed": 0,
		"profiles outdated": 0, "profiles recomputed": 0, "users without ai_analysis holding analyses": 0,
		"ai analyses removed": 0, "users skipped (documents that do not decode)": 0})
}

// TestMigrateNeedsProjectAgainstRealProject: like the other ops commands,
// ops migrate does not guess the project outside the emulators.
func TestMigrateNeedsProjectAgainstRealProject(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "ij-prod")
	code, _, errOut := runOps(t, "migrate", "--dry-run")
	if code == 0 || !strings.Contains(errOut, "--project is required") {
		t.Errorf("migrate without --project against a real project: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runOps(t, "migrate", "--page", "0", "--project", "ij-prod"); code == 0 || !strings.Contains(errOut, "--page") {
		t.Errorf("migrate --page 0: exit %d, %s", code, errOut)
	}
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// TestMigrateRewritesLegacyHeldWellbeing: a wellbeing event held by an
// erasure before episode ids stopped embedding the uid (episodeId
// "{uid}:{time}", a sourceKey embedding the entry id) is rewritten by ops
// migrate so that no field holds the uid; the dry run writes nothing, the
// output names no id, and a second run changes nothing.
func TestMigrateRewritesLegacyHeldWellbeing(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	ctx := context.Background()
	at := time.Date(2026, 10, 2, 3, 4, 5, 0, time.UTC)
	const (
		erased  = "erased-uid-7f3a"
		eventID = "wb_00112233445566778899aabbccddeeff"
	)
	path := "wellbeing_events/" + eventID
	if _, err := fs.Doc(path).Set(ctx, map[string]any{
		"eventId": eventID, "userId": "ps_0123456789abcdef0123456789abcdef", "source": "reflection",
		"episodeId": erased + ":" + at.Format("20060102T150405Z"), "createdAt": at,
		"sourceKey": "journal-" + erased + "-1:sha256:abc", "notificationId": eventID, "acked": true,
		"pseudonymised": true, "legalHoldUntil": at.AddDate(3, 0, 0),
	}); err != nil {
		t.Fatal(err)
	}
	common := []string{"--project", project}
	noIDs := func(out string) {
		t.Helper()
		for _, w := range []string{erased, eventID, "ps_0123"} {
			if strings.Contains(out, w) {
				t.Errorf("ops migrate printed %q:\n%s", w, out)
			}
		}
	}

	got, out := runMigrateOps(t, append(common, "--dry-run")...)
	checkCounts(t, "dry run", got, out, map[string]int{"held wellbeing records scanned": 1,
		"held wellbeing records rewritten without the uid": 1})
	noIDs(out)
	if d := migrateData(t, fs, path); d["sourceKey"] == nil || !strings.Contains(d["episodeId"].(string), erased) {
		t.Errorf("the dry run wrote: %v", d)
	}

	got, out = runMigrateOps(t, common...)
	checkCounts(t, "run", got, out, map[string]int{"held wellbeing records scanned": 1,
		"held wellbeing records rewritten without the uid": 1})
	noIDs(out)
	d := migrateData(t, fs, path)
	for k, v := range d {
		if s, ok := v.(string); ok && strings.Contains(s, erased) {
			t.Errorf("%s.%s = %q still holds the erased uid", path, k, s)
		}
	}
	if _, ok := d["sourceKey"]; ok || d["episodeId"] != "ep_20261002T030405Z_001122334455" || d["pseudonymised"] != true {
		t.Errorf("after the migration: %v", d)
	}

	got, out = runMigrateOps(t, common...)
	checkCounts(t, "second run", got, out, map[string]int{"held wellbeing records scanned": 1,
		"held wellbeing records rewritten without the uid": 0})
	if again := migrateData(t, fs, path); !equalJSON(t, again, d) {
		t.Errorf("the second run changed the record:\n%v\n%v", d, again)
	}
}

// TestMigrateUndecodableConsentsRemovesAnalyses: a consents document that
// does not decode grants nothing (model.ConsentsOf, as every function
// reads it), so ops migrate removes the user's AI analyses as a revocation
// does, and reports the document. Regression: it left them to a person,
// while the functions had stopped refusing such a document.
func TestMigrateUndecodableConsentsRemovesAnalyses(t *testing.T) {
	fe := testenv.FirestoreEmulator(t)
	project := fe.NewProject(t)
	fs := fe.Client(t, project)
	ctx := context.Background()
	for path, d := range map[string]any{
		"users/m-bad":            map[string]any{"userId": "m-bad", "createdAt": time.Now().UTC(), "displayName": "Test User"},
		"consents/m-bad":         map[string]any{"userId": "m-bad", "consentsGiven": "not a list"},
		"user_activations/ua-b1": map[string]any{"userId": "m-bad", "log": map[string]any{"text": "A calm day.", "aiAnalysis": map[string]any{"sentiment": "positive"}}},
	} {
		if _, err := fs.Doc(path).Set(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, out := runMigrateOps(t, "--project", project)
	checkCounts(t, "run", got, out, map[string]int{"users without ai_analysis holding analyses": 1, "ai analyses removed": 1,
		"users skipped (documents that do not decode)": 1})
	if log, _ := migrateData(t, fs, "user_activations/ua-b1")["log"].(map[string]any); log["aiAnalysis"] != nil || log["text"] != "A calm day." {
		t.Errorf("entry log %v, want the analysis removed and the text kept", log)
	}
}
