package consents_test

import (
	"context"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// TestReview8UndecodableWithoutHistoryChangeTellsRemover: a consents
// document granting ai_analysis and sensitive_data is edited (an admin
// edit, say) so that it no longer decodes, through a field other than
// consentsGiven (current here). From then on every reader
// (model.ConsentsOf) reads it as granting nothing, yet onConsentsWritten
// returns early because consentsGiven did not change: the analyses and
// screening scores derived under the consent stay, and nothing later
// removes them (the handler skips stored analyses matching their inputs).
func TestReview8UndecodableWithoutHistoryChangeTellsRemover(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	const uid = "review8-undecodable-current"
	h := history(uid, entry(model.ConsentAIAnalysis, model.ConsentGranted, t0),
		entry(model.ConsentSensitiveData, model.ConsentGranted, t0))
	if _, err := c.Doc("consents/"+uid).Set(ctx, h); err != nil {
		t.Fatal(err)
	}
	before := toMap(t, h)
	after := toMap(t, h)
	after["current"] = "not-a-map"
	if _, err := c.Doc("consents/"+uid).Set(ctx, after); err != nil {
		t.Fatal(err)
	}
	if ok, err := consents.Granted(ctx, c, uid, model.ConsentAIAnalysis); err != nil || ok {
		t.Fatalf("Granted = %v, %v; want false (undecodable)", ok, err)
	}
	profiles, analyses := &countingProfiles{}, &countingAnalyses{}
	svc := &consents.Service{Firestore: c, Profiles: profiles, Analyses: analyses, Now: func() time.Time { return t0 }}
	if err := svc.OnConsentsWritten(ctx, consentsEvent(t, p, uid, before, after)); err != nil {
		t.Fatal(err)
	}
	if len(analyses.calls) != 1 || len(profiles.calls) != 1 {
		t.Errorf("consent became no consent for every reader, but analysis removals %v, profile recomputes %v; want one each",
			analyses.calls, profiles.calls)
	}
}
