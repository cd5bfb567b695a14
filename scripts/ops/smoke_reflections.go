package main

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

func init() {
	smokeChecks = append(smokeChecks, smokeCheck{name: "reflectionAnalysedMs", run: smokeReflection})
}

// smokeReflection waits until onUserActivationWritten has analysed the
// seeded journal entry of demo-ada (who granted the ai_analysis consent).
func smokeReflection(ctx context.Context, c *firestore.Client) (int64, error) {
	start := time.Now()
	ref := c.Doc("user_activations/demo-ada_morning_awareness_001_1")
	err := waitFor(ctx, 30*time.Second, func() (bool, error) {
		snap, err := ref.Get(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w (seed first)", ref.Path, err)
		}
		v, err := snap.DataAt("log.aiAnalysis.label")
		return err == nil && v != nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("the seeded journal entry was not analysed: %w", err)
	}
	return time.Since(start).Milliseconds(), nil
}
