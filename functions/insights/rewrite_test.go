package insights

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/model"
)

// fakeRewriter is a Rewriter that counts its calls; rewrite answers them
// (nil: "Fresh: " before every text).
type fakeRewriter struct {
	calls   atomic.Int32
	rewrite func(ctx context.Context, in *model.DailyInsight) (Rewrite, error)
}

const fakeModel = "fake-model"

func (*fakeRewriter) Name() string { return fakeModel }

func (f *fakeRewriter) Rewrite(ctx context.Context, in *model.DailyInsight) (Rewrite, error) {
	f.calls.Add(1)
	if f.rewrite != nil {
		return f.rewrite(ctx, in)
	}
	return fresh(in), nil
}

// fresh is the fake rewrite of in: "Fresh: " before every text.
func fresh(in *model.DailyInsight) Rewrite {
	p := func(s string) string {
		if s == "" {
			return ""
		}
		return "Fresh: " + s
	}
	return Rewrite{p(in.Headline), p(in.Content), p(in.Intention), p(in.Affirmation), p(in.JournalPrompt)}
}

// consent writes consents/{uid} with the given ai_analysis entries, in
// order (granted or revoked).
func (h *harness) consent(uid string, statuses ...model.ConsentStatus) {
	h.t.Helper()
	c := model.Consents{UserID: uid}
	for i, st := range statuses {
		c.ConsentsGiven = append(c.ConsentsGiven, model.ConsentEntry{Type: model.ConsentAIAnalysis, Version: "1",
			AgreedAt: clock.Add(time.Duration(i-10) * time.Hour), Status: st})
	}
	if _, err := h.c.Collection(model.ColConsents).Doc(uid).Set(h.ctx(), &c); err != nil {
		h.t.Fatal(err)
	}
}

// insight returns uid's insight of 2026-11-21 and its notification.
func (h *harness) insight(uid string) (model.DailyInsight, model.Notification) {
	h.t.Helper()
	u := h.c.Collection(model.ColUsers).Doc(uid)
	var in model.DailyInsight
	var note model.Notification
	s, err := u.Collection(model.SubColInsights).Doc("2026-11-21").Get(h.ctx())
	if err != nil {
		h.t.Fatalf("%s's insight: %v", uid, err)
	}
	if err := s.DataTo(&in); err != nil {
		h.t.Fatal(err)
	}
	s, err = u.Collection(model.SubColNotes).Doc(NotificationID("2026-11-21")).Get(h.ctx())
	if err != nil {
		h.t.Fatalf("%s's notification: %v", uid, err)
	}
	if err := s.DataTo(&note); err != nil {
		h.t.Fatal(err)
	}
	return in, note
}

// dueUser is a user due at clock with a chart.
func dueUser(birth string) user {
	return user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: birth, chart: true}
}

// TestRewriteNeedsAIConsent: with a Rewriter, only the users who grant
// ai_analysis now get a rewritten insight (rewrittenBy = the model);
// the others (no consents document, a revoked grant, a document that does
// not decode) get the template wording, and the Rewriter never sees them.
func TestRewriteNeedsAIConsent(t *testing.T) {
	h := newHarness(t)
	r := &fakeRewriter{}
	h.s.Rewriter, h.s.ShardSize = r, 10
	for _, uid := range []string{"granted", "none", "revoked", "corrupt"} {
		h.put(uid, dueUser("1990-05-15"))
	}
	h.consent("granted", model.ConsentRevoked, model.ConsentGranted)
	h.consent("revoked", model.ConsentGranted, model.ConsentRevoked)
	if _, err := h.c.Collection(model.ColConsents).Doc("corrupt").Set(h.ctx(), map[string]any{"consentsGiven": "oops"}); err != nil {
		t.Fatal(err)
	}
	st, err := h.worker(h.fanoutOne(), time.Minute)
	if err != nil || st.Created != 4 || st.Rewritten != 1 {
		t.Fatalf("worker: %+v %v, want 4 created, 1 rewritten", st, err)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("rewriter called %d times, want once (for the granting user)", got)
	}
	in, note := h.insight("granted")
	if in.RewrittenBy != fakeModel || !strings.HasPrefix(in.Headline, "Fresh: ") || !strings.HasPrefix(in.Content, "Fresh: ") {
		t.Errorf("granting user's insight not rewritten: %+v", in)
	}
	if note.Title != in.Headline || note.Body != in.Intention {
		t.Errorf("notification %q / %q, want the rewritten %q / %q", note.Title, note.Body, in.Headline, in.Intention)
	}
	for _, uid := range []string{"none", "revoked", "corrupt"} {
		in, note := h.insight(uid)
		if in.RewrittenBy != "" || strings.Contains(in.Headline+in.Content+note.Title, "Fresh: ") {
			t.Errorf("%s: template wording expected: %+v", uid, in)
		}
	}
	// The wording is the only difference: same templates as without a
	// rewriter.
	plain := newHarness(t)
	plain.s.ShardSize = 10
	plain.put("granted", dueUser("1990-05-15"))
	if _, err := plain.worker(plain.fanoutOne(), time.Minute); err != nil {
		t.Fatal(err)
	}
	want, _ := plain.insight("granted")
	if strings.Join(in.TemplateIDs, " ") != strings.Join(want.TemplateIDs, " ") ||
		strings.TrimPrefix(in.Headline, "Fresh: ") != want.Headline {
		t.Errorf("rewritten insight's templates %v (headline %q), want %v (%q)", in.TemplateIDs, in.Headline, want.TemplateIDs, want.Headline)
	}
}

func (h *harness) mustInsight(uid string) model.DailyInsight {
	h.t.Helper()
	in, _ := h.insight(uid)
	return in
}

// TestRewriteFailureKeepsTemplates: whatever goes wrong with the provider
// (an error, a blocked or unsafe answer, a blank or runaway field), every
// user gets the template wording, the shard completes and no error is
// returned.
func TestRewriteFailureKeepsTemplates(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(context.Context, *model.DailyInsight) (Rewrite, error)
	}{
		{"provider error", func(context.Context, *model.DailyInsight) (Rewrite, error) {
			return Rewrite{}, errors.New("gemini: generate (attempt 3): 503")
		}},
		{"blocked", func(context.Context, *model.DailyInsight) (Rewrite, error) {
			return Rewrite{}, fmt.Errorf("insights rewrite: %w", analysis.ErrRewriteBlocked)
		}},
		{"medical claim", func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
			r := fresh(in)
			r.Content = "This transit will heal what hurts."
			return r, nil
		}},
		{"claim inside a compound word", func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
			r := fresh(in)
			r.Intention = "I give my evening a little aromatherapy."
			return r, nil
		}},
		{"blank field", func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
			r := fresh(in)
			r.Affirmation = " "
			return r, nil
		}},
		{"runaway field", func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
			r := fresh(in)
			r.Headline = strings.Repeat("so much more ", 40)
			return r, nil
		}},
		{"timeout", func(ctx context.Context, _ *model.DailyInsight) (Rewrite, error) {
			if _, ok := ctx.Deadline(); !ok {
				return Rewrite{}, errors.New("no deadline")
			}
			return Rewrite{}, context.DeadlineExceeded
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := &fakeRewriter{rewrite: tt.rewrite}
			h.s.Rewriter, h.s.ShardSize = r, 10
			for i := range 3 {
				uid := fmt.Sprint("f", i)
				h.put(uid, dueUser(fmt.Sprintf("199%d-05-15", i)))
				h.consent(uid, model.ConsentGranted)
			}
			st, err := h.worker(h.fanoutOne(), time.Minute)
			if err != nil || st.Created != 3 || st.Rewritten != 0 || st.Failed != 0 {
				t.Fatalf("worker: %+v %v, want 3 created, none rewritten, no error", st, err)
			}
			if r.calls.Load() != 3 {
				t.Errorf("rewriter called %d times, want 3", r.calls.Load())
			}
			for i := range 3 {
				uid := fmt.Sprint("f", i)
				in, note := h.insight(uid)
				if in.RewrittenBy != "" || strings.Contains(in.Headline+in.Content+in.Affirmation, "Fresh: ") || note.Title != in.Headline {
					t.Errorf("%s: %+v, want the template wording", uid, in)
				}
				if !h.dueAt(uid).After(clock) {
					t.Errorf("%s: insightDueAt not advanced", uid)
				}
			}
		})
	}
}

// TestRewriteRedeliveryAsksNothing: a redelivered shard (fresh snapshots,
// old ones, or `ops insights run` of the date) neither asks the Rewriter
// again for a user already delivered nor writes anything; and when the
// first attempt's notification is missing, the one created now carries
// the delivered (rewritten) wording, not a new one.
func TestRewriteRedeliveryAsksNothing(t *testing.T) {
	h := newHarness(t)
	r := &fakeRewriter{}
	h.s.Rewriter, h.s.ShardSize = r, 10
	h.put("a", dueUser("1990-05-15"))
	h.put("b", dueUser("1991-06-16"))
	h.consent("a", model.ConsentGranted)
	data := h.fanoutOne()
	if st, err := h.worker(data, time.Minute); err != nil || st.Created != 2 || st.Rewritten != 1 {
		t.Fatalf("first delivery: %+v %v", st, err)
	}
	first := h.mustInsight("a")
	before := h.snapshot("a", "b")
	// Later answers would differ: a second rewrite would show.
	r.rewrite = func(_ context.Context, in *model.DailyInsight) (Rewrite, error) {
		w := fresh(in)
		w.Headline = "Again: " + in.Headline
		return w, nil
	}

	for _, after := range []time.Duration{2 * time.Minute, 20 * time.Minute} { // fresh, then old snapshots
		st, err := h.worker(data, after)
		if err != nil || st.Created != 0 || st.Rewritten != 0 {
			t.Errorf("redelivery after %s: %+v %v", after, st, err)
		}
	}
	if st, err := h.s.RunDate(h.ctx(), "2026-11-21", []string{"a", "b"}); err != nil || st.Created != 0 || st.Rewritten != 0 {
		t.Errorf("RunDate: %+v %v", st, err)
	}
	if got := r.calls.Load(); got != 1 {
		t.Errorf("rewriter called %d times, want once (the first delivery)", got)
	}
	if after := h.snapshot("a", "b"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("redeliveries wrote:\nbefore %v\nafter  %v", before, after)
	}

	// The first attempt's notification failed: a fresh redelivery creates
	// it, with the delivered insight's wording.
	note := h.c.Collection(model.ColUsers).Doc("a").Collection(model.SubColNotes).Doc(NotificationID("2026-11-21"))
	if _, err := note.Delete(h.ctx()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.worker(data, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	in, n := h.insight("a")
	if !reflect.DeepEqual(in, first) || n.Title != first.Headline || n.Body != first.Intention || r.calls.Load() != 1 {
		t.Errorf("after the redelivery: insight %+v, notification %q / %q, %d calls; want the first rewrite %q",
			in, n.Title, n.Body, r.calls.Load(), first.Headline)
	}
}

// TestRewriteBudget: a shard stops rewriting at its budget: rewrites in
// flight are cancelled and the rest are not started; those users get the
// template wording and the shard completes soon after the budget.
func TestRewriteBudget(t *testing.T) {
	tests := []struct {
		name    string
		users   int
		budget  time.Duration
		latency time.Duration // 0: until cancelled
		some    bool          // some rewrites fit the budget
	}{
		{"provider hangs", 12, 300 * time.Millisecond, 0, false},
		{"slow provider", 40, time.Second, 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var inFlight, most atomic.Int32
			r := &fakeRewriter{rewrite: func(ctx context.Context, in *model.DailyInsight) (Rewrite, error) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				wait := tt.latency
				if wait == 0 {
					wait = time.Hour
				}
				select {
				case <-time.After(wait):
					return fresh(in), nil
				case <-ctx.Done():
					return Rewrite{}, ctx.Err()
				}
			}}
			h.s.Rewriter, h.s.ShardSize, h.s.RewriteBudget = r, 100, tt.budget
			for i := range tt.users {
				uid := fmt.Sprintf("b%02d", i)
				h.put(uid, dueUser(fmt.Sprintf("19%02d-05-15", 50+i)))
				h.consent(uid, model.ConsentGranted)
			}
			data := h.fanoutOne()
			start := time.Now()
			st, err := h.worker(data, time.Minute)
			took := time.Since(start)
			if err != nil || st.Created != tt.users {
				t.Fatalf("worker: %+v %v", st, err)
			}
			if took > tt.budget+10*time.Second {
				t.Errorf("shard took %s with a rewrite budget of %s", took, tt.budget)
			}
			if m := most.Load(); m > RewriteConcurrency {
				t.Errorf("%d rewrites in flight, want at most %d", m, RewriteConcurrency)
			}
			if calls := int(r.calls.Load()); calls >= tt.users {
				t.Errorf("%d rewrites asked for %d users: the budget did not stop them", calls, tt.users)
			}
			if (st.Rewritten > 0) != tt.some || st.Rewritten >= tt.users {
				t.Errorf("%d of %d rewritten", st.Rewritten, tt.users)
			}
			var rewritten int
			for i := range tt.users {
				in := h.mustInsight(fmt.Sprintf("b%02d", i))
				if in.RewrittenBy != "" {
					rewritten++
				} else if strings.HasPrefix(in.Headline, "Fresh: ") {
					t.Errorf("b%02d: rewritten wording without rewrittenBy", i)
				}
			}
			if rewritten != st.Rewritten {
				t.Errorf("%d insights say rewrittenBy, stats %d", rewritten, st.Rewritten)
			}
		})
	}
}

// TestRewriteBudgetFitsWorkerTimeout keeps the rewrite budget, the worker
// function's timeout and the per-call timeout in step: a shard whose
// every rewrite hangs spends at most DefaultRewriteBudget rewriting,
// leaving WorkerMargin of WorkerTimeout for the reads and the writes;
// without the budget a full shard could take longer than the function
// may run.
func TestRewriteBudgetFitsWorkerTimeout(t *testing.T) {
	rounds := (DefaultShardSize + RewriteConcurrency - 1) / RewriteConcurrency
	unbounded := time.Duration(rounds) * RewriteTimeout
	tests := []struct {
		name string
		ok   bool
	}{
		{"budget + margin within the worker's timeout", DefaultRewriteBudget+WorkerMargin <= WorkerTimeout},
		{"margin of at least 60 s for reads and writes", WorkerMargin >= 60*time.Second},
		{"one rewrite fits the budget many times", 10*RewriteTimeout <= DefaultRewriteBudget},
		{"worker timeout within the 540 s of event-driven functions", WorkerTimeout <= 540*time.Second},
		{"the budget binds: a full shard of hanging rewrites would outlast it", unbounded > DefaultRewriteBudget},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: budget %s, margin %s, worker timeout %s, rewrite timeout %s (a full shard unbounded: %s)",
				tt.name, DefaultRewriteBudget, WorkerMargin, WorkerTimeout, RewriteTimeout, unbounded)
		}
	}
}

// TestGeminiRewriterSendsOnlyTexts: the Gemini adapter sends the
// insight's five texts and its language, and nothing else of the insight
// (uid, date, focus area, templates, Moon sign, transits); its Name is
// the model; a provider error is an error.
func TestGeminiRewriterSendsOnlyTexts(t *testing.T) {
	var body atomic.Value
	status := atomic.Int32{}
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		if s := int(status.Load()); s != 200 {
			w.WriteHeader(s)
			io.WriteString(w, `{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"}}`)
			return
		}
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":`+
			`"{\"headline\":\"New light\",\"content\":\"A softer day may open.\",\"intention\":\"Stay open.\",`+
			`\"affirmation\":\"I am open.\",\"journalPrompt\":\"What opened today?\"}"}]},"finishReason":"STOP"}]}`)
	}))
	t.Cleanup(srv.Close)
	g, err := analysis.NewGeminiRewriter(analysis.GeminiConfig{Model: "gemini-test", APIKey: "test-key", BaseURL: srv.URL,
		Timeout: 2 * time.Second, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	rw := NewGeminiRewriter(g)
	in := &model.DailyInsight{UserID: "uid-7f3a9c", Date: "2026-11-21", Headline: "Easy light",
		Content: "A gentle current may make the day lighter.", Intention: "Follow what feels kind.",
		Affirmation: "I let it be light.", JournalPrompt: "What felt easy?", PersonalDay: 7,
		TemplateIDs: []string{"aspect.sun.soft.1", "day.7.2"}, TemplatesVersion: "2026.11.2", Kind: KindChart,
		MoonSign: "Scorpio", FocusArea: model.FocusSpirituality, PracticeMinutes: 12,
		Transits: []model.Transit{{Transiting: "Jupiter", Natal: "Venus", Aspect: "trine", Orb: 1.25}}}
	out, err := rw.Rewrite(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out != (Rewrite{"New light", "A softer day may open.", "Stay open.", "I am open.", "What opened today?"}) || rw.Name() != "gemini-test" {
		t.Errorf("Rewrite = %+v, Name %q", out, rw.Name())
	}
	sent, _ := body.Load().(string)
	for _, text := range []string{in.Headline, in.Content, in.Intention, in.Affirmation, in.JournalPrompt, `\"language\":\"en\"`} {
		if !strings.Contains(sent, text) {
			t.Errorf("request lacks %q", text)
		}
	}
	for _, private := range []string{"uid-7f3a9c", "2026-11-21", "spirituality", "Scorpio", "Jupiter", "aspect.sun", "2026.11.2", "userId", "transits"} {
		if strings.Contains(sent, private) {
			t.Errorf("request carries %q: %s", private, sent)
		}
	}
	status.Store(400)
	if _, err := rw.Rewrite(context.Background(), in); err == nil || !strings.Contains(err.Error(), "insights rewrite") {
		t.Errorf("provider error: %v", err)
	}
}
