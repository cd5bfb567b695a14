package profile

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// secretMarker is written into undecodable consents documents; it must
// never reach a log line.
const secretMarker = "private-consent-text-7f3a"

// setUndecodableConsents writes consents/{uid} holding a sensitive_data
// grant that does not decode as model.Consents (current is a string).
func setUndecodableConsents(t *testing.T, c *firestore.Client, uid string) {
	t.Helper()
	grant := map[string]any{"type": string(model.ConsentSensitiveData), "version": "v1",
		"agreedAt": time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), "status": string(model.ConsentGranted)}
	if _, err := c.Collection(model.ColConsents).Doc(uid).Set(context.Background(),
		map[string]any{"userId": uid, "consentsGiven": []any{grant}, "current": secretMarker}); err != nil {
		t.Fatalf("consents/%s: %v", uid, err)
	}
}

// TestUndecodableConsentIsNoConsent: a consents document that does not
// decode is no sensitive_data consent, even when the grant is in it (fail
// closed), in Recompute's transaction and in ReadConsent, exactly as a
// revoked consent: no screening output, and the safety items still raise
// the wellbeing protocol. Each read logs it once, with the uid and the
// alert attribute only. Regression: it was treated as no consent
// silently, so operators never learnt of the document.
func TestUndecodableConsentIsNoConsent(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	s, _ := newService(c)

	tests := []struct {
		name        string
		undecodable bool // false: a revoked consent, the control
		phq         []int
		wantRisk    bool
	}{
		{"revoked, severe PHQ-9 without item 9", false, []int{3, 3, 3, 3, 3, 3, 3, 0, 0}, false},
		{"undecodable, severe PHQ-9 without item 9", true, []int{3, 3, 3, 3, 3, 3, 3, 0, 0}, false},
		{"revoked, item 9 = 3", false, []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, true},
		{"undecodable, item 9 = 3", true, []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("undecodable-%d", i)
			if tt.undecodable {
				setUndecodableConsents(t, c, uid)
			} else {
				setConsents(t, c, uid, model.ConsentGranted, model.ConsentRevoked)
			}
			seedOnboarded(t, c, uid, onboarding(tt.phq, "no"))
			logs := testenv.CaptureLogs(t)
			p, err := s.Recompute(ctx, uid, false)
			if err != nil {
				t.Fatalf("Recompute: %v", err)
			}
			if p.Meta.Screening.SensitiveDataConsent || p.NeuroTendencies != nil || p.Meta.Screening.Scores != nil {
				t.Errorf("scored without a readable grant: consent %v, neuroTendencies %+v, scores %+v",
					p.Meta.Screening.SensitiveDataConsent, p.NeuroTendencies, p.Meta.Screening.Scores)
			}
			assertNoScreeningOutput(t, c, uid, tt.wantRisk)
			want := 0
			if tt.wantRisk {
				want = 1
			}
			if n := len(countWellbeing(t, c, uid)); n != want {
				t.Errorf("%d wellbeing events, want %d (as without consent)", n, want)
			}
			consent, err := ReadConsent(ctx, c, uid)
			if err != nil || consent.SensitiveData {
				t.Errorf("ReadConsent = %+v, %v; want no consent, nil", consent, err)
			}
			alerts := logs.Alerts(t, model.AlertConsentsUndecodable, "uid", secretMarker)
			if !tt.undecodable {
				if len(alerts) != 0 {
					t.Errorf("alerts %v for a readable document", alerts)
				}
				return
			}
			// One read in Recompute's transaction, one in ReadConsent.
			if len(alerts) != 2 || alerts[0] != uid || alerts[1] != uid {
				t.Errorf("alerts for uids %v, want %s twice; logs:\n%s", alerts, uid, logs)
			}
		})
	}
}
