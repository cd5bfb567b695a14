package consents_test

import (
	"context"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func entry(typ model.ConsentType, status model.ConsentStatus, at time.Time) model.ConsentEntry {
	return model.ConsentEntry{Type: typ, Version: "v1", AgreedAt: at, Status: status}
}

func TestCurrent(t *testing.T) {
	tests := []struct {
		name    string
		history []model.ConsentEntry
		want    map[string]model.ConsentStatus
	}{
		{"empty", nil, map[string]model.ConsentStatus{}},
		{"grant then revoke", []model.ConsentEntry{entry(model.ConsentMarketingEmails, model.ConsentGranted, t0),
			entry(model.ConsentMarketingEmails, model.ConsentRevoked, t0.Add(time.Hour))}, map[string]model.ConsentStatus{"marketing_emails": "revoked"}},
		// List order decides, not agreedAt (the client's clock): the last
		// entry is what the user did last.
		{"revocation dated before the grant it follows", []model.ConsentEntry{
			entry(model.ConsentAIAnalysis, model.ConsentGranted, t0.Add(4*time.Minute)),
			entry(model.ConsentAIAnalysis, model.ConsentRevoked, t0.Add(-3*time.Minute))}, map[string]model.ConsentStatus{"ai_analysis": "revoked"}},
		{"grant dated before the revocation it follows", []model.ConsentEntry{
			entry(model.ConsentAIAnalysis, model.ConsentRevoked, t0.Add(time.Hour)),
			entry(model.ConsentAIAnalysis, model.ConsentGranted, t0)}, map[string]model.ConsentStatus{"ai_analysis": "granted"}},
		{"per type, other types between", []model.ConsentEntry{
			entry(model.ConsentMarketingEmails, model.ConsentGranted, t0.Add(time.Hour)),
			entry(model.ConsentAIAnalysis, model.ConsentGranted, t0),
			entry(model.ConsentMarketingEmails, model.ConsentRevoked, t0)},
			map[string]model.ConsentStatus{"ai_analysis": "granted", "marketing_emails": "revoked"}},
		{"invalid last entry does not shadow a valid one", []model.ConsentEntry{
			entry(model.ConsentAIAnalysis, model.ConsentRevoked, t0),
			entry(model.ConsentAIAnalysis, "maybe", t0.Add(time.Hour))}, map[string]model.ConsentStatus{"ai_analysis": "revoked"}},
		{"unknown type ignored", []model.ConsentEntry{entry("spam", model.ConsentGranted, t0)}, map[string]model.ConsentStatus{}},
		{"unknown status ignored", []model.ConsentEntry{entry(model.ConsentAIAnalysis, "maybe", t0)}, map[string]model.ConsentStatus{}},
	}
	for _, tt := range tests {
		got := consents.Current(tt.history)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		for k, s := range tt.want {
			if got[k].Status != s {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got[k].Status, s)
			}
		}
	}
}

func toMap(t *testing.T, c model.Consents) map[string]any {
	t.Helper()
	var list []any
	for _, e := range c.ConsentsGiven {
		list = append(list, map[string]any{"type": string(e.Type), "version": e.Version, "agreedAt": e.AgreedAt, "status": string(e.Status)})
	}
	return map[string]any{"userId": c.UserID, "consentsGiven": list}
}

// TestOnConsentsWrittenIdempotentAndLoopFree delivers events twice and in
// the wrong order, and the event of the function's own write.
func TestOnConsentsWrittenIdempotentAndLoopFree(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	svc := &consents.Service{Firestore: c, Now: func() time.Time { return t0 }}

	v1 := model.Consents{UserID: "u1", ConsentsGiven: []model.ConsentEntry{entry(model.ConsentAIAnalysis, model.ConsentGranted, t0)}}
	v2 := v1
	v2.ConsentsGiven = append(append([]model.ConsentEntry(nil), v1.ConsentsGiven...), entry(model.ConsentAIAnalysis, model.ConsentRevoked, t0.Add(time.Minute)))
	// The document's current state is v2.
	if _, err := c.Doc("consents/u1").Set(ctx, v2); err != nil {
		t.Fatal(err)
	}
	ev := func(before, after map[string]any) *events.FirestoreEvent {
		ce := eventstest.MustFirestoreCloudEvent(t, eventstest.EmulatorBase64, "google.cloud.firestore.document.v1.written", p, "consents/u1", before, after)
		e, err := events.DecodeFirestore(ce)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	create, update := ev(nil, toMap(t, v1)), ev(toMap(t, v1), toMap(t, v2))
	// Reordered and duplicated: the update first, then the create twice.
	for _, e := range []*events.FirestoreEvent{update, create, create, update} {
		if err := svc.OnConsentsWritten(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := c.Doc("consents/u1").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got model.Consents
	if err := snap.DataTo(&got); err != nil {
		t.Fatal(err)
	}
	if got.Current["ai_analysis"].Status != model.ConsentRevoked || got.Granted(model.ConsentAIAnalysis) {
		t.Fatalf("current = %+v", got.Current)
	}
	// The event of its own write (only current changed) does nothing.
	own := toMap(t, v2)
	own["current"] = map[string]any{"ai_analysis": map[string]any{"status": "revoked"}}
	before := snap.UpdateTime
	if err := svc.OnConsentsWritten(ctx, ev(toMap(t, v2), own)); err != nil {
		t.Fatal(err)
	}
	snap2, _ := c.Doc("consents/u1").Get(ctx)
	if !snap2.UpdateTime.Equal(before) {
		t.Error("the function rewrote the document on the event of its own write")
	}
	if ok, err := consents.Granted(ctx, c, "u1", model.ConsentAIAnalysis); ok || err != nil {
		t.Errorf("Granted = %v, %v", ok, err)
	}
	if ok, err := consents.Granted(ctx, c, "nobody", model.ConsentAIAnalysis); ok || err != nil {
		t.Errorf("Granted(no doc) = %v, %v", ok, err)
	}
}
