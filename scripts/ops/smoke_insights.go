package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
)

func init() {
	smokeChecks = append(smokeChecks, smokeCheck{name: "dailyInsightDeliveredMs", run: smokeInsights})
}

// smokeInsights makes demo-ada due (insightDueAt back to her latest 07:00
// Stockholm, as after a missed tick; a value the profile trigger keeps),
// fires the hourly tick through the Pub/Sub emulator, and waits for
// insightsFanout → insightsWorker to deliver: the insight of her local date
// exists and insightDueAt has moved on. Run twice the same day, the
// insight already exists and only insightDueAt advances.
func smokeInsights(ctx context.Context, c *firestore.Client) (int64, error) {
	if os.Getenv("PUBSUB_EMULATOR_HOST") == "" {
		return 0, fmt.Errorf("PUBSUB_EMULATOR_HOST is not set (source .dev/env)")
	}
	const uid = "demo-ada"
	ref := c.Collection(model.ColUsers).Doc(uid)
	snap, err := ref.Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("users/%s: %w (seed first)", uid, err)
	}
	var u model.User
	if err := snap.DataTo(&u); err != nil {
		return 0, err
	}
	if !u.InsightsOptIn {
		return 0, fmt.Errorf("%s has not opted in to insights", uid)
	}
	hour := insights.DefaultHour
	if u.InsightHour != nil {
		hour = *u.InsightHour
	}
	loc := insights.Zone(u.TimeZone)
	now := time.Now().UTC()
	date, _ := insights.Delivery(now, loc, hour)
	last := time.Date(date.Year, date.Month, date.Day, hour, 0, 0, 0, loc).UTC() // the delivery of date
	if _, err := ref.Update(ctx, []firestore.Update{{Path: "insightDueAt", Value: last}}); err != nil {
		return 0, err
	}
	start := time.Now()
	pc, err := pubsub.NewClient(ctx, envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"))
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	pub := &queue.PubSub{Client: pc}
	defer pub.Stop()
	if _, err := pub.Publish(ctx, insights.TopicTick, []byte("{}"), map[string]string{"source": "ops-smoke"}); err != nil {
		return 0, err
	}
	insight := ref.Collection(model.SubColInsights).Doc(date.String())
	err = waitFor(ctx, 30*time.Second, func() (bool, error) {
		s, err := ref.Get(ctx)
		if err != nil {
			return false, err
		}
		v, err := s.DataAt("insightDueAt")
		if err != nil {
			return false, nil
		}
		if d, ok := v.(time.Time); !ok || !d.After(last) {
			return false, nil
		}
		_, err = insight.Get(ctx)
		return err == nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("daily insight of %s for %s: %w", uid, date, err)
	}
	return time.Since(start).Milliseconds(), nil
}
