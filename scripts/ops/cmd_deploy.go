package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/payouts"
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

// requiredVars are the non-secret variables without which a function
// cannot do its work (its service's cfg.Require): the deploy stops before
// deploying anything when one of the functions it deploys lacks one.
// TestRequiredVarsMatchRequireCalls keeps the table in step with the
// cfg.Require calls of the functions' code. (Secrets need no entry: every
// secret a function mounts that is not in optionalSecrets is required, and
// checkSecrets refuses the deploy when one is missing.)
var requiredVars = map[string][]string{
	// payouts.NewFortnoxClient: cfg.Require("FORTNOX_CLIENT_ID", …).
	"fortnoxSync": {"FORTNOX_CLIENT_ID"},
}

// optionalSecrets are the secrets a function works without, with what
// happens then. The deploy mounts each one only when its latest version
// exists and is enabled in Secret Manager, so that a project without one
// still deploys every function, the rules and the indexes. Every other
// secret a function mounts is required (see checkSecrets).
var optionalSecrets = map[string]string{
	"GEMINI_API_KEY":        "reflection analysis uses the offline analyzer (or Vertex AI with GEMINI_VERTEX_PROJECT); insightsWorker with INSIGHTS_REWRITE=gemini needs it or GEMINI_VERTEX_PROJECT",
	"IJ_ONCALL_WEBHOOK_URL": "wellbeing alerts are logged at CRITICAL instead of delivered",
	"FORTNOX_REFRESH_TOKEN": "read only by the refresh-token flow (FORTNOX_TENANT_ID unset), until a token is stored in Firestore",
}

// managedVars are set by the deploy itself from its flags; an env file
// may not set them.
var managedVars = map[string]string{
	"GOOGLE_CLOUD_PROJECT": "--project",
	"IJ_REGION":            "--region",
}

// localVars only make sense on a developer's machine (emulators, mocks,
// the ops CLI); they never reach a deployed function.
var localVars = map[string]bool{
	"FIRESTORE_EMULATOR_HOST":     true,
	"FIREBASE_AUTH_EMULATOR_HOST": true,
	"PUBSUB_EMULATOR_HOST":        true,
	"STORAGE_EMULATOR_HOST":       true,
	"STRIPE_API_URL":              true,
	"GEMINI_BASE_URL":             true,
	"ANALYSIS_PROVIDER":           true,
}

// deployLookupEnv reads the deployer's environment (tests replace it:
// the emulator harness sets emulator hosts in the test process).
var deployLookupEnv = os.LookupEnv

// deployRun runs one command of the deploy, a secret probe or a step of
// the plan, with the given output streams (tests replace it with a fake
// gcloud that records what ran).
var deployRun = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// deployLookPath finds an executable the deploy runs (tests replace it
// along with deployRun).
var deployLookPath = exec.LookPath

// deployVar is one non-secret variable given to the deployed functions.
type deployVar struct {
	Value  string
	Source string // "--project", "--region", "default", an env file's name, or "environment"
}

// deployment is what one run of the deploy command deploys.
type deployment struct {
	project, region string
	// funcs are the functions to deploy; all is true when none was named
	// (then the rules, indexes and TTL policies are deployed too).
	funcs []functions.Function
	all   bool
	// vars are the non-secret variables every deployed function gets
	// (through envFile, a generated --env-vars-file).
	vars    map[string]deployVar
	envFile string
	// absent are the optional secrets not in Secret Manager: not mounted.
	absent map[string]bool
	// firebase is the firebase-tools executable.
	firebase string
}

// selectFunctions returns the registered functions named in only, or all
// of them when only is empty.
func selectFunctions(only []string) ([]functions.Function, error) {
	all := functions.Registry()
	if len(only) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	var out []functions.Function
	for _, f := range all {
		if want[f.Name] {
			out = append(out, f)
			delete(want, f.Name)
		}
	}
	for _, n := range only {
		if want[n] {
			return nil, fmt.Errorf("no function named %q", n)
		}
	}
	return out, nil
}

// configVar returns the documentation of a configuration variable.
func configVar(name string) (config.Var, bool) {
	for _, v := range config.Vars {
		if v.Name == name {
			return v, true
		}
	}
	return config.Var{}, false
}

// parseEnvFile reads KEY=VALUE lines (blank lines and # comments are
// ignored; one pair of matching quotes around a value is removed) and
// checks each key: a known, non-secret variable that a deployed function
// reads and the deploy does not set itself. Errors name the file, the line
// and the key, never a value.
func parseEnvFile(r io.Reader, name string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", name, n)
		}
		v, known := configVar(key)
		switch {
		case !known:
			return nil, fmt.Errorf("%s:%d: unknown variable %s (the functions read: go run ./scripts/ops env)", name, n, key)
		case v.Secret:
			return nil, fmt.Errorf("%s:%d: %s is a secret: keep it in Secret Manager as %s, not in a file", name, n, key, secretName(key))
		case managedVars[key] != "":
			return nil, fmt.Errorf("%s:%d: %s is set by the deploy from %s", name, n, key, managedVars[key])
		case localVars[key]:
			return nil, fmt.Errorf("%s:%d: %s is for local development only", name, n, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is set twice", name, n, key)
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// deployVars returns the non-secret variables of the deployed functions:
// GOOGLE_CLOUD_PROJECT and IJ_REGION from the flags, IJ_ENV production
// unless set otherwise, then every other non-secret variable of
// config.Vars set in the env file (file, named fileName) or, failing that,
// in the environment (lookup). Local-only variables are never passed, and
// an environment set up for the local stack (an emulator host is set) is
// refused rather than half used. The result is validated as the functions
// will read it.
func deployVars(project, region string, file map[string]string, fileName string, lookup func(string) (string, bool)) (map[string]deployVar, error) {
	var local []string
	for name := range localVars {
		if v, ok := lookup(name); ok && v != "" && strings.HasSuffix(name, "_HOST") {
			local = append(local, name)
		}
	}
	if len(local) > 0 {
		sort.Strings(local)
		return nil, fmt.Errorf("the environment is set up for the local stack (%s): deploy from a shell without it, "+
			"since non-secret variables set in the environment are passed to the functions", strings.Join(local, ", "))
	}
	vars := map[string]deployVar{
		"GOOGLE_CLOUD_PROJECT": {project, "--project"},
		"IJ_REGION":            {region, "--region"},
		"IJ_ENV":               {"production", "default"},
	}
	for _, v := range config.Vars {
		if v.Secret || localVars[v.Name] || managedVars[v.Name] != "" {
			continue
		}
		if val, ok := file[v.Name]; ok && val != "" {
			vars[v.Name] = deployVar{val, fileName}
		} else if val, ok := lookup(v.Name); ok && strings.TrimSpace(val) != "" {
			vars[v.Name] = deployVar{strings.TrimSpace(val), "environment"}
		}
	}
	if env := vars["IJ_ENV"].Value; env != "production" && env != "staging" {
		return nil, fmt.Errorf("IJ_ENV=%s (%s): deployed functions run as production or staging", env, vars["IJ_ENV"].Source)
	}
	look := func(k string) (string, bool) { v, ok := vars[k]; return v.Value, ok }
	if _, err := config.Load(look); err != nil {
		return nil, fmt.Errorf("configuration to deploy: %w", err)
	}
	if _, err := payouts.LoadSettings(look); err != nil {
		return nil, fmt.Errorf("configuration to deploy: %w", err)
	}
	return vars, nil
}

// missingRequired lists, for each function in funcs, the required
// variables (requiredVars) that vars lacks, as "function: VAR, VAR".
func missingRequired(funcs []functions.Function, vars map[string]deployVar) []string {
	var out []string
	for _, f := range funcs {
		var miss []string
		for _, v := range requiredVars[f.Name] {
			if vars[v].Value == "" {
				miss = append(miss, v)
			}
		}
		if len(miss) > 0 {
			out = append(out, f.Name+" needs "+strings.Join(miss, ", "))
		}
	}
	return out
}

// envVarsYAML is vars as the YAML of gcloud's --env-vars-file: one
// "KEY: value" line per variable, each value a double-quoted scalar (a
// JSON string is one), so commas, colons and quotes survive.
func envVarsYAML(vars map[string]deployVar) []byte {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, k := range names {
		var q bytes.Buffer
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(vars[k].Value) // a string always encodes
		fmt.Fprintf(&b, "%s: %s\n", k, strings.TrimSpace(q.String()))
	}
	return b.Bytes()
}

// moduleRoot returns the nearest directory at or above dir holding go.mod
// ("" when none).
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// firebaseBin returns the firebase-tools that scripts/install.sh installs
// (.tools/node_modules/.bin/firebase in the repository), else "firebase"
// from PATH.
func firebaseBin() string {
	if wd, err := os.Getwd(); err == nil {
		if root := moduleRoot(wd); root != "" {
			p := filepath.Join(root, ".tools", "node_modules", ".bin", "firebase")
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return "firebase"
}

// secretUse is a secret that planned functions mount.
type secretUse struct {
	env      string   // the variable, e.g. STRIPE_SECRET_KEY (secret stripe-secret-key)
	funcs    []string // the functions that mount it, in the plan's order
	optional bool     // in optionalSecrets
}

// secretsOf returns every secret that funcs mount, sorted by variable,
// each with the functions that mount it.
func secretsOf(funcs []functions.Function) []secretUse {
	byEnv := map[string]*secretUse{}
	var envs []string
	for _, f := range funcs {
		for _, s := range f.Secrets {
			u := byEnv[s]
			if u == nil {
				u = &secretUse{env: s, optional: optionalSecrets[s] != ""}
				byEnv[s] = u
				envs = append(envs, s)
			}
			if !slices.Contains(u.funcs, f.Name) {
				u.funcs = append(u.funcs, f.Name)
			}
		}
	}
	sort.Strings(envs)
	out := make([]secretUse, 0, len(envs))
	for _, e := range envs {
		out = append(out, *byEnv[e])
	}
	return out
}

// secretProbe is the command that prints the state of the latest version
// of variable env's secret in Secret Manager (the version that
// --set-secrets …:latest mounts); it fails when the secret does not exist
// or has no version. It reads metadata only, never the secret's value.
func secretProbe(project, env string) []string {
	return []string{"gcloud", "secrets", "versions", "describe", "latest",
		"--secret=" + secretName(env), "--project=" + project, "--format=value(state)"}
}

// probeSecret runs secretProbe and returns "" when the latest version of
// env's secret is enabled, else why it cannot be mounted (gcloud's error,
// without its prefix, or the version's state). unchecked is true when the
// check itself failed (no permission, no credentials, an outage, no state
// printed), so that the secret may well exist: only a secret found
// missing or not enabled is known to be absent. Its error is ctx's only.
func probeSecret(ctx context.Context, project, env string) (problem string, unchecked bool, err error) {
	var out, errb bytes.Buffer
	err = deployRun(ctx, secretProbe(project, env), &out, &errb)
	if ctx.Err() != nil {
		return "", false, ctx.Err()
	}
	if err != nil {
		// gcloud's error is its first "ERROR: (command) …" line, followed
		// at times by advice over several lines.
		reason := err.Error()
		for _, line := range strings.Split(errb.String(), "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "ERROR: ") {
				reason = strings.TrimPrefix(line, "ERROR: ")
				if _, rest, ok := strings.Cut(reason, ") "); ok && strings.HasPrefix(reason, "(") {
					reason = rest
				}
				break
			}
		}
		if r := []rune(reason); len(r) > 240 {
			reason = string(r[:240]) + "…"
		}
		if strings.Contains(reason, "NOT_FOUND") {
			return "not in Secret Manager, or without a version (" + reason + ")", false, nil
		}
		return "could not be checked: " + reason, true, nil
	}
	if state := strings.TrimSpace(out.String()); state != "ENABLED" {
		if state == "" {
			return "its latest version is unknown (gcloud printed no state)", true, nil
		}
		return "its latest version is " + state + ", not ENABLED", false, nil
	}
	return "", false, nil
}

// neededSecret returns why the configuration being deployed makes the
// optional secret of u required, or "": INSIGHTS_REWRITE=gemini needs
// GEMINI_API_KEY for insightsWorker unless GEMINI_VERTEX_PROJECT is set
// (without either, the worker would refuse every shard until fixed).
func (d *deployment) neededSecret(u secretUse) string {
	if u.env == "GEMINI_API_KEY" && slices.Contains(u.funcs, "insightsWorker") &&
		strings.EqualFold(strings.TrimSpace(d.vars["INSIGHTS_REWRITE"].Value), "gemini") && strings.TrimSpace(d.vars["GEMINI_VERTEX_PROJECT"].Value) == "" {
		return "INSIGHTS_REWRITE=gemini without GEMINI_VERTEX_PROJECT"
	}
	return ""
}

// checkSecrets checks, before anything is deployed, every secret that the
// planned functions mount, printing each check (probe) to out. An optional
// secret whose latest version is missing or not enabled is left out of
// the mounts (d.absent) with a notice, as the functions work without it.
// A missing required one refuses the deploy: the error lists every such
// secret with the functions that need it and how to create it, since
// gcloud would otherwise fail on the first function that mounts it, after
// the functions before it were deployed. So does an optional one whose
// check failed (probeSecret's unchecked): it may exist and be mounted by
// the deployed functions now, and leaving it out on a passing error would
// redeploy them without it. When probe is false (a dry run without
// gcloud) the checks are only printed.
func checkSecrets(ctx context.Context, d *deployment, out io.Writer, probe bool) error {
	d.absent = map[string]bool{}
	var missing []string
	for _, u := range secretsOf(d.funcs) {
		note := "required by " + strings.Join(u.funcs, ", ")
		if u.optional {
			note = "optional " + u.env + ": mounted only if this prints ENABLED"
		}
		fmt.Fprintf(out, "%s   # %s\n", shellQuote(secretProbe(d.project, u.env)), note)
		if !probe {
			continue
		}
		problem, unchecked, err := probeSecret(ctx, d.project, u.env)
		if err != nil {
			return fmt.Errorf("check secret %s: %w", secretName(u.env), err)
		}
		switch {
		case problem == "":
		case u.optional && unchecked:
			missing = append(missing, fmt.Sprintf("  - %s (%s) for %s: %s; optional, but left out only when found missing (it may be mounted now)",
				secretName(u.env), u.env, strings.Join(u.funcs, ", "), problem))
		case u.optional && d.neededSecret(u) != "":
			missing = append(missing, fmt.Sprintf("  - %s (%s) for %s: %s; needed because %s", secretName(u.env), u.env,
				strings.Join(u.funcs, ", "), problem, d.neededSecret(u)))
		case u.optional:
			d.absent[u.env] = true
			fmt.Fprintf(out, "# %s is not mounted (%s): %s\n", secretName(u.env), optionalSecrets[u.env], problem)
		default:
			missing = append(missing, fmt.Sprintf("  - %s (%s) for %s: %s", secretName(u.env), u.env, strings.Join(u.funcs, ", "), problem))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("check secrets: nothing deployed: these secrets of project %s are required and missing (gcloud would fail on every function that mounts one), or could not be checked:\n%s\n"+
		"create a missing secret with its value on stdin (never as an argument):\n"+
		"  gcloud secrets create NAME --data-file=- --project=%s\n"+
		"or give an existing one an enabled version:\n"+
		"  gcloud secrets versions add NAME --data-file=- --project=%s",
		d.project, strings.Join(missing, "\n"), d.project, d.project)
}

// plan returns the commands of the deployment: per function its topic,
// its deployment, its wiring and its scheduler job, then (when all) the
// Firestore rules, indexes and TTL policies.
func (d *deployment) plan() [][]string {
	var cmds [][]string
	topics := map[string]bool{}
	project, region := d.project, d.region
	for _, f := range d.funcs {
		if f.Topic != "" && !topics[f.Topic] {
			topics[f.Topic] = true
			cmds = append(cmds, []string{"sh", "-c", fmt.Sprintf(
				"gcloud pubsub topics describe %s --project=%s >/dev/null 2>&1 || gcloud pubsub topics create %s --project=%s",
				f.Topic, project, f.Topic, project)})
		}
		cmds = append(cmds, d.deployFunction(f))
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
	if d.all {
		fb := d.firebase
		if fb == "" {
			fb = "firebase"
		}
		cmds = append(cmds, []string{fb, "deploy", "--only", "firestore", "--project", project, "--non-interactive"})
		for _, t := range ttlFields {
			cmds = append(cmds, []string{"gcloud", "firestore", "fields", "ttls", "update", t[1],
				"--collection-group=" + t[0], "--enable-ttl", "--project=" + project, "--async"})
		}
	}
	return cmds
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

// deployFunction is the gcloud command that deploys f: its trigger and
// limits, every non-secret variable through the generated env-vars file
// (which, like --set-env-vars, replaces what the function had), and its
// secrets by name from Secret Manager (absent optional ones left out).
func (d *deployment) deployFunction(f functions.Function) []string {
	c := []string{"gcloud", "functions", "deploy", f.Name, "--gen2", "--runtime=go126",
		"--region=" + d.region, "--project=" + d.project, "--source=.", "--entry-point=" + f.Name}
	switch f.Trigger {
	case functions.HTTP, functions.Callable:
		// Callables verify Firebase ID tokens; the webhook verifies Stripe
		// signatures: both must be reachable without IAM.
		c = append(c, "--trigger-http", "--allow-unauthenticated")
	case functions.Firestore:
		c = append(c, "--trigger-location="+d.region,
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
	c = append(c, "--env-vars-file="+d.envFile)
	var parts []string
	for _, v := range f.Secrets {
		if !d.absent[v] {
			parts = append(parts, v+"="+secretName(v)+":latest")
		}
	}
	sort.Strings(parts)
	if len(parts) > 0 {
		c = append(c, "--set-secrets="+strings.Join(parts, ","))
	} else if len(f.Secrets) > 0 {
		c = append(c, "--clear-secrets")
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
	fs := newFlags(env, "deploy", "deploy --project P [--region R] [--env-file FILE] [--dry-run] [NAME …]")
	project := fs.String("project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "target project (required)")
	region := fs.String("region", envOr("IJ_REGION", "europe-north1"), "region")
	envFile := fs.String("env-file", "", "KEY=VALUE lines of non-secret variables for the functions (they take precedence over the environment)")
	dry := fs.Bool("dry-run", false, "print the commands instead of running them (the secrets are still checked, read-only, when gcloud is installed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *project == "" {
		return fmt.Errorf("--project is required")
	}
	d, err := newDeployment(*project, *region, *envFile, fs.Args(), deployLookupEnv)
	if err != nil {
		return err
	}
	d.firebase = firebaseBin()

	// The variables file, written for gcloud and removed afterwards.
	tmp, err := os.MkdirTemp("", "ij-deploy-")
	if err != nil {
		return fmt.Errorf("env-vars file: %w", err)
	}
	defer os.RemoveAll(tmp)
	d.envFile = filepath.Join(tmp, "env.yaml")
	yaml := envVarsYAML(d.vars)
	if err := os.WriteFile(d.envFile, yaml, 0o600); err != nil {
		return fmt.Errorf("env-vars file: %w", err)
	}
	fmt.Fprintf(env.stdout, "# %s (written for this run, removed after it): the non-secret variables of every function deployed\n", d.envFile)
	for _, line := range strings.Split(strings.TrimSpace(string(yaml)), "\n") {
		k, _, _ := strings.Cut(line, ":")
		fmt.Fprintf(env.stdout, "#   %s   (%s)\n", line, d.vars[k].Source)
	}

	// Every command must be installed, and every secret the functions mount
	// present, before the first function is deployed. A dry run checks the
	// secrets too (read-only), when gcloud is installed.
	if !*dry {
		if err := checkExecutables(d.plan()); err != nil {
			return err
		}
	}
	probe := true
	if *dry {
		if _, err := deployLookPath("gcloud"); err != nil {
			probe = false
			fmt.Fprintln(env.stdout, "# gcloud is not installed: the secrets are not checked (a deploy checks them before deploying anything)")
		}
	}
	if err := checkSecrets(ctx, d, env.stdout, probe); err != nil {
		return err
	}

	for _, c := range d.plan() {
		fmt.Fprintln(env.stdout, shellQuote(c))
		if *dry {
			continue
		}
		if err := deployRun(ctx, c, env.stdout, env.stderr); err != nil {
			return fmt.Errorf("%s: %w", c[0], err)
		}
	}
	if *dry {
		var secrets []string
		for _, v := range config.Vars {
			if v.Secret {
				note := ""
				if optionalSecrets[v.Name] != "" {
					note = " (optional)"
				}
				secrets = append(secrets, v.Name+" → secret "+secretName(v.Name)+note)
			}
		}
		fmt.Fprintf(env.stdout, "# secrets expected in Secret Manager: %s\n", strings.Join(secrets, "; "))
	}
	return nil
}

// newDeployment selects the functions named in only (all when empty),
// gathers their non-secret variables (envFile, when not empty, then
// lookup: see deployVars) and refuses, before anything is deployed, when a
// function lacks a required variable.
func newDeployment(project, region, envFile string, only []string, lookup func(string) (string, bool)) (*deployment, error) {
	funcs, err := selectFunctions(only)
	if err != nil {
		return nil, err
	}
	var file map[string]string
	if envFile != "" {
		f, err := os.Open(envFile)
		if err != nil {
			return nil, fmt.Errorf("env file: %w", err)
		}
		defer f.Close()
		if file, err = parseEnvFile(f, envFile); err != nil {
			return nil, err
		}
	}
	vars, err := deployVars(project, region, file, envFile, lookup)
	if err != nil {
		return nil, err
	}
	if miss := missingRequired(funcs, vars); len(miss) > 0 {
		return nil, fmt.Errorf("nothing deployed: %s (set them in --env-file FILE or the environment)", strings.Join(miss, "; "))
	}
	return &deployment{project: project, region: region, funcs: funcs, all: len(only) == 0, vars: vars}, nil
}

// checkExecutables fails, naming the first missing one, unless every
// command of cmds can be run, so that a deploy does not stop half way.
func checkExecutables(cmds [][]string) error {
	seen := map[string]bool{}
	for _, c := range cmds {
		if seen[c[0]] {
			continue
		}
		seen[c[0]] = true
		if _, err := deployLookPath(c[0]); err != nil {
			return fmt.Errorf("nothing deployed: %s is not installed (scripts/install.sh installs firebase-tools into .tools/; gcloud must be preinstalled): %w", c[0], err)
		}
	}
	return nil
}
