package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/shared/devserver"
	"github.com/innerjourney/functions/shared/queue"
)

func init() {
	register(&command{name: "serve", summary: "serve every function locally, wired to the emulators", run: runServe})
}

// localStack describes the running local server.
type localStack struct {
	Project   string
	Addr      string // host:port of the adapter
	Framework *url.URL
	Triggers  []string
	Topics    []string
}

// serveOptions configure startLocal.
type serveOptions struct {
	Project       string
	Listener      net.Listener
	FirestoreHost string // emulator host:port; "" skips trigger registration
	PubSubHost    string // emulator host:port; "" skips topic setup
	TriggerHost   string // the host:port the Firestore emulator delivers to
}

// startLocal starts the framework and the adapter and wires every
// function's trigger to the emulators.
func startLocal(ctx context.Context, o serveOptions) (*localStack, error) {
	fw, err := devserver.StartFramework(ctx)
	if err != nil {
		return nil, err
	}
	st := &localStack{Project: o.Project, Addr: o.Listener.Addr().String(), Framework: fw}
	srv := &http.Server{Handler: devserver.Adapter(fw), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(o.Listener) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()

	if o.FirestoreHost != "" {
		for _, f := range functions.Registry() {
			if f.Trigger != functions.Firestore {
				continue
			}
			if err := registerTrigger(ctx, o.FirestoreHost, o.Project, f); err != nil {
				return nil, err
			}
			st.Triggers = append(st.Triggers, f.Name+" ← "+f.Document)
		}
	}
	if o.PubSubHost != "" {
		os.Setenv("PUBSUB_EMULATOR_HOST", o.PubSubHost)
		pc, err := pubsub.NewClient(ctx, o.Project)
		if err != nil {
			return nil, fmt.Errorf("pubsub: %w", err)
		}
		defer pc.Close()
		for _, f := range functions.Registry() {
			if f.Trigger != functions.PubSub {
				continue
			}
			if err := queue.EnsureTopic(ctx, pc, f.Topic); err != nil {
				return nil, err
			}
			endpoint := fmt.Sprintf("http://%s/pubsub/%s?topic=%s", st.Addr, f.Name, url.QueryEscape(queue.TopicName(o.Project, f.Topic)))
			if err := queue.EnsurePushSubscription(ctx, pc, f.Name+"-push", f.Topic, endpoint); err != nil {
				return nil, err
			}
			st.Topics = append(st.Topics, f.Topic+" → "+f.Name)
		}
	}
	return st, nil
}

func registerTrigger(ctx context.Context, host, project string, f functions.Function) error {
	body := fmt.Sprintf(`{"eventType":%q,"database":"(default)","namespace":"(default)","document":{"value":%q,"matchType":"PATH_PATTERN"}}`,
		f.EventType, f.Document)
	u := fmt.Sprintf("http://%s/emulator/v1/projects/%s/eventarcTrigger?eventarcTriggerId=%s", host, project, f.Name)
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("register trigger %s: %w", f.Name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("register trigger %s: status %d", f.Name, resp.StatusCode)
	}
	return nil
}

func runServe(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "serve", "serve [--addr 127.0.0.1:8081] [--project demo-innerjourney]")
	addr := fs.String("addr", "127.0.0.1:8081", "listen address (the Firestore emulator's --functions_emulator)")
	project := fs.String("project", envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), "project id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	os.Setenv("GOOGLE_CLOUD_PROJECT", *project)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	st, err := startLocal(ctx, serveOptions{
		Project: *project, Listener: l,
		FirestoreHost: os.Getenv("FIRESTORE_EMULATOR_HOST"), PubSubHost: os.Getenv("PUBSUB_EMULATOR_HOST"),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "functions on http://%s (project %s)\n", st.Addr, st.Project)
	for _, f := range functions.Registry() {
		switch f.Trigger {
		case functions.HTTP, functions.Callable:
			fmt.Fprintf(env.stdout, "  %-9s http://%s/%s\n", f.Trigger, st.Addr, f.Name)
		}
	}
	for _, t := range st.Triggers {
		fmt.Fprintf(env.stdout, "  firestore %s\n", t)
	}
	for _, t := range st.Topics {
		fmt.Fprintf(env.stdout, "  pubsub    %s\n", t)
	}
	fmt.Fprintln(env.stdout, "ready")
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
