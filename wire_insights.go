package functions

import (
	"context"
	"strings"
	"time"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/analysis"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fault"
)

// insightsRewriteBudget is the Gemini call budget of one insight rewrite:
// its worst case (analysis.GeminiConfig.WorstCase: 2 × 6 s + 0.625 s)
// stays within insights.RewriteTimeout, which cuts a rewrite anyway, so
// that a second attempt (after a 429 or 503) has the time to answer.
// TestInsightsRewriteBudget keeps them in step.
var insightsRewriteBudget = analysis.GeminiConfig{Timeout: 6 * time.Second, MaxAttempts: 2, Backoff: 500 * time.Millisecond}

// NewInsightsRewriter returns the insight rewriter INSIGHTS_REWRITE asks
// for: nil for "off" (the default: the template wording), Gemini for
// "gemini", configured like reflection analysis (GEMINI_API_KEY, or
// GEMINI_VERTEX_PROJECT and GEMINI_VERTEX_LOCATION; GEMINI_MODEL;
// GEMINI_BASE_URL) with insightsRewriteBudget. Also used by
// `ops insights run`. Errors: fault.FailedPrecondition naming the
// variables (never their values) when "gemini" is asked for without an
// API key or a Vertex project, or with an incomplete Gemini
// configuration.
func NewInsightsRewriter(cfg *config.Config) (insights.Rewriter, error) {
	switch cfg.InsightsRewrite {
	case config.InsightsRewriteOff:
		return nil, nil
	case config.InsightsRewriteGemini:
	default: // config.Load refuses other values
		return nil, fault.New(fault.FailedPrecondition, "INSIGHTS_REWRITE must be off or gemini")
	}
	gc, ok := geminiConfig(cfg, insightsRewriteBudget)
	if !ok {
		return nil, fault.New(fault.FailedPrecondition,
			"INSIGHTS_REWRITE=gemini needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT (missing configuration)")
	}
	g, err := analysis.NewGeminiRewriter(gc)
	if err != nil {
		// NewGeminiRewriter's errors name fields, never values.
		return nil, fault.New(fault.FailedPrecondition, "INSIGHTS_REWRITE=gemini: %s", strings.TrimPrefix(err.Error(), "gemini: "))
	}
	return insights.NewGeminiRewriter(g), nil
}

// newInsightsService builds the insights service; the worker's has the
// rewriter INSIGHTS_REWRITE asks for (checked first, so that a
// configuration error is reported before any client is made), the
// fan-out's none (it generates nothing, and does not mount the Gemini
// key).
func newInsightsService(worker bool) func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*insights.Service, error) {
	return func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*insights.Service, error) {
		var rw insights.Rewriter
		if worker {
			var err error
			if rw, err = NewInsightsRewriter(cfg); err != nil {
				return nil, err
			}
		}
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
		return &insights.Service{Firestore: fs, Publisher: pub, Now: now, Rewriter: rw}, nil
	}
}

var (
	insightsFanoutService = service(newInsightsService(false))
	insightsWorkerService = service(newInsightsService(true))
)

func insightFunctions() []Function {
	fan := onPubSub("insightsFanout", insights.TopicTick, insightsFanoutService, (*insights.Service).OnTick)
	fan.Schedule, fan.ScheduleZone, fan.ScheduleBody = "0 * * * *", "Etc/UTC", "{}"
	fan.Memory, fan.Timeout = "512Mi", 540*time.Second
	fan.Doc = "Hourly: publishes the users whose local insight time has come (insightDueAt <= tick) in shards to " + insights.TopicShards + "."
	work := onPubSub("insightsWorker", insights.TopicShards, insightsWorkerService, (*insights.Service).OnShard)
	// The Gemini key is optional (scripts/ops optionalSecrets): read only
	// with INSIGHTS_REWRITE=gemini, which without it (or a Vertex project)
	// fails the service's build.
	work.Secrets = []string{"GEMINI_API_KEY"}
	work.Memory, work.Timeout = "512Mi", insights.WorkerTimeout
	work.Doc = "Writes each shard's daily insights and notifications with BulkWriter and advances insightDueAt; replays change nothing."
	return []Function{fan, work}
}
