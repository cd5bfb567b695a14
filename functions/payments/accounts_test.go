package payments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// fakeAccounts answers GET /v1/accounts/{id} for the ids it knows with a
// chosen account or error (stripe-mock answers every id with one fixed
// account) and passes every other request on. It counts the account
// requests and calls onGet (when set) for each.
type fakeAccounts struct {
	next    http.RoundTripper
	mu      sync.Mutex
	answers map[string]fakeAnswer
	gets    map[string]int
	onGet   func()
}

// fakeAnswer is an HTTP status and a JSON body.
type fakeAnswer struct {
	status int
	body   any
}

func newFakeAccounts(next http.RoundTripper) *fakeAccounts {
	return &fakeAccounts{next: next, answers: map[string]fakeAnswer{}, gets: map[string]int{}}
}

func (f *fakeAccounts) RoundTrip(req *http.Request) (*http.Response, error) {
	id, ok := strings.CutPrefix(req.URL.Path, "/v1/accounts/")
	if req.Method != http.MethodGet || !ok || strings.Contains(id, "/") {
		return f.next.RoundTrip(req)
	}
	f.mu.Lock()
	f.gets[id]++
	a, found := f.answers[id]
	onGet := f.onGet
	f.mu.Unlock()
	if onGet != nil {
		onGet()
	}
	if !found {
		return f.next.RoundTrip(req)
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Request-Id": {"req_fake"}}
	if a.status >= 300 {
		// One answer per request: stripe-go's own retries would only slow
		// the test down.
		hdr.Set("Stripe-Should-Retry", "false")
	}
	return &http.Response{StatusCode: a.status, Header: hdr, Body: io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)), Request: req}, nil
}

func (f *fakeAccounts) set(id string, a fakeAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[id] = a
}

func (f *fakeAccounts) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[id]
}

func (f *fakeAccounts) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.gets {
		n += c
	}
	return n
}

// useFakeAccounts routes the harness's Stripe client through a
// fakeAccounts in front of stripe-mock (through the recorder).
func (h *harness) useFakeAccounts() *fakeAccounts {
	h.t.Helper()
	f := newFakeAccounts(h.rec)
	h.svc.Stripe = NewStripe("sk_test_123", testenv.StripeMock(h.t), &http.Client{Transport: f, Timeout: 20 * time.Second})
	return f
}

// Stripe answers for the fake.

func okAccount(id, coach string, enabled bool, disabledReason string) fakeAnswer {
	var due []string
	if !enabled {
		due = []string{"external_account"}
	}
	return fakeAnswer{status: http.StatusOK, body: objAccount(id, coach, enabled, true, due, disabledReason)}
}

func stripeErr(status int, typ, code, msg string) fakeAnswer {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	return fakeAnswer{status: status, body: map[string]any{"error": e}}
}

func noSuchAccount(id string) fakeAnswer {
	return stripeErr(http.StatusNotFound, "invalid_request_error", "resource_missing", "No such account: '"+id+"'")
}

// connectDoc is a stored Connect state.
func connectDoc(coach, acct string, enabled bool, reason string, at *time.Time) map[string]any {
	d := map[string]any{"coachId": coach, "payoutsEnabled": enabled, "payoutsReason": reason}
	if acct != "" {
		d["stripeAccountId"] = acct
	}
	if at != nil {
		d["accountUpdatedAt"] = *at
	}
	return d
}

// connectOf reads a coach's stored Connect state and its update time.
func (h *harness) connectOf(coach string) (model.CoachConnect, time.Time) {
	h.t.Helper()
	snap, err := h.db.Doc(model.CoachConnectPath(coach)).Get(h.t.Context())
	if err != nil {
		h.t.Fatalf("connect state of %s: %v", coach, err)
	}
	return model.DecodeCoachConnect(snap.Data()), snap.UpdateTime
}

// checkpoint reads the reconciliation's stored checkpoint.
func (h *harness) checkpoint() map[string]any {
	h.t.Helper()
	var j model.Job
	if !h.get("jobs/"+ReconcileJob, &j) {
		h.t.Fatal("no checkpoint")
	}
	return j.Checkpoint
}

// TestReconcileAccounts runs the accounts pass over coaches in every
// situation at once (one run, then a second one) and checks each coach's
// stored state, whether it was written (update time), the report and the
// stored retry list. The failing coaches sort first, so their failures
// are seen before the others are checked.
func TestReconcileAccounts(t *testing.T) {
	h := newHarness(t)
	fake := h.useFakeAccounts()
	old := time.Unix(t0, 0).UTC()
	newer := testNow.Add(time.Hour) // an account.updated created after the run's fetch
	same := testNow                 // an account.updated of the second of the fetch
	const (
		written   = "written"
		unchanged = "unchanged"
	)
	tests := []struct {
		name   string
		coach  string
		stored map[string]any
		answer *fakeAnswer // nil: Stripe must not be asked
		// want is the stored state after the first run.
		wantEnabled bool
		wantReason  string
		wantAt      *time.Time
		write       string
		// outcome counters of the first run
		checked, updated, missing, failed, retry bool
	}{
		{name: "transient Stripe error: unchanged, retried by the next run", coach: "a01",
			stored: connectDoc("a01", "acct_a01", false, "onboarding_incomplete", nil),
			answer: ptr(stripeErr(http.StatusServiceUnavailable, "api_error", "", "Stripe is down")),
			write:  unchanged, wantReason: "onboarding_incomplete", failed: true, retry: true},
		{name: "key without the permission (403): unchanged, not taken for a deleted account", coach: "a02",
			stored: connectDoc("a02", "acct_a02", true, "", &old),
			answer: ptr(stripeErr(http.StatusForbidden, "invalid_request_error", "", "The provided key does not have the required permissions for this endpoint")),
			write:  unchanged, wantEnabled: true, wantAt: &old, failed: true},
		{name: "key of the other mode: not taken for a deleted account", coach: "a03",
			stored: connectDoc("a03", "acct_a03", true, "", &old),
			answer: ptr(stripeErr(http.StatusNotFound, "invalid_request_error", "resource_missing",
				"No such account: 'acct_a03'; a similar object exists in live mode, but a test mode key was used to make this request.")),
			write: unchanged, wantEnabled: true, wantAt: &old, failed: true},
		{name: "account whose metadata names another coach: left for a person", coach: "a04",
			stored: connectDoc("a04", "acct_a04", false, "onboarding_incomplete", nil),
			answer: ptr(okAccount("acct_a04", "someone-else", true, "")),
			write:  unchanged, wantReason: "onboarding_incomplete", failed: true},
		{name: "stale disabled, account now enabled: corrected", coach: "b01",
			stored: connectDoc("b01", "acct_b01", false, "onboarding_incomplete", nil),
			answer: ptr(okAccount("acct_b01", "b01", true, "")),
			write:  written, wantEnabled: true, wantAt: &testNow, checked: true, updated: true},
		{name: "stale enabled, account now restricted: corrected", coach: "b02",
			stored: connectDoc("b02", "acct_b02", true, "", &old),
			answer: ptr(okAccount("acct_b02", "b02", false, "requirements.past_due")),
			write:  written, wantReason: "requirements.past_due", wantAt: &testNow, checked: true, updated: true},
		{name: "account without coachUid metadata: the coach recording it", coach: "b03",
			stored: connectDoc("b03", "acct_b03", false, "onboarding_incomplete", nil),
			answer: func() *fakeAnswer {
				a := okAccount("acct_b03", "b03", true, "")
				delete(a.body.(map[string]any), "metadata")
				return &a
			}(),
			write: written, wantEnabled: true, wantAt: &testNow, checked: true, updated: true},
		{name: "up to date: no write", coach: "b04",
			stored: connectDoc("b04", "acct_b04", true, "", &old),
			answer: ptr(okAccount("acct_b04", "b04", true, "")),
			write:  unchanged, wantEnabled: true, wantAt: &old, checked: true},
		{name: "newer webhook state is not overwritten by the fetch", coach: "b05",
			stored: connectDoc("b05", "acct_b05", false, "requirements.past_due", &newer),
			answer: ptr(okAccount("acct_b05", "b05", true, "")),
			write:  unchanged, wantReason: "requirements.past_due", wantAt: &newer, checked: true},
		{name: "same second as a stored disabled state: enabled wins", coach: "b06",
			stored: connectDoc("b06", "acct_b06", false, "requirements.past_due", &same),
			answer: ptr(okAccount("acct_b06", "b06", true, "")),
			write:  written, wantEnabled: true, wantAt: &testNow, checked: true, updated: true},
		{name: "same second as a stored enabled state: disabled loses", coach: "b07",
			stored: connectDoc("b07", "acct_b07", true, "", &same),
			answer: ptr(okAccount("acct_b07", "b07", false, "requirements.past_due")),
			write:  unchanged, wantEnabled: true, wantAt: &same, checked: true},
		{name: "deleted account: not payable", coach: "b08",
			stored: connectDoc("b08", "acct_b08", true, "", &old),
			answer: ptr(noSuchAccount("acct_b08")),
			write:  written, wantReason: ReasonAccountNotFound, wantAt: &testNow, checked: true, updated: true, missing: true},
		{name: "deleted account already recorded: no write", coach: "b09",
			stored: connectDoc("b09", "acct_b09", false, ReasonAccountNotFound, &old),
			answer: ptr(noSuchAccount("acct_b09")),
			write:  unchanged, wantReason: ReasonAccountNotFound, wantAt: &old, checked: true, missing: true},
		{name: "account no longer accessible (account_invalid): not payable", coach: "b10",
			stored: connectDoc("b10", "acct_b10", true, "", &old),
			answer: ptr(stripeErr(http.StatusForbidden, "invalid_request_error", "account_invalid",
				"The provided key does not have access to account 'acct_b10' (or that account does not exist).")),
			write: written, wantReason: ReasonAccountNotFound, wantAt: &testNow, checked: true, updated: true, missing: true},
		{name: "no account yet: not asked", coach: "b11",
			stored: connectDoc("b11", "", false, "onboarding_incomplete", nil),
			write:  unchanged, wantReason: "onboarding_incomplete"},
	}
	before := map[string]time.Time{}
	var want ReplayReport
	for _, tt := range tests {
		h.set(model.CoachConnectPath(tt.coach), tt.stored)
		// The coach's payout state also carries coachId (and is skipped).
		h.set("users/"+tt.coach+"/private/payouts", map[string]any{"coachId": tt.coach})
		if tt.answer != nil {
			fake.set(tt.stored["stripeAccountId"].(string), *tt.answer)
		}
		before[tt.coach] = h.updateTime(model.CoachConnectPath(tt.coach))
		for _, c := range []struct {
			on bool
			n  *int
		}{{tt.checked, &want.AccountsChecked}, {tt.updated, &want.AccountsUpdated}, {tt.missing, &want.AccountsMissing},
			{tt.failed, &want.AccountsFailed}, {tt.retry, &want.AccountsRetry}} {
			if c.on {
				*c.n++
			}
		}
	}

	rep, err := h.svc.Replay(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, ut := h.connectOf(tt.coach)
			if cc.PayoutsEnabled != tt.wantEnabled || cc.PayoutsReason != tt.wantReason {
				t.Errorf("payoutsEnabled %t, reason %q; want %t, %q", cc.PayoutsEnabled, cc.PayoutsReason, tt.wantEnabled, tt.wantReason)
			}
			switch {
			case tt.wantAt == nil && cc.AccountUpdated != nil:
				t.Errorf("accountUpdatedAt %v, want none", *cc.AccountUpdated)
			case tt.wantAt != nil && (cc.AccountUpdated == nil || !cc.AccountUpdated.Equal(*tt.wantAt)):
				t.Errorf("accountUpdatedAt %v, want %v", cc.AccountUpdated, *tt.wantAt)
			}
			if got := map[bool]string{true: unchanged, false: written}[ut.Equal(before[tt.coach])]; got != tt.write {
				t.Errorf("document %s, want %s", got, tt.write)
			}
			if acct, _ := tt.stored["stripeAccountId"].(string); acct != "" {
				if n := fake.count(acct); n != 1 {
					t.Errorf("%d requests for %s, want 1", n, acct)
				}
			}
		})
	}
	if fake.total() != len(tests)-1 {
		t.Errorf("%d account requests, want %d", fake.total(), len(tests)-1)
	}
	got := ReplayReport{AccountsChecked: rep.AccountsChecked, AccountsUpdated: rep.AccountsUpdated, AccountsMissing: rep.AccountsMissing,
		AccountsFailed: rep.AccountsFailed, AccountsRetry: rep.AccountsRetry}
	want.AccountsDone = true
	got.AccountsDone = rep.AccountsDone
	if got != want {
		t.Errorf("report %+v, want %+v", got, want)
	}
	cp := h.checkpoint()
	if retry, _ := cp["accountsRetry"].([]any); len(retry) != 1 || retry[0] != "a01" {
		t.Errorf("stored retry list %v, want [a01]", cp["accountsRetry"])
	}
	if cur, _ := cp["accountsCursor"].(string); cur != "" || cp["accountsDone"] != true {
		t.Errorf("stored cursor %q, done %v; want a new pass next", cur, cp["accountsDone"])
	}

	// The next run checks the coach whose check failed transiently first,
	// now successfully, and not again in the new pass; it writes nothing
	// else.
	fake.set("acct_a01", okAccount("acct_a01", "a01", true, ""))
	rep2, err := h.svc.Replay(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.AccountsUpdated != 1 || rep2.AccountsRetry != 0 || rep2.AccountsFailed != 3 || !rep2.AccountsDone {
		t.Errorf("second run %+v, want 1 updated (a01), 3 failed again, nothing to retry", rep2)
	}
	if cc, _ := h.connectOf("a01"); !cc.PayoutsEnabled || cc.PayoutsReason != "" {
		t.Errorf("a01 after the retry: %+v", cc)
	}
	if n := fake.count("acct_a01"); n != 2 {
		t.Errorf("acct_a01 requested %d times over two runs, want 2", n)
	}
	if retry, _ := h.checkpoint()["accountsRetry"].([]any); len(retry) != 0 {
		t.Errorf("stored retry list %v, want empty", retry)
	}
}

// TestConnectStateOrderWebhookAndReconcile: the webhook and the
// reconciliation order their updates the same way. A state fetched at
// second S counts as an account.updated created at S: a late event created
// before S does not overwrite it, one of the same second only when it
// enables payouts, one created after S does; a fetch does not overwrite
// that newer event's state, and a later fetch does.
func TestConnectStateOrderWebhookAndReconcile(t *testing.T) {
	h := newHarness(t)
	fake := h.useFakeAccounts()
	h.set("coach_profiles/coach-o/private/connect", connectDoc("coach-o", "acct_o", false, "onboarding_incomplete", nil))
	fake.set("acct_o", okAccount("acct_o", "coach-o", true, ""))
	var clock = testNow
	h.svc.Now = func() time.Time { return clock }
	S := testNow.Unix()

	steps := []struct {
		name        string
		event       int64 // account.updated created at (0: a reconciliation run instead)
		enabled     bool  // the event's payouts_enabled
		wantEnabled bool
		wantAt      int64
	}{
		{name: "run corrects the stale state", wantEnabled: true, wantAt: S},
		{name: "late event from before the fetch", event: S - 1, enabled: false, wantEnabled: true, wantAt: S},
		{name: "event of the fetch's second disabling", event: S, enabled: false, wantEnabled: true, wantAt: S},
		{name: "event after the fetch", event: S + 1, enabled: false, wantEnabled: false, wantAt: S + 1},
		{name: "run with the same clock: older than the event", wantEnabled: false, wantAt: S + 1},
		{name: "run a minute later", event: 0, wantEnabled: true, wantAt: S + 60},
	}
	for i, st := range steps {
		if st.event != 0 {
			due := []string{"external_account"}
			h.mustDeliver(event(fmt.Sprintf("evt_order_%d", i), "account.updated", st.event,
				objAccount("acct_o", "coach-o", st.enabled, true, due, "")))
		} else {
			if i == len(steps)-1 {
				clock = testNow.Add(time.Minute)
			}
			if _, err := h.svc.Replay(t.Context(), time.Time{}); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		cc, _ := h.connectOf("coach-o")
		if cc.PayoutsEnabled != st.wantEnabled || cc.AccountUpdated == nil || cc.AccountUpdated.Unix() != st.wantAt {
			t.Errorf("%s: enabled %t at %v; want %t at %v", st.name, cc.PayoutsEnabled, cc.AccountUpdated,
				st.wantEnabled, time.Unix(st.wantAt, 0).UTC())
		}
	}
}

// TestReconcileAccountsBudgetResumes: with 130 coaches (and a payout-state
// document each, so that a coach's documents can straddle the 100-document
// pages) and a budget of about 25 account checks a run (each account
// request moves the clock on a second), every run stops early and stores
// a cursor past the last one, the next run resumes there, and the last run
// ends the pass (cursor cleared). Every coach is asked about and
// corrected exactly once: the checks in flight when the budget ran out
// finish and the cursor passes them.
func TestReconcileAccountsBudgetResumes(t *testing.T) {
	h := newHarness(t)
	fake := h.useFakeAccounts()
	const n = 130
	seedCoaches(h, fake, n, okAccount)
	var mu sync.Mutex
	clock := testNow
	h.svc.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	fake.onGet = func() {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
	}
	// The clock stands still for the events, so the accounts get all of
	// it that the events leave: about 25 checks a run.
	const budget = 25 * time.Second

	var total ReplayReport
	prev := ""
	runs := 0
	for ; runs < n; runs++ {
		rep, err := h.svc.replayWithin(t.Context(), time.Time{}, budget)
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		total.AccountsChecked += rep.AccountsChecked
		total.AccountsUpdated += rep.AccountsUpdated
		total.AccountsFailed += rep.AccountsFailed
		cp := h.checkpoint()
		cur, _ := cp["accountsCursor"].(string)
		if rep.AccountsDone {
			if cur != "" {
				t.Errorf("last run stored cursor %q, want none", cur)
			}
			break
		}
		if rep.AccountsChecked == 0 || cur <= prev {
			t.Fatalf("run %d made no progress: %d checked, cursor %q after %q", runs, rep.AccountsChecked, cur, prev)
		}
		prev = cur
	}
	t.Logf("%d runs, %d account requests, %+v", runs+1, fake.total(), total)
	if runs < 3 {
		t.Errorf("%d runs: the budget did not stop the pass", runs+1)
	}
	if total.AccountsUpdated != n || total.AccountsFailed != 0 || total.AccountsChecked != n {
		t.Errorf("over %d runs: %+v, want %d updated", runs+1, total, n)
	}
	for i := 0; i < n; i++ {
		coach := fmt.Sprintf("coach-%03d", i)
		if cc, _ := h.connectOf(coach); !cc.PayoutsEnabled {
			t.Errorf("%s never corrected", coach)
		}
		if c := fake.count(fmt.Sprintf("acct_%03d", i)); c != 1 {
			t.Errorf("%s checked %d times, want 1", coach, c)
		}
	}
	// The payout-state documents are never written.
	docs, err := h.db.CollectionGroup("private").Where("coachId", ">", "").Documents(t.Context()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Ref.ID == "payouts" && !d.UpdateTime.Equal(d.CreateTime) {
			t.Errorf("%s written", d.Ref.Path)
		}
	}
}

// seedCoaches stores n coaches coach-000… with a stale Connect state
// (payouts disabled, onboarding incomplete) recording acct_000…, and a
// payout-state document each (users/{uid}/private/payouts, which carries
// coachId too); answer gives Stripe's answer for each account.
func seedCoaches(h *harness, fake *fakeAccounts, n int, answer func(id, coach string, enabled bool, reason string) fakeAnswer) {
	h.t.Helper()
	bw := h.db.BulkWriter(h.t.Context())
	for i := 0; i < n; i++ {
		coach := fmt.Sprintf("coach-%03d", i)
		acct := fmt.Sprintf("acct_%03d", i)
		for path, doc := range map[string]map[string]any{
			model.CoachConnectPath(coach):         connectDoc(coach, acct, false, "onboarding_incomplete", nil),
			"users/" + coach + "/private/payouts": {"coachId": coach},
		} {
			if _, err := bw.Set(h.db.Doc(path), doc); err != nil {
				h.t.Fatal(err)
			}
		}
		fake.set(acct, answer(acct, coach, true, ""))
	}
	bw.End()
}

// TestReconcileAccountsStripeDown: while Stripe fails every account
// request, the run records the coaches to retry up to accountsRetryMax and
// stops the pass before the first one it cannot record, writing nothing;
// once Stripe is back, the next run checks those coaches first, then
// resumes the pass at the cursor and finishes it. Every account is asked
// about once per run.
func TestReconcileAccountsStripeDown(t *testing.T) {
	h := newHarness(t)
	fake := h.useFakeAccounts()
	const n = accountsRetryMax + 30
	down := func(string, string, bool, string) fakeAnswer {
		return stripeErr(http.StatusServiceUnavailable, "api_error", "", "Stripe is down")
	}
	seedCoaches(h, fake, n, down)

	rep, err := h.svc.Replay(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountsFailed != n || rep.AccountsChecked != 0 || rep.AccountsRetry != accountsRetryMax || rep.AccountsDone {
		t.Errorf("run while Stripe is down: %+v, want %d failed, %d to retry, not done", rep, n, accountsRetryMax)
	}
	cp := h.checkpoint()
	if cur, _ := cp["accountsCursor"].(string); cur != fmt.Sprintf("coach-%03d", accountsRetryMax-1) {
		t.Errorf("stored cursor %q, want the last coach recorded for a retry", cur)
	}
	for i := 0; i < n; i++ {
		if cc, _ := h.connectOf(fmt.Sprintf("coach-%03d", i)); cc.PayoutsEnabled || cc.AccountUpdated != nil {
			t.Fatalf("coach-%03d written while Stripe was down: %+v", i, cc)
		}
	}

	for i := 0; i < n; i++ {
		fake.set(fmt.Sprintf("acct_%03d", i), okAccount(fmt.Sprintf("acct_%03d", i), fmt.Sprintf("coach-%03d", i), true, ""))
	}
	rep, err = h.svc.Replay(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountsUpdated != n || rep.AccountsFailed != 0 || rep.AccountsRetry != 0 || !rep.AccountsDone {
		t.Errorf("run once Stripe is back: %+v, want %d updated, done", rep, n)
	}
	for i := 0; i < n; i++ {
		if cc, _ := h.connectOf(fmt.Sprintf("coach-%03d", i)); !cc.PayoutsEnabled {
			t.Errorf("coach-%03d not corrected", i)
		}
		if c := fake.count(fmt.Sprintf("acct_%03d", i)); c != 2 {
			t.Errorf("acct_%03d asked %d times over two runs, want 2", i, c)
		}
	}
}
