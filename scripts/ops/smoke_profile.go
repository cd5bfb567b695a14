package main

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
)

func init() {
	smokeChecks = append(smokeChecks, smokeCheck{name: "profilesComputedMs", run: smokeProfiles},
		smokeCheck{name: "wellbeingAlertDeliveredMs", run: smokeWellbeing})
}

// smokeProfiles waits until onUserWritten has computed the profiles of the
// seeded demo users (profile.inputHash matches their inputs, their
// sensitive_data consent included): demo-ada with a full chart (rising
// sign) and screening scores (the seed grants sensitive_data), demo-bo
// with a date-only chart.
func smokeProfiles(ctx context.Context, c *firestore.Client) (int64, error) {
	start := time.Now()
	want := map[string]func(u *model.User) bool{
		"demo-ada": func(u *model.User) bool {
			return u.PersonalityType != nil && u.PersonalityType.RisingSign != "" && u.NeuroTendencies != nil && u.WellbeingFlags != nil
		},
		"demo-bo": func(u *model.User) bool {
			return u.PersonalityType != nil && u.PersonalityType.AstroSign != "" && u.PersonalityType.RisingSign == ""
		},
	}
	var last string
	err := waitFor(ctx, 60*time.Second, func() (bool, error) {
		for uid, ok := range want {
			snap, err := c.Collection(model.ColUsers).Doc(uid).Get(ctx)
			if err != nil {
				return false, fmt.Errorf("users/%s: %w (seed first)", uid, err)
			}
			// Decoded as the profile function decodes it, so that the
			// input hash compares like for like.
			u, err := profile.DecodeUser(snap.DataTo)
			if err != nil {
				return false, err
			}
			consent, err := profile.ReadConsent(ctx, c, uid)
			if err != nil {
				return false, err
			}
			if u.Profile == nil || u.Profile.InputHash != profile.InputsOf(u, consent).Hash() || !ok(u) {
				last = uid
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("profile of %s: %w", last, err)
	}
	return time.Since(start).Milliseconds(), nil
}

// smokeWellbeing writes a throw-away user whose onboarding answers the
// safety question "yes" and waits for the whole protocol: onUserWritten
// sets suicideRisk and appends the wellbeing event, onWellbeingEventCreated
// publishes the alert, deliverWellbeingAlert (Pub/Sub push) delivers it
// (to the log locally: no IJ_ONCALL_WEBHOOK_URL) and stamps notifiedAt.
func smokeWellbeing(ctx context.Context, c *firestore.Client) (int64, error) {
	start := time.Now()
	uid := fmt.Sprintf("smoke-wellbeing-%d", start.UnixNano())
	u := model.User{UserID: uid, CreatedAt: start.UTC(), Locale: "en-US", Answers: []model.Answer{
		{QuestionID: "phq9_1", Answer: 1}, {QuestionID: "phq9_2", Answer: 1}, {QuestionID: "safety_1", Answer: "yes"}}}
	if _, err := c.Collection(model.ColUsers).Doc(uid).Set(ctx, u); err != nil {
		return 0, err
	}
	err := waitFor(ctx, 60*time.Second, func() (bool, error) {
		docs, err := indexes.MustLookup(indexes.QWellbeingByUser).MustBuild(c, uid).Documents(ctx).GetAll()
		if err != nil || len(docs) == 0 {
			return false, err
		}
		if len(docs) > 1 {
			return false, fmt.Errorf("%d wellbeing events, want 1", len(docs))
		}
		v, err := docs[0].DataAt("notifiedAt")
		return err == nil && v != nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("wellbeing protocol for %s: %w", uid, err)
	}
	return time.Since(start).Milliseconds(), nil
}
