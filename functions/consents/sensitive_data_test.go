package consents_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// countingProfiles counts SensitiveDataChanged calls and passes them on to
// next (when set), or returns err.
type countingProfiles struct {
	next  consents.ProfileRecomputer
	err   error
	calls []string
}

func (p *countingProfiles) SensitiveDataChanged(ctx context.Context, uid string) error {
	p.calls = append(p.calls, uid)
	if p.next != nil {
		return p.next.SensitiveDataChanged(ctx, uid)
	}
	return p.err
}

// consentsEvent is the consents/{uid} written event of before → after.
func consentsEvent(t *testing.T, p, uid string, before, after map[string]any) *events.FirestoreEvent {
	t.Helper()
	ce := eventstest.MustFirestoreCloudEvent(t, eventstest.EmulatorBase64, "google.cloud.firestore.document.v1.written", p, "consents/"+uid, before, after)
	e, err := events.DecodeFirestore(ce)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// history is a consents document holding entries in order.
func history(uid string, entries ...model.ConsentEntry) model.Consents {
	return model.Consents{UserID: uid, ConsentsGiven: entries}
}

// writeConsents writes c as consents/{uid} and returns the event of the
// write from before.
func writeConsents(t *testing.T, fc *firestore.Client, p string, before *model.Consents, c model.Consents) *events.FirestoreEvent {
	t.Helper()
	if _, err := fc.Doc("consents/"+c.UserID).Set(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if before != nil {
		b = toMap(t, *before)
	}
	return consentsEvent(t, p, c.UserID, b, toMap(t, c))
}

// adhdScore is users/{uid}.neuroTendencies.adhdScore, nil when absent.
func adhdScore(t *testing.T, fc *firestore.Client, uid string) any {
	t.Helper()
	snap, err := fc.Doc("users/" + uid).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := snap.DataAt("neuroTendencies.adhdScore")
	if err != nil {
		return nil
	}
	return v
}

// onboardedUser is users/{uid} after onboarding, with complete ASRS
// answers (adhdScore 7 when scored).
func onboardedUser(uid string) map[string]any {
	var answers []any
	for i, v := range []string{"sometimes", "often", "rarely", "often", "very_often", "sometimes"} {
		answers = append(answers, map[string]any{"questionId": fmt.Sprintf("asrs_%d", i+1), "answer": v})
	}
	return map[string]any{"userId": uid, "birthDate": "1990-05-15", "answers": answers, "createdAt": t0}
}

// TestSensitiveDataGrantAndRevokeRecomputeProfile: granting sensitive_data
// after onboarding makes the screening scores appear, and revoking it
// removes them, through onConsentsWritten alone (the user does not touch
// their profile); redelivered events and the function's own write of
// current change nothing.
func TestSensitiveDataGrantAndRevokeRecomputeProfile(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clock := func() time.Time { return t0 }
	prof := &profile.Service{Firestore: c, Now: clock}
	counter := &countingProfiles{next: prof}
	svc := &consents.Service{Firestore: c, Profiles: counter, Now: clock}
	uid := "sd-later"

	if _, err := c.Doc("users/"+uid).Set(ctx, onboardedUser(uid)); err != nil {
		t.Fatal(err)
	}
	if _, err := prof.Recompute(ctx, uid, false); err != nil {
		t.Fatal(err)
	}
	if v := adhdScore(t, c, uid); v != nil {
		t.Fatalf("adhdScore %v before any consent", v)
	}

	// Terms first (no sensitive_data): the profile is not recomputed.
	v1 := history(uid, entry(model.ConsentTermsOfService, model.ConsentGranted, t0))
	if err := svc.OnConsentsWritten(ctx, writeConsents(t, c, p, nil, v1)); err != nil {
		t.Fatal(err)
	}
	if len(counter.calls) != 0 {
		t.Errorf("profile recomputed %d times for a terms consent", len(counter.calls))
	}

	// Granted later: the scores appear.
	v2 := history(uid, append(v1.ConsentsGiven, entry(model.ConsentSensitiveData, model.ConsentGranted, t0.Add(time.Minute)))...)
	grant := writeConsents(t, c, p, &v1, v2)
	if err := svc.OnConsentsWritten(ctx, grant); err != nil {
		t.Fatal(err)
	}
	if v := adhdScore(t, c, uid); v != int64(7) {
		t.Errorf("after the grant: adhdScore %v, want 7", v)
	}
	snap, _ := c.Doc("users/" + uid).Get(ctx)
	granted := snap.UpdateTime

	// Redelivered, and the event of the function's own write of current.
	if err := svc.OnConsentsWritten(ctx, grant); err != nil {
		t.Fatal(err)
	}
	cur, _ := c.Doc("consents/" + uid).Get(ctx)
	if err := svc.OnConsentsWritten(ctx, consentsEvent(t, p, uid, toMap(t, v2), cur.Data())); err != nil {
		t.Fatal(err)
	}
	if snap, _ := c.Doc("users/" + uid).Get(ctx); !snap.UpdateTime.Equal(granted) {
		t.Error("the profile was rewritten by a redelivered grant or the consents function's own write")
	}

	// Revoked: the scores are removed.
	v3 := history(uid, append(v2.ConsentsGiven, entry(model.ConsentSensitiveData, model.ConsentRevoked, t0.Add(2*time.Minute)))...)
	if err := svc.OnConsentsWritten(ctx, writeConsents(t, c, p, &v2, v3)); err != nil {
		t.Fatal(err)
	}
	if v := adhdScore(t, c, uid); v != nil {
		t.Errorf("after the revocation: adhdScore %v, want none", v)
	}
	if snap, _ := c.Doc("users/" + uid).Get(ctx); snap.Data()["neuroTendencies"] != nil {
		t.Errorf("after the revocation: neuroTendencies %v", snap.Data()["neuroTendencies"])
	}
	if n := len(counter.calls); n != 3 {
		t.Errorf("%d profile recomputes, want 3 (grant, its redelivery, revocation)", n)
	}
}

// TestSensitiveDataRevokedBeforeOnboardingNoScores is the reviewer's case:
// sensitive_data granted then revoked (the revocation last in the list),
// then onboarding: no screening score is computed.
func TestSensitiveDataRevokedBeforeOnboardingNoScores(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	c := fs.Client(t, fs.NewProject(t))
	ctx := context.Background()
	uid := "sd-user"
	if _, err := c.Doc("consents/"+uid).Set(ctx, history(uid,
		entry(model.ConsentSensitiveData, model.ConsentGranted, t0.Add(-time.Hour)),
		entry(model.ConsentSensitiveData, model.ConsentRevoked, t0))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Doc("users/"+uid).Set(ctx, onboardedUser(uid)); err != nil {
		t.Fatal(err)
	}
	svc := &profile.Service{Firestore: c, Now: func() time.Time { return t0 }}
	if _, err := svc.Recompute(ctx, uid, true); err != nil {
		t.Fatal(err)
	}
	if v := adhdScore(t, c, uid); v != nil {
		t.Errorf("sensitive_data revoked, yet neuroTendencies.adhdScore = %v was computed from the screening answers", v)
	}
}

func TestSensitiveDataChangedEvent(t *testing.T) {
	sd := func(st model.ConsentStatus, at time.Duration) model.ConsentEntry {
		return entry(model.ConsentSensitiveData, st, t0.Add(at))
	}
	tos := entry(model.ConsentTermsOfService, model.ConsentGranted, t0)
	tests := []struct {
		name          string
		before, after *model.Consents
		want          bool
	}{
		{"created with a grant", nil, &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0)}}, true},
		{"created without it", nil, &model.Consents{ConsentsGiven: []model.ConsentEntry{tos}}, false},
		{"another type appended", &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0)}},
			&model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0), tos}}, false},
		{"revoked", &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0)}},
			&model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0), sd(model.ConsentRevoked, time.Minute)}}, true},
		// List order decides, not agreedAt.
		{"revocation dated before the grant", &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, time.Hour)}},
			&model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, time.Hour), sd(model.ConsentRevoked, 0)}}, true},
		{"granted again while granted", &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0)}},
			&model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0), sd(model.ConsentGranted, time.Minute)}}, false},
		{"deleted with a grant", &model.Consents{ConsentsGiven: []model.ConsentEntry{sd(model.ConsentGranted, 0)}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b, a map[string]any
			if tt.before != nil {
				b = toMap(t, *tt.before)
			}
			if tt.after != nil {
				a = toMap(t, *tt.after)
			}
			if got := consents.SensitiveDataChanged(consentsEvent(t, "demo-p", "u1", b, a)); got != tt.want {
				t.Errorf("SensitiveDataChanged = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOnConsentsWrittenProfileErrors: a failure a retry can help is
// returned (redelivery), any other is logged and dropped.
func TestOnConsentsWrittenProfileErrors(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	tests := []struct {
		name      string
		err       error
		wantRetry bool
	}{
		{"unavailable", fault.New(fault.Unavailable, "firestore down"), true},
		{"user document does not decode", fault.New(fault.InvalidArgument, "user document does not decode"), false},
		{"plain error", errors.New("boom"), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("err-%d", i)
			svc := &consents.Service{Firestore: c, Profiles: &countingProfiles{err: tt.err}, Now: func() time.Time { return t0 }}
			ev := writeConsents(t, c, p, nil, history(uid, entry(model.ConsentSensitiveData, model.ConsentGranted, t0)))
			err := svc.OnConsentsWritten(ctx, ev)
			if tt.wantRetry != (err != nil && fault.Retryable(err)) || (!tt.wantRetry && err != nil) {
				t.Errorf("OnConsentsWritten = %v, want retryable %v", err, tt.wantRetry)
			}
			snap, _ := c.Doc("consents/" + uid).Get(ctx)
			if v, _ := snap.DataAt("current.sensitive_data.status"); v != "granted" {
				t.Errorf("current not written before the profile call: %v", v)
			}
		})
	}
}
