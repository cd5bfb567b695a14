package payouts

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/innerjourney/functions/shared/callable"
	"github.com/innerjourney/functions/shared/events"
)

// OnPayoutsRun handles a payouts-run message (Cloud Scheduler sends
// {"scheduled":true}; an empty message is a scheduled run too). A
// malformed message is dropped (InvalidArgument); Firestore failures are
// returned for redelivery, which is safe: a run is idempotent.
func (s *Service) OnPayoutsRun(ctx context.Context, msg *events.PubSubMessage) error {
	req := RunRequest{Scheduled: true}
	if len(bytes.TrimSpace(msg.Data)) > 0 {
		req = RunRequest{}
		if err := msg.JSON(&req); err != nil {
			return err
		}
	}
	rep, err := s.Run(ctx, req)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "payouts run", "messageId", msg.ID, "periodEnd", rep.PeriodEnd, "due", rep.Due,
		"payouts", len(rep.Payouts), "processing", rep.Transfers.Processing, "waiting", rep.Transfers.Waiting,
		"failed", rep.Transfers.Failed, "coachErased", rep.Transfers.CoachErased)
	return nil
}

// OnFortnoxSync handles a fortnox-sync message ({} or {"dryRun":true}).
// Only failures that stop the whole sync are returned.
func (s *Service) OnFortnoxSync(ctx context.Context, msg *events.PubSubMessage) error {
	var req SyncRequest
	if len(bytes.TrimSpace(msg.Data)) > 0 {
		if err := msg.JSON(&req); err != nil {
			return err
		}
	}
	rep, err := s.SyncFortnox(ctx, req)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "fortnox sync message", "messageId", msg.ID, "busy", rep.Busy, "booked", rep.Booked, "failed", rep.Failed,
		"notBooked", rep.NotBooked, "salesBooked", rep.SalesBooked, "salesFailed", rep.SalesFailed, "salesNotBooked", rep.SalesNotBooked)
	return nil
}

// RunPayoutsCallable is the admin callable runPayouts: data
// {"periodEnd"?: "YYYY-MM-DD", "periodStart"?: "…", "dryRun"?: bool}; it
// runs the period on demand (whether due or not) and answers the RunReport.
// Errors: INVALID_ARGUMENT for bad data; the callable wrapper enforces the
// admin claim.
func (s *Service) RunPayoutsCallable(ctx context.Context, req *callable.Request) (any, error) {
	var in struct {
		PeriodEnd   string `json:"periodEnd"`
		PeriodStart string `json:"periodStart"`
		DryRun      bool   `json:"dryRun"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	rep, err := s.Run(ctx, RunRequest{PeriodEnd: in.PeriodEnd, PeriodStart: in.PeriodStart, DryRun: in.DryRun})
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "payouts run on demand", "uid", req.Auth.UID, "periodEnd", rep.PeriodEnd, "dryRun", rep.DryRun,
		"payouts", len(rep.Payouts))
	return rep, nil
}
