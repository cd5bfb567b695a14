package reflections_test

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func clock() time.Time { return t0 }

type fixture struct {
	t   *testing.T
	p   string
	fs  *firestore.Client
	svc *reflections.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	p := emu.NewProject(t)
	fs := emu.Client(t, p)
	return &fixture{t: t, p: p, fs: fs, svc: &reflections.Service{Firestore: fs, Analyzer: analysis.NewOffline(clock),
		Wellbeing: &wellbeing.Protocol{Now: clock}, Now: clock}}
}

func (f *fixture) consent(uid string, status model.ConsentStatus) {
	f.t.Helper()
	_, err := f.fs.Doc("consents/"+uid).Set(context.Background(), model.Consents{UserID: uid, ConsentsGiven: []model.ConsentEntry{
		{Type: model.ConsentAIAnalysis, Version: "v1", AgreedAt: t0.Add(-time.Hour), Status: status}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

// entry writes user_activations/id with text and returns its data as the
// event would carry it.
func (f *fixture) entry(id, uid, text string) map[string]any {
	f.t.Helper()
	doc := map[string]any{"userActivationId": id, "userId": uid, "activationId": "a1", "status": "completed",
		"startedAt": t0, "log": map[string]any{"text": text, "moodBefore": "stressed", "moodAfter": "calm"}}
	if _, err := f.fs.Doc("user_activations/"+id).Set(context.Background(), doc); err != nil {
		f.t.Fatal(err)
	}
	return doc
}

func (f *fixture) current(id string) map[string]any {
	f.t.Helper()
	snap, err := f.fs.Doc("user_activations/" + id).Get(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return snap.Data()
}

func (f *fixture) event(id string, before, after map[string]any) *events.FirestoreEvent {
	f.t.Helper()
	ce := eventstest.MustFirestoreCloudEvent(f.t, eventstest.EmulatorBase64, "google.cloud.firestore.document.v1.written",
		f.p, "user_activations/"+id, before, after)
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		f.t.Fatal(err)
	}
	return ev
}

func (f *fixture) handle(ev *events.FirestoreEvent) reflections.Outcome {
	f.t.Helper()
	out, err := f.svc.Handle(context.Background(), ev)
	if err != nil {
		f.t.Fatalf("Handle: %v", err)
	}
	return out
}

func analysisOf(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	log, _ := data["log"].(map[string]any)
	a, _ := log["aiAnalysis"].(map[string]any)
	return a
}

func TestAnalyseEditReplay(t *testing.T) {
	f := newFixture(t)
	f.consent("u1", model.ConsentGranted)
	v1 := f.entry("e1", "u1", "Felt surprisingly calm and focused afterward. Grateful for a quiet morning.")
	create := f.event("e1", nil, v1)
	if out := f.handle(create); out != reflections.Analyzed {
		t.Fatalf("create: %s", out)
	}
	a := analysisOf(t, f.current("e1"))
	if a == nil || a["label"] != "positive" || a["crisis"] != false || a["provider"] != "offline" || a["contentHash"] == "" {
		t.Fatalf("analysis = %v", a)
	}
	if themes, _ := a["keyThemes"].([]any); len(themes) == 0 {
		t.Errorf("no themes: %v", a)
	}
	// Replays, and the event of its own write, change nothing.
	own := f.current("e1")
	for _, ev := range []*events.FirestoreEvent{create, f.event("e1", v1, own)} {
		if out := f.handle(ev); out != reflections.Unchanged && out != reflections.Superseded {
			t.Errorf("replay: %s", out)
		}
	}
	if got := analysisOf(t, f.current("e1")); got["analyzedAt"] != a["analyzedAt"] || got["contentHash"] != a["contentHash"] {
		t.Error("a replay rewrote the analysis")
	}
	// An edit of the text is analysed again.
	v2 := f.entry("e1", "u1", "Honestly the whole day was awful and I feel exhausted and anxious about work.")
	if out := f.handle(f.event("e1", own, v2)); out != reflections.Analyzed {
		t.Fatalf("edit: %s", out)
	}
	b := analysisOf(t, f.current("e1"))
	if b["label"] != "negative" || b["contentHash"] == a["contentHash"] {
		t.Errorf("after edit: %v", b)
	}
	// The stale create event, delivered late, does not bring the old
	// analysis back.
	if out := f.handle(create); out != reflections.Superseded {
		t.Errorf("late create: %s", out)
	}
	if got := analysisOf(t, f.current("e1")); got["contentHash"] != b["contentHash"] {
		t.Error("a late event overwrote newer state")
	}
}

func TestNoConsentNoAnalysis(t *testing.T) {
	f := newFixture(t)
	f.consent("u2", model.ConsentRevoked)
	doc := f.entry("e2", "u2", "A lovely walk by the sea.")
	if out := f.handle(f.event("e2", nil, doc)); out != reflections.NoConsent {
		t.Fatalf("outcome %s", out)
	}
	if a := analysisOf(t, f.current("e2")); a != nil {
		t.Errorf("analysed without consent: %v", a)
	}
	// No consents document at all: no consent.
	doc = f.entry("e3", "u3", "A lovely walk by the sea.")
	if out := f.handle(f.event("e3", nil, doc)); out != reflections.NoConsent {
		t.Fatalf("outcome without consents doc: %s", out)
	}
}

func TestCrisisRaisesProtocolOnce(t *testing.T) {
	f := newFixture(t)
	f.consent("u4", model.ConsentGranted)
	doc := f.entry("e4", "u4", "I can't do this anymore. I want to kill myself.")
	ev := f.event("e4", nil, doc)
	if out := f.handle(ev); out != reflections.CrisisRaised {
		t.Fatalf("outcome %s", out)
	}
	if a := analysisOf(t, f.current("e4")); a["crisis"] != true {
		t.Fatalf("crisis not flagged: %v", a)
	}
	f.handle(ev) // duplicate delivery
	docs, err := f.fs.Collection(model.ColWellbeingEvents).Where("userId", "==", "u4").Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d wellbeing events, want 1", len(docs))
	}
	w := docs[0].Data()
	if w["source"] != "reflection" {
		t.Errorf("wellbeing event = %v", w)
	}
	for k, v := range w {
		if s, ok := v.(string); ok && len(s) > 20 && (s == "I can't do this anymore. I want to kill myself.") {
			t.Errorf("journal text copied into %s", k)
		}
	}
}

func TestEmptiedReflectionClearsAnalysis(t *testing.T) {
	f := newFixture(t)
	f.consent("u5", model.ConsentGranted)
	doc := f.entry("e5", "u5", "Good session.")
	f.handle(f.event("e5", nil, doc))
	before := f.current("e5")
	if _, err := f.fs.Doc("user_activations/e5").Update(context.Background(), []firestore.Update{
		{Path: "log.text", Value: ""}, {Path: "log.moodBefore", Value: nil}, {Path: "log.moodAfter", Value: nil}}); err != nil {
		t.Fatal(err)
	}
	after := f.current("e5")
	if out := f.handle(f.event("e5", before, after)); out != reflections.Cleared {
		t.Fatalf("outcome %s", out)
	}
	if a := analysisOf(t, f.current("e5")); a != nil {
		t.Errorf("stale analysis kept: %v", a)
	}
}
