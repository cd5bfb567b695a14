package consents_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/testenv"
)

// countingAnalyses counts AIAnalysisChanged calls and returns err.
type countingAnalyses struct {
	err   error
	calls []string
}

func (a *countingAnalyses) AIAnalysisChanged(_ context.Context, uid string) error {
	a.calls = append(a.calls, uid)
	return a.err
}

// TestAIAnalysisChangeCallsAnalysisRemover: onConsentsWritten tells the
// analysis remover exactly when the write changed whether ai_analysis is
// granted (revocation or grant; the remover re-reads the consent and acts
// only on a revocation), and not for other consent types or a repeated
// status. The end-to-end removal is tested in functions/reflections
// (TestRevocationRemovesAnalysesThroughConsents).
func TestAIAnalysisChangeCallsAnalysisRemover(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	p := fs.NewProject(t)
	c := fs.Client(t, p)
	ctx := context.Background()
	ai := func(s model.ConsentStatus, at time.Duration) model.ConsentEntry {
		return entry(model.ConsentAIAnalysis, s, t0.Add(at))
	}
	terms := entry(model.ConsentTermsOfService, model.ConsentGranted, t0)
	tests := []struct {
		name          string
		before, after []model.ConsentEntry // before nil: a create
		wantCall      bool
	}{
		{"first grant", nil, []model.ConsentEntry{ai(model.ConsentGranted, 0)}, true},
		{"terms only", nil, []model.ConsentEntry{terms}, false},
		{"revocation", []model.ConsentEntry{ai(model.ConsentGranted, 0)},
			[]model.ConsentEntry{ai(model.ConsentGranted, 0), ai(model.ConsentRevoked, time.Minute)}, true},
		{"re-grant", []model.ConsentEntry{ai(model.ConsentGranted, 0), ai(model.ConsentRevoked, time.Minute)},
			[]model.ConsentEntry{ai(model.ConsentGranted, 0), ai(model.ConsentRevoked, time.Minute), ai(model.ConsentGranted, 2*time.Minute)}, true},
		{"granted again while granted", []model.ConsentEntry{ai(model.ConsentGranted, 0)},
			[]model.ConsentEntry{ai(model.ConsentGranted, 0), ai(model.ConsentGranted, time.Minute)}, false},
		{"another type appended", []model.ConsentEntry{ai(model.ConsentRevoked, 0)},
			[]model.ConsentEntry{ai(model.ConsentRevoked, 0), terms}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("ai-%d", i)
			var before *model.Consents
			if tt.before != nil {
				b := history(uid, tt.before...)
				if _, err := c.Doc("consents/"+uid).Set(ctx, b); err != nil {
					t.Fatal(err)
				}
				before = &b
			}
			analyses := &countingAnalyses{}
			svc := &consents.Service{Firestore: c, Analyses: analyses, Now: func() time.Time { return t0 }}
			if err := svc.OnConsentsWritten(ctx, writeConsents(t, c, p, before, history(uid, tt.after...))); err != nil {
				t.Fatal(err)
			}
			if got := len(analyses.calls) == 1 && analyses.calls[0] == uid; got != tt.wantCall || len(analyses.calls) > 1 {
				t.Errorf("AIAnalysisChanged calls %v, want a call: %v", analyses.calls, tt.wantCall)
			}
		})
	}
}

// TestOnConsentsWrittenAnalysisRemoverErrors: a failure of the analysis
// remover that a retry can help is returned (redelivery), any other is
// logged and dropped; the profile recompute runs either way.
func TestOnConsentsWrittenAnalysisRemoverErrors(t *testing.T) {
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
		{"permanent", fault.New(fault.FailedPrecondition, "consents do not decode"), false},
		{"plain error", errors.New("boom"), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid := fmt.Sprintf("ai-err-%d", i)
			profiles := &countingProfiles{}
			svc := &consents.Service{Firestore: c, Profiles: profiles, Analyses: &countingAnalyses{err: tt.err},
				Now: func() time.Time { return t0 }}
			ev := writeConsents(t, c, p, nil, history(uid, entry(model.ConsentAIAnalysis, model.ConsentGranted, t0),
				entry(model.ConsentSensitiveData, model.ConsentGranted, t0)))
			err := svc.OnConsentsWritten(ctx, ev)
			if tt.wantRetry != (err != nil && fault.Retryable(err)) || (!tt.wantRetry && err != nil) {
				t.Errorf("OnConsentsWritten = %v, want retryable %v", err, tt.wantRetry)
			}
			if len(profiles.calls) != 1 {
				t.Errorf("profile recomputed %d times, want 1 despite the remover's error", len(profiles.calls))
			}
		})
	}
}
