package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/shared/config"
)

func init() {
	register(&command{name: "deploy", summary: "deploy functions, topics, scheduler jobs, rules and indexes (gcloud, firebase)", run: runDeploy})
}

// ttlFields are the Firestore TTL policies (collection group → field).
var ttlFields = [][2]string{
	{"processed_events", "expiresAt"},
	{"webhook_events", "expiresAt"},
	{"sessions", "expiresAt"},
	{"audit_log", "expiresAt"},
}

// secretName is the Secret Manager name of an environment variable.
func secretName(env string) string { return strings.ReplaceAll(strings.ToLower(env), "_", "-") }

// deployPlan returns the commands that deploy the functions named in only
// (all when empty), with their topics and scheduler jobs, and (when all)
// the Firestore rules, indexes and TTL policies.
func deployPlan(project, region string, only []string) ([][]string, error) {
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	var cmds [][]string
	topics := map[string]bool{}
	found := map[string]bool{}
	for _, f := range functions.Registry() {
		if len(want) > 0 && !want[f.Name] {
			continue
		}
		found[f.Name] = true
		if f.Topic != "" && !topics[f.Topic] {
			topics[f.Topic] = true
			cmds = append(cmds, []string{"sh", "-c", fmt.Sprintf(
				"gcloud pubsub topics describe %s --project=%s >/dev/null 2>&1 || gcloud pubsub topics create %s --project=%s",
				f.Topic, project, f.Topic, project)})
		}
		cmds = append(cmds, deployFunction(project, region, f))
		cmds = append(cmds, wiring(project, region, f)...)
		if f.Schedule != "" {
			zone := f.ScheduleZone
			if zone == "" {
				zone = "Etc/UTC"
			}
			body := f.ScheduleBody
			if body == "" {
				body = "{}"
			}
			job := f.Name + "-schedule"
			args := fmt.Sprintf("--location=%s --project=%s --schedule=%q --time-zone=%s --topic=%s --message-body=%q",
				region, project, f.Schedule, zone, f.Topic, body)
			cmds = append(cmds, []string{"sh", "-c", fmt.Sprintf(
				"gcloud scheduler jobs describe %s --location=%s --project=%s >/dev/null 2>&1 && gcloud scheduler jobs update pubsub %s %s || gcloud scheduler jobs create pubsub %s %s",
				job, region, project, job, args, job, args)})
		}
	}
	for _, n := range only {
		if !found[n] {
			return nil, fmt.Errorf("no function named %q", n)
		}
	}
	if len(want) == 0 {
		cmds = append(cmds, []string{"firebase", "deploy", "--only", "firestore", "--project", project, "--non-interactive"})
		for _, t := range ttlFields {
			cmds = append(cmds, []string{"gcloud", "firestore", "fields", "ttls", "update", t[1],
				"--collection-group=" + t[0], "--enable-ttl", "--project=" + project, "--async"})
		}
	}
	return cmds, nil
}

// authDeleteLogFilter selects the Identity Platform audit entries of
// account deletions (Data Access audit logs of identitytoolkit.googleapis.com
// must be enabled: a project policy change left to an owner).
const authDeleteLogFilter = `protoPayload.serviceName="identitytoolkit.googleapis.com" AND ` +
	`(protoPayload.methodName:"DeleteAccount" OR protoPayload.methodName:"BatchDeleteAccounts")`

// wiring returns the commands a function needs beyond its own deployment,
// each safe to repeat: the Log Router sink that feeds onAuthUserDeleted's
// topic (and the sink's right to publish to it), and for getExportDownload
// the runtime service account's right to sign URLs as itself (signBlob).
func wiring(project, region string, f functions.Function) [][]string {
	switch f.Name {
	case "onAuthUserDeleted":
		sink := f.Topic
		return [][]string{
			{"sh", "-c", fmt.Sprintf("gcloud logging sinks describe %s --project=%s >/dev/null 2>&1 || "+
				"gcloud logging sinks create %s pubsub.googleapis.com/projects/%s/topics/%s --project=%s --log-filter=%s",
				sink, project, sink, project, f.Topic, project, shellQuote([]string{authDeleteLogFilter}))},
			{"sh", "-c", fmt.Sprintf("gcloud pubsub topics add-iam-policy-binding %s --project=%s --role=roles/pubsub.publisher "+
				`--member="$(gcloud logging sinks describe %s --project=%s --format='value(writerIdentity)')"`,
				f.Topic, project, sink, project)},
		}
	case "getExportDownload":
		return [][]string{{"sh", "-c", fmt.Sprintf(
			`SA="$(gcloud functions describe %s --gen2 --region=%s --project=%s --format='value(serviceConfig.serviceAccountEmail)')" && `+
				`gcloud iam service-accounts add-iam-policy-binding "$SA" --project=%s --member="serviceAccount:$SA" --role=roles/iam.serviceAccountTokenCreator`,
			f.Name, region, project, project)}}
	}
	return nil
}

func deployFunction(project, region string, f functions.Function) []string {
	c := []string{"gcloud", "functions", "deploy", f.Name, "--gen2", "--runtime=go126",
		"--region=" + region, "--project=" + project, "--source=.", "--entry-point=" + f.Name}
	switch f.Trigger {
	case functions.HTTP, functions.Callable:
		// Callables verify Firebase ID tokens; the webhook verifies Stripe
		// signatures: both must be reachable without IAM.
		c = append(c, "--trigger-http", "--allow-unauthenticated")
	case functions.Firestore:
		c = append(c, "--trigger-location="+region,
			"--trigger-event-filters=type="+f.EventType,
			"--trigger-event-filters=database=(default)",
			"--trigger-event-filters-path-pattern=document="+f.Document)
	case functions.PubSub:
		c = append(c, "--trigger-topic="+f.Topic)
	}
	if f.Retry && f.Trigger != functions.HTTP && f.Trigger != functions.Callable {
		c = append(c, "--retry")
	}
	if f.MaxInstances > 0 {
		c = append(c, fmt.Sprintf("--max-instances=%d", f.MaxInstances))
	}
	if f.Memory != "" {
		c = append(c, "--memory="+f.Memory)
	}
	if f.Timeout > 0 {
		c = append(c, fmt.Sprintf("--timeout=%ds", int(f.Timeout.Seconds())))
	}
	c = append(c, "--set-env-vars=IJ_ENV=production,IJ_REGION="+region+",GOOGLE_CLOUD_PROJECT="+project)
	if len(f.Secrets) > 0 {
		s := append([]string(nil), f.Secrets...)
		sort.Strings(s)
		var parts []string
		for _, v := range s {
			parts = append(parts, v+"="+secretName(v)+":latest")
		}
		c = append(c, "--set-secrets="+strings.Join(parts, ","))
	}
	return c
}

func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@", r))
		}) < 0 {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

func runDeploy(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "deploy", "deploy --project P [--region R] [--dry-run] [NAME …]")
	project := fs.String("project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "target project (required)")
	region := fs.String("region", envOr("IJ_REGION", "europe-north1"), "region")
	dry := fs.Bool("dry-run", false, "print the commands instead of running them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *project == "" {
		return fmt.Errorf("--project is required")
	}
	cmds, err := deployPlan(*project, *region, fs.Args())
	if err != nil {
		return err
	}
	for _, c := range cmds {
		fmt.Fprintln(env.stdout, shellQuote(c))
		if *dry {
			continue
		}
		cmd := exec.CommandContext(ctx, c[0], c[1:]...)
		cmd.Stdout, cmd.Stderr = env.stdout, env.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", c[0], err)
		}
	}
	if *dry {
		var secrets []string
		for _, v := range config.Vars {
			if v.Secret {
				secrets = append(secrets, v.Name+" → secret "+secretName(v.Name))
			}
		}
		fmt.Fprintf(env.stdout, "# secrets expected in Secret Manager: %s\n", strings.Join(secrets, "; "))
	}
	return nil
}
