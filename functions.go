// Package functions is the deployable root of Inner Journey's Cloud
// Functions. Its init registers every function by name with
// functions-framework-go, so that one source tree deploys each of them:
//
//	gcloud functions deploy NAME --gen2 --runtime=go126 --source=. --entry-point=NAME …
//
// init only registers: every client (Firestore, Auth, Pub/Sub, Stripe, …)
// is created on first use by the handlers' dependencies.
package functions

import (
	ff "github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/innerjourney/functions/shared/logging"
)

func init() {
	logging.Setup()
	for _, f := range Registry() {
		switch {
		case f.HTTP != nil:
			ff.HTTP(f.Name, f.HTTP)
		case f.Event != nil:
			ff.CloudEvent(f.Name, f.Event)
		}
	}
}
