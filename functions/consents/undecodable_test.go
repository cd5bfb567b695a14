package consents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// secretMarker is written into undecodable consents documents; it must
// never reach a log line.
const secretMarker = "private-consent-text-7f3a"

// TestGrantedUndecodableGrantsNothing: consents.Granted reads a consents
// document that does not decode as granting nothing, with a nil error
// (fail closed; a retry cannot fix the document), and logs it once with
// the uid. Regression: it returned a plain wrapped error, which the event
// framework treats as retryable, so the event was redelivered forever.
func TestGrantedUndecodableGrantsNothing(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	ai := func(s model.ConsentStatus) []model.ConsentEntry {
		return []model.ConsentEntry{entry(model.ConsentAIAnalysis, s, t0)}
	}
	tests := []struct {
		name      string
		doc       any // nil: no document
		want      bool
		wantAlert bool
	}{
		{"no document", nil, false, false},
		{"granted", model.Consents{UserID: "x", ConsentsGiven: ai(model.ConsentGranted)}, true, false},
		{"revoked", model.Consents{UserID: "x", ConsentsGiven: ai(model.ConsentRevoked)}, false, false},
		{"consentsGiven a string", map[string]any{"userId": "x", "consentsGiven": secretMarker}, false, true},
		{"current a string beside a grant", map[string]any{"consentsGiven": ai(model.ConsentGranted), "current": secretMarker}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := "granted-" + strings.ReplaceAll(tt.name, " ", "-")
			if tt.doc != nil {
				if _, err := c.Collection(model.ColConsents).Doc(uid).Set(ctx, tt.doc); err != nil {
					t.Fatal(err)
				}
			}
			logs := testenv.CaptureLogs(t)
			got, err := consents.Granted(ctx, c, uid, model.ConsentAIAnalysis)
			if err != nil || got != tt.want {
				t.Fatalf("Granted = %v, %v; want %v, nil", got, err, tt.want)
			}
			alerts := logs.Alerts(t, model.AlertConsentsUndecodable, "uid", secretMarker)
			switch {
			case tt.wantAlert && (len(alerts) != 1 || alerts[0] != uid):
				t.Errorf("alerts for uids %v, want one for %s; logs:\n%s", alerts, uid, logs)
			case !tt.wantAlert && len(alerts) != 0:
				t.Errorf("alerts for uids %v, want none", alerts)
			}
		})
	}
}

// TestOnConsentsWrittenUndecodableDocument: an event for a consents
// document that no longer decodes completes (a retry cannot fix the
// document), writes nothing, and still tells the profile recompute and the
// analysis remover, which read the document as granting nothing.
// Regression: RecomputeCurrent returned a plain decode error, so the event
// was redelivered forever and the dependencies never ran.
func TestOnConsentsWrittenUndecodableDocument(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	logs := testenv.CaptureLogs(t)
	const uid = "undecodable-event"
	profiles, analyses := &countingProfiles{}, &countingAnalyses{}
	svc := &consents.Service{Firestore: c, Profiles: profiles, Analyses: analyses, Now: func() time.Time { return t0 }}
	ev := writeConsents(t, c, p, nil, history(uid, entry(model.ConsentAIAnalysis, model.ConsentGranted, t0),
		entry(model.ConsentSensitiveData, model.ConsentGranted, t0)))
	// The document is overwritten (an admin edit, say) before the event of
	// its creation is delivered.
	ref := c.Collection(model.ColConsents).Doc(uid)
	if _, err := ref.Set(ctx, map[string]any{"userId": uid, "consentsGiven": secretMarker}); err != nil {
		t.Fatal(err)
	}
	before, err := ref.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.OnConsentsWritten(ctx, ev); err != nil {
		t.Fatalf("OnConsentsWritten = %v, want nil", err)
	}
	after, err := ref.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !after.UpdateTime.Equal(before.UpdateTime) {
		t.Error("the undecodable document was written")
	}
	if len(profiles.calls) != 1 || len(analyses.calls) != 1 {
		t.Errorf("profile recomputes %v, analysis removals %v; want one each", profiles.calls, analyses.calls)
	}
	if got := logs.Alerts(t, model.AlertConsentsUndecodable, "uid", secretMarker); len(got) == 0 || got[0] != uid {
		t.Errorf("alerts for %v, want %s", got, uid)
	}
}
