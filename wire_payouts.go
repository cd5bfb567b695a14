package functions

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/fortnox"
)

// NewPayoutsService builds the payouts service from the configuration and
// the Firestore client of c (also used by `ops payouts` and `ops fortnox`).
// Without STRIPE_SECRET_KEY payouts stay pending with a reason; the
// Fortnox client is created on first use and fails then, naming the
// missing variables. The coaches' pseudonyms in payout ids are keyed with
// the GDPR pseudonym key (pseudonymKey: IJ_PSEUDONYM_KEY, required outside
// development).
func NewPayoutsService(ctx context.Context, c *cloud.Clients, cfg *config.Config) (*payouts.Service, error) {
	key, err := pseudonymKey(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fs, err := c.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	st, err := payouts.LoadSettings(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	svc := &payouts.Service{Firestore: fs, Now: now, Settings: st, PseudonymKey: key}
	if key := cfg.StripeSecretKey.Reveal(); key != "" {
		svc.Transfers = payouts.NewStripeTransfers(key, cfg.StripeAPIURL)
	} else {
		slog.WarnContext(ctx, "STRIPE_SECRET_KEY is not set: payouts stay pending")
	}
	fc := &cloud.Lazy[*fortnox.Client]{Name: "fortnox client", New: func(context.Context) (*fortnox.Client, error) {
		return payouts.NewFortnoxClient(cfg, st, fs, now)
	}}
	svc.Fortnox = fc.Get
	return svc, nil
}

var payoutsService = service(NewPayoutsService)

func payoutFunctions() []Function {
	run := onPubSub("payoutsRun", "payouts-run", payoutsService, (*payouts.Service).OnPayoutsRun)
	// Cron cannot say "every other week": the job runs weekly and starts a
	// period only when PAYOUTS_PERIOD_DAYS have passed since the last one
	// (jobs/payouts); pending transfers are retried every week.
	run.Schedule, run.ScheduleZone, run.ScheduleBody = "0 4 * * 1", "Europe/Stockholm", `{"scheduled":true}`
	run.Secrets = []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY"}
	run.Timeout = 540 * time.Second
	run.Memory = "512Mi"
	run.Doc = "Computes coaches' payouts every two weeks (weekly check) and transfers them through Stripe Connect."

	sync := onPubSub("fortnoxSync", "fortnox-sync", payoutsService, (*payouts.Service).OnFortnoxSync)
	sync.Schedule, sync.ScheduleZone, sync.ScheduleBody = "30 5 * * *", "Europe/Stockholm", `{}`
	sync.Secrets = []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY", "FORTNOX_CLIENT_SECRET", "FORTNOX_REFRESH_TOKEN"}
	sync.Timeout = 540 * time.Second
	sync.MaxInstances = 1 // the Fortnox rate limiter is per process
	sync.Doc = "Books completed payouts (and, if enabled, sales) in Fortnox once each; one sync at a time (lease jobs/fortnox-sync)."

	call := onCall("runPayouts", callable.Options{RequireAdmin: true}, payoutsService, (*payouts.Service).RunPayoutsCallable)
	call.Secrets = []string{"IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY"}
	call.Timeout = 540 * time.Second
	call.Doc = "Admin: runs the payouts of a period now ({\"periodEnd\"?, \"dryRun\"?}) and answers the report."
	return []Function{run, sync, call}
}
