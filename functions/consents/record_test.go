package consents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// recordEnv is a consents service on a fresh emulator project whose clock
// is the server's, whatever the caller's device says.
type recordEnv struct {
	fs  *firestore.Client
	svc *consents.Service
	now time.Time
}

func newRecordEnv(t *testing.T) *recordEnv {
	t.Helper()
	emu := testenv.FirestoreEmulator(t)
	c := emu.Client(t, emu.NewProject(t))
	e := &recordEnv{fs: c, now: t0.Add(123456789 * time.Nanosecond)}
	e.svc = &consents.Service{Firestore: c, Now: func() time.Time { return e.now }}
	return e
}

// call records a consent for uid with the callable's JSON data.
func (e *recordEnv) call(t *testing.T, uid, data string) (consents.RecordResult, error) {
	t.Helper()
	req := &callable.Request{Data: json.RawMessage(data)}
	if uid != "" {
		req.Auth = &callable.Auth{UID: uid}
	}
	got, err := e.svc.RecordConsent(context.Background(), req)
	if err != nil {
		return consents.RecordResult{}, err
	}
	return got.(consents.RecordResult), nil
}

// history reads uid's stored consent document (nil when there is none).
func (e *recordEnv) history(t *testing.T, uid string) *model.Consents {
	t.Helper()
	snap, err := e.fs.Collection(model.ColConsents).Doc(uid).Get(context.Background())
	if !snap.Exists() {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var c model.Consents
	if err := snap.DataTo(&c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func grant(typ string) string {
	return fmt.Sprintf(`{"type":%q,"version":"2026-11","status":"granted"}`, typ)
}

func revoke(typ string) string {
	return fmt.Sprintf(`{"type":%q,"version":"2026-11","status":"revoked"}`, typ)
}

// TestRecordConsentRefusesBadInputAndWritesNothing: what the rules refuse
// of a client's entry, the callable refuses too, before any write.
func TestRecordConsentRefusesBadInputAndWritesNothing(t *testing.T) {
	e := newRecordEnv(t)
	tests := []struct {
		name, uid, data string
		want            fault.Code
	}{
		{"signed out", "", grant("ai_analysis"), fault.Unauthenticated},
		{"unknown type", "u1", grant("newsletter"), fault.InvalidArgument},
		{"unknown status", "u1", `{"type":"ai_analysis","version":"v1","status":"maybe"}`, fault.InvalidArgument},
		{"no version", "u1", `{"type":"ai_analysis","status":"granted"}`, fault.InvalidArgument},
		{"version of 33 characters", "u1", `{"type":"ai_analysis","version":"` + strings.Repeat("v", 33) + `","status":"granted"}`, fault.InvalidArgument},
		{"unknown field", "u1", `{"type":"ai_analysis","version":"v1","status":"granted","agreedAt":"2020-01-01T00:00:00Z"}`, fault.InvalidArgument},
		{"another user's uid", "u1", `{"uid":"u2","type":"ai_analysis","version":"v1","status":"granted"}`, fault.InvalidArgument},
		{"not an object", "u1", `"granted"`, fault.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.call(t, tt.uid, tt.data)
			if fault.CodeOf(err) != tt.want {
				t.Errorf("error %v (%s), want %s", err, fault.CodeOf(err), tt.want)
			}
		})
	}
	for _, uid := range []string{"u1", "u2"} {
		if h := e.history(t, uid); h != nil {
			t.Errorf("%s: a refused call wrote %+v", uid, h)
		}
	}
	// 32 characters of any script are a valid version, as in the rules.
	if res, err := e.call(t, "u1", `{"type":"ai_analysis","version":"`+strings.Repeat("å", 32)+`","status":"granted"}`); err != nil || !res.Recorded {
		t.Errorf("a 32-character version: %+v, %v", res, err)
	}
}

// TestRecordConsentDatesByTheServerAndRecordsEachActOnce: the entry carries
// the server's time, whatever the device's clock; the history is created
// with userId, then appended to without rewriting it; a call that changes
// nothing (a retry) appends nothing.
func TestRecordConsentDatesByTheServerAndRecordsEachActOnce(t *testing.T) {
	e := newRecordEnv(t)
	serverTime := e.now.Truncate(time.Microsecond)

	res, err := e.call(t, "u1", grant("ai_analysis"))
	if err != nil || !res.Recorded || !res.Entry.AgreedAt.Equal(serverTime) || res.Entry.Status != model.ConsentGranted {
		t.Fatalf("first grant: %+v, %v", res, err)
	}
	again, err := e.call(t, "u1", grant("ai_analysis"))
	if err != nil || again.Recorded || !again.Entry.AgreedAt.Equal(serverTime) {
		t.Errorf("the same grant again (a retry) recorded: %+v, %v", again, err)
	}
	e.now = e.now.Add(time.Hour)
	if res, err := e.call(t, "u1", `{"type":"ai_analysis","version":"2027-01","status":"granted"}`); err != nil || !res.Recorded {
		t.Errorf("a grant of a new version: %+v, %v", res, err)
	}
	e.now = e.now.Add(time.Hour)
	if res, err := e.call(t, "u1", revoke("ai_analysis")); err != nil || !res.Recorded || res.Entry.Status != model.ConsentRevoked {
		t.Errorf("withdrawal: %+v, %v", res, err)
	}

	h := e.history(t, "u1")
	if h == nil || h.UserID != "u1" || len(h.ConsentsGiven) != 3 {
		t.Fatalf("history %+v, want userId u1 and three entries", h)
	}
	if h.Granted(model.ConsentAIAnalysis) {
		t.Error("the withdrawal is not the current choice")
	}
	want := []time.Time{serverTime, serverTime.Add(time.Hour), serverTime.Add(2 * time.Hour)}
	for i, en := range h.ConsentsGiven {
		if !en.AgreedAt.Equal(want[i]) {
			t.Errorf("entry %d dated %v, want the server's %v", i, en.AgreedAt, want[i])
		}
	}
	// onConsentsWritten's recomputation sees the callable's entries as a
	// client's.
	if wrote, err := consents.RecomputeCurrent(context.Background(), e.fs, "u1"); err != nil || !wrote {
		t.Fatalf("RecomputeCurrent: %v, %v", wrote, err)
	}
	if cur := e.history(t, "u1").Current["ai_analysis"]; cur.Status != model.ConsentRevoked || cur.Version != "2026-11" {
		t.Errorf("current %+v", cur)
	}
}

// TestRecordConsentRefusedWhileErasing: the erasure's marker refuses the
// callable as the rules refuse the client, so nothing recreates consents
// the erasure is deleting.
func TestRecordConsentRefusedWhileErasing(t *testing.T) {
	e := newRecordEnv(t)
	ctx := context.Background()
	if _, err := e.fs.Collection(model.ColGDPRRequests).Doc(model.ErasingMarkerID("u1")).Set(ctx, map[string]any{"kind": "erasing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.call(t, "u1", revoke("marketing_emails")); fault.CodeOf(err) != fault.FailedPrecondition {
		t.Errorf("error %v, want FAILED_PRECONDITION", err)
	}
	if h := e.history(t, "u1"); h != nil {
		t.Errorf("wrote %+v during the erasure", h)
	}
	if _, err := e.call(t, "u2", revoke("marketing_emails")); err != nil {
		t.Errorf("another user's call: %v", err)
	}
}

// TestRecordConsentWithdrawalPastAFullHistory: past MaxHistory entries
// nothing more is appended, except the withdrawal of a consent that is
// granted (so at most one entry per type past the limit).
func TestRecordConsentWithdrawalPastAFullHistory(t *testing.T) {
	e := newRecordEnv(t)
	full := make([]model.ConsentEntry, consents.MaxHistory)
	for i := range full {
		st := model.ConsentRevoked
		if i%2 == 1 {
			st = model.ConsentGranted
		}
		full[i] = model.ConsentEntry{Type: model.ConsentAIAnalysis, Version: "v1", Status: st, AgreedAt: t0.Add(time.Duration(i) * time.Minute)}
	}
	if _, err := e.fs.Collection(model.ColConsents).Doc("u1").Set(context.Background(),
		model.Consents{UserID: "u1", ConsentsGiven: full}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		data     string
		want     fault.Code
		recorded bool
	}{
		{grant("marketing_emails"), fault.FailedPrecondition, false},
		{revoke("marketing_emails"), fault.FailedPrecondition, false}, // never granted: nothing to withdraw
		{revoke("ai_analysis"), fault.OK, true},
		{revoke("ai_analysis"), fault.OK, false},
		{grant("ai_analysis"), fault.FailedPrecondition, false},
	}
	for i, s := range steps {
		res, err := e.call(t, "u1", s.data)
		if fault.CodeOf(err) != s.want || res.Recorded != s.recorded {
			t.Errorf("step %d %s: %+v, %v; want %s, recorded %v", i, s.data, res, err, s.want, s.recorded)
		}
	}
	if h := e.history(t, "u1"); len(h.ConsentsGiven) != consents.MaxHistory+1 || h.Granted(model.ConsentAIAnalysis) {
		t.Errorf("%d entries, ai_analysis granted %v; want %d, withdrawn", len(h.ConsentsGiven), h.Granted(model.ConsentAIAnalysis), consents.MaxHistory+1)
	}
}

// TestRecordConsentConcurrentCallsLoseNothing: calls racing on one history
// (two devices) each append exactly once; none overwrites another.
func TestRecordConsentConcurrentCallsLoseNothing(t *testing.T) {
	e := newRecordEnv(t)
	types := []string{"terms_of_service", "privacy_policy", "data_processing", "marketing_emails", "ai_analysis", "sensitive_data"}
	var wg sync.WaitGroup
	errs := make([]error, len(types))
	for i, typ := range types {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.call(t, "u1", grant(typ))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", types[i], err)
		}
	}
	h := e.history(t, "u1")
	if h == nil || len(h.ConsentsGiven) != len(types) {
		t.Fatalf("history %+v, want one entry per type", h)
	}
	for _, typ := range types {
		if !h.Granted(model.ConsentType(typ)) {
			t.Errorf("%s lost", typ)
		}
	}
}
