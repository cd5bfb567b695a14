package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/consents"
	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/functions/reflections"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
	"github.com/innerjourney/functions/shared/wellbeing"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "once after deploying: bring every user's consents.current, profile and AI analyses in line with their consents; take the uid out of wellbeing records held before episode ids carried none",
		run:     runMigrate,
	})
}

const migrateUsage = `migrate [--project P] [--dry-run] [--start-after UID] [--page N]

  Once after a deploy (idempotent: a second run changes nothing), for every users/{uid} in
  document-id order:
    - consents/{uid}.current is recomputed from the history as onConsentsWritten does
      (the last entry of a type in list order);
    - a profile computed under another calculation version, or under another sensitive_data
      consent state than the current one, is recomputed as onUserWritten does (screening
      scores removed without the consent);
    - when ai_analysis is not currently granted, log.aiAnalysis is removed from the user's
      journal entries as onConsentsWritten does on a revocation.
  Then, for every held (pseudonymised) wellbeing_events record, in document-id order: a record
  held by an erasure before episode ids stopped embedding the uid ("{uid}:{time}"), or that still
  has a sourceKey, loses its sourceKey and gets the uid-free episode id of its event id and time
  (gdpr.RepairHeldWellbeing; every run does this whole step, --start-after applies to users).
  It prints counts per kind, never personal data. --dry-run writes nothing and counts what a
  run would change. Resumable: each page prints "resume with --start-after UID" on stderr;
  rerun with it after an interruption (starting over is harmless, only slower).
  Against a real project (no FIRESTORE_EMULATOR_HOST) --project must be given explicitly;
  no secret or pseudonym key is needed.`

// migrateCounts is what a migration changed (or, in a dry run, would
// change), per kind.
type migrateCounts struct {
	Users              int // users/{uid} scanned
	ConsentsCurrent    int // consents/{uid}.current recomputed
	ProfilesOutdated   int // profiles of another calculation version or consent state
	ProfilesRecomputed int // of those, profiles rewritten
	AnalysisUsers      int // users without an ai_analysis grant whose entries held analyses
	AnalysesRemoved    int // entries whose log.aiAnalysis was removed
	Skipped            int // users with a document that does not decode (ids on stderr)
	WellbeingHeld      int // held wellbeing events scanned
	WellbeingRewritten int // of those, rewritten without the uid (episodeId, sourceKey)
}

func (c migrateCounts) print(w io.Writer, dryRun bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if dryRun {
		fmt.Fprintln(tw, "dry run: nothing written; the counts are what a run would change")
	}
	for _, r := range []struct {
		what string
		n    int
	}{
		{"users scanned", c.Users},
		{"consents current recomputed", c.ConsentsCurrent},
		{"profiles outdated", c.ProfilesOutdated},
		{"profiles recomputed", c.ProfilesRecomputed},
		{"users without ai_analysis holding analyses", c.AnalysisUsers},
		{"ai analyses removed", c.AnalysesRemoved},
		{"users skipped (documents that do not decode)", c.Skipped},
		{"held wellbeing records scanned", c.WellbeingHeld},
		{"held wellbeing records rewritten without the uid", c.WellbeingRewritten},
	} {
		fmt.Fprintf(tw, "%s\t%d\n", r.what, r.n)
	}
	tw.Flush()
}

func runMigrate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "migrate", migrateUsage)
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	dryRun := fs.Bool("dry-run", false, "write nothing; count what a run would change")
	startAfter := fs.String("start-after", "", "resume after this user id (printed on stderr after each page)")
	page := fs.Int("page", 200, "users read per page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *page < 1 || *page > 500 {
		return errors.New("--page must be 1..500")
	}
	proj, err := opsProject(*project)
	if err != nil {
		return err
	}
	client, err := firestore.NewClient(ctx, proj)
	if err != nil {
		return err
	}
	defer client.Close()
	m := newMigrator(client, *dryRun, *page, env.stderr)
	counts, err := m.run(ctx, *startAfter)
	if err == nil {
		err = m.heldWellbeing(ctx, &counts)
	}
	counts.print(env.stdout, *dryRun)
	return err
}

// heldWellbeing rewrites the wellbeing records held before episode ids
// stopped embedding the uid (gdpr.RepairHeldWellbeing): the erasure's
// finder (userId == uid) no longer reaches them.
func (m *migrator) heldWellbeing(ctx context.Context, counts *migrateCounts) error {
	r, err := gdpr.RepairHeldWellbeing(ctx, m.fs, m.dryRun, m.page)
	counts.WellbeingHeld, counts.WellbeingRewritten = r.Scanned, r.Rewritten
	if err != nil {
		return fmt.Errorf("held wellbeing records: %w (every user is done; rerun: --start-after with the last user id skips them)", err)
	}
	return nil
}

// migrator runs ops migrate with the areas' own code: consents.
// RecomputeCurrent (onConsentsWritten), profile.Service.Recompute
// (onUserWritten, the same transaction and wellbeing protocol) and
// reflections.Service.AIAnalysisChanged (onConsentsWritten on a
// revocation).
type migrator struct {
	fs          *firestore.Client
	profiles    *profile.Service
	reflections *reflections.Service
	dryRun      bool
	page        int
	log         io.Writer
}

func newMigrator(fs *firestore.Client, dryRun bool, page int, log io.Writer) *migrator {
	now := func() time.Time { return time.Now().UTC() }
	return &migrator{
		fs:          fs,
		profiles:    &profile.Service{Firestore: fs, Wellbeing: &wellbeing.Protocol{Now: now}, Now: now},
		reflections: &reflections.Service{Firestore: fs, Now: now},
		dryRun:      dryRun, page: page, log: log,
	}
}

// run pages through users/{uid} by document id after startAfter ("" from
// the first) and migrates each user. On an error it stops and says after
// which user to resume (every user before it is done).
func (m *migrator) run(ctx context.Context, startAfter string) (migrateCounts, error) {
	var counts migrateCounts
	// Only what decides whether the profile is outdated is read.
	q := m.fs.Collection(model.ColUsers).Select("profile.calculationVersion", "profile.screening.sensitiveDataConsent")
	last := startAfter
	err := store.PageByID(ctx, q, m.page, startAfter, "list users", func(snaps []*firestore.DocumentSnapshot) error {
		for _, snap := range snaps {
			if err := m.user(ctx, snap, &counts); err != nil {
				return err
			}
			counts.Users++
			last = snap.Ref.ID
		}
		fmt.Fprintf(m.log, "%d users done; resume with --start-after %s\n", counts.Users, last)
		return nil
	})
	if err != nil {
		return counts, m.stopped(last, err)
	}
	return counts, nil
}

func (m *migrator) stopped(last string, err error) error {
	if last == "" {
		return fmt.Errorf("%w (rerun from the start)", err)
	}
	return fmt.Errorf("%w (resume with --start-after %s)", err, last)
}

// user migrates one user: consents current, then the profile, then the
// analyses. A document that does not decode is counted as skipped and
// reported by id (the user's other steps still run where they can); any
// other error stops the run.
func (m *migrator) user(ctx context.Context, snap *firestore.DocumentSnapshot, counts *migrateCounts) error {
	uid := snap.Ref.ID
	skipped := false
	skip := func(what string) {
		if !skipped {
			counts.Skipped++
		}
		skipped = true
		fmt.Fprintf(m.log, "skipped user %s: %s does not decode\n", uid, what)
	}

	// consents/{uid}.current. A consents document that does not decode is
	// no consent (fail closed, as every function reads it with
	// model.ConsentsOf): it is reported and left as it is, its profile is
	// brought in line and its analyses are removed.
	cs, decoded, err := m.consents(ctx, uid)
	if err != nil {
		return err
	}
	if !decoded {
		skip("consents/{uid}")
	}
	if cs != nil && !consents.CurrentUpToDate(cs) {
		if m.dryRun {
			counts.ConsentsCurrent++
		} else {
			wrote, err := consents.RecomputeCurrent(ctx, m.fs, uid)
			if err != nil {
				return store.Classify("consents current of "+uid, err)
			}
			if wrote {
				counts.ConsentsCurrent++
			}
		}
	}

	// The profile.
	if profileOutdated(snap, cs.Granted(model.ConsentSensitiveData)) {
		counts.ProfilesOutdated++
		if m.dryRun {
			counts.ProfilesRecomputed++
		} else {
			p, err := m.profiles.Recompute(ctx, uid, false)
			switch code := fault.CodeOf(err); {
			case err == nil:
				if p.Recomputed {
					counts.ProfilesRecomputed++
				}
			case code == fault.NotFound:
				// deleted since (erasure)
			case code == fault.InvalidArgument:
				skip("users/{uid}")
			default:
				return fmt.Errorf("profile of %s: %w", uid, err)
			}
		}
	}

	// AI analyses without an ai_analysis grant (an undecodable consents
	// document, cs nil, grants nothing).
	if cs.Granted(model.ConsentAIAnalysis) {
		return nil
	}
	before, err := m.analysed(ctx, uid)
	if err != nil || before == 0 {
		return err
	}
	counts.AnalysisUsers++
	if m.dryRun {
		counts.AnalysesRemoved += before
		return nil
	}
	if err := m.reflections.AIAnalysisChanged(ctx, uid); err != nil {
		return fmt.Errorf("AI analyses of %s: %w", uid, err)
	}
	after, err := m.analysed(ctx, uid)
	if err != nil {
		return err
	}
	counts.AnalysesRemoved += before - after
	return nil
}

// consents reads consents/{uid}: nil when there is none; decoded false
// when it does not decode.
func (m *migrator) consents(ctx context.Context, uid string) (*model.Consents, bool, error) {
	snap, err := m.fs.Collection(model.ColConsents).Doc(uid).Get(ctx)
	if store.IsNotFound(err) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, store.Classify("consents of "+uid, err)
	}
	var c model.Consents
	if err := snap.DataTo(&c); err != nil {
		return nil, false, nil
	}
	return &c, true, nil
}

// profileOutdated reports whether the profile of the users/{uid} snapshot
// (profile.calculationVersion and profile.screening.sensitiveDataConsent
// selected) exists and was computed under another calculation version
// than the current one, or under another sensitive_data consent state than
// sensitiveData (profiles before profile-2 do not record one). A user
// without a profile has nothing to migrate: onUserWritten computes it at
// their next write.
func profileOutdated(snap *firestore.DocumentSnapshot, sensitiveData bool) bool {
	v, err := snap.DataAt("profile.calculationVersion")
	version, _ := v.(string)
	if err != nil || version == "" {
		return false
	}
	if version != profile.CalculationVersion() {
		return true
	}
	c, err := snap.DataAt("profile.screening.sensitiveDataConsent")
	granted, ok := c.(bool)
	return err != nil || !ok || granted != sensitiveData
}

// analysed counts uid's journal entries holding a log.aiAnalysis, reading
// only that field (never the journal text), by pages.
func (m *migrator) analysed(ctx context.Context, uid string) (int, error) {
	base, err := indexes.MustLookup(indexes.QGDPRUserActivations).Build(m.fs, uid)
	if err != nil {
		return 0, err
	}
	n := 0
	err = store.PageByID(ctx, base.Select("log.aiAnalysis"), 500, "", "journal entries of "+uid, func(snaps []*firestore.DocumentSnapshot) error {
		for _, s := range snaps {
			if v, err := s.DataAt("log.aiAnalysis"); err == nil && v != nil {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
