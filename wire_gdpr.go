package functions

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
)

// pseudonymKey selects the key of the keyed pseudonyms (gdpr.Pseudonym,
// shared/pseudonym): IJ_PSEUDONYM_KEY; without it, in development (IJ_ENV,
// also the emulators' setting) gdpr.DevPseudonymKey with a warning, and
// otherwise a FailedPrecondition error naming the variable. The GDPR
// functions and the payouts (payout ids) both take their key from here, so
// that a held payout's id and the coachId the erasure writes carry the
// same pseudonym. The key is never logged.
func pseudonymKey(ctx context.Context, cfg *config.Config) ([]byte, error) {
	key := cfg.PseudonymKey.Reveal()
	if key == "" {
		if cfg.Env != "development" {
			return nil, fmt.Errorf("pseudonym key: %w", cfg.Require("IJ_PSEUDONYM_KEY"))
		}
		slog.WarnContext(ctx, "IJ_PSEUDONYM_KEY is not set: using the development key")
		key = gdpr.DevPseudonymKey
	}
	return []byte(key), nil
}

var gdprService = service(func(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*gdpr.Service, error) {
	key, err := pseudonymKey(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	ac, err := c.Auth(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := c.Storage(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := c.Publisher(ctx)
	if err != nil {
		return nil, err
	}
	s := &gdpr.Service{Firestore: fs, Auth: ac, Storage: sc, Bucket: cfg.StorageBucket,
		Publisher: pub, PseudonymKey: key, Now: now}
	s.UseConfig(cfg, sc)
	return s, nil
})

func gdprFunctions() []Function {
	auth := callable.Options{RequireAuth: true}
	export := onCall("requestDataExport", auth, gdprService, (*gdpr.Service).RequestDataExport)
	export.Doc = "Callable {uid?}: queues an export (GDPR Art. 15/20) of the caller (an admin: of uid); returns the request."
	erase := onCall("requestAccountDeletion", auth, gdprService, (*gdpr.Service).RequestAccountDeletion)
	erase.Doc = "Callable {uid?}: queues the erasure (Art. 17) of the caller (an admin: of uid), who signed in within 5 minutes; returns the request."
	download := onCall("getExportDownload", auth, gdprService, (*gdpr.Service).GetExportDownload)
	download.Doc = "Callable {requestId}: a 15-minute signed URL of a finished export archive (the subject or an admin)."

	worker := onPubSub("gdprWorker", gdpr.TopicRequests, gdprService, (*gdpr.Service).GDPRWorker)
	worker.Memory, worker.Timeout = "1Gi", 540*time.Second
	worker.Secrets = []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY"}
	worker.Doc = "Runs export and erasure requests resumably (lease, checkpoint per step, BulkWriter); verifies and audits erasures."
	sweeper := onPubSub("gdprSweeper", gdpr.TopicSweeper, gdprService, (*gdpr.Service).GDPRSweeper)
	sweeper.Schedule, sweeper.ScheduleZone, sweeper.ScheduleBody = "5 * * * *", "Etc/UTC", "{}"
	sweeper.Timeout = 300 * time.Second
	sweeper.Secrets = []string{"IJ_PSEUDONYM_KEY"}
	sweeper.Doc = "Hourly: re-queues stuck GDPR requests, alerts 5 days before dueAt, erases users whose Auth account is gone."
	retention := onPubSub("retentionCleanup", gdpr.TopicRetention, gdprService, (*gdpr.Service).RetentionCleanup)
	retention.Schedule, retention.ScheduleZone, retention.ScheduleBody = "40 2 * * *", "Europe/Stockholm", "{}"
	retention.Timeout = 540 * time.Second
	retention.Secrets = []string{"IJ_PSEUDONYM_KEY"}
	retention.Doc = "Daily: deletes expired sessions, old logs and audit entries, expired export archives, records past their legal hold."
	backstop := onPubSub("onAuthUserDeleted", gdpr.TopicAuthDeleted, gdprService, (*gdpr.Service).OnAuthUserDeleted)
	backstop.Secrets = []string{"IJ_PSEUDONYM_KEY"}
	backstop.Doc = "Auth accounts deleted outside an erasure (audit-log sink or {uid}) → the same erasure."
	for _, f := range []*Function{&export, &erase, &download} {
		f.Secrets = []string{"IJ_PSEUDONYM_KEY"}
	}
	return []Function{export, erase, download, worker, sweeper, retention, backstop}
}
