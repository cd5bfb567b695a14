package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

func init() {
	register(&command{name: "payouts", summary: "coach payouts: run [--period START..END] [--dry-run]; retry --payout ID [--project P] [--dry-run] (pay a failed payout's sales again)", run: runPayouts})
	register(&command{name: "fortnox", summary: "Fortnox booking: sync [--dry-run]; settle --payout ID [--seq N] --voucher S/N/Y [--dry-run] (record a voucher booked by hand); fake --port N (local fake API)", run: runFortnox})
}

// progressBars returns a payouts.Service Progress callback drawing one bar
// per stage on w.
func progressBars(env *cmdEnv) func(stage string, done, total int) {
	var mu sync.Mutex
	bars := map[string]*progress{}
	return func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		b := bars[stage]
		if b == nil {
			b = newProgress(env.stderr, fmt.Sprintf("%-9s", stage), total)
			bars[stage] = b
		}
		b.total = total
		if done >= total {
			b.done()
			delete(bars, stage)
			return
		}
		b.set(done)
	}
}

const payoutsUsage = `payouts run [--period START..END] [--project P] [--dry-run]
      compute the period's payouts and transfer the pending ones (JSON report on stdout)
  payouts retry --payout ID [--project P] [--dry-run] [--by NAME] [--voucher-reversed]
      pay a failed payout's sales again: once the coach's Stripe account can receive payouts,
      release the payout's sales so that the next payout run pays them in a new payout
      (the failed payout stays failed, with an audit record); idempotent`

func runPayouts(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || (args[0] != "run" && args[0] != "retry") {
		fmt.Fprintf(env.stderr, "usage: ops %s\n", payoutsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return fmt.Errorf("unknown or missing subcommand (run, retry)")
	}
	if args[0] == "retry" {
		return runPayoutsRetry(ctx, env, args[1:])
	}
	fs := newFlags(env, "payouts run", "payouts run [--period START..END] [--project P] [--dry-run]   (dates YYYY-MM-DD; END exclusive, default today)")
	period := fs.String("period", "", "period START..END (or ..END); default: from the last period's end to today")
	project := fs.String("project", "", "Google Cloud project (required unless FIRESTORE_EMULATOR_HOST is set)")
	dry := fs.Bool("dry-run", false, "compute and print the payouts without writing or transferring")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// It ends the flags: a --dry-run after it would be ignored.
		return fmt.Errorf("payouts run: unexpected argument %q", fs.Arg(0))
	}
	req := payouts.RunRequest{DryRun: *dry}
	if *period != "" {
		start, end, ok := strings.Cut(*period, "..")
		if !ok || end == "" {
			return fmt.Errorf("--period must be START..END or ..END")
		}
		req.PeriodStart, req.PeriodEnd = start, end
	}
	svc, closeFn, err := payoutsServiceIn(ctx, env, *project)
	if err != nil {
		return err
	}
	defer closeFn()
	rep, err := svc.Run(ctx, req)
	if rep != nil {
		if eerr := writeResultJSON(env.stdout, rep); eerr != nil && err == nil {
			err = eerr
		}
	}
	return err
}

const payoutsRetryUsage = `payouts retry --payout ID [--project P] [--dry-run] [--by NAME] [--voucher-reversed]

  Pays a failed payout's sales again. Refused (nothing written) unless the payout is failed, its
  coach's connected account can receive payouts again (coach_profiles/{coach}/private/connect:
  stripeAccountId and payoutsEnabled), and Stripe shows no transfer of it that stands (none, or
  fully reversed). It releases the payout's allocation entries and restores the balance the payout
  had absorbed, in one transaction; the failed payout stays failed, never transferred nor booked,
  and records who released it, when, and which attempt it was (payouts.release). The next payout
  run pays the sales in a new payout with its own id and Stripe idempotency key; to pay them now
  without moving the fortnightly schedule: ops payouts run --period ..LAST_PERIOD_END (printed).
  Running it again changes nothing and reports which payouts hold the sales now.
  Against a real project (no FIRESTORE_EMULATOR_HOST) --project must be given explicitly; Stripe
  (STRIPE_SECRET_KEY) and IJ_PSEUDONYM_KEY come from the environment as for ops payouts run.`

// runPayoutsRetry is `ops payouts retry`: payouts.Service.ReleaseFailed
// for one failed payout, its report (ids and amounts only) on stdout.
func runPayoutsRetry(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "payouts retry", payoutsRetryUsage)
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	payoutID := fs.String("payout", "", "the failed payout's id (payouts/{id})")
	dry := fs.Bool("dry-run", false, "make every check and print what would be released; write nothing")
	by := fs.String("by", os.Getenv("USER"), "who releases it, for the payout's audit record (default $USER)")
	voucherReversed := fs.Bool("voucher-reversed", false,
		"the payout was booked in Fortnox before its transfer was reversed, and that voucher has been reversed by hand")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("payouts retry: unexpected argument %q", fs.Arg(0))
	case *payoutID == "":
		return errors.New("payouts retry: --payout is required")
	case strings.TrimSpace(*by) == "":
		return errors.New("payouts retry: --by is required ($USER is not set)")
	}
	svc, closeFn, err := payoutsServiceIn(ctx, env, *project)
	if err != nil {
		return fmt.Errorf("payouts retry: %w", err)
	}
	defer closeFn()
	rep, err := svc.ReleaseFailed(ctx, *payoutID, payouts.ReleaseOptions{By: "ops:" + strings.TrimSpace(*by), DryRun: *dry, VoucherReversed: *voucherReversed})
	if err != nil {
		return err
	}
	if err := writeResultJSON(env.stdout, rep); err != nil {
		return err
	}
	pay := "the next due payout run pays them in a new payout"
	if rep.LastPeriodEnd != "" {
		pay += "; to pay them now without moving the schedule: ops payouts run --period .." + rep.LastPeriodEnd
	}
	switch {
	case rep.DryRun && rep.AlreadyReleased:
		fmt.Fprintln(env.stderr, "dry run: the payout was released before; nothing to do")
	case rep.DryRun:
		fmt.Fprintf(env.stderr, "dry run: nothing written; without --dry-run %d sales would be released (%d minor units %s)\n",
			rep.Entries, rep.EntriesAmount, rep.Currency)
	case rep.AlreadyReleased && rep.Waiting > 0:
		fmt.Fprintf(env.stderr, "already released; %d sales still wait: %s\n", rep.Waiting, pay)
	case rep.AlreadyReleased:
		fmt.Fprintf(env.stderr, "already released; its sales are in %s\n", strings.Join(rep.TakenBy, ", "))
	default:
		fmt.Fprintf(env.stderr, "released %d sales (attempt %d): %s\n", rep.Entries, rep.Attempt, pay)
	}
	return nil
}

// payoutsServiceIn builds the service the functions use for the --project
// flag's project (an ops command that writes payouts names its project
// explicitly, see opsProject), the rest of its configuration (Stripe,
// Fortnox, the pseudonym key) from the environment. closeFn closes its
// Firestore client.
func payoutsServiceIn(ctx context.Context, env *cmdEnv, project string) (svc *payouts.Service, closeFn func(), err error) {
	if project, err = opsProject(project); err != nil {
		return nil, nil, err
	}
	if _, set := os.LookupEnv("FORTNOX_BOOK_SALES"); !set && os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		// The setting marks every allocation event a run makes: one made
		// while it reads false is exempt from the sales booking for good.
		// A shell without it must not silently differ from the functions.
		return nil, nil, errors.New("payouts: set FORTNOX_BOOK_SALES (true or false) as the deployed functions have it " +
			"(e.g. --env-file's value): the events this command makes are booked as sales, or never, by it")
	}
	c, cfg, err := projectClients(ctx, project)
	if err != nil {
		return nil, nil, err
	}
	// The payout ids hold the coaches' pseudonyms: refuse the development
	// key against a real project.
	if _, err := opsPseudonymKey(cfg); err != nil {
		return nil, nil, fmt.Errorf("payouts: %w", err)
	}
	svc, err = functions.NewPayoutsService(ctx, c, cfg)
	if err != nil {
		return nil, nil, err
	}
	svc.Progress = progressBars(env)
	return svc, func() { svc.Firestore.Close() }, nil
}

func runFortnox(ctx context.Context, env *cmdEnv, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "sync":
		fs := newFlags(env, "fortnox sync", "fortnox sync [--project P] [--dry-run]")
		project := fs.String("project", "", "Google Cloud project (required unless FIRESTORE_EMULATOR_HOST is set)")
		dry := fs.Bool("dry-run", false, "list the vouchers that would be booked, book nothing")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			// It ends the flags: a --dry-run after it would be ignored.
			return fmt.Errorf("fortnox sync: unexpected argument %q", fs.Arg(0))
		}
		svc, closeFn, err := payoutsServiceIn(ctx, env, *project)
		if err != nil {
			return err
		}
		defer closeFn()
		rep, err := svc.SyncFortnox(ctx, payouts.SyncRequest{DryRun: *dry})
		if rep != nil {
			if eerr := writeResultJSON(env.stdout, rep); eerr != nil && err == nil {
				err = eerr
			}
		}
		return err
	case "settle":
		return runFortnoxSettle(ctx, env, args[1:])
	case "fake":
		fs := newFlags(env, "fortnox fake", "fortnox fake [--port N]   (serves the Fortnox fake until interrupted)")
		port := fs.Int("port", 8099, "local port")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
		if err != nil {
			return err
		}
		s := fortnoxfake.New(fortnoxfake.Options{Listener: l})
		defer s.Close()
		fmt.Fprintf(env.stdout, "FORTNOX_API_URL=%s\nFORTNOX_TOKEN_URL=%s\nFORTNOX_CLIENT_ID=%s\nFORTNOX_CLIENT_SECRET=%s\nFORTNOX_TENANT_ID=%s\n",
			s.URL, s.TokenURL, s.ClientID(), s.ClientSecret(), s.Tenant())
		fmt.Fprintln(env.stderr, "fortnox fake: serving; Ctrl-C stops it")
		<-ctx.Done()
		return nil
	default:
		fmt.Fprintln(env.stderr, "usage: ops fortnox sync [--project P] [--dry-run]\n"+
			"       ops fortnox settle --payout ID [--seq N [--reversal trr_…]] --voucher SERIES/NUMBER/YEAR [--project P] [--dry-run] [--by NAME]\n"+
			"       ops fortnox fake [--port N]")
		if sub == "-h" || sub == "--help" || sub == "help" {
			return nil
		}
		return fmt.Errorf("unknown or missing subcommand")
	}
}

const fortnoxSettleUsage = `fortnox settle --payout ID [--seq N [--reversal trr_…]] --voucher SERIES/NUMBER/YEAR [--project P] [--dry-run] [--by NAME]

  Records a voucher booked by hand in Fortnox for a booking the sync keeps failing on (say, its date
  is in a locked period), so that the next ops fortnox sync goes on with the payout's later reversal
  vouchers. With --seq N: the payout's reversal voucher N (marker {payout}_rN, as reversalError and
  ops fortnox sync --dry-run show it), which must be the first one the payout awaits; without it:
  the payout's own voucher (marker {payout}). --voucher is the hand-booked voucher as
  fortnoxReference writes it: series, number and Fortnox's financial-year id, e.g. P/42/7.
  Checked first (refused, nothing written, otherwise): Fortnox is configured and has the voucher;
  per account it books exactly what the sync would (same accounts, sides and amount; any series and
  date); the sync's own voucher, if it marked the booking, is not in Fortnox; the booking has no
  voucher yet, and the voucher is not another booking's; no sync holds the lease jobs/fortnox-sync.
  One transaction then writes the reference and payouts.fortnoxSettlement or
  reversalBookings[].settlement (when, the voucher's date) and an audit_log entry naming --by.
  Running it again with the same voucher changes nothing. --dry-run makes every check, Fortnox
  included, and writes nothing. Against a real project --project must be given explicitly; Fortnox
  (FORTNOX_*) and IJ_PSEUDONYM_KEY come from the environment as for ops fortnox sync.`

// runFortnoxSettle is `ops fortnox settle`: payouts.Service.SettleVoucher
// for one booking, its report (ids, dates and amounts) on stdout.
func runFortnoxSettle(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "fortnox settle", fortnoxSettleUsage)
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	payoutID := fs.String("payout", "", "the payout's id (payouts/{id})")
	seq := fs.Int("seq", 0, "the reversal voucher's seq (marker {payout}_rN); omit for the payout's own voucher")
	reversal := fs.String("reversal", "", "the Stripe reversal (trr_…) the reversal voucher books, as a cross-check of --seq")
	voucher := fs.String("voucher", "", "the voucher booked by hand: SERIES/NUMBER/FINANCIAL-YEAR-ID, e.g. P/42/7")
	dry := fs.Bool("dry-run", false, "make every check (Fortnox included) and print what would be recorded; write nothing")
	by := fs.String("by", os.Getenv("USER"), "who settles it, for the audit entry (default $USER)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("fortnox settle: unexpected argument %q", fs.Arg(0))
	case *payoutID == "":
		return errors.New("fortnox settle: --payout is required")
	case *voucher == "":
		return errors.New("fortnox settle: --voucher is required (SERIES/NUMBER/FINANCIAL-YEAR-ID)")
	case strings.TrimSpace(*by) == "":
		return errors.New("fortnox settle: --by is required ($USER is not set)")
	}
	svc, closeFn, err := payoutsServiceIn(ctx, env, *project)
	if err != nil {
		return fmt.Errorf("fortnox settle: %w", err)
	}
	defer closeFn()
	rep, err := svc.SettleVoucher(ctx, *payoutID, payouts.SettleOptions{Seq: *seq, ReversalID: *reversal, Voucher: *voucher,
		By: "ops:" + strings.TrimSpace(*by), DryRun: *dry})
	if err != nil {
		return err
	}
	if err := writeResultJSON(env.stdout, rep); err != nil {
		return err
	}
	what := "the payout's voucher"
	if rep.Purpose == "reversal" {
		what = "reversal voucher " + strconv.Itoa(rep.Seq)
	}
	next := "nothing else awaits booking"
	if rep.ReversalsAwaited > 0 {
		next = fmt.Sprintf("the next ops fortnox sync books the %d reversal voucher(s) after it", rep.ReversalsAwaited)
	}
	switch {
	case rep.AlreadySettled:
		fmt.Fprintf(env.stderr, "%s already records %s; nothing written\n", what, rep.Voucher)
	case rep.DryRun:
		fmt.Fprintf(env.stderr, "dry run: nothing written; %s (%s, %d minor units %s) would record %s of %s; then %s\n",
			what, rep.Marker, rep.Amount, rep.Currency, rep.Voucher, rep.VoucherDate, next)
	default:
		fmt.Fprintf(env.stderr, "settled %s (%s) with %s of %s; %s\n", what, rep.Marker, rep.Voucher, rep.VoucherDate, next)
	}
	return nil
}
