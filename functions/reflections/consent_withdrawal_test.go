package reflections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
)

// setConsent appends an ai_analysis entry with status to uid's consent
// history (as a client does) and returns the consents/{uid} written event
// of that append.
func (f *fixture) setConsent(uid string, status model.ConsentStatus) *events.FirestoreEvent {
	f.t.Helper()
	ctx := context.Background()
	ref := f.fs.Doc("consents/" + uid)
	var before map[string]any
	var n int
	if snap, err := ref.Get(ctx); err == nil {
		before = snap.Data()
		list, _ := before["consentsGiven"].([]any)
		n = len(list)
	}
	// Each entry is distinct (ArrayUnion would drop a repeat) and later
	// than the one before.
	e := map[string]any{"type": string(model.ConsentAIAnalysis), "version": "v1",
		"agreedAt": t0.Add(time.Duration(n) * time.Minute), "status": string(status)}
	if _, err := ref.Set(ctx, map[string]any{"userId": uid, "consentsGiven": firestore.ArrayUnion(e)}, firestore.MergeAll); err != nil {
		f.t.Fatal(err)
	}
	snap, err := ref.Get(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	ce := eventstest.MustFirestoreCloudEvent(f.t, eventstest.EmulatorBase64, "google.cloud.firestore.document.v1.written",
		f.p, "consents/"+uid, before, snap.Data())
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		f.t.Fatal(err)
	}
	return ev
}

// edit writes log.text (and clears the moods when text is empty, as an
// owner emptying the reflection does) and returns the event of the write.
func (f *fixture) edit(id, text string) *events.FirestoreEvent {
	f.t.Helper()
	before := f.current(id)
	upd := []firestore.Update{{Path: "log.text", Value: text}}
	if text == "" {
		upd = append(upd, firestore.Update{Path: "log.moodBefore", Value: nil}, firestore.Update{Path: "log.moodAfter", Value: nil})
	}
	if _, err := f.fs.Doc("user_activations/"+id).Update(context.Background(), upd); err != nil {
		f.t.Fatal(err)
	}
	return f.event(id, before, f.current(id))
}

// TestNoConsentRemovesStaleAnalysis: after the owner revokes ai_analysis
// and empties or rewrites the reflection, the analysis of the old text
// (themes, label, crisis flag) is removed and nothing is analysed; the
// owner cannot remove it themself (the rules keep log.aiAnalysis
// server-owned). Regression: the handler returned no_consent before the
// step that removes a stale analysis.
func TestNoConsentRemovesStaleAnalysis(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		newText string
		want    reflections.Outcome
	}{
		{"emptied", "My husband and I fought again about money and debt; I feel worthless and anxious.", "", reflections.Cleared},
		{"rewritten", "Grief again today, the funeral was hard and I miss my mother.", "Nice walk.", reflections.Withdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.consent("u", model.ConsentGranted)
			if out := f.handle(f.event("e", nil, f.entry("e", "u", tt.text))); out != reflections.Analyzed {
				t.Fatalf("create: %s", out)
			}
			f.setConsent("u", model.ConsentRevoked)
			ev := f.edit("e", tt.newText)
			if out := f.handle(ev); out != tt.want {
				t.Errorf("outcome %s, want %s", out, tt.want)
			}
			if a := analysisOf(t, f.current("e")); a != nil {
				t.Fatalf("analysis kept without consent: themes %v label %v", a["keyThemes"], a["label"])
			}
			// The event of that removal, and a duplicate, change nothing.
			for _, ev := range []*events.FirestoreEvent{ev, f.event("e", f.current("e"), f.current("e"))} {
				if out := f.handle(ev); out != reflections.Unchanged && out != reflections.NoConsent && out != reflections.NothingToDo {
					t.Errorf("replay: %s", out)
				}
			}
			if a := analysisOf(t, f.current("e")); a != nil {
				t.Fatalf("analysed without consent: %v", a)
			}
		})
	}
}

// revokingAnalyzer revokes the owner's consent while it analyses: the
// revocation lands between the handler's consent read and its write.
type revokingAnalyzer struct {
	f   *fixture
	uid string
}

func (r revokingAnalyzer) Analyze(ctx context.Context, e analysis.Entry) (analysis.Result, error) {
	r.f.setConsent(r.uid, model.ConsentRevoked)
	return r.f.svc.Analyzer.Analyze(ctx, e)
}

// TestRevocationDuringAnalysisStoresNothing: the write re-reads the
// consent in its transaction, so an analysis computed while the consent
// was being revoked is not stored (the revocation's removal may already
// have run and would not see it).
func TestRevocationDuringAnalysisStoresNothing(t *testing.T) {
	f := newFixture(t)
	f.consent("u", model.ConsentGranted)
	svc := *f.svc
	svc.Analyzer = revokingAnalyzer{f: f, uid: "u"}
	out, err := svc.Handle(context.Background(), f.event("e", nil, f.entry("e", "u", "Calm and grateful after the walk.")))
	if err != nil {
		t.Fatal(err)
	}
	if out != reflections.NoConsent {
		t.Errorf("outcome %s, want %s", out, reflections.NoConsent)
	}
	if a := analysisOf(t, f.current("e")); a != nil {
		t.Fatalf("analysis stored after the revocation: %v", a)
	}
}

// TestRevocationRemovesAnalysesThroughConsents: revoking ai_analysis
// removes the analyses of all the owner's entries through the real
// consents path (onConsentsWritten → reflections.Service.AIAnalysisChanged),
// across pages, crisis-flagged ones included; the wellbeing event raised
// earlier stays, and other users' analyses are untouched. A redelivered
// revocation event finds nothing left; the removal's own writes are not
// edits. A re-grant restores nothing and analyses nothing until the entry
// is next edited.
func TestRevocationRemovesAnalysesThroughConsents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cs := &consents.Service{Firestore: f.fs, Analyses: f.svc, Now: clock}
	f.consent("u", model.ConsentGranted)
	f.consent("other", model.ConsentGranted)
	if out := f.handle(f.event("calm", nil, f.entry("calm", "u", "Felt calm and focused afterwards."))); out != reflections.Analyzed {
		t.Fatalf("calm: %s", out)
	}
	if out := f.handle(f.event("crisis", nil, f.entry("crisis", "u", "I can't do this anymore. I want to kill myself."))); out != reflections.CrisisRaised {
		t.Fatalf("crisis: %s", out)
	}
	if out := f.handle(f.event("theirs", nil, f.entry("theirs", "other", "Grateful for my friends."))); out != reflections.Analyzed {
		t.Fatalf("other user's entry: %s", out)
	}
	// More entries than a page holds, some with an analysis, some without.
	bw := f.fs.BulkWriter(ctx)
	for i := range 230 {
		log := map[string]any{"text": fmt.Sprintf("entry %d", i)}
		if i%3 != 0 {
			log["aiAnalysis"] = map[string]any{"label": "neutral", "contentHash": "sha256:old", "keyThemes": []string{"work"}}
		}
		if _, err := bw.Set(f.fs.Doc(fmt.Sprintf("user_activations/bulk-%03d", i)),
			map[string]any{"userId": "u", "activationId": "a1", "status": "completed", "log": log}); err != nil {
			t.Fatal(err)
		}
	}
	bw.End()
	analysed := func() []string {
		t.Helper()
		docs, err := f.fs.Collection(model.ColUserActivations).Where("userId", "==", "u").Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range docs {
			if v, err := d.DataAt("log.aiAnalysis"); err == nil && v != nil {
				ids = append(ids, d.Ref.ID)
			}
		}
		return ids
	}
	if n := len(analysed()); n < 150 {
		t.Fatalf("%d analysed entries before the revocation", n)
	}
	beforeRemoval := f.current("calm")

	revoke := f.setConsent("u", model.ConsentRevoked)
	if err := cs.OnConsentsWritten(ctx, revoke); err != nil {
		t.Fatalf("revocation: %v", err)
	}
	if ids := analysed(); len(ids) != 0 {
		t.Fatalf("%d analyses left after the revocation, e.g. %v", len(ids), ids[:min(3, len(ids))])
	}
	if a := analysisOf(t, f.current("theirs")); a == nil {
		t.Error("another user's analysis was removed")
	}
	wb, err := f.fs.Collection(model.ColWellbeingEvents).Where("userId", "==", "u").Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(wb) != 1 {
		t.Errorf("%d wellbeing events after the revocation, want the 1 raised before (a safety record, kept)", len(wb))
	}

	// Redelivery of the revocation: nothing left, no error.
	if err := cs.OnConsentsWritten(ctx, revoke); err != nil {
		t.Fatalf("redelivered revocation: %v", err)
	}
	// The event of the removal's own write is not an edit.
	removal := f.event("calm", beforeRemoval, f.current("calm"))
	if out := f.handle(removal); out != reflections.Unchanged {
		t.Errorf("removal event: %s", out)
	}

	// Re-grant: nothing comes back, and the removal events delivered late
	// analyse nothing either.
	if err := cs.OnConsentsWritten(ctx, f.setConsent("u", model.ConsentGranted)); err != nil {
		t.Fatalf("re-grant: %v", err)
	}
	if out := f.handle(removal); out != reflections.Unchanged {
		t.Errorf("late removal event after the re-grant: %s", out)
	}
	if ids := analysed(); len(ids) != 0 {
		t.Fatalf("analyses back after the re-grant: %v", ids[:min(3, len(ids))])
	}
	// A late redelivery of the revocation, after the re-grant, removes
	// nothing analysed under the new grant.
	if out := f.handle(f.edit("calm", "Slept well, calm morning.")); out != reflections.Analyzed {
		t.Fatalf("edit after the re-grant: %s", out)
	}
	if err := cs.OnConsentsWritten(ctx, revoke); err != nil {
		t.Fatalf("late revocation event: %v", err)
	}
	if ids := analysed(); len(ids) != 1 || ids[0] != "calm" {
		t.Errorf("after a late revocation event: analysed %v, want [calm]", ids)
	}
}
