package gdpr

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// call is a callable request of uid, who signed in just now.
func call(uid string, admin bool, data string) *callable.Request {
	return &callable.Request{Data: json.RawMessage(data), Auth: &callable.Auth{UID: uid, Admin: admin, SignedInAt: time.Now().UTC()}}
}

// TestExportHoldsEverything: a user with data in every collection and in
// Storage → the archive holds all of it, and nothing of other people.
func TestExportHoldsEverything(t *testing.T) {
	e := newEnv(t, false)
	f := e.seed(3)
	res, err := e.s.RequestDataExport(e.ctx, call(f.subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	v := res.(RequestView)
	if !v.Created || v.Status != StatusPending || !v.DueAt.Equal(v.ReceivedAt.AddDate(0, 1, 0)) {
		t.Fatalf("request %+v", v)
	}
	again, err := e.s.RequestDataExport(e.ctx, call(f.subject, false, `{}`))
	if err != nil || again.(RequestView).Created || again.(RequestView).RequestID != v.RequestID {
		t.Fatalf("second request: %+v, %v", again, err)
	}
	if n := e.deliver(); n != 1 {
		t.Fatalf("%d messages", n)
	}
	r := e.request(v.RequestID)
	if r.Status != StatusDone || r.ExportPath != exportPath(f.subject, v.RequestID) || r.ExportBytes == 0 || len(r.ExportSHA256) != 64 ||
		r.ExpiresAt == nil || !r.ExpiresAt.Equal(e.clock.Now().Add(ExportTTL)) || r.ExportURL != "" {
		t.Fatalf("request after run: %+v", r)
	}
	files := e.readZip(r.ExportPath)
	var m Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Format != ExportFormat || m.SchemaVersion != ExportSchemaVersion ||
		m.Subject["uid"] != f.subject || m.RequestID != v.RequestID {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	// Every document of the subject's record is in some data file.
	paths := map[string]ExportDoc{}
	var all strings.Builder
	for name, b := range files {
		all.WriteString(name + "\n")
		all.Write(b)
		if !strings.HasPrefix(name, "data/") {
			continue
		}
		var docs []ExportDoc
		if err := json.Unmarshal(b, &docs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, d := range docs {
			paths[d.Path] = d
		}
	}
	for _, p := range f.subjectDocs {
		if _, ok := paths[p]; !ok {
			t.Errorf("archive lacks %s", p)
		}
	}
	for _, p := range f.media {
		if string(files["media/"+p]) != "content of "+p {
			t.Errorf("archive lacks media %s", p)
		}
	}
	// The subject's own journal entry names a foreign object (its own data).
	text := strings.ReplaceAll(all.String(), "users/"+f.other+"/secret.m4a", "")
	for _, bad := range []string{f.other, f.host, "918273", "secret-device-token", "secret-connect-token", "exports/" + f.subject + "/old.zip\n", "media/exports/"} {
		if strings.Contains(text, bad) {
			t.Errorf("archive holds %q (other people's data or security material)", bad)
			for name, b := range files {
				if i := strings.Index(string(b), bad); i >= 0 {
					t.Logf("in %s: …%s…", name, string(b)[max(0, i-200):min(len(b), i+100)])
				}
			}
		}
	}
	for _, ls := range []string{"live_sessions/ls-joined", "live_sessions/ls-left"} {
		d := paths[ls].Data
		if refl, _ := d["myReflections"].([]any); len(refl) != 1 || d["participants"] != nil || d["reflectionUserIds"] != nil {
			t.Errorf("live session export %s: %v", ls, d)
		}
	}
	if len(m.Media) != len(f.media) || len(m.Files) < 20 {
		t.Errorf("manifest: %d media, %d files", len(m.Media), len(m.Files))
	}

	// Download: the owner and an admin get a URL; nobody else learns it exists.
	d, err := e.s.GetExportDownload(e.ctx, call(f.subject, false, `{"requestId":"`+v.RequestID+`"}`))
	if err != nil || !strings.Contains(d.(Download).URL, "exports%2F"+f.subject) || !d.(Download).ExpiresAt.Equal(e.clock.Now().Add(DownloadTTL)) {
		t.Fatalf("download %+v, %v", d, err)
	}
	if _, err := e.s.GetExportDownload(e.ctx, call(f.other, false, `{"requestId":"`+v.RequestID+`"}`)); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("stranger: %v", err)
	}
	if _, err := e.s.GetExportDownload(e.ctx, call("admin-1", true, `{"requestId":"`+v.RequestID+`"}`)); err != nil {
		t.Errorf("admin: %v", err)
	}
	// Retention expires the archive.
	e.clock.Add(ExportTTL + time.Minute)
	counts, err := e.s.Retain(e.ctx)
	if err != nil || counts["exports"] < 1 {
		t.Fatalf("retain %v, %v", counts, err)
	}
	if r := e.request(v.RequestID); r.ExportPath != "" || r.ExportExpiredAt == nil {
		t.Errorf("expired request %+v", r)
	}
	for _, o := range e.objects() {
		if o == exportPath(f.subject, v.RequestID) {
			t.Error("archive not deleted")
		}
	}
	if _, err := e.s.GetExportDownload(e.ctx, call(f.subject, false, `{"requestId":"`+v.RequestID+`"}`)); fault.CodeOf(err) != fault.FailedPrecondition {
		t.Errorf("expired download: %v", err)
	}
}

func TestCallableValidation(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name string
		req  *callable.Request
		code fault.Code
	}{
		{"signed out", &callable.Request{Data: json.RawMessage(`{}`)}, fault.Unauthenticated},
		{"for someone else", call("alice", false, `{"uid":"bob"}`), fault.PermissionDenied},
		{"unknown field", call("alice", false, `{"user":"bob"}`), fault.InvalidArgument},
		{"bad uid", call("admin", true, `{"uid":"a/b"}`), fault.InvalidArgument},
	}
	for _, tt := range tests {
		if _, err := e.s.RequestDataExport(e.ctx, tt.req); fault.CodeOf(err) != tt.code {
			t.Errorf("export %s: %v, want %s", tt.name, err, tt.code)
		}
		if _, err := e.s.RequestAccountDeletion(e.ctx, tt.req); fault.CodeOf(err) != tt.code {
			t.Errorf("deletion %s: %v, want %s", tt.name, err, tt.code)
		}
	}
	res, err := e.s.RequestDataExport(e.ctx, call("admin", true, `{"uid":"bob"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.request(res.(RequestView).RequestID); r.UserID != "bob" || r.RequestedBy != "admin" || r.Source != SourceAdmin {
		t.Errorf("admin request %+v", r)
	}
	if _, err := e.s.GetExportDownload(e.ctx, call("bob", false, `{"requestId":"`+res.(RequestView).RequestID+`"}`)); fault.CodeOf(err) != fault.FailedPrecondition {
		t.Errorf("download before done: %v", err)
	}
}

// checkErased asserts the subject's erasure: no document or object refers
// to the uid, held records carry only the pseudonym, the other user's own
// documents are as they were, and foreign objects survive.
func checkErased(t *testing.T, e *env, f fixture, before map[string]string) {
	t.Helper()
	after := e.dump()
	objs := e.objects()
	if left := mentions(after, objs, f.subject); len(left) > 0 {
		t.Errorf("the uid is still in %v", left)
	}
	for p, d := range before {
		if strings.Contains(p, f.subject) || strings.Contains(d, f.subject) {
			continue
		}
		if after[p] != d {
			t.Errorf("%s of another user changed:\n was %s\n now %s", p, d, after[p])
		}
	}
	have := map[string]bool{}
	for _, o := range objs {
		have[o] = true
	}
	for _, o := range f.foreign {
		if !have[o] {
			t.Errorf("foreign object %s deleted", o)
		}
	}
	ps := Pseudonym(testKey, f.subject)
	var pay map[string]any
	_ = json.Unmarshal([]byte(after["payments/pay-s1"]), &pay)
	if pay["userId"] != ps || pay["pseudonymised"] != true || pay["amount"] != float64(49900) || pay["invoiceUrl"] != nil ||
		pay["legalHoldUntil"] != "2034-01-01T00:00:00Z" || pay["customerId"] != Pseudonym(testKey, "cus_"+f.subject) {
		t.Errorf("held payment %v", pay)
	}
	var po map[string]any
	_ = json.Unmarshal([]byte(after["payouts/po-s1"]), &po)
	if po["coachId"] != ps || po["pseudonymised"] != true {
		t.Errorf("held payout %v", po)
	}
	var w map[string]any
	_ = json.Unmarshal([]byte(after["wellbeing_events/w-s1"]), &w)
	if w["userId"] != ps || w["trigger"] != nil {
		t.Errorf("held wellbeing record %v", w)
	}
	for _, ls := range []string{"live_sessions/ls-joined", "live_sessions/ls-left"} {
		var d map[string]any
		_ = json.Unmarshal([]byte(after[ls]), &d)
		for _, field := range []string{"participants", "reflectionUserIds"} {
			if p, _ := d[field].([]any); len(p) != 1 || p[0] != f.other {
				t.Errorf("%s %s %v", ls, field, d[field])
			}
		}
		if rs, _ := d["reflections"].([]any); len(rs) != 1 {
			t.Errorf("%s reflections %v", ls, d["reflections"])
		}
	}
	for _, gone := range []string{"users/" + f.subject, "consents/" + f.subject, "user_activations/" + f.subject + "_media",
		"users/" + f.other + "/coaches/" + f.subject, "gdpr_requests/export_old_" + f.subject} {
		if _, ok := after[gone]; ok {
			t.Errorf("%s still exists", gone)
		}
	}
	if e.auth != nil {
		if _, err := e.auth.Client.GetUser(e.ctx, f.subject); !auth.IsUserNotFound(err) {
			t.Errorf("auth account: %v", err)
		}
		if _, err := e.auth.Client.GetUser(e.ctx, f.other); err != nil {
			t.Errorf("other account: %v", err)
		}
	}
}

// TestErasure: erasure leaves no document or object referring to the uid
// outside legal holds, held records carry no direct identifiers, and the
// proof and audit record are written.
func TestErasure(t *testing.T) {
	e := newEnv(t, true)
	f := e.seed(3)
	before := e.dump()
	plan, err := e.s.Plan(e.ctx, f.subject)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"user_activations.userId", "users", "payments.userId", "live_sessions.participants", "live_sessions.reflectionUserIds", "storage", "auth",
		"stripe", "stripe.connect", "coaches.coachId", "payout_allocations.via_payouts", "payout_allocations.open", "gdpr_requests.requestedBy",
		"payments.programTerms.coachIds"} {
		if plan.Counts[k] == 0 {
			t.Errorf("plan finds nothing for %s: %v", k, plan.Counts)
		}
	}
	res, err := e.s.RequestAccountDeletion(e.ctx, call(f.subject, false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	id := res.(RequestView).RequestID
	if strings.Contains(id, f.subject) {
		t.Fatalf("request id %q holds the uid", id)
	}
	if e.deliver() != 1 {
		t.Fatal("no message")
	}
	r := e.request(id)
	if r.Status != StatusDone || r.UserID != Pseudonym(testKey, f.subject) || r.RequestedBy != r.UserID || r.LegalHoldUntil == nil {
		t.Fatalf("request %+v", r)
	}
	for k, n := range r.Proof {
		if !strings.HasPrefix(k, "held:") && n != 0 {
			t.Errorf("proof %s = %d", k, n)
		}
	}
	if r.Proof["held:payments.userId"] != 1 || r.Proof["held:payouts.coachId"] != 1 || r.Proof["held:audit_log.subjectHash"] < 1 {
		t.Errorf("proof %v", r.Proof)
	}
	if r.Plan["user_activations.userId"] != 6 || r.Progress["storage.media"] < 1 {
		t.Errorf("plan in request %v", r.Plan)
	}
	checkErased(t, e, f, before)
	if len(e.stripe.deleted) != 1 || e.stripe.deleted[0] != "cus_"+f.subject {
		t.Errorf("stripe deletes %v", e.stripe.deleted)
	}
	if len(e.stripe.accounts) != 1 || e.stripe.accounts[0] != "acct_"+f.subject {
		t.Errorf("stripe connect account deletes %v", e.stripe.accounts)
	}
	snap, err := e.fs.Collection(model.ColAuditLog).Doc("gdpr_" + id + "_1").Get(e.ctx)
	if err != nil {
		t.Fatalf("audit record: %v", err)
	}
	var a model.AuditEntry
	_ = snap.DataTo(&a)
	consents, _ := a.Details["consents"].(map[string]any)
	ai, _ := consents[string(model.ConsentAIAnalysis)].(map[string]any)
	if a.SubjectHash != r.UserID || a.Actor != r.UserID || ai["status"] != "revoked" || a.Details["proof"] == nil {
		t.Errorf("audit record %+v", a)
	}
	// A duplicate message does nothing; the Auth backstop hearing of the
	// erasure's own account deletion does not start another.
	if err := e.s.GDPRWorker(e.ctx, &events.PubSubMessage{ID: "dup", Data: []byte(`{"requestId":"` + id + `"}`)}); err != nil {
		t.Fatal(err)
	}
	entry := `{"protoPayload":{"methodName":"google.cloud.identitytoolkit.v1.AccountManagementService.DeleteAccount","request":{"localId":"` + f.subject + `"}}}`
	if err := e.s.OnAuthUserDeleted(e.ctx, &events.PubSubMessage{ID: "a1", Data: []byte(entry)}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.pub.On(TopicRequests)); n != 0 {
		t.Errorf("%d messages after the end", n)
	}
	// An export of an erased account would recreate what was erased.
	if _, err := e.s.RequestDataExport(e.ctx, call("admin-1", true, `{"uid":"`+f.subject+`"}`)); fault.CodeOf(err) != fault.FailedPrecondition {
		t.Errorf("export after erasure: %v", err)
	}
}

// TestErasureResumes: a worker cancelled mid-erasure (twice) → a
// duplicate finds the lease, the rerun after the lease expires completes
// with nothing left and nothing of other users touched.
func TestErasureResumes(t *testing.T) {
	e := newEnv(t, true)
	f := e.seed(150)
	before := e.dump()
	req, _, err := e.s.StartErasure(e.ctx, f.subject, "admin-1", SourceAdmin, true)
	if err != nil {
		t.Fatal(err)
	}
	crash := func(at int64) {
		t.Helper()
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		e.s.afterWrite = func(n int64) {
			if n == at {
				cancel()
			}
		}
		out, err := e.s.Run(ctx, req.RequestID, "crashing-"+randomID())
		e.s.afterWrite = nil
		if err == nil || out == OutcomeDone {
			t.Fatalf("run survived its crash: %s, %v", out, err)
		}
		r := e.request(req.RequestID)
		t.Logf("crashed at write %d in step %v (checkpoint %v), progress %v", at, r.Checkpoint["step"], r.Checkpoint, r.Progress)
	}
	crash(100)
	r := e.request(req.RequestID)
	if r.Status != StatusRunning || r.LeaseOwner == "" || r.Checkpoint["step"] == "" {
		t.Fatalf("after crash %+v", r)
	}
	if out, err := e.s.Run(e.ctx, req.RequestID, "duplicate"); out != OutcomeBusy || err != nil {
		t.Fatalf("duplicate: %s, %v", out, err)
	}
	e.clock.Add(LeaseTTL + time.Second)
	crash(200)
	e.clock.Add(LeaseTTL + time.Second)
	out, err := e.s.Run(e.ctx, req.RequestID, "final")
	if out != OutcomeDone || err != nil {
		t.Fatalf("rerun: %s, %v", out, err)
	}
	if r := e.request(req.RequestID); r.Status != StatusDone || r.Attempts != 3 || r.RequestedBy != "admin-1" {
		t.Errorf("request %+v", r)
	}
	checkErased(t, e, f, before)
}

// TestSweeperAndBackstop: stuck requests are re-published, due dates
// warned about, users without an Auth account reconciled, and Auth
// deletions start the erasure once.
func TestSweeperAndBackstop(t *testing.T) {
	e := newEnv(t, true)
	e.clock.t = time.Now().UTC().Add(2 * time.Hour) // users documents look settled
	stuck, _, err := e.s.CreateExport(e.ctx, "sweep-a", "sweep-a", SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	e.pub.Messages = nil
	e.clock.Add(StuckAfter + time.Minute)
	rep, err := e.s.Sweep(e.ctx)
	if err != nil || rep.Republished != 1 || len(e.pub.On(TopicRequests)) != 1 {
		t.Fatalf("sweep %+v, %v", rep, err)
	}
	// A live lease is left alone; a request 3 days before dueAt is warned about.
	e.clock.Add(27*24*time.Hour + time.Hour)
	until := e.clock.Now().Add(time.Minute)
	if _, err := e.fs.Collection(model.ColGDPRRequests).Doc(stuck.RequestID).Update(e.ctx, []firestore.Update{
		{Path: "leaseOwner", Value: "w"}, {Path: "leaseUntil", Value: until}}); err != nil {
		t.Fatal(err)
	}
	e.pub.Messages = nil
	if rep, err = e.s.Sweep(e.ctx); err != nil || rep.Republished != 0 || rep.DueSoon != 1 {
		t.Fatalf("sweep with lease %+v, %v", rep, err)
	}
	if r := e.request(stuck.RequestID); r.DueWarnedAt == nil {
		t.Error("due warning not recorded")
	}

	// Reconciliation: a users document without an Auth account is erased.
	gone, kept := uid("gone"), uid("kept")
	e.set("users/"+gone, model.User{UserID: gone})
	e.set("users/"+kept, model.User{UserID: kept})
	e.createAccount(kept)
	e.pub.Messages = nil
	rr, err := e.s.Reconcile(e.ctx)
	if err != nil || rr.Missing != 1 || rr.Started != 1 || rr.Held {
		t.Fatalf("reconcile %+v, %v", rr, err)
	}
	if r := e.request(e.s.ErasureID(gone)); r.Source != SourceReconcile || r.Status != StatusPending {
		t.Errorf("reconciled request %+v", r)
	}
	// Too many missing accounts at once: an alert, nothing erased.
	for i := 0; i < 12; i++ {
		e.set("users/"+uid("ghost"), model.User{UserID: "x"})
	}
	e.set("jobs/"+reconcileJob, model.Job{Name: reconcileJob})
	if rr, err := e.s.Reconcile(e.ctx); err != nil || !rr.Held || rr.Started != 0 {
		t.Errorf("mass reconcile %+v, %v", rr, err)
	}

	// The Auth backstop: {"uid"} and a LogEntry start one erasure.
	e.pub.Messages = nil
	victim := uid("victim")
	for _, data := range []string{`{"uid":"` + victim + `"}`,
		`{"protoPayload":{"methodName":"google.cloud.identitytoolkit.v1.AccountManagementService.DeleteAccount","request":{"localId":"` + victim + `"}}}`} {
		if err := e.s.OnAuthUserDeleted(e.ctx, &events.PubSubMessage{ID: "x", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.pub.On(TopicRequests)); n != 1 {
		t.Errorf("backstop published %d", n)
	}
	if r := e.request(e.s.ErasureID(victim)); r.Source != SourceAuthDeleted {
		t.Errorf("backstop request %+v", r)
	}
	// The erasure runs through although the account is already gone.
	if e.deliver() != 1 || e.request(e.s.ErasureID(victim)).Status != StatusDone {
		t.Error("backstop erasure did not complete")
	}
}

// TestRetention deletes what is past its retention and nothing else.
func TestRetention(t *testing.T) {
	e := newEnv(t, false)
	now := e.clock.Now()
	old, recent := now.AddDate(0, 0, -100), now.AddDate(0, 0, -10)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	docs := map[string]any{
		"sessions/expired":          model.Session{ExpiresAt: past},
		"sessions/live":             model.Session{ExpiresAt: future},
		"webhook_events/old":        model.WebhookEvent{ReceivedAt: old},
		"webhook_events/recent":     model.WebhookEvent{ReceivedAt: recent},
		"processed_events/old":      model.ProcessedEvent{ProcessedAt: old},
		"processed_events/recent":   model.ProcessedEvent{ProcessedAt: recent},
		"audit_log/old":             model.AuditEntry{CreatedAt: now.AddDate(-4, 0, 0)},
		"audit_log/recent":          model.AuditEntry{CreatedAt: old},
		"payments/held-over":        model.Payment{Pseudonymised: true, LegalHoldUntil: &past},
		"payments/held":             model.Payment{Pseudonymised: true, LegalHoldUntil: &future},
		"payments/live":             model.Payment{PaymentDate: now.AddDate(-9, 0, 0)},
		"payouts/held-over":         model.Payout{Pseudonymised: true, LegalHoldUntil: &past},
		"wellbeing_events/held-ove": model.WellbeingEvent{Pseudonymised: true, LegalHoldUntil: &past},
		"gdpr_requests/held-over":   model.GDPRRequest{Kind: KindErasure, LegalHoldUntil: &past},
		"payout_allocations/over":   map[string]any{"legalHoldUntil": past},
	}
	for p, v := range docs {
		e.set(p, v)
	}
	counts, err := e.s.Retain(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := e.dump()
	for p := range docs {
		_, ok := left[p]
		want := strings.HasSuffix(p, "/live") || strings.HasSuffix(p, "/recent") || strings.HasSuffix(p, "/held")
		if ok != want {
			t.Errorf("%s exists=%v, want %v", p, ok, want)
		}
	}
	if counts["sessions"] != 1 || counts["payments"] != 1 || counts["audit_log"] != 1 {
		t.Errorf("counts %v", counts)
	}
	if _, ok := left["jobs/retentionCleanup"]; !ok {
		t.Error("no job record")
	}
}

// TestStripeAPI: the StripeAPI against stripe-mock (stateless: every
// DELETE answers 200 deleted: true, a repeated one too) and against
// answers of Stripe's: a deletion done now is not gone; a 404
// resource_missing ("No such customer", an object deleted before) is gone
// and no error; a server error is retryable; a rejected request is not.
func TestStripeAPI(t *testing.T) {
	api := NewStripeAPI(config.NewSecret("sk_test_123"), testenv.StripeMock(t))
	for i := 0; i < 2; i++ {
		if gone, err := api.Delete(context.Background(), "cus_123"); err != nil || gone {
			t.Fatalf("delete %d against stripe-mock: gone %v, %v; want deleted now", i+1, gone, err)
		}
		if gone, err := api.DeleteAccount(context.Background(), "acct_123"); err != nil || gone {
			t.Fatalf("delete %d of a connect account against stripe-mock: gone %v, %v; want deleted now", i+1, gone, err)
		}
	}
	tests := []struct {
		name   string
		status int
		body   string
		code   fault.Code
		gone   bool
	}{
		{"deleted now", 200, `{"id":"cus_x","object":"customer","deleted":true}`, fault.OK, false},
		{"deleted before", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"id","message":"No such customer: 'cus_x'"}}`, fault.OK, true},
		{"account gone or no longer the platform's", 403, `{"error":{"type":"invalid_request_error","code":"account_invalid","message":"The provided key 'sk_test_***' does not have access to account 'acct_x' (or that account does not exist). Application access may have been revoked."}}`, fault.OK, true},
		{"server error", 500, `{"error":{"type":"api_error","message":"boom"}}`, fault.Unavailable, false},
		{"rejected", 400, `{"error":{"type":"invalid_request_error","message":"bad"}}`, fault.FailedPrecondition, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Stripe-Should-Retry", "false")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			api := NewStripeAPI(config.NewSecret("sk_test_123"), srv.URL)
			gone, err := api.Delete(context.Background(), "cus_x")
			if fault.CodeOf(err) != tt.code || gone != tt.gone {
				t.Errorf("customer: gone %v, %v; want gone %v, %s", gone, err, tt.gone, tt.code)
			}
			gone, err = api.DeleteAccount(context.Background(), "acct_x")
			if fault.CodeOf(err) != tt.code || gone != tt.gone {
				t.Errorf("connect account: gone %v, %v; want gone %v, %s", gone, err, tt.gone, tt.code)
			}
		})
	}
}

// TestErasureCatchesLateWrites: data written while the erasure runs (a
// client whose ID token is still valid) is found by the verification and
// erased by a second pass.
func TestErasureCatchesLateWrites(t *testing.T) {
	e := newEnv(t, true)
	f := e.seed(2)
	before := e.dump()
	req, _, err := e.s.StartErasure(e.ctx, f.subject, f.subject, SourceUser, true)
	if err != nil {
		t.Fatal(err)
	}
	late := false
	e.s.afterWrite = func(n int64) {
		if n == 8 && !late { // after the journal's step
			late = true
			e.set("user_activations/late-entry", model.UserActivation{UserID: f.subject, ActivationID: "a1"})
		}
	}
	out, err := e.s.Run(e.ctx, req.RequestID, "w1")
	if out != OutcomeDone || err != nil || !late {
		t.Fatalf("run: %s, %v (late write %v)", out, err, late)
	}
	r := e.request(req.RequestID)
	if r.Checkpoint["pass"] != int64(1) || r.Proof["user_activations.userId"] != 0 {
		t.Errorf("request %+v", r)
	}
	checkErased(t, e, f, before)
}
