package main

import (
	"context"
	"fmt"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/payments"
)

func init() {
	register(&command{name: "programs", summary: "programs: sync (bring the coaches of programs' active enrolments in step, as onProgramWritten does)", run: runPrograms})
}

const programsUsage = "programs sync [--project P] [--program ID]"

// runPrograms runs onProgramWritten's sync by hand: for one program, or
// for every program and every program id an active enrolment names (once
// after deploying it, for enrolments granted before; again whenever a
// trigger is suspected lost). It changes only enrolments out of step, so
// a rerun is harmless:
//
//	ops programs sync --project P
//	ops programs sync --project P --program prog-1
func runPrograms(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "sync" {
		fmt.Fprintln(env.stderr, "usage: ops "+programsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return fmt.Errorf("name a subcommand: sync")
	}
	fs := newFlags(env, "programs sync", programsUsage)
	project := fs.String("project", "", "Google Cloud project (required unless FIRESTORE_EMULATOR_HOST is set)")
	program := fs.String("program", "", "sync this program only (default: every program)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("programs sync: unexpected argument %q", fs.Arg(0))
	}
	proj, err := opsProject(*project)
	if err != nil {
		return fmt.Errorf("programs sync: %w", err)
	}
	c, cfg, err := projectClients(ctx, proj)
	if err != nil {
		return fmt.Errorf("programs sync: %w", err)
	}
	svc, err := functions.NewEnrollmentsService(ctx, c, cfg)
	if err != nil {
		return fmt.Errorf("programs sync: %w", err)
	}
	defer svc.Firestore.Close()
	report := func(id string, st payments.SyncStats, err error) {
		fmt.Fprintf(env.stdout, "%s\tenrolments %d\tchanged %d\tfailed %d\n", id, st.Enrollments, st.Changed, st.Failed)
		if err != nil {
			fmt.Fprintf(env.stderr, "%s: %v\n", id, err)
		}
	}
	if *program != "" {
		st, err := svc.SyncProgramCoaches(ctx, *program)
		report(*program, st, err)
		return err
	}
	return svc.SyncAllPrograms(ctx, report)
}
