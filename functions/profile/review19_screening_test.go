package profile

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// TestReview19CrisisLinesFollowTheRegion: the README says the crisis
// resources are picked "by region first (help lines are national: en-SE →
// sv-SE), then language (sv → sv-SE), else intl". A Swedish speaker in
// Finland (locale sv-FI; also Åland, sv-AX) who answers the safety
// question "yes" is pointed at crisis_resources/sv-SE: Mind
// Självmordslinjen 90101 and 1177 are Swedish numbers that do not connect
// from Finland. A locale whose region has no national list must get the
// international list (local emergency number, findahelpline.com); the
// language fallback is for a locale without a region ("sv").
func TestReview19CrisisLinesFollowTheRegion(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	s, _ := newService(c)

	tests := []struct{ locale, want string }{
		{"sv-FI", "intl"},      // Swedish speaker in Finland
		{"sv-AX", "intl"},      // Åland
		{"sv-Latn-FI", "intl"}, // script subtag before the region
		{"sv", "sv-SE"},        // no region: the language decides
		{"sv-SE", "sv-SE"},
		{"en-SE", "sv-SE"}, // region first
	}
	for i, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			uid := fmt.Sprintf("r19-loc-%d", i)
			d := onboardingFields(uid, onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "yes"))
			d["locale"] = tt.locale
			d["createdAt"] = time.Now().UTC()
			if _, err := c.Doc("users/"+uid).Set(ctx, d); err != nil {
				t.Fatal(err)
			}
			p, err := s.Recompute(ctx, uid, false)
			if err != nil {
				t.Fatal(err)
			}
			if p.Wellbeing == nil || p.Wellbeing.Status != wellbeing.Opened {
				t.Fatalf("safety yes: protocol outcome %+v, want opened", p.Wellbeing)
			}
			want := model.ColCrisisResources + "/" + tt.want
			if p.Wellbeing.ResourcesRef != want {
				t.Errorf("locale %s: user pointed at %s, want %s", tt.locale, p.Wellbeing.ResourcesRef, want)
			}
			note, _ := data(t, c, "users/"+uid+"/"+model.SubColNotes+"/"+p.Wellbeing.EventID)
			if note["ref"] != want {
				t.Errorf("locale %s: notification ref %v, want %s", tt.locale, note["ref"], want)
			}
		})
	}
}
