package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"cloud.google.com/go/pubsub/v2"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/shared/queue"
)

func init() {
	register(&command{name: "tick", summary: "fire a scheduled job now (publish its Cloud Scheduler message)", run: runTick})
}

func runTick(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "tick", "tick JOB [--body JSON] [--project P]   (JOB is a scheduled function's name; --list lists them)")
	body := fs.String("body", "", "message body instead of the job's own")
	list := fs.Bool("list", false, "list the scheduled jobs")
	project := fs.String("project", envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), "project id")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	jobs := map[string]functions.Function{}
	var names []string
	for _, f := range functions.Registry() {
		if f.Schedule != "" {
			jobs[f.Name] = f
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	if *list || len(pos) != 1 {
		for _, n := range names {
			fmt.Fprintf(env.stdout, "%-22s %-16s → topic %s\n", n, jobs[n].Schedule, jobs[n].Topic)
		}
		if *list {
			return nil
		}
		return fmt.Errorf("name one job")
	}
	f, ok := jobs[pos[0]]
	if !ok {
		return fmt.Errorf("no scheduled job %q (have %s)", pos[0], strings.Join(names, ", "))
	}
	msg := f.ScheduleBody
	if *body != "" {
		msg = *body
	}
	if msg == "" {
		msg = "{}"
	}
	if os.Getenv("PUBSUB_EMULATOR_HOST") == "" {
		return fmt.Errorf("PUBSUB_EMULATOR_HOST is not set: tick publishes to the local emulator only")
	}
	pc, err := pubsub.NewClient(ctx, *project)
	if err != nil {
		return err
	}
	defer pc.Close()
	if err := queue.EnsureTopic(ctx, pc, f.Topic); err != nil {
		return err
	}
	p := &queue.PubSub{Client: pc}
	defer p.Stop()
	id, err := p.Publish(ctx, f.Topic, []byte(msg), map[string]string{"source": "ops-tick"})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "{\"job\":%q,\"topic\":%q,\"messageId\":%q}\n", f.Name, f.Topic, id)
	return nil
}
