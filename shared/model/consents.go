package model

import "time"

// Consents is consents/{uid}: the user's consent history. Entries are only
// ever appended (a revocation is a new entry with status "revoked"); the
// server maintains Current, the latest entry per type.
type Consents struct {
	UserID        string         `firestore:"userId" json:"userId"`
	ConsentsGiven []ConsentEntry `firestore:"consentsGiven" json:"consentsGiven"`
	// Current is server-owned: type → the latest entry of that type.
	Current map[string]ConsentEntry `firestore:"current,omitempty" json:"current,omitempty"`
}

// ConsentEntry is one entry of consents.consentsGiven.
type ConsentEntry struct {
	Type     ConsentType   `firestore:"type" json:"type"`
	Version  string        `firestore:"version" json:"version"`
	AgreedAt time.Time     `firestore:"agreedAt" json:"agreedAt"`
	Status   ConsentStatus `firestore:"status" json:"status"`
}

// ConsentType is consentsGiven.type.
type ConsentType string

// Consent types. AIAnalysis covers the analysis of journal reflections;
// SensitiveData the processing of screening answers (GDPR Art. 9(2)(a)).
const (
	ConsentTermsOfService  ConsentType = "terms_of_service"
	ConsentPrivacyPolicy   ConsentType = "privacy_policy"
	ConsentDataProcessing  ConsentType = "data_processing"
	ConsentMarketingEmails ConsentType = "marketing_emails"
	ConsentAIAnalysis      ConsentType = "ai_analysis"
	ConsentSensitiveData   ConsentType = "sensitive_data"
)

// ConsentTypes lists every consent type.
var ConsentTypes = []ConsentType{ConsentTermsOfService, ConsentPrivacyPolicy, ConsentDataProcessing,
	ConsentMarketingEmails, ConsentAIAnalysis, ConsentSensitiveData}

// Valid reports whether t is a known consent type.
func (t ConsentType) Valid() bool {
	for _, x := range ConsentTypes {
		if t == x {
			return true
		}
	}
	return false
}

// ConsentStatus is consentsGiven.status.
type ConsentStatus string

// Consent statuses.
const (
	ConsentGranted ConsentStatus = "granted"
	ConsentRevoked ConsentStatus = "revoked"
)

// Valid reports whether s is a known consent status.
func (s ConsentStatus) Valid() bool { return s == ConsentGranted || s == ConsentRevoked }

// Granted reports whether the latest entry of type t in the history is a
// grant. The history is authoritative; Current is a cache of it.
func (c *Consents) Granted(t ConsentType) bool {
	if c == nil {
		return false
	}
	var latest *ConsentEntry
	for i := range c.ConsentsGiven {
		e := &c.ConsentsGiven[i]
		if e.Type == t && (latest == nil || !e.AgreedAt.Before(latest.AgreedAt)) {
			latest = e
		}
	}
	return latest != nil && latest.Status == ConsentGranted
}
