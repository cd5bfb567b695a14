package model

import (
	"context"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Consents is consents/{uid}: the user's consent history. Entries are only
// ever appended (a revocation is a new entry with status "revoked"), so the
// list is in the order the user acted, and the last entry of a type is the
// user's current choice; the server maintains Current, that entry per type.
type Consents struct {
	UserID        string         `firestore:"userId" json:"userId"`
	ConsentsGiven []ConsentEntry `firestore:"consentsGiven" json:"consentsGiven"`
	// Current is server-owned: type → the last entry of that type in
	// ConsentsGiven.
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

// Consent types. AIAnalysis covers the AI processing of the user's texts:
// the analysis of journal reflections and, when INSIGHTS_REWRITE=gemini,
// the rewording of their daily insights by an external LLM (the consent
// text shown to users must name both); SensitiveData the processing of
// screening answers (GDPR Art. 9(2)(a)).
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

// Granted reports whether the last entry of type t in the history, in list
// order, is a grant. The history is authoritative; Current is a cache of it.
//
// List order, not agreedAt, decides: the rules let clients only append, so
// the last entry is what the user did last, while agreedAt comes from the
// client's clock: two devices' clocks can differ by minutes, so a
// revocation may be dated before the grant it follows, and it must still
// count. (The rules do not order agreedAt: a withdrawal must never be
// refused for its date.)
func (c *Consents) Granted(t ConsentType) bool {
	if c == nil {
		return false
	}
	for i := len(c.ConsentsGiven) - 1; i >= 0; i-- {
		if e := c.ConsentsGiven[i]; e.Type == t {
			return e.Status == ConsentGranted
		}
	}
	return false
}

// AlertConsentsUndecodable is the "alert" attribute of the log line
// ConsentsOf writes for a consents/{uid} document that does not decode, a
// stable value operators alert on.
const AlertConsentsUndecodable = "consents_undecodable"

// ConsentsOf returns the consent history of a read of consents/{uid}: the
// snapshot and error that DocumentRef.Get or Transaction.Get returned. It
// is the one reading of a consents document that every reader of consent
// shares:
//
//   - a missing document (a NotFound error, or a snapshot that does not
//     exist) is an empty history, granting nothing, and a nil error;
//   - any other read error is returned unchanged, for the caller to
//     classify (store.Classify keeps a transient error retryable, and
//     inside a transaction Firestore sees its own error);
//   - a document that does not decode as Consents is an empty history too,
//     granting nothing (fail closed for privacy), and a nil error, since a
//     retry would find it as undecodable as now. It is logged at ERROR
//     level with the uid (the document id) and "alert" set to
//     AlertConsentsUndecodable, and nothing else: neither the document's
//     contents nor the decode error, which can quote them.
func ConsentsOf(ctx context.Context, snap *firestore.DocumentSnapshot, err error) (Consents, error) {
	if status.Code(err) == codes.NotFound {
		return Consents{}, nil
	}
	if err != nil {
		return Consents{}, err
	}
	if snap == nil || !snap.Exists() {
		return Consents{}, nil
	}
	var c Consents
	if err := snap.DataTo(&c); err != nil {
		slog.ErrorContext(ctx, "consents document does not decode; treated as granting no consent",
			"alert", AlertConsentsUndecodable, "uid", snap.Ref.ID)
		return Consents{}, nil
	}
	return c, nil
}
