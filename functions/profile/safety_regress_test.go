package profile

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/events/eventstest"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/screening"
	"github.com/innerjourney/functions/shared/testenv"
	"github.com/innerjourney/functions/shared/wellbeing"
)

// TestMalformedAnswerElementKeepsSafety: the rules accept any list of at
// most 200 elements as answers. One element that is not a {questionId,
// answer} map once failed the whole document's decoding, so item 9 = 3 and
// a "yes" to the safety question raised nothing. Malformed elements are
// skipped and counted; the valid answers are scored.
func TestMalformedAnswerElementKeepsSafety(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	fs.LoadRepoRules(t, p)
	c := fs.Client(t, p)
	ctx := context.Background()
	s, _ := newService(c)

	tests := []struct {
		name string
		bad  []any
	}{
		{"bare string", []any{"skipped"}},
		{"numeric questionId", []any{map[string]any{"questionId": int64(9), "answer": "yes"}}},
		{"null and number", []any{nil, int64(3)}},
		{"boolean questionId, timestamp", []any{map[string]any{"questionId": true}, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := "malformed-" + string(rune('a'+i))
			ans := []any{}
			for j, a := range onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 3}, "yes") {
				if j == 3 {
					ans = append(ans, tt.bad...) // in the middle: positions after it shift
				}
				ans = append(ans, map[string]any{"questionId": a.QuestionID, "answer": a.Answer})
			}
			grantSensitiveData(t, c, uid)
			fields := onboardingFields(uid, nil)
			fields["answers"] = ans
			if st, body := createAsUser(t, fs, p, uid, fields); st != http.StatusOK {
				t.Fatalf("the rules refused the write (%d %v)", st, body)
			}
			written, _ := data(t, c, "users/"+uid)
			if err := s.OnUserWritten(ctx, userEvent(t, eventstest.Protobuf, p, uid, "m1", nil, written)); err != nil {
				t.Fatalf("OnUserWritten: %v", err)
			}
			if n := len(countWellbeing(t, c, uid)); n != 1 {
				t.Errorf("%d wellbeing events after item 9 = 3 and safety = yes, want 1", n)
			}
			after, _ := data(t, c, "users/"+uid)
			if f, _ := after["wellbeingFlags"].(map[string]any); f["suicideRisk"] != true {
				t.Errorf("wellbeingFlags = %v, want suicideRisk true", after["wellbeingFlags"])
			}
			prof, _ := after["profile"].(map[string]any)
			scr, _ := prof["screening"].(map[string]any)
			if scr["invalidAnswers"] != int64(len(tt.bad)) || scr["unknownQuestions"] != int64(0) {
				t.Errorf("profile.screening = %v, want %d invalid answers, no unknown questions", scr, len(tt.bad))
			}
			// The function's own write is recognised by the loop guard.
			again, _ := data(t, c, "users/"+uid)
			u, err := DecodeUser(userEvent(t, eventstest.Protobuf, p, uid, "m2", written, again).After.DataTo)
			if err != nil || !UpToDate(u, granted, time.Now()) {
				t.Errorf("own write not up to date (loop guard): %v", err)
			}
		})
	}
}

func TestScoreAnswersMalformedIssues(t *testing.T) {
	good := onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 1}, "no")
	tests := []struct {
		name       string
		malformed  []int // positions of placeholders in the answers
		wantIssues []screening.Issue
	}{
		{"none", nil, nil},
		{"first and last", []int{0, len(good) + 1},
			[]screening.Issue{{Index: 0, Problem: screening.ProblemMalformedEntry}, {Index: len(good) + 1, Problem: screening.ProblemMalformedEntry}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := append([]any{}, toAny(good)...)
			for _, i := range tt.malformed {
				all = append(all[:i], append([]any{"skipped"}, all[i:]...)...)
			}
			u, err := DecodeUser(func(v any) error {
				v.(*userDoc).RawAnswers = all
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sr := scoreAnswers(u.Answers, everyAnswer)
			want := screening.Score(toScreening(good))
			if sr.InvalidAnswers != want.InvalidAnswers+len(tt.malformed) || sr.Answered != want.Answered ||
				sr.WellbeingFlags != want.WellbeingFlags {
				t.Errorf("result %+v, want %+v with %d more invalid answers", sr, want, len(tt.malformed))
			}
			if len(sr.Issues) != len(tt.wantIssues) {
				t.Fatalf("issues %+v, want %+v", sr.Issues, tt.wantIssues)
			}
			for i := range sr.Issues {
				if sr.Issues[i] != tt.wantIssues[i] {
					t.Errorf("issue %d = %+v, want %+v", i, sr.Issues[i], tt.wantIssues[i])
				}
			}
		})
	}
}

// toAny returns answers as Firestore returns a list of maps.
func toAny(answers []model.Answer) []any {
	out := make([]any, len(answers))
	for i, a := range answers {
		out[i] = map[string]any{"questionId": a.QuestionID, "answer": a.Answer}
	}
	return out
}

func toScreening(answers []model.Answer) []screening.Answer {
	out := make([]screening.Answer, len(answers))
	for i, a := range answers {
		out[i] = screening.Answer{QuestionID: a.QuestionID, Answer: a.Answer}
	}
	return out
}

// TestRepeatedRiskAfterAckOpensNewEpisode: the package README says "After
// an acknowledgment or the window, a signal opens a new episode". A user
// who answers the safety question "yes" again, with the same answers as an
// earlier (acknowledged, long closed) episode, has the same inputHash,
// hence the same source key; the protocol once called that a duplicate
// and nobody was alerted. Redelivery inside the new episode stays a no-op.
func TestRepeatedRiskAfterAckOpensNewEpisode(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	clk := time.Now().UTC()
	now := func() time.Time { return clk }
	s, _ := newService(c)
	s.Now = now
	s.Wellbeing = &wellbeing.Protocol{Now: now}

	risk := onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "yes")
	d := onboardingFields("rae", risk)
	d["createdAt"] = clk
	if _, err := c.Doc("users/rae").Set(ctx, d); err != nil {
		t.Fatal(err)
	}
	p1, err := s.Recompute(ctx, "rae", false)
	if err != nil || p1.Wellbeing == nil || p1.Wellbeing.Status != wellbeing.Opened {
		t.Fatalf("first: %+v %v", p1, err)
	}
	// On-call acknowledges; the user later answers "no".
	if _, err := wellbeing.Acknowledge(ctx, c, clk, p1.Wellbeing.EventID, "admin-1"); err != nil {
		t.Fatal(err)
	}
	clk = clk.Add(10 * 24 * time.Hour)
	if _, err := c.Doc("users/rae").Update(ctx, []firestore.Update{{Path: "answers", Value: onboarding([]int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "no")}}); err != nil {
		t.Fatal(err)
	}
	if p2, err := s.Recompute(ctx, "rae", false); err != nil || p2.WellbeingFlags.SuicideRisk {
		t.Fatalf("cleared: %v", err)
	}
	// Weeks later the user answers "yes" again.
	clk = clk.Add(20 * 24 * time.Hour)
	if _, err := c.Doc("users/rae").Update(ctx, []firestore.Update{{Path: "answers", Value: risk}}); err != nil {
		t.Fatal(err)
	}
	p3, err := s.Recompute(ctx, "rae", false)
	if err != nil {
		t.Fatal(err)
	}
	if !p3.WellbeingFlags.SuicideRisk {
		t.Fatal("flag not set")
	}
	if p3.Wellbeing == nil || p3.Wellbeing.Status != wellbeing.Opened || p3.Wellbeing.EventID == p1.Wellbeing.EventID {
		t.Errorf("new risk signal 30 days after an acknowledged episode: outcome %+v, want a new episode (opened)", p3.Wellbeing)
	}
	// The same signal redelivered in the new episode: nothing new.
	p4, err := s.Recompute(ctx, "rae", true)
	if err != nil {
		t.Fatal(err)
	}
	if p4.Wellbeing != nil && p4.Wellbeing.Status == wellbeing.Opened {
		t.Errorf("redelivery opened another episode: %+v", p4.Wellbeing)
	}
	o, err := s.protocol().Raise(ctx, c, wellbeing.Signal{UserID: "rae", Source: wellbeing.SourceScreening,
		SourceKey: p3.Meta.InputHash, RuleVersion: screening.RulesVersion, Trigger: map[string]any{"flag": "suicideRisk"}})
	if err != nil || o.Status != wellbeing.Duplicate || o.EventID != p3.Wellbeing.EventID {
		t.Errorf("the opening signal redelivered: %+v %v, want a duplicate of %s", o, err, p3.Wellbeing.EventID)
	}
	if n := len(countWellbeing(t, c, "rae")); n != 2 {
		t.Errorf("%d wellbeing events, want 2", n)
	}
}
