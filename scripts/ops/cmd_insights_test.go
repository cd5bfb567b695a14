package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/functions/insights"
	"github.com/innerjourney/functions/shared/testenv"
)

func TestInsightsRun(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	project := fs.NewProject(t)
	c := fs.Client(t, project)
	ctx := context.Background()
	for uid, doc := range map[string]map[string]any{
		"in":  {"insightsOptIn": true, "birthDate": "1990-05-15", "timeZone": "Europe/Stockholm"},
		"in2": {"insightsOptIn": true},
		"out": {"insightsOptIn": false, "birthDate": "1990-05-15"},
	} {
		if _, err := c.Doc("users/"+uid).Set(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FIRESTORE_EMULATOR_HOST", fs.Host)
	runOK := func(args ...string) insights.Stats {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(ctx, &cmdEnv{stdout: &out, stderr: &errb}, append([]string{"insights", "run", "--project", project}, args...)); code != 0 {
			t.Fatalf("ops insights run %v: exit %d: %s", args, code, errb.String())
		}
		var st insights.Stats
		if err := json.Unmarshal(out.Bytes(), &st); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
		return st
	}
	if st := runOK("--date", "2026-11-21"); st.Users != 2 || st.Created != 2 {
		t.Errorf("every opted-in user: %+v", st)
	}
	if st := runOK("--date", "2026-11-21", "--uid", "in,out"); st.Created != 1 || st.Existing != 1 {
		t.Errorf("named users: %+v", st)
	}
	if _, err := c.Doc("users/out/daily_insights/2026-11-21").Get(ctx); err != nil {
		t.Errorf("named user's insight: %v", err)
	}
	var errb bytes.Buffer
	if code := run(ctx, &cmdEnv{stdout: &bytes.Buffer{}, stderr: &errb}, []string{"insights", "run", "--date", "21/11/2026"}); code == 0 {
		t.Error("a bad date was accepted")
	}
}

func TestInsightsBenchSmall(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	t.Setenv("FIRESTORE_EMULATOR_HOST", fs.Host)
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := run(ctx, &cmdEnv{stdout: &out, stderr: &errb}, []string{"insights", "bench", "--users", "40", "--shard", "7", "--page", "9", "--rounds", "2", "--warmup", "5", "--single",
		// Our own process stands in for the emulator's: the plumbing is what is tested.
		"--emulator-pid", strconv.Itoa(os.Getpid())}); code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errb.String())
	}
	var res benchResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if len(res.Rounds) != 2 || res.Rounds[0].First != "raw" || res.Rounds[1].First != "pipeline" {
		t.Fatalf("rounds %+v", res.Rounds)
	}
	for _, rd := range res.Rounds {
		if rd.Pipeline.Stats.Created != 40 || rd.Pipeline.Shards != 6 || rd.RawSharded.Writes != 160 || rd.Ratio <= 0 ||
			rd.RawSharded.ClientCPU <= 0 || rd.Pipeline.ClientCPU <= 0 || rd.Pipeline.EmulatorCPU < 0 {
			t.Errorf("round %+v", rd)
		}
	}
	if len(res.PairRatios) != 1 || res.Median.Ratio != res.PairRatios[0] ||
		math.Abs(res.PairRatios[0]-math.Sqrt(res.Rounds[0].Ratio*res.Rounds[1].Ratio)) > 1e-12 {
		t.Errorf("pair ratios %v, median %v", res.PairRatios, res.Median.Ratio)
	}
	if res.Median.Ratio <= 0 || res.Single == nil || res.Single.Writes != 160 || res.RatioSingle <= 0 {
		t.Errorf("bench result %+v", res)
	}
	if !strings.Contains(errb.String(), "insights pipeline") {
		t.Errorf("no progress bar: %q", errb.String())
	}
}

func TestPairRatios(t *testing.T) {
	tests := []struct {
		in, want []float64
	}{
		{nil, nil},
		{[]float64{0.8}, nil},
		{[]float64{0.9, 0.4}, []float64{0.6}},
		{[]float64{0.9, 0.4, 1, 1, 0.5}, []float64{0.6, 1}},
	}
	for _, tt := range tests {
		got := pairRatios(tt.in)
		if len(got) != len(tt.want) {
			t.Fatalf("pairRatios(%v) = %v, want %v", tt.in, got, tt.want)
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("pairRatios(%v) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

// TestBenchSeedsSteadyState checks that the benchmark's users have what
// every user has after their first days: a state of RecentDays-1 earlier
// insights without repeats, which the pipeline reads and extends by the
// day it delivers.
func TestBenchSeedsSteadyState(t *testing.T) {
	fs := testenv.FirestoreEmulator(t)
	t.Setenv("FIRESTORE_EMULATOR_HOST", fs.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := &insightsBench{env: &cmdEnv{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, host: fs.Host, shard: 8, parallel: 2,
		history: insights.RecentDays - 1, tick: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC), stamp: time.Now().UnixNano()}
	if err := b.prepare(); err != nil {
		t.Fatal(err)
	}
	c, done, err := b.db(ctx, "steady")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	const n = 30
	users, err := b.seed(ctx, c, n)
	if err != nil {
		t.Fatal(err)
	}
	state := func(uid string) insights.State {
		t.Helper()
		d, err := c.Doc("users/" + uid + "/private/" + insights.StateDoc).Get(ctx)
		if err != nil {
			t.Fatalf("%s: state: %v", uid, err)
		}
		var st insights.State
		if err := d.DataTo(&st); err != nil {
			t.Fatalf("%s: state: %v", uid, err)
		}
		return st
	}
	before := map[string][]string{}
	for i, uid := range users.uids {
		st := state(uid)
		if !slices.Equal(st.Days, users.history[i]) || len(st.Days) != insights.RecentDays-1 {
			t.Fatalf("%s: stored state %q, seeded %q", uid, st.Days, users.history[i])
		}
		seen := map[string]bool{}
		for k, e := range st.Days {
			date, ids, _ := strings.Cut(e, " ")
			if k > 0 && date >= st.Days[k-1][:10] {
				t.Errorf("%s: dates not newest first: %q", uid, st.Days)
			}
			for _, id := range strings.Fields(ids) {
				if seen[id] {
					t.Errorf("%s: template %s repeated in the history %q", uid, id, st.Days)
				}
				seen[id] = true
			}
		}
		before[uid] = st.Days
	}
	run, err := b.pipeline(ctx, c, n)
	if err != nil || run.Stats.Created != n {
		t.Fatalf("pipeline %+v: %v", run.Stats, err)
	}
	for _, uid := range users.uids {
		st := state(uid)
		if len(st.Days) != insights.RecentDays || !slices.Equal(st.Days[1:], before[uid]) {
			t.Fatalf("%s: state after the tick %q, before %q", uid, st.Days, before[uid])
		}
		today, ids, _ := strings.Cut(st.Days[0], " ")
		if want, _ := time.Parse(time.DateOnly, before[uid][0][:10]); today != want.AddDate(0, 0, 1).Format(time.DateOnly) {
			t.Errorf("%s: delivered %s after a history ending %s", uid, today, before[uid][0][:10])
		}
		for _, id := range strings.Fields(ids) {
			if strings.Contains(strings.Join(before[uid], " ")+" ", " "+id+" ") {
				t.Errorf("%s: the day's template %s is in the history %q", uid, id, before[uid])
			}
		}
	}
}
