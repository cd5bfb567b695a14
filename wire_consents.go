package functions

import (
	"context"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/wellbeing"
)

var consentsService = service(func(ctx context.Context, c *cloud.Clients, _ *config.Config) (*consents.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	return &consents.Service{Firestore: fs, Profiles: consentProfiles(fs), Analyses: consentAnalyses(fs), Now: now}, nil
})

// consentProfiles is what onConsentsWritten recomputes profiles with when
// the sensitive_data consent changes: the profile service as
// onUserWritten runs it (same transaction, same wellbeing protocol),
// without the alert publisher and deliverer it does not use.
func consentProfiles(fs *firestore.Client) consents.ProfileRecomputer {
	return &profile.Service{Firestore: fs, Wellbeing: &wellbeing.Protocol{Now: now}, Now: now}
}

// consentAnalyses is what onConsentsWritten removes the AI analyses of a
// user's journal entries with when ai_analysis is revoked: the reflection
// service, which needs only Firestore for it (no analyzer: it analyses
// nothing).
func consentAnalyses(fs *firestore.Client) consents.AnalysisRemover {
	return &reflections.Service{Firestore: fs, Now: now}
}

func consentFunctions() []Function {
	f := onFirestore("onConsentsWritten", consentsService, (*consents.Service).OnConsentsWritten)
	f.EventType, f.Document = DocumentWritten, "consents/{uid}"
	f.Memory = "512Mi" // a sensitive_data change recomputes the profile: the birthplace table and the ephemeris
	f.Doc = "Keeps consents/{uid}.current (the last entry per type in list order) in step with the append-only history; recomputes the profile when sensitive_data is granted or revoked; removes log.aiAnalysis from the user's entries when ai_analysis is revoked."
	record := onCall("recordConsent", callable.Options{RequireAuth: true}, consentsService, (*consents.Service).RecordConsent)
	record.Doc = "Callable {type, version, status}: appends the caller's consent entry dated by the server's clock (a device whose clock is off can still give or withdraw; a withdrawal is never refused for a full history); returns {entry, recorded}."
	return []Function{f, record}
}
