package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	functions "github.com/innerjourney/functions"
	"github.com/innerjourney/functions/functions/payments"
	"github.com/innerjourney/functions/functions/payouts"
	"github.com/innerjourney/functions/shared/config"
)

// testDeployer is the deployer's environment in this package's tests: the
// emulator harness sets emulator hosts in the test process, which the
// deploy rightly refuses, and the full plan needs FORTNOX_CLIENT_ID.
var testDeployer = map[string]string{
	"FORTNOX_CLIENT_ID": "fortnox-client-id",
	"FORTNOX_TENANT_ID": "4711",
}

func init() {
	deployLookupEnv = lookupIn(testDeployer)
	// Secret probes (dry runs check secrets too) answer from a fake gcloud
	// in which every secret is present, not from the machine's gcloud.
	deployRun = (&fakeGcloud{}).run
}

// fakeGcloud stands in for gcloud (and every other command the deploy
// runs): it records each command and answers secret probes from states.
type fakeGcloud struct {
	// states maps a secret's name to what its probe finds: absent means an
	// enabled latest version; "NOT_FOUND" and "PERMISSION_DENIED" fail as
	// gcloud does; anything else is the latest version's state.
	states map[string]string

	mu  sync.Mutex
	ran [][]string
}

func (f *fakeGcloud) run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f.mu.Lock()
	f.ran = append(f.ran, slices.Clone(args))
	f.mu.Unlock()
	if !isSecretProbe(args) {
		return nil
	}
	var name string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--secret="); ok {
			name = v
		}
	}
	switch state := f.states[name]; state {
	case "":
		fmt.Fprintln(stdout, "ENABLED")
	case "NOT_FOUND":
		fmt.Fprintf(stderr, "ERROR: (gcloud.secrets.versions.describe) NOT_FOUND: Secret [projects/4711/secrets/%s] not found or has no versions.\n", name)
		return errors.New("exit status 1")
	case "PERMISSION_DENIED":
		fmt.Fprintf(stderr, "ERROR: (gcloud.secrets.versions.describe) PERMISSION_DENIED: Permission 'secretmanager.versions.get' denied for resource 'projects/ij-prod/secrets/%s/versions/latest'.\n", name)
		return errors.New("exit status 1")
	default:
		fmt.Fprintln(stdout, state)
	}
	return nil
}

// commands returns what ran.
func (f *fakeGcloud) commands() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ran)
}

// isSecretProbe reports whether args is a secretProbe.
func isSecretProbe(args []string) bool {
	return len(args) > 4 && args[0] == "gcloud" && strings.Join(args[1:4], " ") == "secrets versions describe"
}

// withFakeGcloud runs the rest of the test with f as every command the
// deploy runs, and every executable installed.
func withFakeGcloud(t *testing.T, f *fakeGcloud) {
	t.Helper()
	prevRun, prevLook := deployRun, deployLookPath
	deployRun = f.run
	deployLookPath = func(name string) (string, error) { return "/fake/bin/" + name, nil }
	t.Cleanup(func() { deployRun, deployLookPath = prevRun, prevLook })
}

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// withDeployer runs the rest of the test with env as the deployer's
// environment.
func withDeployer(t *testing.T, env map[string]string) {
	t.Helper()
	prev := deployLookupEnv
	deployLookupEnv = lookupIn(env)
	t.Cleanup(func() { deployLookupEnv = prev })
}

// testDeployment is a deployment of every function with the env-vars
// file written to a temporary directory.
func testDeployment(t *testing.T, envFile string, env map[string]string) *deployment {
	t.Helper()
	d, err := newDeployment("ij-prod", "europe-north1", envFile, nil, lookupIn(env))
	if err != nil {
		t.Fatal(err)
	}
	d.envFile = filepath.Join(t.TempDir(), "env.yaml")
	if err := os.WriteFile(d.envFile, envVarsYAML(d.vars), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// readEnvVarsFile decodes a file written by envVarsYAML: "KEY: value"
// lines whose values are double-quoted scalars, as YAML reads them (a
// JSON string is a YAML double-quoted scalar).
func readEnvVarsFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(v, `"`) {
			t.Fatalf("env-vars file line %q is not KEY: \"value\"", line)
		}
		var s string
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			t.Fatalf("env-vars file line %q: %v", line, err)
		}
		out[k] = s
	}
	return out
}

// prodEnv is the environment a deployed function starts with: exactly
// what its `gcloud functions deploy` line gives it (the env-vars file
// replaces every variable the function had before; --set-secrets mounts
// the named secrets, given plausible values here).
func prodEnv(t *testing.T, d *deployment, name string) map[string]string {
	t.Helper()
	for _, f := range d.funcs {
		if f.Name != name {
			continue
		}
		env := map[string]string{}
		dummy := map[string]string{"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRETS": "whsec_x"}
		for _, a := range d.deployFunction(f) {
			switch {
			case strings.HasPrefix(a, "--set-env-vars=") || strings.HasPrefix(a, "--update-env-vars="):
				t.Errorf("%s: env vars passed on the command line (commas break, values print): %s", name, a)
			case strings.HasPrefix(a, "--env-vars-file="):
				for k, v := range readEnvVarsFile(t, strings.TrimPrefix(a, "--env-vars-file=")) {
					env[k] = v
				}
			case strings.HasPrefix(a, "--set-secrets="):
				for _, kv := range strings.Split(strings.TrimPrefix(a, "--set-secrets="), ",") {
					k, _, _ := strings.Cut(kv, "=")
					v := dummy[k]
					if v == "" {
						v = "secret-value"
					}
					env[k] = v
				}
			}
		}
		return env
	}
	t.Fatalf("%s is not deployed", name)
	return nil
}

// TestFortnoxSyncGetsItsConfiguration: fortnoxSync, deployed by the plan
// with the deployer's non-secret Fortnox settings, builds its Fortnox
// client (payouts.NewFortnoxClient requires FORTNOX_CLIENT_ID, a plain
// variable), and a value with commas reaches the function whole.
func TestFortnoxSyncGetsItsConfiguration(t *testing.T) {
	d := testDeployment(t, "", map[string]string{
		"FORTNOX_CLIENT_ID":   "fortnox-client-id",
		"FORTNOX_TENANT_ID":   "4711",
		"IJ_CORS_ORIGINS":     "https://app.example.com,https://admin.example.com",
		"PAYOUTS_PERIOD_DAYS": "7",
	})
	env := prodEnv(t, d, "fortnoxSync")
	lookup := lookupIn(env)
	cfg, err := config.Load(lookup)
	if err != nil {
		t.Fatalf("config.Load in fortnoxSync's production environment: %v", err)
	}
	st, err := payouts.LoadSettings(lookup)
	if err != nil {
		t.Fatalf("payouts.LoadSettings: %v", err)
	}
	if _, err := payouts.NewFortnoxClient(cfg, st, nil, time.Now); err != nil {
		t.Errorf("fortnoxSync as deployed cannot create its Fortnox client: %v", err)
	}
	if cfg.Env != "production" || cfg.ProjectID != "ij-prod" || cfg.Region != "europe-north1" || cfg.FortnoxTenantID != "4711" {
		t.Errorf("config = env %s, project %s, region %s, tenant %s", cfg.Env, cfg.ProjectID, cfg.Region, cfg.FortnoxTenantID)
	}
	if len(cfg.CORSOrigins) != 2 || st.PeriodDays != 7 {
		t.Errorf("CORS origins %q, period %d days: values lost on the way", cfg.CORSOrigins, st.PeriodDays)
	}
}

// TestDeployCommandsAreOnPath: the deploy runs each planned command by
// name; every one must be found on a machine that scripts/install.sh
// prepared (firebase-tools in .tools/node_modules/.bin only).
func TestDeployCommandsAreOnPath(t *testing.T) {
	d := testDeployment(t, "", testDeployer)
	d.firebase = firebaseBin()
	if err := checkExecutables(d.plan()); err != nil {
		t.Error(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(moduleRoot(wd), ".tools", "node_modules", ".bin", "firebase")
	if _, err := os.Stat(local); err == nil && d.firebase != local {
		t.Errorf("deploy uses %s, not the repository's %s", d.firebase, local)
	}
}

// TestParseEnvFile checks the env file's syntax and that only non-secret
// variables the functions read, and the deploy does not set itself, pass.
func TestParseEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       map[string]string
		err        string // part of the error; "" for none
	}{
		{name: "values, comments, quotes", file: "# prod\n\nFORTNOX_CLIENT_ID=abc\nIJ_CORS_ORIGINS=\"https://a.example,https://b.example\"\nexport LOG_LEVEL='warn'\nFORTNOX_TENANT_ID = 12 \n",
			want: map[string]string{"FORTNOX_CLIENT_ID": "abc", "IJ_CORS_ORIGINS": "https://a.example,https://b.example", "LOG_LEVEL": "warn", "FORTNOX_TENANT_ID": "12"}},
		{name: "value with equals sign", file: "IJ_STORAGE_BUCKET=a=b\n", want: map[string]string{"IJ_STORAGE_BUCKET": "a=b"}},
		{name: "unknown key", file: "FORTNOX_CLIENTID=abc\n", err: "x.env:1: unknown variable FORTNOX_CLIENTID"},
		{name: "secret key", file: "LOG_LEVEL=info\nSTRIPE_SECRET_KEY=sk_live_topsecret\n", err: "x.env:2: STRIPE_SECRET_KEY is a secret: keep it in Secret Manager as stripe-secret-key"},
		{name: "managed key", file: "GOOGLE_CLOUD_PROJECT=other\n", err: "set by the deploy from --project"},
		{name: "local key", file: "FIRESTORE_EMULATOR_HOST=127.0.0.1:8080\n", err: "local development only"},
		{name: "duplicate", file: "LOG_LEVEL=info\nLOG_LEVEL=warn\n", err: "x.env:2: LOG_LEVEL is set twice"},
		{name: "no equals sign", file: "LOG_LEVEL\n", err: "x.env:1: want KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEnvFile(strings.NewReader(tc.file), "x.env")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "topsecret") {
					t.Errorf("error prints a secret value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestDeployVars checks where the functions' non-secret variables come
// from (flags, env file over environment) and what is refused.
func TestDeployVars(t *testing.T) {
	for _, tc := range []struct {
		name      string
		file, env map[string]string
		want      map[string]string // variable → value; "" means absent
		err       string
	}{
		{name: "flags and defaults", want: map[string]string{"GOOGLE_CLOUD_PROJECT": "ij-prod", "IJ_REGION": "europe-north1", "IJ_ENV": "production", "LOG_LEVEL": ""}},
		{name: "environment passes non-secret variables only",
			env:  map[string]string{"FORTNOX_CLIENT_ID": "env-id", "GEMINI_VERTEX_PROJECT": "vx", "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_API_URL": "http://127.0.0.1:12111", "GOOGLE_CLOUD_PROJECT": "other", "IJ_REGION": "us-central1"},
			want: map[string]string{"FORTNOX_CLIENT_ID": "env-id", "GEMINI_VERTEX_PROJECT": "vx", "STRIPE_SECRET_KEY": "", "STRIPE_API_URL": "", "GOOGLE_CLOUD_PROJECT": "ij-prod", "IJ_REGION": "europe-north1"}},
		{name: "env file over environment",
			file: map[string]string{"FORTNOX_CLIENT_ID": "file-id", "IJ_ENV": "staging"},
			env:  map[string]string{"FORTNOX_CLIENT_ID": "env-id", "LOG_LEVEL": "warn"},
			want: map[string]string{"FORTNOX_CLIENT_ID": "file-id", "IJ_ENV": "staging", "LOG_LEVEL": "warn"}},
		{name: "local stack environment", env: map[string]string{"FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080", "IJ_ENV": "development"},
			err: "set up for the local stack (FIRESTORE_EMULATOR_HOST)"},
		{name: "development", env: map[string]string{"IJ_ENV": "development"}, err: "IJ_ENV=development (environment)"},
		{name: "bad log level", file: map[string]string{"LOG_LEVEL": "loud"}, err: "LOG_LEVEL must be"},
		{name: "bad payout period", env: map[string]string{"PAYOUTS_PERIOD_DAYS": "two weeks"}, err: "PAYOUTS_PERIOD_DAYS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deployVars("ij-prod", "europe-north1", tc.file, "prod.env", lookupIn(tc.env))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k].Value != v {
					t.Errorf("%s = %q (%s), want %q", k, got[k].Value, got[k].Source, v)
				}
			}
			for k := range got {
				if v, ok := configVar(k); !ok || v.Secret || localVars[k] {
					t.Errorf("%s passed to the functions", k)
				}
			}
		})
	}
}

// TestDeployRefusesMissingRequiredVars: without FORTNOX_CLIENT_ID the
// deploy of fortnoxSync (and so of everything) stops before any command,
// naming the function and the variable; a function that does not need it
// deploys.
func TestDeployRefusesMissingRequiredVars(t *testing.T) {
	withDeployer(t, map[string]string{})
	for _, args := range [][]string{{}, {"fortnoxSync", "stripeWebhook"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb},
			append([]string{"deploy", "--dry-run", "--project", "ij-prod"}, args...))
		if code == 0 || !strings.Contains(errb.String(), "fortnoxSync needs FORTNOX_CLIENT_ID") {
			t.Errorf("deploy %v: exit %d, %s", args, code, errb.String())
		}
		if strings.Contains(out.String(), "gcloud") {
			t.Errorf("deploy %v printed commands before refusing: %s", args, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb},
		[]string{"deploy", "--dry-run", "--project", "ij-prod", "stripeWebhook"}); code != 0 {
		t.Errorf("stripeWebhook alone: exit %d, %s", code, errb.String())
	}
	// The same variable from an env file.
	f := filepath.Join(t.TempDir(), "prod.env")
	if err := os.WriteFile(f, []byte("FORTNOX_CLIENT_ID=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb},
		[]string{"deploy", "--dry-run", "--project", "ij-prod", "--env-file", f, "fortnoxSync"}); code != 0 ||
		!strings.Contains(out.String(), `FORTNOX_CLIENT_ID: "from-file"   (`+f+`)`) {
		t.Errorf("fortnoxSync with --env-file: exit %d, %s %s", code, out.String(), errb.String())
	}
}

// requireCall matches a Require call's arguments.
var requireCall = regexp.MustCompile(`\.Require\(([^)]*)\)`)

// TestRequiredVarsMatchRequireCalls keeps requiredVars in step with the
// code: every non-secret variable that the functions' code (not the ops
// CLI) requires is required of a function at deploy time, except what the
// deploy always sets; every required variable is a non-secret one some
// code requires; every function named exists.
func TestRequiredVarsMatchRequireCalls(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	required := map[string][]string{} // variable → files
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if e.IsDir() {
			if strings.HasPrefix(e.Name(), ".") || rel == "scripts" || e.Name() == "testenv" || e.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range requireCall.FindAllStringSubmatch(string(b), -1) {
			for _, arg := range strings.Split(m[1], ",") {
				if name := strings.Trim(strings.TrimSpace(arg), `"`); name != "" {
					required[name] = append(required[name], rel)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(required) == 0 {
		t.Fatal("no cfg.Require call found: the scan is broken")
	}
	inTable := map[string]bool{}
	registered := map[string]bool{}
	for _, f := range functions.Registry() {
		registered[f.Name] = true
	}
	for fn, vars := range requiredVars {
		if !registered[fn] {
			t.Errorf("requiredVars names %s, which is not registered", fn)
		}
		for _, v := range vars {
			inTable[v] = true
			if d, ok := configVar(v); !ok || d.Secret {
				t.Errorf("requiredVars[%s] lists %s, not a non-secret variable", fn, v)
			}
			if len(required[v]) == 0 {
				t.Errorf("requiredVars[%s] lists %s, which no code requires", fn, v)
			}
		}
	}
	for v, files := range required {
		d, ok := configVar(v)
		if !ok {
			t.Errorf("%v require %s, which config.Vars does not list", files, v)
			continue
		}
		if d.Secret || managedVars[v] != "" || inTable[v] {
			continue
		}
		t.Errorf("%v require the non-secret %s: add the functions that need it to requiredVars", files, v)
	}
}

// TestOptionalSecretsMountedWhenPresent: each optional secret is a
// secret some function mounts; the dry run prints its check; an absent one
// is left out of the mounts (with --clear-secrets when nothing is left)
// while the function's other secrets stay; a required secret is always
// mounted.
func TestOptionalSecretsMountedWhenPresent(t *testing.T) {
	d := testDeployment(t, "", testDeployer)
	mounted := map[string]bool{}
	for _, f := range d.funcs {
		for _, s := range f.Secrets {
			mounted[s] = true
		}
	}
	for s := range optionalSecrets {
		if v, ok := configVar(s); !ok || !v.Secret {
			t.Errorf("optional secret %s is not a secret of config.Vars", s)
		}
		if !mounted[s] {
			t.Errorf("optional secret %s is mounted by no function", s)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, []string{"deploy", "--dry-run", "--project", "ij-prod"}); code != 0 {
		t.Fatalf("dry run: exit %d, %s", code, errb.String())
	}
	for _, u := range secretsOf(d.funcs) {
		if u.optional && !strings.Contains(out.String(), shellQuote(secretProbe("ij-prod", u.env))) {
			t.Errorf("dry run does not print the check of %s", u.env)
		}
	}

	d.absent = map[string]bool{"GEMINI_API_KEY": true, "FORTNOX_REFRESH_TOKEN": true, "IJ_ONCALL_WEBHOOK_URL": true}
	lines := map[string]string{}
	for _, f := range d.funcs {
		lines[f.Name] = strings.Join(d.deployFunction(f), " ")
	}
	for _, tc := range []struct {
		fn             string
		want, unwanted []string
	}{
		{"onUserActivationWritten", []string{"--clear-secrets"}, []string{"GEMINI_API_KEY", "--set-secrets"}},
		{"deliverWellbeingAlert", []string{"--clear-secrets"}, []string{"IJ_ONCALL_WEBHOOK_URL"}},
		{"fortnoxSync", []string{"--set-secrets=FORTNOX_CLIENT_SECRET=fortnox-client-secret:latest,IJ_PSEUDONYM_KEY=ij-pseudonym-key:latest,STRIPE_SECRET_KEY=stripe-secret-key:latest"},
			[]string{"FORTNOX_REFRESH_TOKEN", "--clear-secrets"}},
		{"stripeWebhook", []string{"STRIPE_WEBHOOK_SECRETS=stripe-webhook-secrets:latest"}, []string{"--clear-secrets"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(lines[tc.fn], w) {
				t.Errorf("%s lacks %s: %s", tc.fn, w, lines[tc.fn])
			}
		}
		for _, u := range tc.unwanted {
			if strings.Contains(lines[tc.fn], u) {
				t.Errorf("%s has %s: %s", tc.fn, u, lines[tc.fn])
			}
		}
	}
}

// TestDeployChecksSecretsBeforeDeploying: before the first command of the
// plan runs, the deploy probes every secret that a planned function
// mounts. A required one that is missing, not enabled or unreadable
// refuses the deploy (and the dry run) with one error that lists each such
// secret with the functions that need it and how to create it, so that no
// function is left on the new version while others stay on the old; an
// optional one is left out of the mounts with a notice and the deploy
// goes on.
func TestDeployChecksSecretsBeforeDeploying(t *testing.T) {
	needs := map[string][]string{} // secret variable → the functions that mount it, in plan order
	for _, f := range functions.Registry() {
		for _, s := range f.Secrets {
			needs[s] = append(needs[s], f.Name)
		}
	}
	for _, tc := range []struct {
		name       string
		dry        bool
		states     map[string]string // secret name → fakeGcloud state
		refused    []string          // required secrets the error lists; none: the deploy goes on
		notMounted []string          // optional secrets left out
		env        map[string]string // added to the deployer's environment
	}{
		{name: "all present"},
		{name: "dry run all present", dry: true},
		{name: "required webhook secret missing",
			states: map[string]string{"stripe-webhook-secrets": "NOT_FOUND"}, refused: []string{"STRIPE_WEBHOOK_SECRETS"}},
		{name: "required secrets missing, disabled and unreadable, an optional one missing",
			states: map[string]string{"stripe-secret-key": "NOT_FOUND", "ij-pseudonym-key": "DISABLED",
				"fortnox-client-secret": "PERMISSION_DENIED", "gemini-api-key": "NOT_FOUND"},
			refused: []string{"FORTNOX_CLIENT_SECRET", "IJ_PSEUDONYM_KEY", "STRIPE_SECRET_KEY"}},
		{name: "dry run refuses the same", dry: true,
			states: map[string]string{"stripe-webhook-secrets": "NOT_FOUND"}, refused: []string{"STRIPE_WEBHOOK_SECRETS"}},
		{name: "optional secrets missing or not enabled",
			states:     map[string]string{"gemini-api-key": "NOT_FOUND", "ij-oncall-webhook-url": "DESTROYED"},
			notMounted: []string{"GEMINI_API_KEY", "IJ_ONCALL_WEBHOOK_URL"}},
		{name: "dry run, optional secret missing", dry: true,
			states: map[string]string{"gemini-api-key": "NOT_FOUND"}, notMounted: []string{"GEMINI_API_KEY"}},
		{name: "insight rewriting needs the optional Gemini key",
			states: map[string]string{"gemini-api-key": "NOT_FOUND"}, env: map[string]string{"INSIGHTS_REWRITE": "gemini"},
			refused: []string{"GEMINI_API_KEY"}},
		{name: "insight rewriting through Vertex AI needs no key",
			states: map[string]string{"gemini-api-key": "NOT_FOUND"},
			env:    map[string]string{"INSIGHTS_REWRITE": "gemini", "GEMINI_VERTEX_PROJECT": "ij-vertex"}, notMounted: []string{"GEMINI_API_KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != nil {
				env := maps.Clone(testDeployer)
				maps.Copy(env, tc.env)
				withDeployer(t, env)
			}
			fake := &fakeGcloud{states: tc.states}
			withFakeGcloud(t, fake)
			args := []string{"deploy", "--project", "ij-prod"}
			if tc.dry {
				args = append(args, "--dry-run")
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, args)
			ran := fake.commands()

			probed := map[string]bool{}
			firstStep := len(ran)
			for i, c := range ran {
				if !isSecretProbe(c) {
					firstStep = min(firstStep, i)
				} else if i > firstStep {
					t.Errorf("secret probed after the deploy began: %q", c)
				} else {
					probed[c[5]] = true
				}
			}
			for s := range needs {
				if !probed["--secret="+secretName(s)] {
					t.Errorf("%s (mounted by %s) not checked", s, strings.Join(needs[s], ", "))
				}
			}

			if len(tc.refused) > 0 {
				if code == 0 {
					t.Fatalf("deploy went on: %s", out.String())
				}
				if firstStep < len(ran) {
					t.Errorf("ran %q before refusing", ran[firstStep])
				}
				if strings.Contains(out.String(), "gcloud functions deploy") {
					t.Errorf("printed the plan before refusing:\n%s", out.String())
				}
				msg := errb.String()
				for s := range needs {
					line := "  - " + secretName(s) + " (" + s + ") for " + strings.Join(needs[s], ", ") + ": "
					if want := slices.Contains(tc.refused, s); strings.Contains(msg, line) != want {
						t.Errorf("error lists %s: %v, want %v (line %q):\n%s", s, !want, want, line, msg)
					}
				}
				for _, want := range []string{"nothing deployed", "gcloud secrets create NAME --data-file=- --project=ij-prod"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error lacks %q:\n%s", want, msg)
					}
				}
				return
			}

			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			steps := map[string]string{} // function → its deploy command, as run or printed
			for _, c := range ran[firstStep:] {
				if len(c) > 3 && strings.Join(c[:3], " ") == "gcloud functions deploy" {
					steps[c[3]] = strings.Join(c, " ")
				}
			}
			if tc.dry {
				if firstStep < len(ran) {
					t.Errorf("dry run ran %q", ran[firstStep])
				}
				for _, line := range strings.Split(out.String(), "\n") {
					if f, ok := strings.CutPrefix(line, "gcloud functions deploy "); ok {
						name, _, _ := strings.Cut(f, " ")
						steps[name] = line
					}
				}
			}
			for s, fns := range needs {
				absent := slices.Contains(tc.notMounted, s)
				for _, fn := range fns {
					if step, ok := steps[fn]; !ok {
						t.Errorf("%s not deployed", fn)
					} else if mounted := strings.Contains(step, s+"="+secretName(s)+":latest"); mounted == absent {
						t.Errorf("%s mounts %s: %v, want %v: %s", fn, s, mounted, !absent, step)
					}
				}
				if notice := "# " + secretName(s) + " is not mounted (" + optionalSecrets[s] + "): "; strings.Contains(out.String(), notice) != absent {
					t.Errorf("notice %q printed: %v, want %v", notice, !absent, absent)
				}
			}
		})
	}
}

// TestDeployDryRunWithoutGcloud: a dry run on a machine without gcloud
// prints the secret checks without running them, says so, and prints the
// plan with every secret mounted.
func TestDeployDryRunWithoutGcloud(t *testing.T) {
	fake := &fakeGcloud{states: map[string]string{"stripe-webhook-secrets": "NOT_FOUND"}}
	withFakeGcloud(t, fake)
	deployLookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	var out, errb bytes.Buffer
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, []string{"deploy", "--dry-run", "--project", "ij-prod", "stripeWebhook"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if ran := fake.commands(); len(ran) > 0 {
		t.Errorf("ran %q", ran)
	}
	for _, want := range []string{"# gcloud is not installed: the secrets are not checked",
		shellQuote(secretProbe("ij-prod", "STRIPE_WEBHOOK_SECRETS")), "STRIPE_WEBHOOK_SECRETS=stripe-webhook-secrets:latest"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestProbeSecret: what a secret probe makes of gcloud's answers: an
// enabled latest version is fine; otherwise the reason is the version's
// state or gcloud's one-line error, without the advice that follows it.
func TestProbeSecret(t *testing.T) {
	for _, tc := range []struct {
		name, stdout, stderr string
		fail                 bool
		want                 string // "" for fine; else a part of the reason
		unchecked            bool   // the check failed, the secret may exist
	}{
		{name: "enabled", stdout: "ENABLED\n"},
		{name: "disabled", stdout: "DISABLED\n", want: "its latest version is DISABLED, not ENABLED"},
		{name: "no output", want: "its latest version is unknown", unchecked: true},
		{name: "not found", fail: true,
			stderr: "ERROR: (gcloud.secrets.versions.describe) NOT_FOUND: Secret [projects/1/secrets/stripe-secret-key] not found or has no versions.\n",
			want:   "not in Secret Manager, or without a version (NOT_FOUND: Secret [projects/1/secrets/stripe-secret-key] not found or has no versions.)"},
		{name: "not logged in", fail: true,
			stderr: "ERROR: (gcloud.secrets.versions.describe) You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.\n",
			want:   "could not be checked: You do not currently have an active account selected.", unchecked: true},
		{name: "no message", fail: true, want: "could not be checked: exit status 1", unchecked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := deployRun
			t.Cleanup(func() { deployRun = prev })
			var got []string
			deployRun = func(_ context.Context, args []string, stdout, stderr io.Writer) error {
				got = args
				io.WriteString(stdout, tc.stdout)
				io.WriteString(stderr, tc.stderr)
				if tc.fail {
					return errors.New("exit status 1")
				}
				return nil
			}
			reason, unchecked, err := probeSecret(context.Background(), "ij-prod", "STRIPE_SECRET_KEY")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && reason != "" || !strings.Contains(reason, tc.want) {
				t.Errorf("reason %q, want %q", reason, tc.want)
			}
			if unchecked != tc.unchecked {
				t.Errorf("unchecked %v, want %v (reason %q)", unchecked, tc.unchecked, reason)
			}
			if strings.Contains(reason, "gcloud auth login") {
				t.Errorf("reason %q carries gcloud's advice", reason)
			}
			if !slices.Equal(got, secretProbe("ij-prod", "STRIPE_SECRET_KEY")) {
				t.Errorf("ran %q", got)
			}
		})
	}
}

// TestDeployDryRunPrintsNoSecretValue: secrets in the deployer's
// environment are neither passed as plain variables nor printed; the dry
// run names secrets only.
func TestDeployDryRunPrintsNoSecretValue(t *testing.T) {
	env := map[string]string{}
	for k, v := range testDeployer {
		env[k] = v
	}
	for _, v := range config.Vars {
		if v.Secret {
			env[v.Name] = "sk_live_VALUE_OF_" + v.Name
		}
	}
	env["STRIPE_WEBHOOK_SECRETS"] = "whsec_VALUE_OF_STRIPE_WEBHOOK_SECRETS"
	withDeployer(t, env)
	var out, errb bytes.Buffer
	if code := run(context.Background(), &cmdEnv{stdout: &out, stderr: &errb}, []string{"deploy", "--dry-run", "--project", "ij-prod"}); code != 0 {
		t.Fatalf("dry run: exit %d, %s", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "VALUE_OF_") {
		t.Errorf("dry run printed a secret value:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "STRIPE_SECRET_KEY=stripe-secret-key:latest") {
		t.Error("dry run does not mount STRIPE_SECRET_KEY by name")
	}
}

// TestEnvVarsYAMLRoundTrip: values with YAML's special characters come
// back whole.
func TestEnvVarsYAMLRoundTrip(t *testing.T) {
	vars := map[string]deployVar{
		"IJ_CORS_ORIGINS":   {Value: "https://a.example,https://b.example"},
		"FORTNOX_CLIENT_ID": {Value: `id: with "quotes", #hash & <tags> 'single' \back`},
		"LOG_LEVEL":         {Value: "true"},
		"PAYOUTS_ZONE":      {Value: "Europe/Stockholm\nsecond line ü"},
	}
	path := filepath.Join(t.TempDir(), "env.yaml")
	if err := os.WriteFile(path, envVarsYAML(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	got := readEnvVarsFile(t, path)
	for k, v := range vars {
		if got[k] != v.Value {
			t.Errorf("%s = %q, want %q", k, got[k], v.Value)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		// A real YAML parser, when this machine has one.
		cmd := exec.Command(py, "-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path)
		if b, err := cmd.Output(); err == nil {
			var parsed map[string]string
			if err := json.Unmarshal(b, &parsed); err != nil {
				t.Fatalf("PyYAML read %s: %v", b, err)
			}
			for k, v := range vars {
				if parsed[k] != v.Value {
					t.Errorf("PyYAML: %s = %q, want %q", k, parsed[k], v.Value)
				}
			}
		}
	}
}

// TestStripeReconcileTimeoutCoversItsBudget: stripeReconcile deploys with
// a timeout that leaves Replay's budget room to save its checkpoint.
func TestStripeReconcileTimeoutCoversItsBudget(t *testing.T) {
	for _, f := range functions.Registry() {
		if f.Name != "stripeReconcile" {
			continue
		}
		if f.Timeout < payments.ReconcileBudget+time.Minute || f.Timeout > 540*time.Second {
			t.Errorf("timeout %s, want at least the budget %s + 1 min and at most 540 s", f.Timeout, payments.ReconcileBudget)
		}
		return
	}
	t.Fatal("stripeReconcile is not registered")
}

// stubDeployRepo returns a copy of scripts/deploy.sh in a temporary
// repository whose scripts/install.sh only records that it ran (in the
// returned marker file), and a bin directory holding bash, dirname and a
// stub go that records its working directory and arguments (in the
// returned args file), for running deploy.sh with PATH=bin alone.
func stubDeployRepo(t *testing.T) (repo, bin, marker, argsFile string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(moduleRoot(wd), "scripts", "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	tmp := t.TempDir()
	repo, bin = filepath.Join(tmp, "repo"), filepath.Join(tmp, "bin")
	marker, argsFile = filepath.Join(tmp, "installed"), filepath.Join(tmp, "args")
	for _, d := range []string{filepath.Join(repo, "scripts"), bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(repo, "scripts", "deploy.sh"):  string(src),
		filepath.Join(repo, "scripts", "install.sh"): "#!" + bash + "\necho \"$*\" > " + marker + "\n",
		filepath.Join(bin, "go"):                     "#!" + bash + "\nprintf '%s\\n' \"$PWD\" \"$@\" > " + argsFile + "\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range []string{"bash", "dirname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return repo, bin, marker, argsFile
}

// TestDeployScriptArguments runs scripts/deploy.sh (with stubs for go and
// scripts/install.sh) from a directory other than the repository: a
// relative --env-file (both forms) reaches ops as an absolute path against
// the caller's directory, and firebase-tools is installed only for a full
// deploy (no function named) that is not a dry run and finds no firebase
// (neither the repository's .tools/ one nor one on PATH).
func TestDeployScriptArguments(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		firebase string // "tools": .tools/node_modules/.bin/firebase; "path": on PATH
		want     []string
		install  bool
	}{
		{"relative env file, dry run", []string{"--project", "p", "--env-file", "prod.env", "--dry-run"}, "",
			[]string{"--project", "p", "--env-file", "{cwd}/prod.env", "--dry-run"}, false},
		{"relative env file with =", []string{"--env-file=conf/prod.env", "-project=p", "-dry-run"}, "",
			[]string{"--env-file={cwd}/conf/prod.env", "-project=p", "-dry-run"}, false},
		{"absolute env file", []string{"-env-file", "/etc/ij.env", "--dry-run", "insightsWorker"}, "",
			[]string{"-env-file", "/etc/ij.env", "--dry-run", "insightsWorker"}, false},
		{"a name that looks like a path is not touched", []string{"--dry-run", "--project", "p", "--", "prod.env"}, "",
			[]string{"--dry-run", "--project", "p", "--", "prod.env"}, false},
		{"full deploy without firebase", []string{"--project", "p", "--env-file", "prod.env"}, "",
			[]string{"--project", "p", "--env-file", "{cwd}/prod.env"}, true},
		{"full deploy, dry-run=false", []string{"--dry-run=false", "--project", "p", "--"}, "",
			[]string{"--dry-run=false", "--project", "p", "--"}, true},
		{"named functions need no firebase", []string{"--project", "p", "insightsWorker", "insightsFanout"}, "",
			[]string{"--project", "p", "insightsWorker", "insightsFanout"}, false},
		{"named after --", []string{"--project", "p", "--", "insightsWorker"}, "",
			[]string{"--project", "p", "--", "insightsWorker"}, false},
		{"full deploy with the repository's firebase", []string{"--project", "p"}, "tools", []string{"--project", "p"}, false},
		{"full deploy with firebase on PATH", []string{"--project", "p"}, "path", []string{"--project", "p"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo, bin, marker, argsFile := stubDeployRepo(t)
			path := bin
			switch c.firebase {
			case "tools":
				dir := filepath.Join(repo, ".tools", "node_modules", ".bin")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "firebase"), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			case "path":
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "firebase"), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				path = bin + string(os.PathListSeparator) + dir
			}
			cwd := t.TempDir()
			cmd := exec.Command(filepath.Join(bin, "bash"), append([]string{filepath.Join(repo, "scripts", "deploy.sh")}, c.args...)...)
			cmd.Dir, cmd.Env = cwd, []string{"PATH=" + path}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("deploy.sh: %v\n%s", err, out)
			}
			got, err := os.ReadFile(argsFile)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{repo, "run", "./scripts/ops", "deploy"}
			for _, a := range c.want {
				want = append(want, strings.ReplaceAll(a, "{cwd}", cwd))
			}
			if g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); strings.Join(g, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("go ran in and with %q, want %q", g, want)
			}
			_, err = os.Stat(marker)
			if installed := err == nil; installed != c.install {
				t.Errorf("firebase-tools installed: %v, want %v", installed, c.install)
			}
		})
	}
}

// TestDeployScriptDryRunFromAnotherDirectory runs the real scripts/deploy.sh
// (go run ./scripts/ops) from a temporary directory with a relative env
// file: the dry run reads it. A stub gcloud first on PATH finds every
// secret enabled (the dry run checks them).
func TestDeployScriptDryRunFromAnotherDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ops")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(moduleRoot(wd), "scripts", "deploy.sh")
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "prod.env"), []byte("FORTNOX_CLIENT_ID=abc\nLOG_LEVEL=debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	stub := "#!/bin/sh\n[ \"$1 $2 $3\" = \"secrets versions describe\" ] && echo ENABLED && exit 0\necho \"stub gcloud: $*\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "gcloud"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script, "--project", "ij-prod", "--env-file=prod.env", "--dry-run")
	cmd.Dir = cwd
	for _, kv := range os.Environ() {
		// The deploy refuses a shell set up for the local stack.
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH":
			cmd.Env = append(cmd.Env, "PATH="+bin+string(os.PathListSeparator)+v)
		case !strings.HasSuffix(k, "_EMULATOR_HOST") && k != "FORTNOX_CLIENT_ID" && k != "LOG_LEVEL":
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy.sh --dry-run: %v\n%s", err, out)
	}
	for _, want := range []string{`LOG_LEVEL: "debug"   (` + filepath.Join(cwd, "prod.env") + `)`, "gcloud functions deploy stripeWebhook "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
}
