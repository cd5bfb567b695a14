package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"

	"github.com/innerjourney/functions/functions/gdpr"
	"github.com/innerjourney/functions/shared/cloud"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
)

func init() {
	register(&command{name: "gdpr", summary: "GDPR: export a user's data, erase a user (--dry-run lists what would go), request status", run: runGDPR})
}

const gdprUsage = `gdpr export --uid UID [--out FILE]      export everything held about UID (zip in Storage, optionally saved)
  gdpr delete --uid UID --dry-run         list, per collection, what an erasure would delete, anonymise or hold
  gdpr delete --uid UID --yes             erase UID now (the same resumable run as the worker)
  gdpr status [--id REQUEST | --uid UID]  open requests, or one request in full
  gdpr policy                             print the per-collection policy table (Markdown)
  gdpr backfill-reflectors                once after deploying the live_sessions.reflectionUserIds rules:
                                          list every reflection's author on older live sessions

  Common flags: --project P (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney), --bucket B.
  Against a real project (no FIRESTORE_EMULATOR_HOST) --project must be given explicitly.`

func runGDPR(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.stderr, "usage: ops %s\n", gdprUsage)
		if len(args) == 0 {
			return errors.New("name a subcommand: export, delete, status, policy or backfill-reflectors")
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	if sub == "policy" {
		fmt.Fprint(env.stdout, gdpr.PolicyMarkdown())
		return nil
	}
	fs := newFlags(env, "gdpr "+sub, gdprUsage)
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	bucket := fs.String("bucket", "", "Storage bucket (default $IJ_STORAGE_BUCKET or PROJECT.appspot.com)")
	uid := fs.String("uid", "", "the subject's uid")
	var out *string
	var dry, yes *bool
	var id *string
	switch sub {
	case "export":
		out = fs.String("out", "", "also save the archive to this file")
	case "delete":
		dry = fs.Bool("dry-run", false, "only list what would go, per collection")
		yes = fs.Bool("yes", false, "confirm the erasure")
	case "status":
		id = fs.String("id", "", "one request id")
	case "backfill-reflectors":
	default:
		return fmt.Errorf("unknown subcommand %q (export, delete, status, policy, backfill-reflectors)", sub)
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// It ends the flags (a --dry-run after it would be ignored), and a
		// second uid would go unprocessed: one --uid per run.
		return fmt.Errorf("gdpr %s: unexpected argument %q (one --uid per run)", sub, fs.Arg(0))
	}
	if (sub == "export" || sub == "delete") && *uid == "" {
		return errors.New("--uid is required")
	}
	// The backfill only lists reflection authors by uid: it needs no
	// pseudonym key (a secret an operator should not have to export).
	s, closeFn, err := gdprService(ctx, *project, *bucket, sub != "backfill-reflectors")
	if err != nil {
		return err
	}
	defer closeFn()
	switch sub {
	case "export":
		return gdprExport(ctx, env, s, *uid, *out)
	case "delete":
		if *dry {
			return gdprDryRun(ctx, env, s, *uid)
		}
		if !*yes {
			return errors.New("erasure is irreversible: add --yes (or look first with --dry-run)")
		}
		return gdprDelete(ctx, env, s, *uid)
	case "backfill-reflectors":
		n, err := s.BackfillReflectionUserIDs(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "live sessions updated: %d\n", n)
		return nil
	default:
		return gdprStatus(ctx, env, s, *id, *uid)
	}
}

// opsPseudonymKey is the pseudonym key of an ops command: IJ_PSEUDONYM_KEY,
// or the development key only against the emulators. (The functions fall
// back to it wherever IJ_ENV is development, its default: a command run
// against a real project that way would build pseudonyms, payout ids and
// erasure ids that differ from the deployed functions'.)
func opsPseudonymKey(cfg *config.Config) ([]byte, error) {
	if k := cfg.PseudonymKey.Reveal(); k != "" {
		return []byte(k), nil
	}
	if cfg.FirestoreEmulator == "" {
		return nil, cfg.Require("IJ_PSEUDONYM_KEY")
	}
	return []byte(gdpr.DevPseudonymKey), nil
}

// projectEnv is the environment of an ops command that names its project
// explicitly (opsProject): GOOGLE_CLOUD_PROJECT is project, every other
// variable comes from the process's environment (config.Load reads it).
func projectEnv(project string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == "GOOGLE_CLOUD_PROJECT" {
			return project, true
		}
		return os.LookupEnv(k)
	}
}

// projectClients returns the functions' clients and configuration for
// project, built as the functions build theirs (config.Load with the
// project pinned, see projectEnv), for the ops commands that run a
// function's service.
func projectClients(ctx context.Context, project string) (*cloud.Clients, *config.Config, error) {
	c := cloud.New(func() (*config.Config, error) { return config.Load(projectEnv(project)) })
	cfg, err := c.Config.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, cfg, nil
}

// opsProject is the project of an ops command that reads or writes user
// data: project when given; otherwise, only against the emulators
// (FIRESTORE_EMULATOR_HOST set), $GOOGLE_CLOUD_PROJECT or demo-innerjourney.
func opsProject(project string) (string, error) {
	if project != "" {
		return project, nil
	}
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		return "", errors.New("--project is required against a real project")
	}
	return envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), nil
}

// gdprService builds the area's service from the environment, as the
// functions do, with a publisher that records instead of publishing: the
// CLI runs the request itself (a request left unfinished is picked up by
// the sweeper). needKey says whether the command builds pseudonyms or
// erasure ids (every subcommand but backfill-reflectors): then the
// pseudonym key is required against a real project (opsPseudonymKey);
// otherwise the service has none.
func gdprService(ctx context.Context, project, bucket string, needKey bool) (*gdpr.Service, func(), error) {
	project, err := opsProject(project)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(projectEnv(project))
	if err != nil {
		return nil, nil, err
	}
	if bucket == "" {
		bucket = cfg.StorageBucket
	}
	var key []byte
	if needKey {
		if key, err = opsPseudonymKey(cfg); err != nil {
			return nil, nil, err
		}
	}
	fc, err := firestore.NewClient(ctx, project)
	if err != nil {
		return nil, nil, err
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project, StorageBucket: bucket})
	if err != nil {
		fc.Close()
		return nil, nil, err
	}
	ac, err := app.Auth(ctx)
	if err != nil {
		fc.Close()
		return nil, nil, err
	}
	sc, err := storage.NewClient(ctx, storage.WithJSONReads())
	if err != nil {
		fc.Close()
		return nil, nil, err
	}
	s := &gdpr.Service{Firestore: fc, Auth: ac, Storage: sc, Bucket: bucket, Publisher: &queue.Recorder{},
		PseudonymKey: key, Now: func() time.Time { return time.Now().UTC() }}
	s.UseConfig(cfg, sc)
	return s, func() { fc.Close(); sc.Close() }, nil
}

// runInline runs a request to its end with a progress bar on stderr.
func runInline(ctx context.Context, env *cmdEnv, s *gdpr.Service, id, label string) (model.GDPRRequest, error) {
	var bar *progress
	s.OnProgress = func(r *model.GDPRRequest) {
		total, done := int64(0), int64(0)
		for _, n := range r.Plan {
			total += n
		}
		for _, n := range r.Progress {
			done += n
		}
		if total == 0 {
			return
		}
		if bar == nil {
			bar = newProgress(env.stderr, label, int(total))
		}
		bar.set(int(min(done, total)))
	}
	owner := "ops-" + fmt.Sprint(os.Getpid())
	for {
		out, err := s.Run(ctx, id, owner)
		if err != nil {
			return model.GDPRRequest{}, err
		}
		if out == gdpr.OutcomeContinued {
			continue
		}
		if bar != nil {
			bar.done()
		}
		snap, err := s.Firestore.Collection(model.ColGDPRRequests).Doc(id).Get(ctx)
		if err != nil {
			return model.GDPRRequest{}, err
		}
		var r model.GDPRRequest
		if err := snap.DataTo(&r); err != nil {
			return r, err
		}
		switch out {
		case gdpr.OutcomeBusy:
			return r, fmt.Errorf("request %s is being run by %s until %v", id, r.LeaseOwner, r.LeaseUntil)
		case gdpr.OutcomeFailed:
			return r, fmt.Errorf("request %s failed: %s", id, r.Error)
		}
		return r, nil
	}
}

func gdprExport(ctx context.Context, env *cmdEnv, s *gdpr.Service, uid, out string) error {
	req, _, err := s.CreateExport(ctx, uid, "ops", gdpr.SourceOps)
	if err != nil {
		return err
	}
	r, err := runInline(ctx, env, s, req.RequestID, "export "+uid)
	if err != nil {
		return err
	}
	res := map[string]any{"requestId": r.RequestID, "status": r.Status, "exportPath": r.ExportPath,
		"bytes": r.ExportBytes, "sha256": r.ExportSHA256, "expiresAt": r.ExpiresAt}
	if out != "" {
		rd, err := s.Storage.Bucket(s.Bucket).Object(r.ExportPath).NewReader(ctx)
		if err != nil {
			return err
		}
		defer rd.Close()
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, rd); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		res["out"] = out
	}
	return writeResultJSON(env.stdout, res)
}

func gdprDryRun(ctx context.Context, env *cmdEnv, s *gdpr.Service, uid string) error {
	t, err := s.Plan(ctx, uid)
	if err != nil {
		return err
	}
	type line struct {
		Rule, Collection, Kind, Action string
		Count                          int64
	}
	var lines []line
	for _, p := range gdpr.Policies {
		for _, r := range p.Rules {
			n, ok := t.Counts[r.ID]
			if !ok {
				n, ok = t.Held[r.ID]
			}
			if !ok || n == 0 {
				continue
			}
			lines = append(lines, line{r.ID, p.Collection, string(r.Kind), r.Erase, n})
		}
	}
	for _, k := range []string{"storage", "stripe", "auth"} {
		if n := t.Counts[k]; n > 0 {
			p, _ := gdpr.PolicyFor(k)
			lines = append(lines, line{k, k, string(p.Kind), p.Why, n})
		}
	}
	tw := tabwriter.NewWriter(env.stderr, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RULE\tKIND\tCOUNT\tWHAT ERASURE DOES\n")
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", l.Rule, l.Kind, l.Count, truncate(l.Action, 90))
	}
	held := []string{}
	for k, n := range t.Held {
		if n > 0 {
			held = append(held, fmt.Sprintf("%s=%d", k, n))
		}
	}
	sort.Strings(held)
	if len(held) > 0 {
		fmt.Fprintf(tw, "already held under the pseudonym: %s\n", strings.Join(held, ", "))
	}
	tw.Flush()
	return writeResultJSON(env.stdout, map[string]any{"uid": uid, "dryRun": true, "counts": t.Counts, "held": t.Held})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func gdprDelete(ctx context.Context, env *cmdEnv, s *gdpr.Service, uid string) error {
	req, _, err := s.StartErasure(ctx, uid, "ops", gdpr.SourceOps, true)
	if err != nil {
		return err
	}
	r, err := runInline(ctx, env, s, req.RequestID, "erase "+uid)
	if err != nil {
		return err
	}
	return writeResultJSON(env.stdout, map[string]any{"requestId": r.RequestID, "status": r.Status, "proof": r.Proof,
		"doneAt": r.DoneAt})
}

func gdprStatus(ctx context.Context, env *cmdEnv, s *gdpr.Service, id, uid string) error {
	var docs []*firestore.DocumentSnapshot
	var err error
	switch {
	case id != "":
		var snap *firestore.DocumentSnapshot
		snap, err = s.Firestore.Collection(model.ColGDPRRequests).Doc(id).Get(ctx)
		docs = append(docs, snap)
	case uid != "":
		q, qerr := indexes.MustLookup(indexes.QGDPRRequests).Build(s.Firestore, uid)
		if qerr != nil {
			return qerr
		}
		docs, err = q.Documents(ctx).GetAll()
		// An erasure that finished carries the pseudonym, not the uid.
		if snap, gerr := s.Firestore.Collection(model.ColGDPRRequests).Doc(s.ErasureID(uid)).Get(ctx); gerr == nil && !containsRef(docs, snap.Ref) {
			docs = append(docs, snap)
		}
	default:
		q, qerr := indexes.MustLookup(indexes.QGDPROpen).Build(s.Firestore, []any{gdpr.StatusPending, gdpr.StatusRunning, gdpr.StatusVerifying})
		if qerr != nil {
			return qerr
		}
		docs, err = q.Documents(ctx).GetAll()
	}
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	tw := tabwriter.NewWriter(env.stderr, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "REQUEST\tKIND\tSTATUS\tSTEP\tDONE/PLAN\tDUE IN\tERROR\n")
	var list []model.GDPRRequest
	for _, d := range docs {
		var r model.GDPRRequest
		if err := d.DataTo(&r); err != nil {
			return err
		}
		list = append(list, r)
		var done, plan int64
		for _, n := range r.Progress {
			done += n
		}
		for _, n := range r.Plan {
			plan += n
		}
		step, _ := r.Checkpoint["step"].(string)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.RequestID, r.Kind, r.Status, step, done, plan,
			r.DueAt.Sub(now).Round(time.Hour), r.Error)
	}
	tw.Flush()
	if id != "" && len(list) == 1 {
		return writeResultJSON(env.stdout, list[0])
	}
	return writeResultJSON(env.stdout, map[string]any{"requests": len(list)})
}

func containsRef(docs []*firestore.DocumentSnapshot, ref *firestore.DocumentRef) bool {
	for _, d := range docs {
		if d.Ref.Path == ref.Path {
			return true
		}
	}
	return false
}
