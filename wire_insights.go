package functions

import (
	"context"
	"time"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
)

var insightsService = service(func(ctx context.Context, c *cloud.Clients, _ *config.Config) (*insights.Service, error) {
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := c.Publisher(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := insights.DefaultLibrary(); err != nil {
		return nil, err
	}
	return &insights.Service{Firestore: fs, Publisher: pub, Now: now}, nil
})

func insightFunctions() []Function {
	fan := onPubSub("insightsFanout", insights.TopicTick, insightsService, (*insights.Service).OnTick)
	fan.Schedule, fan.ScheduleZone, fan.ScheduleBody = "0 * * * *", "Etc/UTC", "{}"
	fan.Memory, fan.Timeout = "512Mi", 540*time.Second
	fan.Doc = "Hourly: publishes the users whose local insight time has come (insightDueAt <= tick) in shards to " + insights.TopicShards + "."
	work := onPubSub("insightsWorker", insights.TopicShards, insightsService, (*insights.Service).OnShard)
	work.Memory, work.Timeout = "512Mi", 300*time.Second
	work.Doc = "Writes each shard's daily insights and notifications with BulkWriter and advances insightDueAt; replays change nothing."
	return []Function{fan, work}
}
