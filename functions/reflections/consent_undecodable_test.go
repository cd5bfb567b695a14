package reflections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// secretMarker is written into undecodable consents documents; it must
// never reach a log line.
const secretMarker = "private-consent-text-7f3a"

const crisisText = "I can't do this anymore. I want to kill myself."

// withdraw takes uid's ai_analysis consent away: a revoked consent (the
// control) or a consents document that does not decode as model.Consents
// (consentsGiven is a string).
func (f *fixture) withdraw(uid string, undecodable bool) {
	f.t.Helper()
	if !undecodable {
		f.consent(uid, model.ConsentRevoked)
		return
	}
	if _, err := f.fs.Doc("consents/"+uid).Set(context.Background(),
		map[string]any{"userId": uid, "consentsGiven": secretMarker}); err != nil {
		f.t.Fatal(err)
	}
}

// hookAnalyzer runs before, then the fixture's analyzer.
type hookAnalyzer struct {
	inner  analysis.Analyzer
	before func()
}

func (h hookAnalyzer) Analyze(ctx context.Context, e analysis.Entry) (analysis.Result, error) {
	h.before()
	return h.inner.Analyze(ctx, e)
}

// TestUndecodableConsentIsNoConsent: a consents document that does not
// decode grants nothing, at every read of the consent (the handler's first
// read, the re-read in its write transaction, the revocation removal), and
// the handler does exactly what it does without the ai_analysis consent,
// crisis handling included (no analysis, so no crisis detection and no
// wellbeing event), with no error; each read logs it with the uid and the
// alert attribute. Regression: consents.Granted returned a plain error (the
// event was redelivered forever) and the transaction's re-read a permanent
// one (the event was dropped with an error).
func TestUndecodableConsentIsNoConsent(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, f *fixture, uid string, undecodable bool)
	}{
		{"new crisis entry", func(t *testing.T, f *fixture, uid string, undecodable bool) {
			f.withdraw(uid, undecodable)
			if out := f.handle(f.event("e", nil, f.entry("e", uid, crisisText))); out != reflections.NoConsent {
				t.Errorf("outcome %s, want %s", out, reflections.NoConsent)
			}
		}},
		{"analysed entry edited to crisis text", func(t *testing.T, f *fixture, uid string, undecodable bool) {
			f.consent(uid, model.ConsentGranted)
			if out := f.handle(f.event("e", nil, f.entry("e", uid, "A calm walk by the sea."))); out != reflections.Analyzed {
				t.Fatalf("create: %s", out)
			}
			f.withdraw(uid, undecodable)
			if out := f.handle(f.edit("e", crisisText)); out != reflections.Withdrawn {
				t.Errorf("outcome %s, want %s", out, reflections.Withdrawn)
			}
		}},
		{"consent lost during the analysis of a crisis entry", func(t *testing.T, f *fixture, uid string, undecodable bool) {
			f.consent(uid, model.ConsentGranted)
			svc := *f.svc
			svc.Analyzer = hookAnalyzer{inner: f.svc.Analyzer, before: func() { f.withdraw(uid, undecodable) }}
			out, err := svc.Handle(context.Background(), f.event("e", nil, f.entry("e", uid, crisisText)))
			if err != nil || out != reflections.NoConsent {
				t.Errorf("Handle = %s, %v; want %s, nil", out, err, reflections.NoConsent)
			}
		}},
		{"revocation removal", func(t *testing.T, f *fixture, uid string, undecodable bool) {
			f.consent(uid, model.ConsentGranted)
			if out := f.handle(f.event("e", nil, f.entry("e", uid, "A calm walk by the sea."))); out != reflections.Analyzed {
				t.Fatalf("create: %s", out)
			}
			f.withdraw(uid, undecodable)
			if err := f.svc.AIAnalysisChanged(context.Background(), uid); err != nil {
				t.Errorf("AIAnalysisChanged: %v, want nil", err)
			}
		}},
	}
	for _, sc := range scenarios {
		for _, undecodable := range []bool{false, true} {
			state := "revoked"
			if undecodable {
				state = "undecodable"
			}
			t.Run(fmt.Sprintf("%s, %s", sc.name, state), func(t *testing.T) {
				f := newFixture(t)
				uid := "u-" + state
				logs := testenv.CaptureLogs(t)
				sc.run(t, f, uid, undecodable)
				if a := analysisOf(t, f.current("e")); a != nil {
					t.Errorf("analysis stored without a readable grant: label %v, crisis %v", a["label"], a["crisis"])
				}
				if n := len(f.wellbeingEvents(uid)); n != 0 {
					t.Errorf("%d wellbeing events, want 0 (as without consent)", n)
				}
				alerts := logs.Alerts(t, model.AlertConsentsUndecodable, "uid", secretMarker)
				if !undecodable {
					if len(alerts) != 0 {
						t.Errorf("alerts %v for a readable document", alerts)
					}
					return
				}
				if len(alerts) == 0 {
					t.Errorf("undecodable consents not logged; logs:\n%s", logs)
				}
				for _, u := range alerts {
					if u != uid {
						t.Errorf("alert for uid %v, want %s", u, uid)
					}
				}
			})
		}
	}
}

// TestLateEventSendsNothingToTheModel: an event that arrives after its
// entry was deleted, or rewritten, does not send the old text to the
// analyzer (Gemini, when configured: a third party): the handler reads the
// entry again first. Regression: the analyzer was called with the event's
// copy, and only the store was skipped.
func TestLateEventSendsNothingToTheModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(f *fixture)
		want  reflections.Outcome
	}{
		{"entry deleted", func(f *fixture) {
			if _, err := f.fs.Doc("user_activations/e").Delete(context.Background()); err != nil {
				f.t.Fatal(err)
			}
		}, reflections.NothingToDo},
		{"entry rewritten", func(f *fixture) { f.entry("e", "u1", "Something else entirely.") }, reflections.Superseded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.consent("u1", model.ConsentGranted)
			ev := f.event("e", nil, f.entry("e", "u1", "My private first draft."))
			tc.after(f)
			called := 0
			svc := *f.svc
			svc.Analyzer = hookAnalyzer{inner: f.svc.Analyzer, before: func() { called++ }}
			out, err := svc.Handle(context.Background(), ev)
			if err != nil || out != tc.want || called != 0 {
				t.Errorf("late event: %s, %v, analyzer called %d times; want %s and no call", out, err, called, tc.want)
			}
		})
	}
}
