package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	functions "github.com/innerjourney/functions"
)

func init() {
	register(&command{name: "functions", summary: "list the registered functions and their triggers", run: runFunctions})
}

func runFunctions(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "functions", "functions [--markdown]")
	md := fs.Bool("markdown", false, "print the README's table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type row struct {
		Name, Trigger, Source, Schedule, Doc string
	}
	var rows []row
	for _, f := range functions.Registry() {
		r := row{Name: f.Name, Trigger: string(f.Trigger), Doc: f.Doc}
		switch f.Trigger {
		case functions.Firestore:
			r.Source = strings.TrimPrefix(f.EventType, "google.cloud.firestore.document.v1.") + " " + f.Document
		case functions.PubSub:
			r.Source = "topic " + f.Topic
		default:
			r.Source = "POST /" + f.Name
		}
		if f.Schedule != "" {
			zone := f.ScheduleZone
			if zone == "" {
				zone = "Etc/UTC"
			}
			r.Schedule = f.Schedule + " (" + zone + ")"
		}
		rows = append(rows, r)
	}
	if !*md {
		return json.NewEncoder(env.stdout).Encode(rows)
	}
	fmt.Fprintln(env.stdout, "| function | trigger | source | schedule | what it does |\n|---|---|---|---|---|")
	for _, r := range rows {
		sched := ""
		if r.Schedule != "" {
			sched = "`" + r.Schedule + "`"
		}
		fmt.Fprintf(env.stdout, "| `%s` | %s | `%s` | %s | %s |\n", r.Name, r.Trigger, r.Source, sched, r.Doc)
	}
	return nil
}
