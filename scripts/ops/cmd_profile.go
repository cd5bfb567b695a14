package main

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/functions/profile"
	"github.com/innerjourney/functions/shared/wellbeing"
)

func init() {
	register(&command{
		name:    "profile",
		summary: "recompute a user's profile (chart, numerology, traits, screening) and print it as JSON",
		run:     runProfile,
	})
}

// runProfile recomputes users/{uid}'s profile exactly as onUserWritten
// does (same transaction, same wellbeing protocol) and prints it:
//
//	ops profile --uid demo-ada [--project P] [--force]
func runProfile(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "profile", "profile --uid UID [--project P] [--force]")
	uid := fs.String("uid", "", "user id (required)")
	project := fs.String("project", envOr("GOOGLE_CLOUD_PROJECT", "demo-innerjourney"), "project id")
	force := fs.Bool("force", false, "rewrite the profile even when its inputs did not change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *uid == "" {
		fs.Usage()
		return fmt.Errorf("--uid is required")
	}
	client, err := firestore.NewClient(ctx, *project)
	if err != nil {
		return err
	}
	defer client.Close()
	now := func() time.Time { return time.Now().UTC() }
	svc := &profile.Service{Firestore: client, Wellbeing: &wellbeing.Protocol{Now: now}, Now: now}
	p, err := svc.Recompute(ctx, *uid, *force)
	if err != nil {
		return err
	}
	return writeResultJSON(env.stdout, p)
}
