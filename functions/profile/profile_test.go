package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// onboardingFields is what the app writes when a user finishes onboarding.
func onboardingFields(uid string, answers []model.Answer) map[string]any {
	return map[string]any{
		"userId": uid, "displayName": "Ada", "birthDate": "1990-05-15", "birthTime": "14:30",
		"birthLocation": "Stockholm, Sweden", "uiStyle": "calm", "focusArea": "stress_relief", "timeCommitment": 15,
		"locale": "sv-SE", "timeZone": "Europe/Stockholm", "insightsOptIn": true, "insightHour": 7, "answers": answers,
	}
}

// createAsUser creates users/{uid} through the REST API as the signed-in
// user (the rules apply; createdAt is the request time).
func createAsUser(t *testing.T, fs *testenv.Firestore, p, uid string, fields map[string]any) (int, map[string]any) {
	t.Helper()
	f := map[string]any{}
	for k, v := range fields {
		f[k] = store.RESTValue(v)
	}
	body := map[string]any{"writes": []any{map[string]any{
		"update":           map[string]any{"name": testenv.DocName(p, "users/"+uid), "fields": f},
		"currentDocument":  map[string]any{"exists": false},
		"updateTransforms": []any{map[string]any{"fieldPath": "createdAt", "setToServerValue": "REQUEST_TIME"}},
	}}}
	return fs.REST(p, "POST", ":commit", testenv.UnsignedIDToken(p, uid, nil), body)
}

// patchAsUser updates fields of users/{uid} through the REST API as token.
func patchAsUser(fs *testenv.Firestore, p, uid, token string, fields map[string]any) (int, map[string]any) {
	f := map[string]any{}
	q := []string{}
	for k, v := range fields {
		f[k] = store.RESTValue(v)
		q = append(q, "updateMask.fieldPaths="+k)
	}
	return fs.REST(p, "PATCH", "/users/"+uid+"?"+strings.Join(q, "&"), token, map[string]any{"fields": f})
}

func data(t *testing.T, c *firestore.Client, path string) (map[string]any, time.Time) {
	t.Helper()
	snap, err := c.Doc(path).Get(context.Background())
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	return snap.Data(), snap.UpdateTime
}

// userEvent builds the users/{uid} written event as Eventarc (or the
// emulator) delivers it, and decodes it as the framework adapter does.
func userEvent(t *testing.T, enc eventstest.Encoding, p, uid, id string, before, after map[string]any) *events.FirestoreEvent {
	t.Helper()
	ce := eventstest.MustFirestoreCloudEvent(t, enc, "written", p, "users/"+uid, before, after, eventstest.WithID(id))
	ev, err := events.DecodeFirestore(ce)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return ev
}

func newService(c *firestore.Client) (*Service, *queue.Recorder) {
	rec := &queue.Recorder{}
	return &Service{Firestore: c, Publisher: rec, Deliverer: &wellbeing.Deliverer{Firestore: c}, Now: time.Now}, rec
}

// grantSensitiveData writes consents/{uid} with a current sensitive_data
// grant, the consent under which the screening instruments are scored:
// every test that expects screening scores or depressionRisk calls it.
func grantSensitiveData(t *testing.T, c *firestore.Client, uid string) {
	t.Helper()
	setConsents(t, c, uid, model.ConsentGranted)
}

// setConsents writes consents/{uid} with one sensitive_data entry per
// status, in order (the last one is current).
func setConsents(t *testing.T, c *firestore.Client, uid string, statuses ...model.ConsentStatus) {
	t.Helper()
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	cs := model.Consents{UserID: uid, ConsentsGiven: []model.ConsentEntry{}}
	for i, st := range statuses {
		cs.ConsentsGiven = append(cs.ConsentsGiven, model.ConsentEntry{Type: model.ConsentSensitiveData, Version: "v1",
			AgreedAt: at.Add(time.Duration(i) * time.Minute), Status: st})
	}
	if _, err := c.Collection(model.ColConsents).Doc(uid).Set(context.Background(), cs); err != nil {
		t.Fatalf("consents/%s: %v", uid, err)
	}
}

func countWellbeing(t *testing.T, c *firestore.Client, uid string) []*firestore.DocumentSnapshot {
	t.Helper()
	docs, err := c.Collection(model.ColWellbeingEvents).Where("userId", "==", uid).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestOnboardingWriteProducesProfile(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	fs.LoadRepoRules(t, p)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, _ := newService(c)
	grantSensitiveData(t, c, "ada")

	if st, body := createAsUser(t, fs, p, "ada", onboardingFields("ada", onboarding([]int{1, 1, 2, 1, 0, 1, 1, 0, 0}, "no"))); st != http.StatusOK {
		t.Fatalf("onboarding write as the user: %d %v", st, body)
	}
	written, _ := data(t, c, "users/ada")
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.EmulatorBase64, p, "ada", "e1", nil, written)); err != nil {
		t.Fatalf("OnUserWritten: %v", err)
	}
	snap, err := c.Doc("users/ada").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var u model.User
	if err := snap.DataTo(&u); err != nil {
		t.Fatal(err)
	}
	pt := u.PersonalityType
	if pt == nil || len(pt.Traits) != 4 || pt.AstroSign != "Taurus" || pt.LifePathNumber != 3 || pt.MoonSign == "" || pt.RisingSign == "" {
		t.Errorf("personalityType %+v", pt)
	}
	if n := u.NeuroTendencies; n == nil || n.ADHDScore == nil || *n.ADHDScore != 7 || n.AutismScore == nil || *n.AutismScore != 8 {
		t.Errorf("neuroTendencies %+v", n)
	}
	if f := u.WellbeingFlags; f == nil || f.DepressionRisk || f.SuicideRisk {
		t.Errorf("wellbeingFlags %+v", f)
	}
	if u.Chart["calculationVersion"] == nil || u.Numerology["lifePathNumber"] != int64(3) || u.BirthPlace == nil || u.BirthPlace.Name != "Stockholm" {
		t.Errorf("chart %v numerology %v birthPlace %+v", u.Chart["calculationVersion"], u.Numerology, u.BirthPlace)
	}
	if u.Profile == nil || u.Profile.InputHash != InputsOf(&u, granted).Hash() || u.Profile.Completeness != 1 || u.Profile.Disclaimer == "" {
		t.Errorf("profile %+v", u.Profile)
	}
	if u.InsightDueAt == nil || u.InsightDueAt.In(u.Location()).Hour() != 7 || !u.InsightDueAt.After(time.Now()) {
		t.Errorf("insightDueAt %v", u.InsightDueAt)
	}
	if len(countWellbeing(t, c, "ada")) != 0 {
		t.Error("a wellbeing event without a risk")
	}
	var cp model.ClientProfile
	cpSnap, err := c.Doc("client_profiles/ada").Get(ctx)
	if err != nil {
		t.Fatalf("client profile: %v", err)
	}
	_ = cpSnap.DataTo(&cp)
	if cp.DisplayName != "Ada" || cp.AstroSign != "Taurus" || len(cp.Traits) != 4 || cp.FocusArea != "stress_relief" ||
		cp.TimeCommitment != 15 || len(cp.CoachIDs) != 0 || cpSnap.Data()["coachIds"] == nil {
		t.Errorf("client profile %+v", cp)
	}
	if raw := cpSnap.Data(); raw["wellbeingFlags"] != nil || raw["neuroTendencies"] != nil || raw["answers"] != nil || raw["birthDate"] != nil {
		t.Errorf("client profile leaks private fields: %v", raw)
	}

	// The handler's own write comes back as an event: a no-op.
	after, updated := data(t, c, "users/ada")
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "ada", "e2", written, after)); err != nil {
		t.Fatal(err)
	}
	// The same with the loop guard bypassed (e.g. a schedule field touched):
	// the input hash matches, nothing is written.
	if p2, err := s.Recompute(ctx, "ada", false); err != nil || p2.Recomputed {
		t.Errorf("recompute of an up-to-date profile: %+v %v", p2 != nil && p2.Recomputed, err)
	}
	if _, again := data(t, c, "users/ada"); !again.Equal(updated) {
		t.Errorf("the profile was rewritten by its own event (update time %v → %v)", updated, again)
	}

	// A coach assignment shows in client_profiles on the next recompute.
	if _, err := c.Doc("users/ada/coaches/coach-1").Set(ctx, model.CoachAssignment{CoachID: "coach-1", UserID: "ada",
		Source: model.AssignedByAdmin, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recompute(ctx, "ada", true); err != nil {
		t.Fatal(err)
	}
	if cpd, _ := data(t, c, "client_profiles/ada"); fmt.Sprint(cpd["coachIds"]) != "[coach-1]" {
		t.Errorf("coachIds %v", cpd["coachIds"])
	}

	// The user may change client fields, but never the server-owned ones.
	tok := testenv.UnsignedIDToken(p, "ada", nil)
	if st, body := patchAsUser(fs, p, "ada", tok, map[string]any{"displayName": "Ada L"}); st != http.StatusOK {
		t.Errorf("client field: %d %v", st, body)
	}
	for _, f := range []map[string]any{
		{"personalityType": map[string]any{"traits": []model.Answer{}, "astroSign": "Leo"}},
		{"wellbeingFlags": map[string]any{"depressionRisk": true, "suicideRisk": true}},
		{"neuroTendencies": map[string]any{"adhdScore": 0, "autismScore": 0}},
		{"profile": map[string]any{"inputHash": "x"}},
		{"chart": map[string]any{"confidence": "high"}},
		{"insightDueAt": "2026-01-01"},
	} {
		if st, _ := patchAsUser(fs, p, "ada", tok, f); st != http.StatusForbidden {
			t.Errorf("user wrote server-owned %v: status %d, want 403", f, st)
		}
	}
	if st, _ := fs.REST(p, "GET", "/client_profiles/ada", testenv.UnsignedIDToken(p, "coach-1", map[string]any{"coach": true}), nil); st != http.StatusOK {
		t.Errorf("assigned coach reads client profile: %d", st)
	}
	if st, _ := fs.REST(p, "GET", "/users/ada", testenv.UnsignedIDToken(p, "coach-1", map[string]any{"coach": true}), nil); st != http.StatusForbidden {
		t.Errorf("coach reads the user document: %d, want 403", st)
	}
}

func TestDuplicatedAndReorderedEvents(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, rec := newService(c)

	// v1: onboarding with PHQ-9 item 9 = 2 (suicideRisk); v2: a corrected
	// trait answer (still at risk).
	grantSensitiveData(t, c, "bo")
	v1 := onboardingFields("bo", onboarding([]int{2, 2, 1, 1, 1, 1, 1, 1, 2}, "no"))
	v1["createdAt"] = time.Now().UTC()
	if _, err := c.Doc("users/bo").Set(ctx, v1); err != nil {
		t.Fatal(err)
	}
	d1, _ := data(t, c, "users/bo")
	ans := onboarding([]int{2, 2, 1, 1, 1, 1, 1, 1, 2}, "no")
	ans[2].Answer = "b"
	if _, err := c.Doc("users/bo").Update(ctx, []firestore.Update{{Path: "answers", Value: ans}}); err != nil {
		t.Fatal(err)
	}
	d2, _ := data(t, c, "users/bo")
	e1 := func(enc eventstest.Encoding) *events.FirestoreEvent { return userEvent(t, enc, p, "bo", "e1", nil, d1) }
	e2 := func(enc eventstest.Encoding) *events.FirestoreEvent { return userEvent(t, enc, p, "bo", "e2", d1, d2) }

	// Delivered late, twice, and out of order, in every encoding.
	for _, ev := range []*events.FirestoreEvent{e2(eventstest.JSON), e1(eventstest.Protobuf), e2(eventstest.EmulatorBase64),
		e1(eventstest.JSON), e1(eventstest.EmulatorBase64)} {
		if err := s.OnUserWritten(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var u model.User
	snap, _ := c.Doc("users/bo").Get(ctx)
	_ = snap.DataTo(&u)
	if u.Profile == nil || u.Profile.InputHash != InputsOf(&u, granted).Hash() {
		t.Fatalf("profile is not of the latest inputs: %+v", u.Profile)
	}
	if u.WellbeingFlags == nil || !u.WellbeingFlags.SuicideRisk || !u.WellbeingFlags.DepressionRisk {
		t.Errorf("flags %+v", u.WellbeingFlags)
	}
	wb := countWellbeing(t, c, "bo")
	if len(wb) != 1 {
		t.Fatalf("%d wellbeing events, want 1", len(wb))
	}
	var ev wellbeing.Event
	_ = wb[0].DataTo(&ev)
	if ev.Source != "screening" || ev.RuleVersion == "" || ev.ResourcesRef != "crisis_resources/sv-SE" {
		t.Errorf("wellbeing event %+v", ev)
	}
	if b := fmt.Sprint(ev.Trigger); !strings.Contains(b, "rule:phq9.item9>=1") || !strings.Contains(b, "value:2") ||
		strings.Contains(b, "several_days") {
		t.Errorf("trigger %s", b)
	}
	if _, err := c.Doc("users/bo/notifications/" + ev.EventID).Get(ctx); err != nil {
		t.Errorf("support notification: %v", err)
	}
	if _, err := c.Doc("crisis_resources/sv-SE").Get(ctx); err != nil {
		t.Errorf("crisis resources: %v", err)
	}

	// The outbox publishes the alert once, however often its event comes.
	wbDoc, _ := data(t, c, "wellbeing_events/"+ev.EventID)
	for i := 0; i < 3; i++ {
		ce := eventstest.MustFirestoreCloudEvent(t, eventstest.Protobuf, "created", p, "wellbeing_events/"+ev.EventID, nil, wbDoc, eventstest.WithID("w1"))
		fe, err := events.DecodeFirestore(ce)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.OnWellbeingEventCreated(ctx, fe); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := rec.On(wellbeing.Topic); len(msgs) != 1 {
		t.Errorf("%d alerts published, want 1", len(msgs))
	}

	// Risk cleared, then set again the same day: the flag turns true again
	// but the episode is still open, so still one event.
	clear := onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "no")
	if _, err := c.Doc("users/bo").Update(ctx, []firestore.Update{{Path: "answers", Value: clear}}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Recompute(ctx, "bo", false); err != nil || p.WellbeingFlags.SuicideRisk || p.Wellbeing != nil {
		t.Fatalf("cleared: %+v %v", p, err)
	}
	ans[3].Answer = "a"
	if _, err := c.Doc("users/bo").Update(ctx, []firestore.Update{{Path: "answers", Value: ans}}); err != nil {
		t.Fatal(err)
	}
	p3, err := s.Recompute(ctx, "bo", false)
	if err != nil || p3.Wellbeing == nil || p3.Wellbeing.Status != wellbeing.Folded {
		t.Fatalf("at risk again: %+v %v", p3.Wellbeing, err)
	}
	if n := len(countWellbeing(t, c, "bo")); n != 1 {
		t.Errorf("%d wellbeing events, want 1 (same episode)", n)
	}
}

func TestUserDeletedAndMalformed(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, _ := newService(c)
	if _, err := c.Doc("client_profiles/gone").Set(ctx, model.ClientProfile{UserID: "gone"}); err != nil {
		t.Fatal(err)
	}
	before := map[string]any{"userId": "gone", "birthDate": "1990-01-01"}
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "gone", "d1", before, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Doc("client_profiles/gone").Get(ctx); status(err) != "NOT_FOUND" {
		t.Errorf("client profile of a deleted user: %v", err)
	}
	// An event for a document deleted since: dropped quietly.
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "gone", "d2", nil, before)); err != nil {
		t.Errorf("event of a deleted user: %v", err)
	}
	// A document that does not decode as a user: a permanent error (dropped).
	if _, err := c.Doc("users/odd").Set(ctx, map[string]any{"userId": "odd", "birthDate": 19900101}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recompute(ctx, "odd", false); fault.CodeOf(err) != fault.InvalidArgument {
		t.Errorf("malformed user: %v", err)
	}
}

func status(err error) string { return string(fault.CodeOf(err)) }

type callResult struct {
	status int
	body   map[string]any
}

func call(t *testing.T, h http.HandlerFunc, token string, data any) callResult {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"data": data})
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h(w, req)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return callResult{w.Code, out}
}

func TestCallables(t *testing.T) {
	a := testenv.AuthEmulator(t)
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, _ := newService(c)
	deps := callable.Deps{Verifier: func(context.Context) (callable.IDTokenVerifier, error) { return a.Client, nil }}
	recompute := callable.New(s.RecomputeProfile, callable.Options{Name: "recomputeProfile", RequireAuth: true}, deps)
	ack := callable.New(s.AcknowledgeWellbeingEvent, callable.Options{Name: "acknowledgeWellbeingEvent", RequireAuth: true, RequireAdmin: true}, deps)

	for _, uid := range []string{"cu-self", "cu-other"} {
		d := onboardingFields(uid, onboarding([]int{1, 1}, "no"))
		d["createdAt"] = time.Now().UTC()
		if _, err := c.Doc("users/"+uid).Set(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	self := a.SignIn(t, "cu-self", nil)
	admin := a.SignIn(t, "cu-admin", map[string]any{"admin": true})

	tests := []struct {
		name   string
		token  string
		data   any
		status int
		uid    string
	}{
		{"without auth", "", map[string]any{}, http.StatusUnauthorized, ""},
		{"bad token", "not-a-token", map[string]any{}, http.StatusUnauthorized, ""},
		{"self", self, map[string]any{}, http.StatusOK, "cu-self"},
		{"self by uid", self, map[string]any{"uid": "cu-self"}, http.StatusOK, "cu-self"},
		{"null data", self, nil, http.StatusOK, "cu-self"},
		{"another user", self, map[string]any{"uid": "cu-other"}, http.StatusForbidden, ""},
		{"admin for another user", admin, map[string]any{"uid": "cu-other", "force": true}, http.StatusOK, "cu-other"},
		{"uid not a string", self, map[string]any{"uid": 5}, http.StatusBadRequest, ""},
		{"unknown field", self, map[string]any{"user": "x"}, http.StatusBadRequest, ""},
		{"data not an object", self, "cu-self", http.StatusBadRequest, ""},
		{"uid with a slash", admin, map[string]any{"uid": "a/b"}, http.StatusBadRequest, ""},
		{"no such user", admin, map[string]any{"uid": "nobody"}, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		r := call(t, recompute, tt.token, tt.data)
		if r.status != tt.status {
			t.Errorf("%s: status %d (%v), want %d", tt.name, r.status, r.body, tt.status)
			continue
		}
		if tt.status != http.StatusOK {
			if e, _ := r.body["error"].(map[string]any); e == nil || e["status"] == "" {
				t.Errorf("%s: no callable error body: %v", tt.name, r.body)
			}
			continue
		}
		res, _ := r.body["result"].(map[string]any)
		pt, _ := res["personalityType"].(map[string]any)
		if res["userId"] != tt.uid || pt["astroSign"] != "Taurus" || res["disclaimer"] == "" || res["profile"] == nil {
			t.Errorf("%s: result %v", tt.name, res)
		}
	}

	// acknowledgeWellbeingEvent: admins only.
	o, err := (&wellbeing.Protocol{}).Raise(ctx, c, wellbeing.Signal{UserID: "cu-self", Source: wellbeing.SourceScreening,
		SourceKey: "k", RuleVersion: "screening-rules/1", Trigger: map[string]any{"flag": "suicideRisk"}})
	if err != nil {
		t.Fatal(err)
	}
	ackTests := []struct {
		name   string
		token  string
		data   any
		status int
	}{
		{"without auth", "", map[string]any{"eventId": o.EventID}, http.StatusUnauthorized},
		{"not an admin", self, map[string]any{"eventId": o.EventID}, http.StatusForbidden},
		{"no event id", admin, map[string]any{}, http.StatusBadRequest},
		{"unknown event", admin, map[string]any{"eventId": "wb_nope"}, http.StatusNotFound},
		{"acknowledged", admin, map[string]any{"eventId": o.EventID}, http.StatusOK},
		{"again", admin, map[string]any{"eventId": o.EventID}, http.StatusOK},
	}
	for _, tt := range ackTests {
		r := call(t, ack, tt.token, tt.data)
		if r.status != tt.status {
			t.Errorf("ack %s: status %d (%v), want %d", tt.name, r.status, r.body, tt.status)
			continue
		}
		if tt.status == http.StatusOK {
			res, _ := r.body["result"].(map[string]any)
			if res["ackedBy"] != "cu-admin" || res["ackedAt"] == nil || res["eventId"] != o.EventID {
				t.Errorf("ack %s: %v", tt.name, res)
			}
		}
	}
}

func TestDeliverWellbeingAlert(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	var mu sync.Mutex
	var posts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	s, rec := newService(c)
	s.Deliverer.WebhookURL = config.NewSecret(hook.URL)
	o, err := (&wellbeing.Protocol{}).Raise(ctx, c, wellbeing.Signal{UserID: "u1", Source: wellbeing.SourceReflection,
		SourceKey: "ua1:abc", RuleVersion: "crisis-rules-2026.11.1", Trigger: map[string]any{"rules": []string{"en.active.kill_myself"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wellbeing.PublishAlert(ctx, c, rec, time.Now, o.EventID); err != nil {
		t.Fatal(err)
	}
	m := rec.On(wellbeing.Topic)[0]
	for i := 0; i < 2; i++ { // redelivered
		msg, err := events.DecodePubSub(eventstest.NewPubSubCloudEvent(m.Data, m.Attrs, "m1"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeliverWellbeingAlert(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if len(posts) != 1 || !strings.Contains(posts[0], o.EventID) || strings.Contains(posts[0], "u1") {
		t.Errorf("webhook posts %q", posts)
	}
	mu.Unlock()
	d, _ := data(t, c, "wellbeing_events/"+o.EventID)
	if d["notifiedAt"] == nil || d["deliveredTo"] != "webhook" {
		t.Errorf("event after delivery: notifiedAt %v deliveredTo %v", d["notifiedAt"], d["deliveredTo"])
	}
	// A malformed message is a permanent error (the adapter drops it).
	msg, _ := events.DecodePubSub(eventstest.NewPubSubCloudEvent([]byte(`{"eventId":1}`), nil, "m2"))
	if err := s.DeliverWellbeingAlert(ctx, msg); err == nil || fault.Retryable(err) {
		t.Errorf("malformed: %v", err)
	}
}

func TestLoopGuard(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, _ := newService(c)
	d := onboardingFields("cy", onboarding([]int{0, 1}, "no"))
	d["createdAt"] = time.Now().UTC()
	if _, err := c.Doc("users/cy").Set(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recompute(ctx, "cy", false); err != nil {
		t.Fatal(err)
	}
	computed, _ := data(t, c, "users/cy")
	at := computed["profile"].(map[string]any)["computedAt"]

	// A field the profile does not read: nothing recomputed.
	if _, err := c.Doc("users/cy").Update(ctx, []firestore.Update{{Path: "uiStyle", Value: "clean"}}); err != nil {
		t.Fatal(err)
	}
	styled, _ := data(t, c, "users/cy")
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "cy", "g1", computed, styled)); err != nil {
		t.Fatal(err)
	}
	if now, _ := data(t, c, "users/cy"); now["profile"].(map[string]any)["computedAt"] != at {
		t.Error("an unrelated field recomputed the profile")
	}
	// Opting out of insights clears insightDueAt without recomputing.
	if _, err := c.Doc("users/cy").Update(ctx, []firestore.Update{{Path: "insightsOptIn", Value: false}}); err != nil {
		t.Fatal(err)
	}
	out, _ := data(t, c, "users/cy")
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "cy", "g2", styled, out)); err != nil {
		t.Fatal(err)
	}
	if now, _ := data(t, c, "users/cy"); now["insightDueAt"] != nil || now["profile"].(map[string]any)["computedAt"] != at {
		t.Errorf("opt-out: insightDueAt %v", now["insightDueAt"])
	}
	// The server-owned fields wiped by a whole-document write (a re-seed):
	// recomputed although no input changed.
	wiped := onboardingFields("cy", onboarding([]int{0, 1}, "no"))
	wiped["createdAt"] = time.Now().UTC()
	if _, err := c.Doc("users/cy").Set(ctx, wiped); err != nil {
		t.Fatal(err)
	}
	after, _ := data(t, c, "users/cy")
	if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, "cy", "g3", out, after)); err != nil {
		t.Fatal(err)
	}
	if now, _ := data(t, c, "users/cy"); now["profile"] == nil || now["personalityType"] == nil || now["insightDueAt"] == nil {
		t.Error("wiped profile not recomputed")
	}
}
