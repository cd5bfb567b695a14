package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/config"
	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
)

func init() {
	register(&command{name: "insights", summary: "daily insights: run (generate for a date) or bench (end-to-end benchmark on the emulator)", run: runInsights})
}

func runInsights(ctx context.Context, env *cmdEnv, args []string) error {
	usage := "insights run --date YYYY-MM-DD [--uid a,b]  |  insights bench [--users 10000]"
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, "usage: ops "+usage)
		return fmt.Errorf("name a subcommand: run or bench")
	}
	switch args[0] {
	case "run":
		return runInsightsRun(ctx, env, args[1:])
	case "bench":
		return runInsightsBench(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.stderr, "usage: ops "+usage)
		return nil
	}
	return fmt.Errorf("unknown insights subcommand %q (run, bench)", args[0])
}

// runInsightsRun generates the insight of a local date for the given users
// or for every opted-in user, without touching insightDueAt (an existing
// insight is left as it is, and not rewritten again):
//
//	ops insights run --date 2026-11-21 --uid demo-ada
//	ops insights run --date 2026-11-21            (every opted-in user, with a progress bar)
//	INSIGHTS_REWRITE=gemini GEMINI_API_KEY=… ops insights run --date 2026-11-21 --uid demo-ada
//
// It reads the functions' configuration (shared/config, with --project as
// GOOGLE_CLOUD_PROJECT) and rewrites as the worker does when
// INSIGHTS_REWRITE=gemini (functions.NewInsightsRewriter: only users
// granting ai_analysis; templates on any failure). Against a real project
// (no FIRESTORE_EMULATOR_HOST) --project must be given explicitly
// (opsProject); an argument that is not a flag is refused, as it would end
// the flags (a uid given without --uid would run every opted-in user).
func runInsightsRun(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "insights run", "insights run --date YYYY-MM-DD [--uid a,b,…] [--project P]   "+
		"(INSIGHTS_REWRITE=gemini with the GEMINI_* variables rewrites the wording for users granting ai_analysis)")
	date := fs.String("date", "", "the users' local date, YYYY-MM-DD (required)")
	uidList := fs.String("uid", "", "comma-separated uids; default: every user with insightsOptIn")
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	batch := fs.Int("batch", insights.DefaultShardSize, "users per batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("insights run: unexpected argument %q (users are named with --uid a,b)", fs.Arg(0))
	}
	if *date == "" {
		fs.Usage()
		return fmt.Errorf("--date is required")
	}
	if _, err := time.Parse(time.DateOnly, *date); err != nil {
		return fmt.Errorf("--date %q is not YYYY-MM-DD", *date)
	}
	proj, err := opsProject(*project)
	if err != nil {
		return fmt.Errorf("insights run: %w", err)
	}
	cfg, err := config.Load(projectEnv(proj))
	if err != nil {
		return fmt.Errorf("insights run: %w", err)
	}
	rw, err := functions.NewInsightsRewriter(cfg)
	if err != nil {
		return fmt.Errorf("insights run: %w", err)
	}
	if rw != nil {
		fmt.Fprintf(env.stderr, "insights run: rewriting with %s for users granting ai_analysis\n", rw.Name())
	}
	c, err := firestore.NewClient(ctx, proj)
	if err != nil {
		return err
	}
	defer c.Close()
	s := &insights.Service{Firestore: c, Now: func() time.Time { return time.Now().UTC() }, Rewriter: rw}
	var uids []string
	if *uidList != "" {
		for _, u := range strings.Split(*uidList, ",") {
			if u = strings.TrimSpace(u); u != "" {
				uids = append(uids, u)
			}
		}
	} else {
		if uids, err = optedIn(ctx, c); err != nil {
			return err
		}
	}
	var total insights.Stats
	bar := newProgress(env.stderr, "insights "+*date, len(uids))
	for i := 0; i < len(uids); i += max(*batch, 1) {
		st, err := s.RunDate(ctx, *date, uids[i:min(i+max(*batch, 1), len(uids))])
		total.Add(st)
		if err != nil {
			return err
		}
		bar.set(min(i+*batch, len(uids)))
	}
	bar.done()
	return json.NewEncoder(env.stdout).Encode(total)
}

// optedIn lists the uids of users with insightsOptIn, paging through the
// users collection by document id (projection only).
func optedIn(ctx context.Context, c *firestore.Client) ([]string, error) {
	var out []string
	it := c.Collection(model.ColUsers).Select("insightsOptIn").Documents(ctx)
	defer it.Stop()
	for {
		d, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v, err := d.DataAt("insightsOptIn"); err == nil && v == true {
			out = append(out, d.Ref.ID)
		}
	}
}

// benchPlaces are birthplaces with zones and coordinates.
var benchPlaces = []struct {
	Zone     string
	Lat, Lon float64
}{
	{"Europe/Stockholm", 59.33, 18.07}, {"Europe/Oslo", 59.91, 10.75}, {"Europe/London", 51.51, -0.13},
	{"Europe/Berlin", 52.52, 13.40}, {"America/New_York", 40.71, -74.01}, {"America/Los_Angeles", 34.05, -118.24},
	{"America/Sao_Paulo", -23.55, -46.63}, {"Asia/Tokyo", 35.68, 139.69}, {"Australia/Sydney", -33.87, 151.21},
	{"Asia/Kolkata", 19.08, 72.88}, {"Africa/Johannesburg", -33.92, 18.42}, {"Atlantic/Reykjavik", 64.15, -21.94},
}

// benchResult is what `insights bench` prints.
type benchResult struct {
	Users    int `json:"users"`
	Shard    int `json:"shardSize"`
	Parallel int `json:"parallel"`
	// History is how many earlier insights every user had: the days their
	// state document holds before the one delivered.
	History int `json:"history"`
	// WarmupUsers ran through both measurements first, unreported, so
	// that neither pays the emulator's JIT warm-up.
	WarmupUsers int `json:"warmupUsers"`
	// Rounds each measure both, each on a fresh database seeded with the
	// same users, alternating which goes first.
	Rounds []benchRound `json:"rounds"`
	// PairRatios are the geometric means of the ratios of consecutive
	// rounds 1–2, 3–4, …: one with each order, so that what running first
	// or second costs cancels out (it moves a round's ratio by ±10 %).
	PairRatios []float64 `json:"pairRatios"`
	// Median is the median over the rounds of each rate and CPU time, and
	// Ratio the median of PairRatios (the one round's ratio when there is
	// a single round).
	Median struct {
		RawSharded benchRate `json:"rawBulkWriterSharded"`
		Pipeline   benchRate `json:"pipeline"`
		Ratio      float64   `json:"ratio"`
	} `json:"median"`
	// Single is one BulkWriter making every write (--single), and
	// RatioSingle the median pipeline rate over it.
	Single      *benchRate `json:"rawBulkWriterSingle,omitempty"`
	RatioSingle float64    `json:"ratioSingle,omitempty"`
}

// benchRound is one round of the benchmark.
type benchRound struct {
	// First is the measurement that ran first: "raw" or "pipeline".
	First string `json:"first"`
	// RawSharded is the worker's writes for every user through BulkWriter
	// and nothing else, split like the pipeline's shards, Parallel
	// BulkWriters at a time.
	RawSharded benchRate `json:"rawBulkWriterSharded"`
	// Pipeline is fan-out, shard messages, snapshot decoding, state
	// reads, generation and writes, end to end.
	Pipeline pipelineRun `json:"pipeline"`
	// Ratio is the pipeline's write rate over the raw rate.
	Ratio float64 `json:"ratio"`
}

// pipelineRun is the pipeline's part of a round.
type pipelineRun struct {
	benchRate
	FanoutSecs     float64        `json:"fanoutSeconds"`     // until the last shard was published
	FirstShardSecs float64        `json:"firstShardSeconds"` // until the first shard was published
	Shards         int            `json:"shards"`
	Stats          insights.Stats `json:"stats"`
	InsightsPerSec float64        `json:"insightsPerSec"`
}

// benchRate is a number of writes in a time.
type benchRate struct {
	Writes       int     `json:"writes"`
	Seconds      float64 `json:"seconds"`
	WritesPerSec float64 `json:"writesPerSec"`
	// ClientCPU is the CPU time this process used during the measurement
	// (every goroutine, the BulkWriters' included); EmulatorCPU the
	// emulator's, when --emulator-pid names it.
	ClientCPU   float64 `json:"clientCpuSeconds"`
	EmulatorCPU float64 `json:"emulatorCpuSeconds,omitempty"`
}

func rateOf(writes int, d time.Duration) benchRate {
	return benchRate{Writes: writes, Seconds: d.Seconds(), WritesPerSec: float64(writes) / d.Seconds()}
}

// runInsightsBench is the end-to-end benchmark against the Firestore
// emulator. Each round seeds the same --users synthetic users (charts,
// zones, focus areas, and the state of --history earlier insights: the
// steady state by default), all due at one tick, into two fresh databases and
// measures, in alternating order: the raw BulkWriter rate of exactly the
// writes the worker makes per user (create the insight, create the
// notification, set the state, update insightDueAt of the existing user
// document), in shards of the same size, --parallel at a time; and the
// pipeline end to end: the fan-out streams the due users and publishes
// shards to an in-process queue from which --parallel workers (function
// instances) run the deployed worker's code (DeliverShard) as they
// arrive, as Pub/Sub push would. A full-size warm-up round goes first (the
// emulator's JIT makes early rounds slow and uneven); the medians over the
// rounds are the result, the ratio's over pairs of rounds with opposite
// orders. Each measurement's database is emptied right after it.
//
//	ops insights bench --users 10000
func runInsightsBench(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "insights bench", "insights bench [--users 10000] [--shard 250] [--parallel 8] [--rounds 6] [--warmup N] [--single] [--page 0] [--history 13] [--cpuprofile FILE] [--emulator-pid PID]")
	n := fs.Int("users", 10000, "synthetic users")
	shard := fs.Int("shard", insights.DefaultShardSize, "users per shard")
	parallel := fs.Int("parallel", 8, "shards processed at once (function instances)")
	rounds := fs.Int("rounds", 6, "measured rounds, alternating which measurement goes first (the ratio is the median over pairs of rounds)")
	warmup := fs.Int("warmup", -1, "users of the unreported warm-up round (-1: as many as --users; 0: none)")
	single := fs.Bool("single", false, "also measure one BulkWriter making every write")
	page := fs.Int("page", 0, "fan-out page size (0: insights.DefaultPageSize)")
	cpuProfile := fs.String("cpuprofile", "", "write the client's CPU profile of the whole run to this file (samples labelled measurement=raw, pipeline or single)")
	emuPID := fs.Int("emulator-pid", 0, "also report the CPU time of this process (the local emulator's JVM) per measurement")
	history := fs.Int("history", insights.RecentDays-1, "earlier daily insights every user has had (their recent-templates state); 0: everyone's first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	host := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if host == "" {
		return fmt.Errorf("FIRESTORE_EMULATOR_HOST is not set: the benchmark runs against the emulator only")
	}
	if *n <= 0 || *rounds <= 0 {
		return fmt.Errorf("--users and --rounds must be positive")
	}
	if *history < 0 || *history >= insights.RecentDays {
		return fmt.Errorf("--history must be 0–%d: a state keeps %d days", insights.RecentDays-1, insights.RecentDays)
	}
	b := &insightsBench{env: env, host: host, shard: *shard, parallel: *parallel, page: *page, history: *history,
		tick: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), stamp: time.Now().UnixNano(), cpu: cpuMeter{pid: *emuPID}}
	if _, err := b.cpu.sample(); err != nil {
		return err
	}
	if err := b.prepare(); err != nil {
		return err
	}
	if *warmup < 0 {
		*warmup = *n
	}
	res := benchResult{Users: *n, Shard: *shard, Parallel: *parallel, History: *history, WarmupUsers: *warmup}
	if *warmup > 0 {
		if _, err := b.round(ctx, "warmup", *warmup, false); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var raws, pipes, ratios []float64
	var cpu [4][]float64 // raw client, raw emulator, pipeline client, pipeline emulator
	for r := range *rounds {
		rd, err := b.round(ctx, fmt.Sprint(r+1), *n, r%2 == 1)
		if err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		res.Rounds = append(res.Rounds, rd)
		raws, pipes, ratios = append(raws, rd.RawSharded.Seconds), append(pipes, rd.Pipeline.Seconds), append(ratios, rd.Ratio)
		for i, v := range []float64{rd.RawSharded.ClientCPU, rd.RawSharded.EmulatorCPU, rd.Pipeline.ClientCPU, rd.Pipeline.EmulatorCPU} {
			cpu[i] = append(cpu[i], v)
		}
	}
	writes := benchWritesPerUser * *n
	res.Median.RawSharded = rateOf(writes, time.Duration(median(raws)*float64(time.Second)))
	res.Median.Pipeline = rateOf(writes, time.Duration(median(pipes)*float64(time.Second)))
	res.PairRatios = pairRatios(ratios)
	if len(res.PairRatios) > 0 {
		res.Median.Ratio = median(slices.Clone(res.PairRatios))
	} else {
		res.Median.Ratio = ratios[0]
	}
	res.Median.RawSharded.ClientCPU, res.Median.RawSharded.EmulatorCPU = median(cpu[0]), median(cpu[1])
	res.Median.Pipeline.ClientCPU, res.Median.Pipeline.EmulatorCPU = median(cpu[2]), median(cpu[3])
	if *single {
		var r benchRate
		if err := b.seeded(ctx, "single", *n, func(c *firestore.Client, users benchUsers) error {
			return b.metered(ctx, &r, "single", func(ctx context.Context) (err error) {
				r, err = benchRaw(ctx, env, c, users, &b.sample, b.tick, *n, 1, "raw BulkWriter")
				return err
			})
		}); err != nil {
			return err
		}
		res.Single, res.RatioSingle = &r, res.Median.Pipeline.WritesPerSec/r.WritesPerSec
	}
	return writeResultJSON(env.stdout, res)
}

// insightsBench holds what the rounds of `insights bench` share.
type insightsBench struct {
	env                   *cmdEnv
	host                  string
	shard, parallel, page int
	history               int // earlier insights per user (see benchUsers)
	tick                  time.Time
	stamp                 int64
	cpu                   cpuMeter
	lib                   *insights.Library
	sample                model.DailyInsight // what the raw runs write
}

// prepare generates the representative insight the raw runs write.
func (b *insightsBench) prepare() error {
	lib, err := insights.DefaultLibrary()
	if err != nil {
		return err
	}
	b.lib = lib
	chart, err := astro.ComputeChart(astro.ChartInput{Time: time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC),
		Location: &astro.Location{Latitude: 59.33, Longitude: 18.07}})
	if err != nil {
		return err
	}
	var sc insights.Scratch
	b.sample = lib.Generate(&insights.Subject{UID: "sample", Birth: mustDate("1990-05-15"), HasBirth: true, Chart: &chart,
		Focus: model.FocusSleep, Minutes: 15}, insights.NewDay(mustDate("2026-11-21")), &sc)
	b.sample.CreatedAt = b.tick
	return nil
}

// db opens a fresh emulator database; done closes it and empties it (the
// emulator keeps every database in memory).
func (b *insightsBench) db(ctx context.Context, name string) (*firestore.Client, func(), error) {
	p := fmt.Sprintf("bench-%s-%d", name, b.stamp)
	c, err := firestore.NewClient(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close(); _ = clearEmulatorDB(b.host, p) }, nil
}

// round measures the raw sharded writes and the pipeline, the pipeline
// first when pipelineFirst. Each runs on its own fresh database, seeded
// with the same n users just before and emptied right after, so both find
// the emulator holding the same data: with both databases alive, the
// second measurement ran beside the first one's 50 000 documents and paid
// for it (up to a third of its rate in a round). Going first or second
// still moves a round's ratio; pairRatios cancels that.
func (b *insightsBench) round(ctx context.Context, name string, n int, pipelineFirst bool) (benchRound, error) {
	rd := benchRound{First: "raw"}
	raw := func(c *firestore.Client, users benchUsers) error {
		return b.metered(ctx, &rd.RawSharded, "raw", func(ctx context.Context) (err error) {
			rd.RawSharded, err = benchRaw(ctx, b.env, c, users, &b.sample, b.tick, b.shard, b.parallel, "raw BulkWriters, sharded")
			return err
		})
	}
	pipe := func(c *firestore.Client, _ benchUsers) error {
		return b.metered(ctx, &rd.Pipeline.benchRate, "pipeline", func(ctx context.Context) (err error) {
			rd.Pipeline, err = b.pipeline(ctx, c, n)
			return err
		})
	}
	steps := []func(*firestore.Client, benchUsers) error{raw, pipe}
	names := []string{"raw-", "pipeline-"}
	if pipelineFirst {
		rd.First = "pipeline"
		steps, names = []func(*firestore.Client, benchUsers) error{pipe, raw}, []string{"pipeline-", "raw-"}
	}
	for i, step := range steps {
		if err := b.seeded(ctx, names[i]+name, n, step); err != nil {
			return rd, err
		}
	}
	rd.Ratio = rd.Pipeline.WritesPerSec / rd.RawSharded.WritesPerSec
	return rd, nil
}

// seeded runs measure on a fresh database seeded with n users and empties
// the database afterwards.
func (b *insightsBench) seeded(ctx context.Context, name string, n int, measure func(*firestore.Client, benchUsers) error) error {
	c, done, err := b.db(ctx, name)
	if err != nil {
		return err
	}
	defer done()
	users, err := b.seed(ctx, c, n)
	if err != nil {
		return err
	}
	return measure(c, users)
}

// metered runs measure and records in r the CPU time it used; measure
// sets r's other fields. It runs with the profiler label measurement=name,
// which the goroutines it starts inherit, so that --cpuprofile separates
// the measurements (go tool pprof -tagfocus=measurement=pipeline).
func (b *insightsBench) metered(ctx context.Context, r *benchRate, name string, measure func(context.Context) error) error {
	before, err := b.cpu.sample()
	if err != nil {
		return err
	}
	pprof.Do(ctx, pprof.Labels("measurement", name), func(ctx context.Context) { err = measure(ctx) })
	if err != nil {
		return err
	}
	after, err := b.cpu.sample()
	if err != nil {
		return err
	}
	r.ClientCPU, r.EmulatorCPU = after.client-before.client, after.other-before.other
	return nil
}

// pipeline runs the fan-out and the workers together on c's n due users.
func (b *insightsBench) pipeline(ctx context.Context, c *firestore.Client, n int) (pipelineRun, error) {
	var run pipelineRun
	q := &benchQueue{ch: make(chan []byte, 4096)}
	s := &insights.Service{Firestore: c, Publisher: q, Now: func() time.Time { return b.tick }, ShardSize: b.shard, PageSize: b.page}
	bar := newProgress(b.env.stderr, "insights pipeline", n)
	var done atomic.Int64
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	start := time.Now()
	for range max(b.parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for data := range q.ch {
				// The deployed worker's code: decode, check, use the
				// fan-out's snapshots, read states, generate, write.
				st, err := s.DeliverShard(ctx, &events.PubSubMessage{Data: data, Attributes: map[string]string{}})
				mu.Lock()
				run.Stats.Add(st)
				run.Shards++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				bar.set(int(done.Add(int64(st.Users))))
			}
		}()
	}
	_, err := s.Fanout(ctx, b.tick)
	run.FanoutSecs = time.Since(start).Seconds()
	run.FirstShardSecs = time.Unix(0, q.first.Load()).Sub(start).Seconds()
	close(q.ch)
	wg.Wait()
	run.benchRate = rateOf(benchWritesPerUser*(run.Stats.Created+run.Stats.Existing), time.Since(start))
	bar.done()
	if err = errors.Join(err, firstErr); err != nil {
		return run, fmt.Errorf("pipeline: %w", err)
	}
	run.InsightsPerSec = float64(run.Stats.Created) / run.Seconds
	if run.Stats.Created != n {
		return run, fmt.Errorf("pipeline created %d insights for %d users: %+v", run.Stats.Created, n, run.Stats)
	}
	return run, nil
}

// pairRatios returns the geometric mean of each pair of consecutive
// ratios (rounds 1–2, 3–4, …; an odd last round has no pair).
func pairRatios(ratios []float64) []float64 {
	var out []float64
	for i := 0; i+1 < len(ratios); i += 2 {
		out = append(out, math.Sqrt(ratios[i]*ratios[i+1]))
	}
	return out
}

// median is the median of xs (not empty); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// benchWritesPerUser is the number of writes the worker makes per user
// (insight, notification, state, insightDueAt), which benchRaw repeats and
// every rate of the benchmark counts.
const benchWritesPerUser = 4

// benchRaw makes, with BulkWriter and nothing else, the writes the worker
// makes per user (create the insight, create the notification, set the
// state: the day's templates and the user's earlier ones, update
// insightDueAt of the existing user document) for every user, in parts of
// shard users, parallel BulkWriters at a time.
func benchRaw(ctx context.Context, env *cmdEnv, c *firestore.Client, users benchUsers, sample *model.DailyInsight, tick time.Time,
	shard, parallel int, label string) (benchRate, error) {
	uids, shard := users.uids, max(shard, 1)
	bar := newProgress(env.stderr, label, len(uids))
	var done atomic.Int64
	start := time.Now()
	err := forEach((len(uids)+shard-1)/shard, parallel, func(part int) error {
		from, to := part*shard, min((part+1)*shard, len(uids))
		bw := c.BulkWriter(ctx)
		jobs := make([]*firestore.BulkWriterJob, 0, benchWritesPerUser*(to-from))
		add := func(j *firestore.BulkWriterJob, err error) error {
			jobs = append(jobs, j)
			return err
		}
		for i := from; i < to; i++ {
			uid := uids[i]
			u := c.Collection(model.ColUsers).Doc(uid)
			doc := *sample
			doc.UserID = uid
			note := model.Notification{UserID: uid, Kind: insights.NotificationKind, Title: doc.Headline, Body: doc.Intention,
				Ref: model.SubColInsights + "/" + doc.Date, CreatedAt: tick}
			state := insights.State{Days: append([]string{insights.StateDay(doc.Date, doc.TemplateIDs)}, users.history[i]...),
				UpdatedAt: tick}
			if err := errors.Join(
				add(bw.Create(u.Collection(model.SubColInsights).Doc(doc.Date), &doc)),
				add(bw.Create(u.Collection(model.SubColNotes).Doc(insights.NotificationID(doc.Date)), &note)),
				add(bw.Set(u.Collection(model.SubColPrivate).Doc(insights.StateDoc), &state)),
				add(bw.Update(u, []firestore.Update{{Path: "insightDueAt", Value: tick.Add(24 * time.Hour)}})),
			); err != nil {
				return err
			}
			if len(jobs)%2000 == 0 {
				bar.set(int(done.Load()) + len(jobs)/benchWritesPerUser)
			}
		}
		bw.End()
		for _, j := range jobs {
			if _, err := j.Results(); err != nil {
				return err
			}
		}
		bar.set(int(done.Add(int64(to - from))))
		return nil
	})
	if err != nil {
		return benchRate{}, fmt.Errorf("%s: %w", label, err)
	}
	r := rateOf(benchWritesPerUser*len(uids), time.Since(start))
	bar.done()
	return r, nil
}

// benchQueue is an in-process queue.Publisher: shard messages go straight
// to the benchmark's workers while the fan-out is still paging.
type benchQueue struct {
	ch    chan []byte
	first atomic.Int64 // UnixNano of the first publish
}

// Publish implements queue.Publisher.
func (q *benchQueue) Publish(ctx context.Context, _ string, data []byte, _ map[string]string) (string, error) {
	q.first.CompareAndSwap(0, time.Now().UnixNano())
	select {
	case q.ch <- data:
		return "", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// benchUsers are the users a measurement's database is seeded with.
type benchUsers struct {
	uids []string
	// history is, per user, the templates of the earlier insights their
	// state document holds, newest first (b.history dates).
	history [][]string
}

// seed writes n synthetic users due at b.tick: 70 % with a natal chart,
// 20 % with a birth date only, 10 % without birth data. With b.history,
// each user also has the state document of that many earlier daily
// insights (the dates before the one due, generated as the worker would),
// as every user has after their first days: the worker reads it and
// writes it back one day longer.
func (b *insightsBench) seed(ctx context.Context, c *firestore.Client, n int) (benchUsers, error) {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	bw := c.BulkWriter(ctx)
	bar := newProgress(b.env.stderr, "seed users", n)
	users := benchUsers{uids: make([]string, n), history: make([][]string, n)}
	var (
		jobs []*firestore.BulkWriterJob
		sc   insights.Scratch
		days = map[numerology.Date]*insights.Day{}
	)
	due := b.tick.Add(-time.Minute)
	for i := range n {
		uid := fmt.Sprintf("bench-%06d", i+1)
		users.uids[i] = uid
		p := benchPlaces[rng.IntN(len(benchPlaces))]
		birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(55 * 365 * 24 * time.Hour))))
		sub := insights.Subject{UID: uid, Focus: model.FocusAreas[rng.IntN(len(model.FocusAreas))], Minutes: []int{5, 10, 15, 20, 30}[rng.IntN(5)]}
		doc := map[string]any{"userId": uid, "createdAt": b.tick, "timeZone": p.Zone, "insightsOptIn": true, "insightDueAt": due,
			"focusArea": string(sub.Focus), "timeCommitment": sub.Minutes}
		switch r := rng.IntN(10); {
		case r < 7:
			ch, err := astro.ComputeChart(astro.ChartInput{Time: birth, Location: &astro.Location{Latitude: p.Lat, Longitude: p.Lon}})
			if err != nil {
				return users, err
			}
			doc["chart"], sub.Chart = ch, &ch
			fallthrough
		case r < 9:
			doc["birthDate"] = birth.Format(time.DateOnly)
			sub.Birth, sub.HasBirth = numerology.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}, true
		}
		u := c.Collection(model.ColUsers).Doc(uid)
		j, err := bw.Set(u, doc)
		if err != nil {
			return users, err
		}
		jobs = append(jobs, j)
		if b.history > 0 {
			date, _ := insights.Delivery(b.tick, insights.Zone(p.Zone), insights.DefaultHour)
			users.history[i] = benchHistory(b.lib, &sub, date, b.history, days, &sc)
			j, err := bw.Set(u.Collection(model.SubColPrivate).Doc(insights.StateDoc),
				&insights.State{Days: users.history[i], UpdatedAt: due.Add(-24 * time.Hour)})
			if err != nil {
				return users, err
			}
			jobs = append(jobs, j)
		}
		if len(jobs) >= 500 || i == n-1 {
			bw.Flush()
			for _, j := range jobs {
				if _, err := j.Results(); err != nil {
					return users, fmt.Errorf("seed: %w", err)
				}
			}
			jobs = jobs[:0]
			bar.set(i + 1)
		}
	}
	bw.End()
	bar.done()
	return users, nil
}

// benchHistory generates sub's insights of the n dates before date, oldest
// first, each avoiding the templates of the ones before it, and returns
// their state entries newest first, as the state document keeps them.
// days caches the skies.
func benchHistory(lib *insights.Library, sub *insights.Subject, date numerology.Date, n int,
	days map[numerology.Date]*insights.Day, sc *insights.Scratch) []string {
	out := make([]string, n)
	sub.Recent = lib.NewRecent()
	for k := n; k >= 1; k-- {
		y, m, d := time.Date(date.Year, date.Month, date.Day-k, 12, 0, 0, 0, time.UTC).Date()
		dd := numerology.Date{Year: y, Month: m, Day: d}
		day := days[dd]
		if day == nil {
			day = insights.NewDay(dd)
			days[dd] = day
		}
		in := lib.Generate(sub, day, sc)
		for _, id := range in.TemplateIDs {
			if t, ok := lib.Lookup(id); ok {
				sub.Recent.Add(t)
			}
		}
		out[k-1] = insights.StateDay(in.Date, in.TemplateIDs)
	}
	return out
}

// forEach runs fn(0…n-1), parallel at a time, and returns the first error.
func forEach(n, parallel int, fn func(int) error) error {
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}

func mustDate(s string) numerology.Date {
	d, err := numerology.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// clearEmulatorDB deletes every document of project's default database on
// the Firestore emulator at host.
func clearEmulatorDB(host, project string) error {
	req, err := http.NewRequest(http.MethodDelete, "http://"+host+"/emulator/v1/projects/"+project+"/databases/(default)/documents", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("clear %s: status %d", project, resp.StatusCode)
	}
	return nil
}
