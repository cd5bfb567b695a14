package gdpr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/pseudonym"
	"github.com/innerjourney/functions/shared/testenv"
)

// Crash-consistency sweep of the GDPR worker (review 20): an erasure and
// an export of the fixture's subject (seed: profile and subcollections,
// journal entries with media, consents, a coach assignment, payments,
// payouts, a program, live sessions; Storage on fake-gcs-server, Auth on
// its emulator, Stripe through fakeStripe). Each request is run once
// uninterrupted on a fresh database (the reference, with its RPCs: every
// Firestore RPC, every Storage HTTP request, every Auth and Stripe call,
// counted in one sequence by testenv.Faults), then once per crash point on
// a fresh database with that RPC faulted (testenv.CrashModes), followed by
// what the platform does next: Pub/Sub redelivers the message after a
// retryable error (10 s doubling, on the injected clock); a message the
// worker acknowledged (busy: the dead run's lease is live; a
// continuation) leaves the request to the hourly sweeper, which
// re-publishes it once untouched for StuckAfter; until the request is
// done or failed.
//
// Expected (README, Requests and Export): the request ends done; the end
// state is the reference's (the subject's data erased or held exactly as
// in the uninterrupted run, checkErased; nothing pseudonymised twice; one
// audit record), but for the times of the later runs and the request's
// run counters; the export's archive is the reference's (but for its
// generation time), and the request's exportBytes and exportSha256 are
// the stored object's.
//
// Crash points: with R20_FULL=1 every RPC in every mode (erasure: 427
// RPCs, 1708 crash points, ~9 minutes; export: 131, 524, ~2 minutes). By
// default a deterministic sample that keeps the file near 30 s
// (r20Points): 48 crash points spread evenly over each run, the modes in
// turn, and for the export every RPC from its upload to done in every
// mode.

// r20Start is the injected clock's start (outside the test's wall-clock
// span, so that DumpDatabase keeps its times).
var r20Start = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// r20Auth passes the worker's Auth calls to next, counting and faulting
// each as an RPC of f.
type r20Auth struct {
	f    *testenv.Faults
	next AuthAdmin
}

func (a r20Auth) RevokeRefreshTokens(ctx context.Context, uid string) error {
	return a.f.Call(ctx, "auth/RevokeRefreshTokens", func(ctx context.Context) error { return a.next.RevokeRefreshTokens(ctx, uid) })
}

func (a r20Auth) UpdateUser(ctx context.Context, uid string, u *auth.UserToUpdate) (*auth.UserRecord, error) {
	var rec *auth.UserRecord
	err := a.f.Call(ctx, "auth/UpdateUser", func(ctx context.Context) (err error) { rec, err = a.next.UpdateUser(ctx, uid, u); return err })
	return rec, err
}

func (a r20Auth) DeleteUser(ctx context.Context, uid string) error {
	return a.f.Call(ctx, "auth/DeleteUser", func(ctx context.Context) error { return a.next.DeleteUser(ctx, uid) })
}

func (a r20Auth) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	var rec *auth.UserRecord
	err := a.f.Call(ctx, "auth/GetUser", func(ctx context.Context) (err error) { rec, err = a.next.GetUser(ctx, uid); return err })
	return rec, err
}

func (a r20Auth) GetUsers(ctx context.Context, ids []auth.UserIdentifier) (*auth.GetUsersResult, error) {
	var res *auth.GetUsersResult
	err := a.f.Call(ctx, "auth/GetUsers", func(ctx context.Context) (err error) { res, err = a.next.GetUsers(ctx, ids); return err })
	return res, err
}

// r20Stripe counts and faults the Stripe deletes (the errors are the
// StripeAPI's: a transient failure is Unavailable).
type r20Stripe struct {
	f    *testenv.Faults
	next *fakeStripe
}

func (s r20Stripe) call(ctx context.Context, name string, fn func(ctx context.Context) (bool, error)) (gone bool, err error) {
	if err := s.f.Call(ctx, name, func(ctx context.Context) (err error) { gone, err = fn(ctx); return err }); err != nil {
		return false, fault.Wrap(err, fault.Unavailable, name)
	}
	return gone, nil
}

func (s r20Stripe) Delete(ctx context.Context, id string) (bool, error) {
	return s.call(ctx, "stripe/DeleteCustomer", func(ctx context.Context) (bool, error) { return s.next.Delete(ctx, id) })
}

func (s r20Stripe) DeleteAccount(ctx context.Context, id string) (bool, error) {
	return s.call(ctx, "stripe/DeleteAccount", func(ctx context.Context) (bool, error) { return s.next.DeleteAccount(ctx, id) })
}

// r20Faulted returns a copy of e's service whose Firestore, Storage, Auth
// and Stripe calls go through f.
func r20Faulted(t *testing.T, e *env, f *testenv.Faults) *Service {
	t.Helper()
	fe := testenv.FirestoreEmulator(t)
	project := strings.Split(e.fs.Doc("x/y").Path, "/")[1]
	sc, err := storage.NewClient(context.Background(), option.WithHTTPClient(&http.Client{Transport: f.Transport(e.gcs.HTTPClient().Transport, func(req *http.Request) string { return "storage/" + req.Method })}),
		option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	s := *e.s
	s.Firestore = f.FirestoreClient(t, fe, project)
	s.Storage = sc
	s.Auth = r20Auth{f: f, next: e.auth.Client}
	st := r20Stripe{f: f, next: e.stripe}
	s.Stripe, s.StripeAccounts = st, st
	return &s
}

// r20Platform delivers request id's message through s (a fresh context
// per delivery, which k's fault kills), then as the platform does until
// the request is no longer open (at most 40 deliveries): Pub/Sub
// redelivers a message the worker failed retryably (10 s doubling to
// 600 s); once it is acknowledged, the continuations it published are
// delivered, else the hourly sweeper runs (without Auth: its
// reconciliation is not under test) and its re-publications are
// delivered. It returns what happened.
func r20Platform(t *testing.T, e *env, s *Service, k *testenv.KillSwitch, id string) string {
	t.Helper()
	sweeper := *e.s
	sweeper.Auth = nil
	var log []string
	backoff := 10 * time.Second
	queue := [][]byte{[]byte(`{"requestId":"` + id + `"}`)}
	e.pub.Messages = nil
	for i := 0; i < 40 && open(e.request(id).Status); i++ {
		if len(queue) == 0 {
			e.clock.Add(time.Hour)
			if _, err := sweeper.Sweep(context.Background()); err != nil {
				t.Fatalf("sweep: %v", err)
			}
			log = append(log, "sweep")
		}
		for _, m := range e.pub.On(TopicRequests) {
			queue = append(queue, m.Data)
		}
		e.pub.Messages = nil
		if len(queue) == 0 {
			continue
		}
		msg := queue[0]
		ctx, cancel := k.Context()
		err := s.GDPRWorker(ctx, &events.PubSubMessage{ID: fmt.Sprint("m", i), Data: msg})
		cancel()
		if err != nil && fault.Retryable(err) {
			log = append(log, fmt.Sprintf("run %d: %s", i+1, fault.CodeOf(err)))
			e.clock.Add(backoff)
			backoff = min(2*backoff, 600*time.Second)
			continue
		}
		if err != nil {
			log = append(log, fmt.Sprintf("run %d: dropped (%v)", i+1, err))
		}
		queue = queue[1:]
		backoff = 10 * time.Second
	}
	r := e.request(id)
	log = append(log, fmt.Sprintf("status %s %s", r.Status, r.Error))
	return strings.Join(log, ", ")
}

// r20Names replaces the fixture's random ids (and what is derived from
// them) by names, longest first.
type r20Names []string // old, new, old, new…

func r20NamesOf(f fixture, extra ...string) r20Names {
	var n r20Names
	for _, who := range []struct{ id, name string }{{f.subject, "subject"}, {f.other, "other"}, {f.coach, "coach"}, {f.host, "host"}} {
		n = append(n,
			pseudonym.ErasureRequestID(testKey, who.id), "<erasure:"+who.name+">",
			model.ErasingMarkerID(who.id), "<erasing:"+who.name+">",
			Pseudonym(testKey, who.id), "<ps:"+who.name+">",
			Pseudonym(testKey, "cus_"+who.id), "<ps:cus_"+who.name+">",
			Pseudonym(testKey, "acct_"+who.id), "<ps:acct_"+who.name+">")
	}
	n = append(n, extra...)
	for _, who := range []struct{ id, name string }{{f.subject, "subject"}, {f.other, "other"}, {f.coach, "coach"}, {f.host, "host"}} {
		n = append(n, who.id, "<"+who.name+">")
	}
	return n
}

func (n r20Names) replace(s string) string {
	for i := 0; i+1 < len(n); i += 2 {
		s = strings.ReplaceAll(s, n[i], n[i+1])
	}
	return s
}

// r20Normal is a dump made comparable across runs: ids named, the audit
// entries of the callables (random ids) keyed by their content, the
// times of the runs (the injected clock from r20Start on, also with each
// hold added) named, the run counters and progress dropped.
func r20Normal(t *testing.T, e *env, n r20Names) map[string]any {
	t.Helper()
	dump := testenv.DumpDatabase(t, e.fs, map[string][]string{
		// exportBytes and exportSha256 are checked against the object
		// (r20Export): the archive holds the request as it was while it ran.
		model.ColGDPRRequests + "/": {"attempts", "stalledRuns", "progress", "exportBytes", "exportSha256"},
	})
	b, err := json.Marshal(dump)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(n.replace(string(b))), &out); err != nil {
		t.Fatal(err)
	}
	norm := map[string]any{}
	for p, v := range out {
		if id, ok := strings.CutPrefix(p, model.ColAuditLog+"/"); ok && len(id) == 20 {
			j, _ := json.Marshal(v)
			p = model.ColAuditLog + "/<auto " + fmt.Sprintf("%x", sha256.Sum256(j))[:12] + ">"
		}
		norm[p] = r20Times(v)
	}
	return norm
}

// r20Times names the times of the runs in v: from r20Start to 12 hours
// later, also with each hold (IDTokenWindow, ExportTTL, 3 and 7 years)
// added.
func r20Times(v any) any {
	return testenv.MapLeaves(v, func(leaf any) any {
		x, ok := leaf.(string)
		if !ok {
			return leaf
		}
		tm, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return x
		}
		for _, h := range []struct {
			name  string
			start time.Time
		}{{"", r20Start}, {"+IDTokenWindow", r20Start.Add(IDTokenWindow)}, {"+ExportTTL", r20Start.Add(ExportTTL)},
			{"+3y", r20Start.AddDate(3, 0, 0)}, {"+7y", r20Start.AddDate(7, 0, 0)}} {
			if !tm.Before(h.start) && tm.Before(h.start.Add(12*time.Hour)) {
				return "<run time" + h.name + ">"
			}
		}
		return x
	})
}

// r20State is what a run left.
type r20State struct {
	dump    map[string]any
	objects []string
	stripe  []string
	archive map[string]string // export: file → normalised content
	rpcs    int
	calls   []string
	what    string
	failed  bool // the first delivery failed
}

// r20Erasure erases the fixture's subject with the at-th RPC faulted
// (mode; 0: none) and checks the erasure (checkErased).
func r20Erasure(t *testing.T, at int, mode testenv.CrashMode) r20State {
	t.Helper()
	e := newEnv(t, true)
	e.clock.t = r20Start
	f := e.seed(1)
	before := e.dump()
	req, _, err := e.s.StartErasure(e.ctx, f.subject, f.subject, SourceUser, true)
	if err != nil {
		t.Fatal(err)
	}
	k := &testenv.KillSwitch{}
	fl := &testenv.Faults{At: at, Mode: mode, Cancel: k.Kill}
	what := r20Platform(t, e, r20Faulted(t, e, fl), k, req.RequestID)
	checkErased(t, e, f, before)
	n := r20NamesOf(f)
	st := r20State{dump: r20Normal(t, e, n), rpcs: fl.Count(), calls: fl.Calls(), what: what, failed: strings.Contains(what, "run 1:")}
	for _, o := range e.objects() {
		st.objects = append(st.objects, n.replace(o))
	}
	st.stripe = append(append([]string(nil), e.stripe.deleted...), e.stripe.accounts...)
	for i := range st.stripe {
		st.stripe[i] = n.replace(st.stripe[i])
	}
	sort.Strings(st.stripe)
	st.stripe = compactStrings(st.stripe) // a rerun deletes again: the set is what counts
	return st
}

func compactStrings(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// r20Export exports the fixture's subject with the at-th RPC faulted.
func r20Export(t *testing.T, at int, mode testenv.CrashMode) r20State {
	t.Helper()
	e := newEnv(t, true)
	e.clock.t = r20Start
	f := e.seed(1)
	req, _, err := e.s.CreateExport(e.ctx, f.subject, f.subject, SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	k := &testenv.KillSwitch{}
	fl := &testenv.Faults{At: at, Mode: mode, Cancel: k.Kill}
	what := r20Platform(t, e, r20Faulted(t, e, fl), k, req.RequestID)
	n := r20NamesOf(f, req.RequestID, "<export>")
	st := r20State{dump: r20Normal(t, e, n), rpcs: fl.Count(), calls: fl.Calls(), what: what, failed: strings.Contains(what, "run 1:"),
		archive: map[string]string{}}
	for _, o := range e.objects() {
		st.objects = append(st.objects, n.replace(o))
	}
	r := e.request(req.RequestID)
	if r.Status != StatusDone {
		return st
	}
	// The request describes the stored object.
	rd, err := e.gcs.Client().Bucket(testBucket).Object(r.ExportPath).NewReader(e.ctx)
	if err != nil {
		t.Errorf("archive %s: %v", r.ExportPath, err)
		return st
	}
	b, _ := io.ReadAll(rd)
	rd.Close()
	sum := sha256.Sum256(b)
	if int64(len(b)) != r.ExportBytes || hex.EncodeToString(sum[:]) != r.ExportSHA256 {
		t.Errorf("the request says %d bytes, sha256 %s; the object has %d bytes, sha256 %x", r.ExportBytes, r.ExportSHA256, len(b), sum)
	}
	for name, c := range e.readZip(r.ExportPath) {
		st.archive[n.replace(name)] = r20ArchiveFile(name, c, n)
	}
	return st
}

// r20ArchiveFile is an archive's file made comparable across runs: ids
// named, times of the runs and of the Auth emulator named, the manifest's
// generatedAt dropped, the callables' audit entries (random ids) named
// "<auto>" and every data file's documents in the order of their
// content; the request being exported is in it as it was while it ran:
// its run counters, lease and progress are dropped.
func r20ArchiveFile(name string, c []byte, n r20Names) string {
	var v any
	if json.Unmarshal([]byte(n.replace(string(c))), &v) != nil {
		return n.replace(string(c))
	}
	if m, ok := v.(map[string]any); ok && name == "manifest.json" {
		delete(m, "generatedAt")
	}
	if docs, ok := v.([]any); ok {
		keys := make([]string, len(docs))
		for i, d := range docs {
			m, _ := d.(map[string]any)
			if id, _ := m["id"].(string); len(id) == 20 && strings.HasPrefix(fmt.Sprint(m["path"]), model.ColAuditLog+"/") {
				m["id"], m["path"] = "<auto>", model.ColAuditLog+"/<auto>"
			}
			if data, ok := m["data"].(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["path"]), model.ColGDPRRequests+"/") {
				for _, f := range []string{"attempts", "stalledRuns", "progress", "progressAt", "leaseOwner", "leaseUntil", "updatedAt"} {
					delete(data, f)
				}
			}
			j, _ := json.Marshal(r20Times(testenv.NormalizeWallClock(m)))
			keys[i] = string(j)
		}
		sort.Strings(keys)
		return "[" + strings.Join(keys, ",") + "]"
	}
	j, _ := json.Marshal(r20Times(testenv.NormalizeWallClock(v)))
	return string(j)
}

// r20Point is one crash point: the k-th RPC faulted in mode.
type r20Point struct {
	k    int
	mode testenv.CrashMode
}

// r20Points are the crash points of a run whose RPCs are calls: all of
// them with R20_FULL=1; else samples evenly spread over the run (the k-th
// RPC for k = 1 + i·len(calls)/samples, in the mode i mod 4 of
// testenv.CrashModes), and every RPC after the last call named tail (""
// none) in every mode.
func r20Points(calls []string, samples int, tail string) []r20Point {
	n := len(calls)
	var out []r20Point
	if os.Getenv("R20_FULL") != "" {
		for k := 1; k <= n; k++ {
			for _, m := range testenv.CrashModes {
				out = append(out, r20Point{k, m})
			}
		}
		return out
	}
	seen := map[r20Point]bool{}
	add := func(p r20Point) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for i := 0; i < samples && i < n; i++ {
		add(r20Point{1 + i*n/samples, testenv.CrashModes[i%len(testenv.CrashModes)]})
	}
	last := -1
	for i, c := range calls {
		if tail != "" && c == tail {
			last = i
		}
	}
	if last >= 0 {
		for k := last + 2; k <= n; k++ {
			for _, m := range testenv.CrashModes {
				add(r20Point{k, m})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}

// r20Sweep runs the sweep of one request kind (r20Points: samples, tail).
func r20Sweep(t *testing.T, samples int, tail string, run func(t *testing.T, at int, mode testenv.CrashMode) r20State) {
	var want r20State
	if !t.Run("uninterrupted", func(t *testing.T) { want = run(t, 0, "") }) {
		t.Fatal("the uninterrupted run fails")
	}
	t.Logf("%d RPCs uninterrupted (%s): %s", want.rpcs, want.what, strings.Join(want.calls, " "))
	exercised, failed := 0, 0
	for _, p := range r20Points(want.calls, samples, tail) {
		k, mode, call := p.k, p.mode, want.calls[p.k-1]
		t.Run(fmt.Sprintf("%s %d %s", mode, k, call), func(t *testing.T) {
			got := run(t, k, mode)
			exercised++
			if got.failed {
				failed++
			}
			if d := testenv.DiffDumps(want.dump, got.dump); len(d) > 0 {
				t.Errorf("%s; end state differs:\n  %s", got.what, strings.Join(d, "\n  "))
			}
			if a, b := strings.Join(want.objects, " "), strings.Join(got.objects, " "); a != b {
				t.Errorf("%s; Storage holds\n  %s\nwant\n  %s", got.what, b, a)
			}
			if a, b := strings.Join(want.stripe, " "), strings.Join(got.stripe, " "); a != b {
				t.Errorf("%s; Stripe objects deleted %s, want %s", got.what, b, a)
			}
			for name, c := range want.archive {
				if got.archive[name] != c {
					t.Errorf("%s; archive file %s differs:\n got  %.400s\n want %.400s", got.what, name, got.archive[name], c)
				}
			}
			for name := range got.archive {
				if _, ok := want.archive[name]; !ok {
					t.Errorf("%s; archive holds an unexpected %s", got.what, name)
				}
			}
		})
	}
	t.Logf("%d crash points exercised, %d failed the first delivery", exercised, failed)
	if failed == 0 {
		t.Error("no crash point failed a delivery: the fault injection does not reach the worker")
	}
}

// TestReview20ErasureCrashPoints is the erasure's sweep.
func TestReview20ErasureCrashPoints(t *testing.T) {
	testenv.CaptureLogs(t)
	r20Sweep(t, 48, "", r20Erasure)
}

// TestReview20ExportCrashPoints is the export's sweep.
func TestReview20ExportCrashPoints(t *testing.T) {
	testenv.CaptureLogs(t)
	// The upload (the archive's POST) and every RPC after it, to done.
	r20Sweep(t, 48, "POST", r20Export)
}

// TestReview20ExportNotifiedOnlyWhenDone: the export told the user that
// the archive was ready (users/{uid}/notifications/gdpr_export_<id>) in
// its export step, before the transaction that marks the request done. A
// run stopped in between (a crash, a timeout) left the user notified of
// an export that getExportDownload refused as not ready until the
// sweeper's rerun (StuckAfter, then the next hourly sweep), and when the
// run stopped before its checkpoint the rerun wrote the archive again,
// now holding the notice of its own readiness (TestReview20ExportCrashPoints
// at the RPCs between the upload and done). The notice is written with
// done.
func TestReview20ExportNotifiedOnlyWhenDone(t *testing.T) {
	testenv.CaptureLogs(t)
	e := newEnv(t, true)
	e.clock.t = r20Start
	f := e.seed(1)
	req, _, err := e.s.CreateExport(e.ctx, f.subject, f.subject, SourceUser)
	if err != nil {
		t.Fatal(err)
	}
	note := e.fs.Collection(model.ColUsers).Doc(f.subject).Collection(model.SubColNotes).Doc("gdpr_export_" + req.RequestID)
	notified := func() bool {
		t.Helper()
		_, err := note.Get(e.ctx)
		return err == nil
	}
	// The run stops once its archive is uploaded and its checkpoint saved.
	ctx, cancel := context.WithCancel(e.ctx)
	e.s.OnProgress = func(r *model.GDPRRequest) {
		if r.Checkpoint["step"] == "finish" {
			cancel()
		}
	}
	out, err := e.s.Run(ctx, req.RequestID, "stopped")
	cancel()
	e.s.OnProgress = nil
	if st := e.request(req.RequestID).Status; st == StatusDone || err == nil {
		t.Fatalf("the run was not stopped before done: %s, %v, status %s", out, err, st)
	}
	if notified() {
		_, derr := e.s.GetExportDownload(e.ctx, call(f.subject, false, `{"requestId":"`+req.RequestID+`"}`))
		t.Errorf("the user is told the export is ready while it is %s (getExportDownload: %v)", e.request(req.RequestID).Status, derr)
	}
	// The platform resumes it: done, and notified.
	k := &testenv.KillSwitch{}
	what := r20Platform(t, e, e.s, k, req.RequestID)
	if r := e.request(req.RequestID); r.Status != StatusDone || !notified() {
		t.Errorf("after the rerun (%s): status %s, notified %v; want done and notified", what, r.Status, notified())
	}
}
