package functions

import (
	"context"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
)

var consentsService = service(func(ctx context.Context, c *cloud.Clients, _ *config.Config) (*consents.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	return &consents.Service{Firestore: fs, Now: now}, nil
})

func consentFunctions() []Function {
	f := onFirestore("onConsentsWritten", consentsService, (*consents.Service).OnConsentsWritten)
	f.EventType, f.Document = DocumentWritten, "consents/{uid}"
	f.Doc = "Keeps consents/{uid}.current (the last entry per type in list order) in step with the append-only history."
	return []Function{f}
}
