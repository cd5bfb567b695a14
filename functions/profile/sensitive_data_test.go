package profile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// The sensitive_data consent covers the processing of screening answers
// (GDPR Art. 9(2)(a)). Without a current grant the profile holds no
// screening-derived output; the safety items are still evaluated and
// raise the wellbeing protocol (vital interests, Art. 9(2)(c)).

// seedOnboarded writes users/{uid} with a complete questionnaire.
func seedOnboarded(t *testing.T, c *firestore.Client, uid string, answers []model.Answer) {
	t.Helper()
	d := onboardingFields(uid, answers)
	d["createdAt"] = time.Now().UTC()
	if _, err := c.Doc("users/"+uid).Set(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// assertNoScreeningOutput checks that users/{uid} holds no
// screening-derived output: no neuroTendencies, no instrument scores, no
// depressionRisk, no triggers; and that what does not come from the
// screening instruments (traits, chart, numerology) is there.
func assertNoScreeningOutput(t *testing.T, c *firestore.Client, uid string, wantSuicideRisk bool) {
	t.Helper()
	d, _ := data(t, c, "users/"+uid)
	if v, ok := d["neuroTendencies"]; ok {
		t.Errorf("neuroTendencies = %v, want no field", v)
	}
	flags, _ := d["wellbeingFlags"].(map[string]any)
	if len(flags) != 1 || flags["suicideRisk"] != wantSuicideRisk {
		t.Errorf("wellbeingFlags = %v, want only suicideRisk: %v", d["wellbeingFlags"], wantSuicideRisk)
	}
	prof, _ := d["profile"].(map[string]any)
	scr, _ := prof["screening"].(map[string]any)
	if _, ok := scr["scores"]; ok || scr["sensitiveDataConsent"] != false {
		t.Errorf("profile.screening = %v, want no scores, sensitiveDataConsent false", scr)
	}
	if tr, _ := scr["triggers"].([]any); len(tr) != 0 {
		t.Errorf("profile.screening.triggers = %v, want none", tr)
	}
	server := map[string]any{} // the document without the user's own answers
	for k, v := range d {
		if k != "answers" {
			server[k] = v
		}
	}
	var found []string
	for _, w := range []string{"phq", "asrs", "aq10", "severity", "adhd", "autism", "depression"} {
		if strings.Contains(fmt.Sprint(server), w) {
			found = append(found, w)
		}
	}
	if len(found) > 0 {
		t.Errorf("users/%s mentions screening output %v", uid, found)
	}
	pt, _ := d["personalityType"].(map[string]any)
	if traits, _ := pt["traits"].([]any); len(traits) != 4 || pt["astroSign"] != "Taurus" || d["chart"] == nil || d["numerology"] == nil {
		t.Errorf("outputs not derived from screening answers: personalityType %v, chart %v, numerology %v", pt, d["chart"] != nil, d["numerology"] != nil)
	}
	if prof["completeness"] != 1.0 {
		t.Errorf("completeness %v, want 1 (every question outside the screening answered, full birth data)", prof["completeness"])
	}
}

func TestNoSensitiveDataConsentNoScreeningScores(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	proj := fs.NewProject(t)
	c := fs.Client(t, proj)
	ctx := context.Background()
	s, _ := newService(c)

	tests := []struct {
		name     string
		statuses []model.ConsentStatus // nil: no consents document
	}{
		{"no consents document", nil},
		{"never granted", []model.ConsentStatus{}},
		{"revoked after a grant", []model.ConsentStatus{model.ConsentGranted, model.ConsentRevoked}},
		{"only revoked", []model.ConsentStatus{model.ConsentRevoked}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("nosd-%d", i)
			if tt.statuses != nil {
				setConsents(t, c, uid, tt.statuses...)
			}
			// PHQ-9 total 21 (severe) without item 9, ASRS and AQ-10 positive.
			seedOnboarded(t, c, uid, onboarding([]int{3, 3, 3, 3, 3, 3, 3, 0, 0}, "no"))
			p, err := s.Recompute(ctx, uid, false)
			if err != nil {
				t.Fatal(err)
			}
			if p.NeuroTendencies != nil || p.WellbeingFlags.DepressionRisk || p.Meta.Screening.Scores != nil || p.Wellbeing != nil {
				t.Errorf("result: neuroTendencies %+v, flags %+v, scores %+v, wellbeing %+v", p.NeuroTendencies, p.WellbeingFlags,
					p.Meta.Screening.Scores, p.Wellbeing)
			}
			assertNoScreeningOutput(t, c, uid, false)
			if n := len(countWellbeing(t, c, uid)); n != 0 {
				t.Errorf("%d wellbeing events, want 0", n)
			}
		})
	}
}

func TestNoSensitiveDataConsentSafetyProtocolStillRaised(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	proj := fs.NewProject(t)
	c := fs.Client(t, proj)
	ctx := context.Background()
	s, _ := newService(c)

	tests := []struct {
		name      string
		phq       []int
		safety    string
		wantRules []string
	}{
		{"item 9 = 3", []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, "no", []string{"phq9.item9>=1"}},
		{"safety yes", []int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "yes", []string{"safety=yes"}},
		{"item 9 = 3 and safety yes", []int{0, 0, 0, 0, 0, 0, 0, 0, 3}, "yes", []string{"phq9.item9>=1", "safety=yes"}},
		{"no safety item positive", []int{3, 3}, "no", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("safety-nosd-%d", i)
			setConsents(t, c, uid, model.ConsentGranted, model.ConsentRevoked)
			seedOnboarded(t, c, uid, onboarding(tt.phq, tt.safety))
			written, _ := data(t, c, "users/"+uid)
			if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, proj, uid, "s1", nil, written)); err != nil {
				t.Fatal(err)
			}
			at := len(tt.wantRules) > 0
			assertNoScreeningOutput(t, c, uid, at)
			wb := countWellbeing(t, c, uid)
			if !at {
				if len(wb) != 0 {
					t.Errorf("%d wellbeing events, want 0", len(wb))
				}
				return
			}
			if len(wb) != 1 {
				t.Fatalf("%d wellbeing events, want 1 (the protocol runs without the consent)", len(wb))
			}
			var ev wellbeing.Event
			if err := wb[0].DataTo(&ev); err != nil {
				t.Fatal(err)
			}
			trig := fmt.Sprint(ev.Trigger)
			for _, r := range tt.wantRules {
				if !strings.Contains(trig, "rule:"+r) {
					t.Errorf("trigger %s lacks rule %s", trig, r)
				}
			}
			if strings.Contains(trig, "depressionRisk") || strings.Contains(trig, "phq2") || strings.Contains(trig, "phq9>=10") {
				t.Errorf("trigger %s holds a screening score rule", trig)
			}
			if _, err := c.Doc("users/" + uid + "/notifications/" + ev.EventID).Get(ctx); err != nil {
				t.Errorf("support notification: %v", err)
			}
			// The function's own write is recognised by the loop guard.
			after, updated := data(t, c, "users/"+uid)
			if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, proj, uid, "s2", written, after)); err != nil {
				t.Fatal(err)
			}
			if _, again := data(t, c, "users/"+uid); !again.Equal(updated) {
				t.Error("the profile was rewritten by its own event")
			}
		})
	}
}

func TestSensitiveDataGrantedScoresScreening(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	proj := fs.NewProject(t)
	c := fs.Client(t, proj)
	ctx := context.Background()
	s, _ := newService(c)
	grantSensitiveData(t, c, "sd-granted")
	seedOnboarded(t, c, "sd-granted", onboarding([]int{3, 3, 3, 3, 3, 3, 3, 0, 0}, "no"))
	if _, err := s.Recompute(ctx, "sd-granted", false); err != nil {
		t.Fatal(err)
	}
	var u model.User
	snap, _ := c.Doc("users/sd-granted").Get(ctx)
	if err := snap.DataTo(&u); err != nil {
		t.Fatal(err)
	}
	if n := u.NeuroTendencies; n == nil || n.ADHDScore == nil || *n.ADHDScore != 7 || n.AutismScore == nil || *n.AutismScore != 8 {
		t.Errorf("neuroTendencies %+v", n)
	}
	if f := u.WellbeingFlags; f == nil || !f.DepressionRisk || f.SuicideRisk {
		t.Errorf("wellbeingFlags %+v, want depressionRisk", f)
	}
	if sev, err := snap.DataAt("profile.screening.scores.phq9.severity"); err != nil || sev != "severe" {
		t.Errorf("PHQ-9 severity %v (%v), want severe", sev, err)
	}
	if v, _ := snap.DataAt("profile.screening.sensitiveDataConsent"); v != true {
		t.Errorf("profile.screening.sensitiveDataConsent = %v", v)
	}
}

func TestSensitiveDataRevokedRemovesScreeningOutput(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	proj := fs.NewProject(t)
	c := fs.Client(t, proj)
	ctx := context.Background()
	s, _ := newService(c)
	grantSensitiveData(t, c, "sd-revoke")
	seedOnboarded(t, c, "sd-revoke", onboarding([]int{3, 3, 3, 3, 3, 3, 3, 0, 0}, "no"))
	if p, err := s.Recompute(ctx, "sd-revoke", false); err != nil || p.NeuroTendencies == nil || p.Meta.Screening.Scores == nil {
		t.Fatalf("granted: %+v %v", p, err)
	}

	// The user revokes; the consents function tells the profile.
	setConsents(t, c, "sd-revoke", model.ConsentGranted, model.ConsentRevoked)
	if err := s.SensitiveDataChanged(ctx, "sd-revoke"); err != nil {
		t.Fatal(err)
	}
	assertNoScreeningOutput(t, c, "sd-revoke", false)

	// Idempotent: a redelivered change, a plain recompute and the event of
	// the function's own write change nothing.
	after, updated := data(t, c, "users/sd-revoke")
	if err := s.SensitiveDataChanged(ctx, "sd-revoke"); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Recompute(ctx, "sd-revoke", false); err != nil || p.Recomputed {
		t.Errorf("recompute with an unchanged consent: recomputed %v, %v", p != nil && p.Recomputed, err)
	}
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, proj, "sd-revoke", "r1", after, after)); err != nil {
		t.Fatal(err)
	}
	if _, again := data(t, c, "users/sd-revoke"); !again.Equal(updated) {
		t.Error("the profile was rewritten with an unchanged consent")
	}

	// Granted again: the scores come back. A user who is gone: no error.
	setConsents(t, c, "sd-revoke", model.ConsentGranted, model.ConsentRevoked, model.ConsentGranted)
	if err := s.SensitiveDataChanged(ctx, "sd-revoke"); err != nil {
		t.Fatal(err)
	}
	if v, err := (func() (any, error) {
		snap, err := c.Doc("users/sd-revoke").Get(ctx)
		if err != nil {
			return nil, err
		}
		return snap.DataAt("neuroTendencies.adhdScore")
	})(); err != nil || v != int64(7) {
		t.Errorf("granted again: neuroTendencies.adhdScore = %v (%v), want 7", v, err)
	}
	if err := s.SensitiveDataChanged(ctx, "nobody"); err != nil {
		t.Errorf("unknown user: %v", err)
	}
}
