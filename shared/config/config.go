// Package config reads the functions' configuration from the environment
// into one typed struct.
//
// Load parses and validates every variable that is set; the areas check
// that what they need is present when they first need it (Require), so one
// function's missing secret never stops another function from starting.
// Secrets are held as Secret values, which never print.
package config

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/innerjourney/functions/shared/fault"
)

// Secret is a credential. It formats as "[redacted]" in every verb, in JSON
// and in slog, so it cannot leak through logs by accident; Reveal returns
// the value for the one call that needs it. The value sits behind a
// pointer so that fmt's fallback for a verb it cannot hand to a method
// (%w on a non-error, which prints the operand by reflection) shows an
// address, not the credential. The zero Secret is empty.
type Secret struct{ v *string }

// NewSecret returns the Secret holding v (the zero Secret when v is empty).
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{v: &v}
}

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return "[redacted]"
}

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb, not only those fmt
// hands to String (%v %s %q %x %X), prints the redacted form: without it
// a verb such as %d reports a bad verb and prints the raw value beside it.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalText implements encoding.TextMarshaler without revealing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Var documents one environment variable.
type Var struct {
	Name    string
	Secret  bool   // held in Secret Manager in production
	Default string // "" when none
	Doc     string
}

// Vars lists every environment variable the functions read. The README's
// table and deploy's --set-secrets are generated from it.
var Vars = []Var{
	{Name: "GOOGLE_CLOUD_PROJECT", Doc: "Google Cloud / Firebase project id (required)."},
	{Name: "IJ_ENV", Default: "development", Doc: "development, staging or production; staging and production refuse emulator hosts."},
	{Name: "IJ_REGION", Default: "europe-north1", Doc: "Region of the functions, topics and scheduler jobs."},
	{Name: "LOG_LEVEL", Default: "info", Doc: "debug, info, warn or error."},
	{Name: "IJ_APP_CHECK", Default: "monitor", Doc: "App Check on the callables: `monitor` (a token sent is verified and an invalid one logged; calls without one are served) or `enforce` (a call without a valid token is refused UNAUTHENTICATED). Enforce once every app sends tokens."},
	{Name: "IJ_CORS_ORIGINS", Default: "*", Doc: "Comma-separated origins allowed to call the callables from a browser (`*`: any); none while the configuration fails to load."},
	{Name: "IJ_STORAGE_BUCKET", Doc: "Cloud Storage bucket for user media and exports (default PROJECT.appspot.com; set it for projects created since October 2024, whose default bucket is PROJECT.firebasestorage.app)."},
	{Name: "FIRESTORE_EMULATOR_HOST", Doc: "host:port of the Firestore emulator (local only)."},
	{Name: "FIREBASE_AUTH_EMULATOR_HOST", Doc: "host:port of the Auth emulator (local only)."},
	{Name: "PUBSUB_EMULATOR_HOST", Doc: "host:port of the Pub/Sub emulator (local only)."},
	{Name: "STORAGE_EMULATOR_HOST", Doc: "http://host:port of fake-gcs-server (local only)."},
	{Name: "STRIPE_SECRET_KEY", Secret: true, Doc: "Stripe secret key (sk_test_… or sk_live_…)."},
	{Name: "STRIPE_WEBHOOK_SECRETS", Secret: true, Doc: "Comma-separated webhook signing secrets: platform endpoint, Connect endpoint, and an old one during rotation."},
	{Name: "STRIPE_API_URL", Doc: "Override of the Stripe API base URL (stripe-mock locally)."},
	{Name: "FORTNOX_CLIENT_ID", Doc: "Fortnox integration client id."},
	{Name: "FORTNOX_CLIENT_SECRET", Secret: true, Doc: "Fortnox integration client secret."},
	{Name: "FORTNOX_TENANT_ID", Doc: "Fortnox tenant (company) id for the client-credentials flow."},
	{Name: "FORTNOX_API_URL", Default: "https://api.fortnox.se", Doc: "Fortnox API base URL (the fake locally)."},
	{Name: "FORTNOX_TOKEN_URL", Default: "https://apps.fortnox.se/oauth-v1/token", Doc: "Fortnox token endpoint."},
	{Name: "GEMINI_API_KEY", Secret: true, Doc: "Gemini API key; when unset (and no Vertex project) the offline analyzer is used."},
	{Name: "GEMINI_MODEL", Default: "gemini-2.5-flash", Doc: "Gemini model for reflection analysis and insight rewriting."},
	{Name: "GEMINI_VERTEX_PROJECT", Doc: "Use Vertex AI in this project instead of an API key."},
	{Name: "GEMINI_VERTEX_LOCATION", Default: "europe-north1", Doc: "Vertex AI location."},
	{Name: "GEMINI_BASE_URL", Doc: "Override of the Gemini API base URL (tests)."},
	{Name: "IJ_PSEUDONYM_KEY", Secret: true, Doc: "HMAC key for pseudonymising identifiers in records kept under legal hold."},
	{Name: "IJ_ONCALL_WEBHOOK_URL", Secret: true, Doc: "Where wellbeing alerts are delivered (chat or paging webhook)."},
	{Name: "INSIGHTS_REWRITE", Default: InsightsRewriteOff, Doc: "Daily insights' LLM rewriting: off (the template wording) or gemini (the Gemini configuration above; only for users granting ai_analysis, templates on any failure)."},
	{Name: "ANALYSIS_PROVIDER", Default: "offline", Doc: "Reflection analysis provider for the ops CLI (offline or gemini); the functions use Gemini when GEMINI_API_KEY or GEMINI_VERTEX_PROJECT is set."},
	// Payouts and bookkeeping (functions/payouts.LoadSettings).
	{Name: "PAYOUTS_PERIOD_DAYS", Default: "14", Doc: "Length of a payout period in days."},
	{Name: "PAYOUTS_COMMISSION_BPS", Default: "2000", Doc: "Platform commission in basis points of a payment's net amount (program.commissionBps overrides)."},
	{Name: "PAYOUTS_LOOKBACK_DAYS", Default: "180", Doc: "How far back unpaid payments and late refunds are considered."},
	{Name: "PAYOUTS_ZONE", Default: "Europe/Stockholm", Doc: "Time zone of period boundaries and voucher dates."},
	{Name: "FORTNOX_ACCOUNTING_CURRENCY", Default: "SEK", Doc: "Currency of the Fortnox books; other currencies are not booked automatically."},
	{Name: "FORTNOX_VOUCHER_SERIES", Default: "P", Doc: "Voucher series of payout vouchers."},
	{Name: "FORTNOX_PAYOUT_DEBIT_ACCOUNT", Default: "2890", Doc: "Account debited with a payout (coach liability, or a cost account)."},
	{Name: "FORTNOX_CLEARING_ACCOUNT", Default: "1580", Doc: "Processor clearing account (Stripe balance)."},
	{Name: "FORTNOX_BOOK_SALES", Default: "false", Doc: "Also book each allocated payment's sale, commission and VAT."},
	{Name: "FORTNOX_SALES_SERIES", Default: "A", Doc: "Voucher series of sales vouchers."},
	{Name: "FORTNOX_LIABILITY_ACCOUNT", Default: "2890", Doc: "Account credited with the coaches' share of a sale."},
	{Name: "FORTNOX_COMMISSION_ACCOUNT", Default: "3001", Doc: "Account credited with the commission less VAT."},
	{Name: "FORTNOX_VAT_ACCOUNT", Default: "2611", Doc: "Account credited with the output VAT on the commission."},
	{Name: "FORTNOX_VAT_BPS", Default: "2500", Doc: "VAT rate included in the commission, basis points."},
	{Name: "FORTNOX_REFRESH_TOKEN", Secret: true, Doc: "First refresh token of the refresh-token flow (when FORTNOX_TENANT_ID is unset)."},
}

// Values of INSIGHTS_REWRITE (Config.InsightsRewrite).
const (
	InsightsRewriteOff    = "off"
	InsightsRewriteGemini = "gemini"
)

// Config is the parsed environment.
type Config struct {
	ProjectID     string
	Env           string
	Region        string
	LogLevel      string
	CORSOrigins   []string
	StorageBucket string
	// AppCheckEnforced: IJ_APP_CHECK is "enforce".
	AppCheckEnforced bool
	appCheck         string // IJ_APP_CHECK as set, for validate

	FirestoreEmulator string
	AuthEmulator      string
	PubSubEmulator    string
	StorageEmulator   string

	StripeSecretKey      Secret
	StripeWebhookSecrets []Secret
	StripeAPIURL         string

	FortnoxClientID     string
	FortnoxClientSecret Secret
	FortnoxTenantID     string
	FortnoxAPIURL       string
	FortnoxTokenURL     string

	GeminiAPIKey         Secret
	GeminiModel          string
	GeminiVertexProject  string
	GeminiVertexLocation string
	GeminiBaseURL        string

	// InsightsRewrite is InsightsRewriteOff or InsightsRewriteGemini.
	InsightsRewrite string

	PseudonymKey     Secret
	OnCallWebhookURL Secret

	set map[string]bool
}

// Load reads the configuration through lookup (os.LookupEnv in production).
// It fails with a fault.FailedPrecondition error naming the variable when a
// set value is malformed; absent optional values take their defaults.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	v := map[string]string{}
	set := map[string]bool{}
	for _, d := range Vars {
		if s, ok := lookup(d.Name); ok && strings.TrimSpace(s) != "" {
			v[d.Name] = strings.TrimSpace(s)
			set[d.Name] = true
		} else {
			v[d.Name] = d.Default
		}
	}
	c := &Config{
		ProjectID:            v["GOOGLE_CLOUD_PROJECT"],
		Env:                  v["IJ_ENV"],
		Region:               v["IJ_REGION"],
		LogLevel:             v["LOG_LEVEL"],
		CORSOrigins:          splitList(v["IJ_CORS_ORIGINS"]),
		AppCheckEnforced:     v["IJ_APP_CHECK"] == "enforce",
		appCheck:             v["IJ_APP_CHECK"],
		StorageBucket:        v["IJ_STORAGE_BUCKET"],
		FirestoreEmulator:    v["FIRESTORE_EMULATOR_HOST"],
		AuthEmulator:         v["FIREBASE_AUTH_EMULATOR_HOST"],
		PubSubEmulator:       v["PUBSUB_EMULATOR_HOST"],
		StorageEmulator:      v["STORAGE_EMULATOR_HOST"],
		StripeSecretKey:      NewSecret(v["STRIPE_SECRET_KEY"]),
		StripeAPIURL:         v["STRIPE_API_URL"],
		FortnoxClientID:      v["FORTNOX_CLIENT_ID"],
		FortnoxClientSecret:  NewSecret(v["FORTNOX_CLIENT_SECRET"]),
		FortnoxTenantID:      v["FORTNOX_TENANT_ID"],
		FortnoxAPIURL:        v["FORTNOX_API_URL"],
		FortnoxTokenURL:      v["FORTNOX_TOKEN_URL"],
		GeminiAPIKey:         NewSecret(v["GEMINI_API_KEY"]),
		GeminiModel:          v["GEMINI_MODEL"],
		GeminiVertexProject:  v["GEMINI_VERTEX_PROJECT"],
		GeminiVertexLocation: v["GEMINI_VERTEX_LOCATION"],
		GeminiBaseURL:        v["GEMINI_BASE_URL"],
		InsightsRewrite:      strings.ToLower(v["INSIGHTS_REWRITE"]),
		PseudonymKey:         NewSecret(v["IJ_PSEUDONYM_KEY"]),
		OnCallWebhookURL:     NewSecret(v["IJ_ONCALL_WEBHOOK_URL"]),
		set:                  set,
	}
	for _, s := range splitList(v["STRIPE_WEBHOOK_SECRETS"]) {
		c.StripeWebhookSecrets = append(c.StripeWebhookSecrets, NewSecret(s))
	}
	if c.StorageBucket == "" && c.ProjectID != "" {
		c.StorageBucket = c.ProjectID + ".appspot.com"
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func (c *Config) validate() error {
	switch c.Env {
	case "development", "staging", "production":
	default:
		return fault.New(fault.FailedPrecondition, "IJ_ENV must be development, staging or production, not %q", c.Env)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fault.New(fault.FailedPrecondition, "LOG_LEVEL must be debug, info, warn or error")
	}
	switch v := c.appCheck; v {
	case "monitor", "enforce":
	default:
		return fault.New(fault.FailedPrecondition, "IJ_APP_CHECK must be monitor or enforce, not %q", v)
	}
	switch c.InsightsRewrite {
	case InsightsRewriteOff, InsightsRewriteGemini:
	default:
		return fault.New(fault.FailedPrecondition, "INSIGHTS_REWRITE must be off or gemini, not %q", c.InsightsRewrite)
	}
	if k := c.StripeSecretKey.Reveal(); k != "" && !strings.HasPrefix(k, "sk_") && !strings.HasPrefix(k, "rk_") {
		return fault.New(fault.FailedPrecondition, "STRIPE_SECRET_KEY must start with sk_ or rk_")
	}
	for _, s := range c.StripeWebhookSecrets {
		if !strings.HasPrefix(s.Reveal(), "whsec_") {
			return fault.New(fault.FailedPrecondition, "STRIPE_WEBHOOK_SECRETS entries must start with whsec_")
		}
	}
	if len(c.CORSOrigins) == 0 {
		// Set, but to separators only (","): an empty list would allow
		// every origin (callable.Options.AllowedOrigins), not none.
		return fault.New(fault.FailedPrecondition, "IJ_CORS_ORIGINS names no origin (use * to allow any)")
	}
	if c.Env != "development" {
		// A deployed project (production or staging): with an Auth
		// emulator host the Admin SDK accepts unsigned ID tokens.
		if c.FirestoreEmulator != "" || c.AuthEmulator != "" || c.PubSubEmulator != "" || c.StorageEmulator != "" {
			return fault.New(fault.FailedPrecondition, "emulator hosts are set in %s", c.Env)
		}
	}
	return nil
}

// Require fails with a fault.FailedPrecondition error that names every
// variable in names that is not set. Areas call it when they first need
// their settings; the message names variables, never values.
func (c *Config) Require(names ...string) error {
	var missing []string
	for _, n := range names {
		if !c.set[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fault.New(fault.FailedPrecondition, "missing configuration: %s", strings.Join(missing, ", "))
	}
	return nil
}

// IsSet reports whether the variable was set in the environment.
func (c *Config) IsSet(name string) bool { return c.set[name] }

// LiveMode reports whether Stripe runs with a live key.
func (c *Config) LiveMode() bool { return strings.Contains(c.StripeSecretKey.Reveal(), "_live_") }

// Int parses an optional integer variable through lookup, with a default.
func Int(lookup func(string) (string, bool), name string, def int) (int, error) {
	s, ok := lookup(name)
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fault.New(fault.FailedPrecondition, "%s must be an integer", name)
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var (
	mu     sync.Mutex
	loaded *Config
)

// FromEnv returns the process configuration, loading it from the
// environment on first use. A failed load is not cached: the next call tries
// again.
func FromEnv() (*Config, error) {
	mu.Lock()
	defer mu.Unlock()
	if loaded != nil {
		return loaded, nil
	}
	c, err := Load(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	loaded = c
	return c, nil
}
