package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/fortnox/fortnoxfake"
)

func init() {
	register(&command{name: "payouts", summary: "coach payouts: run [--period START..END] [--dry-run]", run: runPayouts})
	register(&command{name: "fortnox", summary: "Fortnox booking: sync [--dry-run]; fake --port N (local fake API)", run: runFortnox})
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

// payoutsService builds the service the functions use, from the
// environment (Firestore emulator or project, Stripe, Fortnox settings).
func payoutsService(ctx context.Context, env *cmdEnv) (*payouts.Service, error) {
	c := cloud.Default
	cfg, err := c.Config.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := cfg.Require("GOOGLE_CLOUD_PROJECT"); err != nil {
		return nil, err
	}
	// The payout ids hold the coaches' pseudonyms: refuse the development
	// key against a real project.
	if _, err := opsPseudonymKey(cfg); err != nil {
		return nil, fmt.Errorf("payouts: %w", err)
	}
	svc, err := functions.NewPayoutsService(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	svc.Progress = progressBars(env)
	return svc, nil
}

func runPayouts(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(env.stderr, "usage: ops payouts run [--period START..END] [--dry-run]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return fmt.Errorf("unknown or missing subcommand")
	}
	fs := newFlags(env, "payouts run", "payouts run [--period START..END] [--dry-run]   (dates YYYY-MM-DD; END exclusive, default today)")
	period := fs.String("period", "", "period START..END (or ..END); default: from the last period's end to today")
	dry := fs.Bool("dry-run", false, "compute and print the payouts without writing or transferring")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	req := payouts.RunRequest{DryRun: *dry}
	if *period != "" {
		start, end, ok := strings.Cut(*period, "..")
		if !ok || end == "" {
			return fmt.Errorf("--period must be START..END or ..END")
		}
		req.PeriodStart, req.PeriodEnd = start, end
	}
	svc, err := payoutsService(ctx, env)
	if err != nil {
		return err
	}
	rep, err := svc.Run(ctx, req)
	if rep != nil {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if eerr := enc.Encode(rep); eerr != nil && err == nil {
			err = eerr
		}
	}
	return err
}

func runFortnox(ctx context.Context, env *cmdEnv, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "sync":
		fs := newFlags(env, "fortnox sync", "fortnox sync [--dry-run]")
		dry := fs.Bool("dry-run", false, "list the vouchers that would be booked, book nothing")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		svc, err := payoutsService(ctx, env)
		if err != nil {
			return err
		}
		rep, err := svc.SyncFortnox(ctx, payouts.SyncRequest{DryRun: *dry})
		if rep != nil {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if eerr := enc.Encode(rep); eerr != nil && err == nil {
				err = eerr
			}
		}
		return err
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
		fmt.Fprintln(env.stderr, "usage: ops fortnox sync [--dry-run] | ops fortnox fake [--port N]")
		if sub == "-h" || sub == "--help" || sub == "help" {
			return nil
		}
		return fmt.Errorf("unknown or missing subcommand")
	}
}
