package main

import (
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/queue"
)

// serveInsightsRoundTrip: a user due now; the hourly tick published to
// insights-tick reaches insightsFanout (Pub/Sub push through the local
// adapter), whose shard reaches insightsWorker, which writes the insight
// and the notification.
func serveInsightsRoundTrip(t *testing.T, s *served) {
	ctx, project, admin := s.ctx, s.project, s.admin
	now := time.Now().UTC()
	due := now.Truncate(time.Hour) // an insightHour o'clock: the profile trigger keeps it
	if _, err := admin.Doc("users/early").Set(ctx, map[string]any{"userId": "early", "createdAt": now, "timeZone": "UTC",
		"insightsOptIn": true, "insightHour": due.Hour(), "insightDueAt": due, "focusArea": "sleep", "timeCommitment": 5}); err != nil {
		t.Fatal(err)
	}
	pc, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pub := &queue.PubSub{Client: pc}
	defer pub.Stop()
	if _, err := pub.Publish(ctx, insights.TopicTick, []byte("{}"), map[string]string{"source": "test"}); err != nil {
		t.Fatal(err)
	}
	date := due.Format(time.DateOnly)
	err = waitFor(ctx, 30*time.Second, func() (bool, error) {
		_, err1 := admin.Doc("users/early/daily_insights/" + date).Get(ctx)
		_, err2 := admin.Doc("users/early/notifications/" + insights.NotificationID(date)).Get(ctx)
		return err1 == nil && err2 == nil, nil
	})
	if err != nil {
		t.Fatalf("insight never appeared: %v", err)
	}
}
