package model

import (
	"testing"
	"time"
)

// TestConsentsGrantedFollowsListOrder: the last entry of a type in the
// history is the user's current choice, whatever its agreedAt (the
// client's clock) says.
func TestConsentsGrantedFollowsListOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	e := func(typ ConsentType, s ConsentStatus, at time.Time) ConsentEntry {
		return ConsentEntry{Type: typ, Version: "v1", AgreedAt: at, Status: s}
	}
	tests := []struct {
		name    string
		history []ConsentEntry
		want    bool
	}{
		{"no entry", nil, false},
		{"granted", []ConsentEntry{e(ConsentAIAnalysis, ConsentGranted, t0)}, true},
		{"granted then revoked", []ConsentEntry{e(ConsentAIAnalysis, ConsentGranted, t0),
			e(ConsentAIAnalysis, ConsentRevoked, t0.Add(time.Minute))}, false},
		{"revocation dated before the grant it follows (fast, then slow clock)", []ConsentEntry{
			e(ConsentAIAnalysis, ConsentGranted, t0.Add(4*time.Minute)),
			e(ConsentAIAnalysis, ConsentRevoked, t0.Add(-3*time.Minute))}, false},
		{"grant dated before the revocation it follows", []ConsentEntry{
			e(ConsentAIAnalysis, ConsentRevoked, t0.Add(time.Hour)),
			e(ConsentAIAnalysis, ConsentGranted, t0)}, true},
		{"same agreedAt, revocation last", []ConsentEntry{e(ConsentAIAnalysis, ConsentGranted, t0),
			e(ConsentAIAnalysis, ConsentRevoked, t0)}, false},
		{"later entries of other types do not count", []ConsentEntry{e(ConsentAIAnalysis, ConsentGranted, t0),
			e(ConsentMarketingEmails, ConsentRevoked, t0.Add(time.Hour))}, true},
		{"only other types", []ConsentEntry{e(ConsentMarketingEmails, ConsentGranted, t0)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Consents{UserID: "u", ConsentsGiven: tt.history}
			if got := c.Granted(ConsentAIAnalysis); got != tt.want {
				t.Errorf("Granted(ai_analysis) = %v, want %v", got, tt.want)
			}
		})
	}
}
