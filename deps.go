//go:build deps

// This file keeps the design card's dependencies in go.mod while the
// packages that use them are being written. It is never built.
package functions

import (
	_ "cloud.google.com/go/firestore"
	_ "cloud.google.com/go/pubsub/v2"
	_ "cloud.google.com/go/pubsub/v2/pstest"
	_ "cloud.google.com/go/storage"
	_ "firebase.google.com/go/v4"
	_ "firebase.google.com/go/v4/auth"
	_ "github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	_ "github.com/GoogleCloudPlatform/functions-framework-go/functions"
	_ "github.com/cloudevents/sdk-go/v2"
	_ "github.com/fsouza/fake-gcs-server/fakestorage"
	_ "github.com/jonreiter/govader"
	_ "github.com/ringsaturn/tzf"
	_ "github.com/stripe/stripe-go/v76"
	_ "golang.org/x/time/rate"
	_ "google.golang.org/genai"
)
