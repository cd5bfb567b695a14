package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/model"
)

func init() {
	register(&command{name: "seed", summary: "write demo data (users, a coach, activations, a program) to the emulators", run: runSeed})
}

// demoUser is one seeded account.
type demoUser struct {
	UID    string
	Claims map[string]any
	Doc    *model.User
}

func strp(s string) *string { return &s }

// demoAnswers is a complete onboarding questionnaire.
func demoAnswers(phq []int, safety string) []model.Answer {
	a := []model.Answer{{QuestionID: "focus_area", Answer: "stress_relief"}, {QuestionID: "time_commitment", Answer: 15}}
	for i, v := range []string{"a", "b", "a"} {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("trait_energy_%d", i+1), Answer: v},
			model.Answer{QuestionID: fmt.Sprintf("trait_perception_%d", i+1), Answer: "b"},
			model.Answer{QuestionID: fmt.Sprintf("trait_decisions_%d", i+1), Answer: "a"},
			model.Answer{QuestionID: fmt.Sprintf("trait_structure_%d", i+1), Answer: "b"})
	}
	for i, v := range phq {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("phq9_%d", i+1), Answer: v})
	}
	a = append(a, model.Answer{QuestionID: "safety_1", Answer: safety})
	for i, v := range []string{"sometimes", "often", "rarely", "often", "very_often", "sometimes"} {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("asrs_%d", i+1), Answer: v})
	}
	for i, v := range []string{"definitely_agree", "slightly_disagree", "slightly_agree", "definitely_disagree", "slightly_agree",
		"definitely_disagree", "slightly_agree", "definitely_agree", "slightly_disagree", "slightly_agree"} {
		a = append(a, model.Answer{QuestionID: fmt.Sprintf("aq10_%d", i+1), Answer: v})
	}
	return a
}

func demoUsers(now time.Time) []demoUser {
	seven := 7
	return []demoUser{
		{UID: "demo-ada", Doc: &model.User{UserID: "demo-ada", DisplayName: "Ada", BirthDate: "1990-05-15", BirthTime: "14:30",
			BirthLocation: "Stockholm, Sweden", CreatedAt: now, UIStyle: model.UIStyleCalm, FocusArea: model.FocusStressRelief,
			TimeCommitment: 15, Locale: "sv-SE", TimeZone: "Europe/Stockholm", InsightsOptIn: true, InsightHour: &seven,
			Answers: demoAnswers([]int{1, 1, 2, 1, 0, 1, 1, 0, 0}, "no")}},
		{UID: "demo-bo", Doc: &model.User{UserID: "demo-bo", DisplayName: "Bo", BirthDate: "1985-11-02",
			BirthLocation: "Göteborg", CreatedAt: now, UIStyle: model.UIStyleClean, FocusArea: model.FocusCareerGrowth,
			TimeCommitment: 10, Locale: "en-US", TimeZone: "America/New_York", InsightsOptIn: true,
			Answers: demoAnswers([]int{2, 2}, "no")}},
		{UID: "demo-coach", Claims: map[string]any{"coach": true}, Doc: &model.User{UserID: "demo-coach", DisplayName: "Coach Cleo",
			CreatedAt: now, Locale: "sv-SE", TimeZone: "Europe/Stockholm"}},
		{UID: "demo-admin", Claims: map[string]any{"admin": true}, Doc: &model.User{UserID: "demo-admin", DisplayName: "Admin",
			CreatedAt: now, TimeZone: "Europe/Stockholm"}},
	}
}

// seedDemo writes the demo data set. It is idempotent (fixed ids, Set).
func seedDemo(ctx context.Context, fs *firestore.Client, ac *auth.Client, now time.Time) (map[string]int, error) {
	counts := map[string]int{}
	set := func(path string, v any) error {
		if _, err := fs.Doc(path).Set(ctx, v); err != nil {
			return fmt.Errorf("seed %s: %w", path, err)
		}
		counts[firstSegment(path)]++
		return nil
	}
	// Consents first, as the app asks for them before onboarding: the
	// first profile computation already scores the screening answers
	// under the sensitive_data grant.
	for _, uid := range []string{"demo-ada", "demo-bo"} {
		var entries []model.ConsentEntry
		for _, t := range []model.ConsentType{model.ConsentTermsOfService, model.ConsentPrivacyPolicy, model.ConsentDataProcessing,
			model.ConsentAIAnalysis, model.ConsentSensitiveData} {
			entries = append(entries, model.ConsentEntry{Type: t, Version: "v1.0", AgreedAt: now, Status: model.ConsentGranted})
		}
		if err := set("consents/"+uid, model.Consents{UserID: uid, ConsentsGiven: entries}); err != nil {
			return nil, err
		}
	}
	for _, u := range demoUsers(now) {
		if ac != nil {
			_ = ac.DeleteUser(ctx, u.UID)
			if _, err := ac.CreateUser(ctx, (&auth.UserToCreate{}).UID(u.UID).Email(u.UID+"@demo.innerjourney.test").
				Password("demo-password").DisplayName(u.Doc.DisplayName)); err != nil {
				return nil, fmt.Errorf("seed auth %s: %w", u.UID, err)
			}
			if u.Claims != nil {
				if err := ac.SetCustomUserClaims(ctx, u.UID, u.Claims); err != nil {
					return nil, fmt.Errorf("seed claims %s: %w", u.UID, err)
				}
			}
			counts["auth users"]++
		}
		if err := set("users/"+u.UID, u.Doc); err != nil {
			return nil, err
		}
	}
	if err := set("coach_profiles/demo-coach", model.CoachProfile{CoachID: "demo-coach", DisplayName: "Coach Cleo",
		Bio: "Mindfulness and career coach."}); err != nil {
		return nil, err
	}
	acts := []model.Activation{
		{ActivationID: "morning_awareness_001", Title: "10-Minute Morning Awareness Meditation", Type: model.ActivationAudio,
			Description: "A guided audio meditation to start the day present.", Duration: 10, Category: "mindfulness", CreatedBy: "demo-coach"},
		{ActivationID: "gratitude_journal_001", Title: "Three Good Things", Type: model.ActivationTextPrompt,
			Description: "Write down three things that went well today and why.", Duration: 5, Category: "emotional_intelligence", CreatedBy: "demo-coach"},
		{ActivationID: "box_breathing_001", Title: "Box Breathing", Type: model.ActivationPhysicalExercise,
			Description: "Four counts in, hold, out, hold.", Duration: 4, Category: "stress_reduction", CreatedBy: "demo-coach"},
	}
	for _, a := range acts {
		a.CreatedAt = &now
		if err := set("activations/"+a.ActivationID, a); err != nil {
			return nil, err
		}
	}
	price, sek := int64(49900), "SEK"
	prog := model.Program{ProgramID: "calm_in_four_weeks", Title: "Calm in Four Weeks", Description: "A four-week program to build a daily calm practice.",
		DurationWeeks: 4, CreatedBy: []string{"demo-coach"}, Difficulty: model.DifficultyBeginner, Category: "wellbeing",
		Tags: []string{"mindfulness", "resilience"}, Price: &price, Currency: &sek, CreatedAt: &now,
		Modules: []model.Module{{ModuleID: "week1", Title: "Week 1: Foundation & Awareness", Activations: []model.ModuleActivation{
			{ActivationID: "morning_awareness_001", Day: 1}, {ActivationID: "box_breathing_001", Day: 2, IsOptional: true},
			{ActivationID: "gratitude_journal_001", Day: 3}}}}}
	if err := set("programs/"+prog.ProgramID, prog); err != nil {
		return nil, err
	}
	if err := set("users/demo-ada/coaches/demo-coach", model.CoachAssignment{CoachID: "demo-coach", UserID: "demo-ada",
		Source: model.AssignedByAdmin, CreatedAt: now}); err != nil {
		return nil, err
	}
	started := now.Add(-20 * time.Minute)
	ua := model.UserActivation{UserActivationID: "demo-ada_morning_awareness_001_1", UserID: "demo-ada", ActivationID: "morning_awareness_001",
		ProgramID: strp("calm_in_four_weeks"), StartedAt: &started, CompletedAt: &now, Status: model.StatusCompleted, CreatedAt: &started,
		Log: &model.JournalLog{Text: "Felt surprisingly calm and focused afterward. Grateful for a quiet morning before work.",
			MoodBefore: strp("stressed"), MoodAfter: strp("calm")}}
	if err := set("user_activations/"+ua.UserActivationID, ua); err != nil {
		return nil, err
	}
	return counts, nil
}

func firstSegment(p string) string {
	for i := range p {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return p
}

func runSeed(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "seed", "seed --demo | --users N [--project P]")
	demo := fs.Bool("demo", false, "write the demo data set")
	users := fs.Int("users", 0, "create N synthetic users with realistic birth data and zones (load tests)")
	project := fs.String("project", envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		return fmt.Errorf("FIRESTORE_EMULATOR_HOST is not set: seed writes to the local emulators only")
	}
	if !*demo && *users <= 0 {
		return fmt.Errorf("say --demo or --users N")
	}
	client, err := firestore.NewClient(ctx, *project)
	if err != nil {
		return err
	}
	defer client.Close()
	out := map[string]any{}
	if *demo {
		var ac *auth.Client
		if os.Getenv("FIREBASE_AUTH_EMULATOR_HOST") != "" {
			app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: *project})
			if err != nil {
				return err
			}
			if ac, err = app.Auth(ctx); err != nil {
				return err
			}
		}
		counts, err := seedDemo(ctx, client, ac, time.Now().UTC())
		if err != nil {
			return err
		}
		out["demo"] = counts
	}
	if *users > 0 {
		n, err := seedSynthetic(ctx, env, client, *users, time.Now().UTC())
		if err != nil {
			return err
		}
		out["syntheticUsers"] = n
	}
	return json.NewEncoder(env.stdout).Encode(out)
}
