package gdpr

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/iterator"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

const testBucket = "ij-test-bucket"

var testKey = []byte("test-pseudonym-key")

// clock is an adjustable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeStripe records every delete of a customer (deleted) and of a
// Connect account (accounts); an id it was asked to delete before is gone,
// as Stripe answers a repeated delete with 404.
type fakeStripe struct {
	mu       sync.Mutex
	deleted  []string
	accounts []string
}

func (f *fakeStripe) DeleteAccount(_ context.Context, id string) (gone bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gone = slices.Contains(f.accounts, id)
	f.accounts = append(f.accounts, id)
	return gone, nil
}

func (f *fakeStripe) Delete(_ context.Context, id string) (gone bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gone = slices.Contains(f.deleted, id)
	f.deleted = append(f.deleted, id)
	return gone, nil
}

// env is one test's emulators and service.
type env struct {
	t      testing.TB
	ctx    context.Context
	fs     *firestore.Client
	gcs    *fakestorage.Server
	auth   *testenv.Auth
	pub    *queue.Recorder
	clock  *clock
	stripe *fakeStripe
	s      *Service
}

func newEnv(t testing.TB, withAuth bool) *env {
	t.Helper()
	fe := testenv.FirestoreEmulator(t)
	fs := fe.Client(t, fe.NewProject(t))
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	e := &env{t: t, ctx: context.Background(), fs: fs, gcs: srv, pub: &queue.Recorder{},
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, stripe: &fakeStripe{}}
	e.s = &Service{Firestore: fs, Storage: srv.Client(), Bucket: testBucket, Stripe: e.stripe, StripeAccounts: e.stripe, Publisher: e.pub,
		Signer: EmulatorURLs{Host: "127.0.0.1:4443"}, PseudonymKey: testKey, Now: e.clock.Now}
	if withAuth {
		e.auth = testenv.AuthEmulator(t)
		e.s.Auth = e.auth.Client
	}
	return e
}

// uid returns a unique user id for this test run.
func uid(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func (e *env) set(path string, v any) {
	e.t.Helper()
	if _, err := e.fs.Doc(path).Set(e.ctx, v); err != nil {
		e.t.Fatalf("set %s: %v", path, err)
	}
}

func (e *env) put(name, content string) {
	e.t.Helper()
	w := e.s.Storage.Bucket(testBucket).Object(name).NewWriter(e.ctx)
	if _, err := io.WriteString(w, content); err != nil {
		e.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		e.t.Fatalf("put %s: %v", name, err)
	}
}

func (e *env) objects() []string {
	e.t.Helper()
	var out []string
	it := e.s.Storage.Bucket(testBucket).Objects(e.ctx, nil)
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}

func (e *env) createAccount(uid string) {
	e.t.Helper()
	if e.auth == nil {
		return
	}
	_ = e.auth.Client.DeleteUser(e.ctx, uid)
	if _, err := e.auth.Client.CreateUser(e.ctx, (&auth.UserToCreate{}).UID(uid)); err != nil {
		e.t.Fatalf("create account: %v", err)
	}
	e.t.Cleanup(func() { _ = e.auth.Client.DeleteUser(context.Background(), uid) })
}

func (e *env) request(id string) model.GDPRRequest {
	e.t.Helper()
	snap, err := e.fs.Collection(model.ColGDPRRequests).Doc(id).Get(e.ctx)
	if err != nil {
		e.t.Fatalf("request %s: %v", id, err)
	}
	var r model.GDPRRequest
	if err := snap.DataTo(&r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// deliver runs the worker on every queued request message, as Pub/Sub
// would, and returns how many it ran.
func (e *env) deliver() int {
	e.t.Helper()
	msgs := e.pub.On(TopicRequests)
	e.pub.Messages = nil
	for i, m := range msgs {
		if err := e.s.GDPRWorker(e.ctx, &events.PubSubMessage{ID: fmt.Sprint("m", i), Data: m.Data}); err != nil {
			e.t.Fatalf("worker: %v", err)
		}
	}
	return len(msgs)
}

// dump returns every document of the database (path → JSON of its data),
// walking all collections: a test-only full scan.
func (e *env) dump() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	var walkCol func(col *firestore.CollectionRef)
	walkDoc := func(d *firestore.DocumentRef) {
		cols, err := d.Collections(e.ctx).GetAll()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range cols {
			walkCol(c)
		}
	}
	walkCol = func(col *firestore.CollectionRef) {
		refs, err := col.DocumentRefs(e.ctx).GetAll()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range refs {
			snap, err := r.Get(e.ctx)
			if err == nil {
				b, _ := json.Marshal(jsonMap(snap.Data()))
				out[relPath(r)] = string(b)
			}
			walkDoc(r)
		}
	}
	cols, err := e.fs.Collections(e.ctx).GetAll()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cols {
		walkCol(c)
	}
	return out
}

// mentions returns the documents and objects that contain s in their path
// or data.
func mentions(docs map[string]string, objects []string, s string) []string {
	var out []string
	for p, d := range docs {
		if strings.Contains(p, s) || strings.Contains(d, s) {
			out = append(out, p)
		}
	}
	for _, o := range objects {
		if strings.Contains(o, s) {
			out = append(out, "object:"+o)
		}
	}
	sort.Strings(out)
	return out
}

// readZip returns the files of an archive in Storage.
func (e *env) readZip(path string) map[string][]byte {
	e.t.Helper()
	rd, err := e.s.Storage.Bucket(testBucket).Object(path).NewReader(e.ctx)
	if err != nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		e.t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		e.t.Fatalf("zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			e.t.Fatal(err)
		}
		c, _ := io.ReadAll(r)
		r.Close()
		out[f.Name] = c
	}
	return out
}

// fixture is the data set of the end-to-end tests: the subject (a client
// who is also a coach) with data in every collection and in Storage, and
// another user whose data shares documents with the subject.
type fixture struct {
	subject, other, coach, host string
	// subjectDocs are the documents of the subject's own record (exported
	// as they are, erased or held).
	subjectDocs []string
	// media are the subject's objects that are exported.
	media []string
	// foreign are objects that must survive the subject's erasure.
	foreign []string
}

func (e *env) seed(n int) fixture {
	e.t.Helper()
	f := fixture{subject: uid("subj"), other: uid("other"), coach: uid("coach"), host: uid("host")}
	u, o, c := f.subject, f.other, f.coach
	now := e.clock.Now()
	ps := Pseudonym(testKey, u)
	str := func(s string) *string { return &s }
	bw := e.fs.BulkWriter(e.ctx)
	add := func(path string, v any) {
		if _, err := bw.Set(e.fs.Doc(path), v); err != nil {
			e.t.Fatal(err)
		}
	}
	own := func(path string, v any) {
		add(path, v)
		f.subjectDocs = append(f.subjectDocs, path)
	}
	// The subject's profile and subcollections (one nested deeper).
	own("users/"+u, model.User{UserID: u, DisplayName: "Subject", BirthDate: "1990-05-15", PhoneNumber: "+46700000000", CreatedAt: now})
	own("users/"+u+"/coaches/"+c, model.CoachAssignment{CoachID: c, UserID: u, Source: model.AssignedByAdmin, CreatedAt: now})
	own("users/"+u+"/daily_insights/2026-11-20", model.DailyInsight{UserID: u, Date: "2026-11-20", Headline: "h", CreatedAt: now})
	own("users/"+u+"/private/billing", model.BillingAccount{StripeCustomerID: "cus_" + u, CreatedAt: now})
	own("users/"+u+"/private/device", map[string]any{"platform": "ios", "fcmToken": "secret-device-token"})
	own("users/"+u+"/notifications/n0/replies/r1", map[string]any{"text": "nested"})
	for i := 0; i < n; i++ {
		own(fmt.Sprintf("users/%s/notifications/n%d", u, i), model.Notification{UserID: u, Kind: "k", Title: "t", CreatedAt: now})
		own(fmt.Sprintf("user_activations/%s_j%d", u, i), model.UserActivation{UserActivationID: fmt.Sprintf("%s_j%d", u, i), UserID: u,
			ActivationID: "a1", Status: model.StatusCompleted, Log: &model.JournalLog{Text: "my private journal"}})
	}
	own("user_activations/"+u+"_media", model.UserActivation{UserActivationID: u + "_media", UserID: u, ActivationID: "a1",
		Status: model.StatusCompleted, Log: &model.JournalLog{Text: "with media",
			AudioURL: str("gs://" + testBucket + "/users/" + u + "/journal/a.m4a"),
			VideoURL: str("https://firebasestorage.googleapis.com/v0/b/" + testBucket + "/o/journal%2F" + u + "%2Fv.mp4?alt=media&token=t")}})
	// Media outside the Storage prefixes, found only through the entry.
	own("user_activations/"+u+"_media2", model.UserActivation{UserActivationID: u + "_media2", UserID: u, ActivationID: "a1",
		Status: model.StatusCompleted, Log: &model.JournalLog{AudioURL: str("https://storage.googleapis.com/" + testBucket + "/media/" + u + "/clip.m4a")}})
	// A journal entry whose client pointed its audio at someone else's file.
	own("user_activations/"+u+"_foreign", model.UserActivation{UserActivationID: u + "_foreign", UserID: u, ActivationID: "a1",
		Status: model.StatusAssigned, Log: &model.JournalLog{AudioURL: str("users/" + o + "/secret.m4a")}})
	own("client_profiles/"+u, model.ClientProfile{UserID: u, DisplayName: "Subject", CoachIDs: []string{c}, UpdatedAt: now})
	own("coach_profiles/"+u, model.CoachProfile{CoachID: u, DisplayName: "Subject the coach"})
	// The Connect state, with a field named like security material (an
	// OAuth refresh token, as Standard accounts have): exported redacted.
	own("coach_profiles/"+u+"/private/connect", map[string]any{"coachId": u, "stripeAccountId": "acct_" + u, "payoutsEnabled": true,
		"oauthRefreshToken": "secret-connect-token"})
	own("consents/"+u, model.Consents{UserID: u, ConsentsGiven: []model.ConsentEntry{
		{Type: model.ConsentTermsOfService, Version: "v1", AgreedAt: now, Status: model.ConsentGranted},
		{Type: model.ConsentAIAnalysis, Version: "v1", AgreedAt: now, Status: model.ConsentGranted},
		{Type: model.ConsentAIAnalysis, Version: "v1", AgreedAt: now.Add(time.Minute), Status: model.ConsentRevoked}}})
	own("sessions/s-"+u, model.Session{SessionID: "s-" + u, UserID: u, Type: model.SessionPhoneVerification,
		Data: map[string]any{"code": "918273"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	own("enrollments/"+u+"_p1", model.Enrollment{UserID: u, ProgramID: "p1", CoachIDs: []string{c}, Status: "active", CreatedAt: now})
	own("subscriptions/sub_"+u, model.Subscription{SubscriptionID: "sub_" + u, UserID: u, CustomerID: "cus_" + u, Status: "active"})
	own("stripe_customers/cus_"+u, model.StripeCustomer{CustomerID: "cus_" + u, UserID: u, CreatedAt: now})
	own("payments/pay-s1", model.Payment{PaymentID: "pay-s1", UserID: u, Amount: 49900, Currency: "SEK",
		PaymentDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Status: model.PaymentSucceeded, Processor: "stripe",
		ProcessorPaymentID: "pi_1", CustomerID: "cus_" + u, InvoiceURL: "https://invoice/" + u})
	own("wellbeing_events/w-s1", model.WellbeingEvent{EventID: "w-s1", UserID: u, Source: "screening",
		Trigger: map[string]any{"phq9": 21}, CreatedAt: now})
	own("gdpr_requests/export_old_"+u, model.GDPRRequest{RequestID: "export_old_" + u, UserID: u, Kind: KindExport,
		Status: StatusDone, RequestedBy: u, ReceivedAt: now, DueAt: now, ExportPath: "exports/" + u + "/old.zip"})
	own("audit_log/a-s1", model.AuditEntry{Action: "x", SubjectHash: ps, Actor: "admin-1", CreatedAt: now})
	// The subject as a coach.
	own("activations/act-s1", model.Activation{ActivationID: "act-s1", Title: "Breathe", CreatedBy: u})
	own("programs/prog-s1", model.Program{ProgramID: "prog-s1", Title: "P", CreatedBy: []string{u, c},
		CoachSplits: map[string]int{u: 6000, c: 4000}})
	// A sale of that program to the other user, with the program's terms
	// frozen on the payment when it was paid (payments.programTerms):
	// exported as it concerns the subject, without the customer.
	own("payments/pay-sale1", model.Payment{PaymentID: "pay-sale1", UserID: o, Amount: 30000, Currency: "SEK",
		PaymentDate: now, Status: model.PaymentSucceeded, Processor: "stripe", ProcessorPaymentID: "pi_sale1",
		CustomerID: "cus_" + o, ProgramID: str("prog-s1"), ProgramTerms: &model.ProgramTerms{ProgramFound: true,
			CoachIDs: []string{u, c}, CoachSplits: map[string]int{u: 6000, c: 4000}, FrozenAt: now}})
	own("live_sessions/ls-hosted", model.LiveSession{LiveSessionID: "ls-hosted", Title: "Hosted", CoachID: u,
		Participants: []string{o}, StartTime: now, EndTime: now.Add(time.Hour), Status: model.LiveCompleted})
	own("payouts/po-s1", model.Payout{PayoutID: "po-s1", CoachID: u, Amount: 1000, Currency: "SEK", PayoutDate: now,
		RelatedPaymentIDs: []string{"pay-o1"}})
	own("payout_allocations/pay-o1", model.PayoutAllocation{PaymentID: "pay-o1", Currency: "SEK", Weights: map[string]int64{u: 1, c: 1},
		Entries: []model.AllocationEntry{{Seq: 1, CoachID: u, Amount: 500, PayoutID: "po-s1"}, {Seq: 1, CoachID: c, Amount: 500}},
		Open:    []string{c}, CreatedAt: now})
	own("payout_allocations/pay2-o1", model.PayoutAllocation{PaymentID: "pay2-o1", Currency: "SEK", Weights: map[string]int64{u: 1},
		Entries: []model.AllocationEntry{{Seq: 1, CoachID: u, Amount: 700}}, Open: []string{u}, CreatedAt: now})
	// Shared documents and other people's documents.
	own("live_sessions/ls-joined", model.LiveSession{LiveSessionID: "ls-joined", Title: "Joined", CoachID: f.host,
		Participants: []string{u, o}, StartTime: now, EndTime: now.Add(time.Hour), Status: model.LiveCompleted,
		Reflections:       []model.SessionReflection{{UserID: u, Text: "mine", SubmittedAt: now}, {UserID: o, Text: "theirs", SubmittedAt: now}},
		ReflectionUserIDs: []string{u, o}})
	// A session the subject reflected in and then left: only
	// reflectionUserIds still names them.
	own("live_sessions/ls-left", model.LiveSession{LiveSessionID: "ls-left", Title: "Left", CoachID: f.host,
		Participants: []string{o}, StartTime: now, EndTime: now.Add(time.Hour), Status: model.LiveCompleted,
		Reflections:       []model.SessionReflection{{UserID: u, Text: "mine, then I left", SubmittedAt: now}, {UserID: o, Text: "theirs", SubmittedAt: now}},
		ReflectionUserIDs: []string{u, o}})
	add("users/"+o, model.User{UserID: o, DisplayName: "Other", CreatedAt: now})
	add("users/"+o+"/coaches/"+u, model.CoachAssignment{CoachID: u, UserID: o, Source: model.AssignedByEnrollment, CreatedAt: now})
	add("client_profiles/"+o, model.ClientProfile{UserID: o, CoachIDs: []string{u, c}, UpdatedAt: now})
	add("user_activations/"+o+"_1", model.UserActivation{UserActivationID: o + "_1", UserID: o, ActivationID: "act-s1",
		AssignedBy: str(u), Status: model.StatusAssigned})
	add("enrollments/"+o+"_prog-s1", model.Enrollment{UserID: o, ProgramID: "prog-s1", CoachIDs: []string{u}, Status: "active"})
	add("wellbeing_events/w-"+o, model.WellbeingEvent{EventID: "w-" + o, UserID: o, AckedBy: u, CreatedAt: now})
	add("gdpr_requests/export_"+o, model.GDPRRequest{RequestID: "export_" + o, UserID: o, Kind: KindExport, Status: StatusDone,
		RequestedBy: u, ReceivedAt: now, DueAt: now})
	add("audit_log/a-"+o, model.AuditEntry{Action: "x", SubjectHash: Pseudonym(testKey, o), Actor: u, CreatedAt: now})
	add("webhook_events/evt_1", model.WebhookEvent{EventID: "evt", Type: "x", ReceivedAt: now})
	add("crisis_resources/sv-SE", model.CrisisResources{Locale: "sv-SE"})
	add("processed_events/h:e1", model.ProcessedEvent{Handler: "h", EventID: "e1"})
	add("jobs/j1", model.Job{Name: "j1"})
	add("billing_plans/basic", model.BillingPlan{PlanID: "basic"})
	add("server_private/fortnox-token", map[string]any{"x": 1})
	add("payments/pay-o1", model.Payment{PaymentID: "pay-o1", UserID: o, Amount: 100, Currency: "SEK", PaymentDate: now})
	bw.End()
	for _, obj := range []string{"users/" + u + "/avatar.png", "users/" + u + "/journal/a.m4a", "journal/" + u + "/v.mp4",
		"uploads/" + u + "/doc.txt", "media/" + u + "/clip.m4a"} {
		e.put(obj, "content of "+obj)
		f.media = append(f.media, obj)
	}
	e.put("exports/"+u+"/old.zip", "old archive")
	for _, obj := range []string{"users/" + o + "/secret.m4a", "users/" + o + "/avatar.png", "journal/" + o + "/v.mp4"} {
		e.put(obj, "content of "+obj)
		f.foreign = append(f.foreign, obj)
	}
	e.createAccount(u)
	e.createAccount(o)
	return f
}
