package reflections_test

import (
	"context"
	"testing"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// TestCrisisReplayAfterRevocationRaisesOnce: the source key makes a
// replay never raise twice. A late redelivery of a crisis entry's create
// event, after its episode was acknowledged and its analysis (the
// handler's own replay guard) was removed by an ai_analysis revocation and
// the consent granted again, is a duplicate for the protocol: no second
// event, notification or on-call alert. A new text in the same entry is a
// new signal and does raise. Regression: after d7fcb40 the redelivery
// opened a second episode.
func TestCrisisReplayAfterRevocationRaisesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const uid, id = "u-replay", "e-replay"
	f.setConsent(uid, model.ConsentGranted)
	create := f.event(id, nil, f.entry(id, uid, "I can't do this anymore. I want to kill myself."))
	if out := f.handle(create); out != reflections.CrisisRaised {
		t.Fatalf("first delivery: %s", out)
	}
	evs := f.wellbeingEvents(uid)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if _, err := wellbeing.Acknowledge(ctx, f.fs, t0, evs[0]["eventId"].(string), "admin-1"); err != nil {
		t.Fatal(err)
	}
	f.setConsent(uid, model.ConsentRevoked)
	if err := f.svc.AIAnalysisChanged(ctx, uid); err != nil {
		t.Fatal(err)
	}
	f.setConsent(uid, model.ConsentGranted)

	f.handle(create) // the same create event, redelivered late
	if n := len(f.wellbeingEvents(uid)); n != 1 {
		t.Errorf("a redelivered create event raised the protocol again: %d wellbeing events (alerts), want 1", n)
	}
	if n := f.countNotifications(uid); n != 1 {
		t.Errorf("%d support notifications, want 1", n)
	}

	// The owner rewrites the entry with other crisis language: a new
	// signal, and the first episode was acknowledged, so a new episode.
	if out := f.handle(f.edit(id, "Everything is pointless, I want to end my life tonight.")); out != reflections.CrisisRaised {
		t.Fatalf("edit: %s", out)
	}
	if n := len(f.wellbeingEvents(uid)); n != 2 {
		t.Errorf("a new crisis text in the entry: %d wellbeing events, want 2", n)
	}
}

// countNotifications returns the number of uid's notifications.
func (f *fixture) countNotifications(uid string) int {
	f.t.Helper()
	docs, err := f.fs.Collection("users/" + uid + "/notifications").Documents(context.Background()).GetAll()
	if err != nil {
		f.t.Fatal(err)
	}
	return len(docs)
}
