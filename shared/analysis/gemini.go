package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"github.com/innerjourney/functions/shared/fault"
)

// GeminiConfig configures the Gemini provider. Either APIKey (Gemini API)
// or Project and Location (Vertex AI, Application Default Credentials) must
// be set.
type GeminiConfig struct {
	// Model is the model name, e.g. "gemini-2.5-flash". Required.
	Model string
	// APIKey selects the Gemini API backend. A secret: never logged.
	APIKey string
	// Project and Location select the Vertex AI backend.
	Project  string
	Location string
	// BaseURL overrides the API endpoint (tests point it at a local fake).
	BaseURL string
	// HTTPClient overrides the HTTP client (optional).
	HTTPClient *http.Client
	// Timeout bounds one attempt; default 20 s.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per entry (first try included);
	// default 3.
	MaxAttempts int
	// Backoff is the delay before the second attempt; it doubles for each
	// further one, with ±25 % jitter, capped at 8 s. Default 500 ms.
	Backoff time.Duration
}

// Gemini analyzes entries with Google's Gemini. Any failure falls back to
// the offline analyzer; a response blocked for safety is treated as a
// possible crisis. The offline analyzer always runs as well: its mood
// shift is used as is, and its crisis detector is ORed with the model's
// judgement. A "crisis": true from the model is never dropped: not when
// the answer that said it was malformed (a partial answer, asked again
// and then answered offline), and not when a later attempt answers
// "crisis": false (ReasonProviderFlag either way). Safe for concurrent
// use.
type Gemini struct {
	geminiCaller
	offline *Offline
}

// geminiCaller is what every use of Gemini shares (reflection analysis,
// Gemini; insight rewriting, GeminiRewriter): the configuration, the API
// client created on first use, and the retry policy of call. Safe for
// concurrent use.
type geminiCaller struct {
	cfg GeminiConfig
	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	client *genai.Client
}

// checkGeminiConfig validates cfg (see NewGemini) and returns it with its
// budget defaults filled in. It returns a fault.Invalid error for an
// incomplete cfg.
func checkGeminiConfig(cfg GeminiConfig) (GeminiConfig, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return cfg, invalid("gemini: model is required")
	}
	if cfg.APIKey == "" && cfg.Project == "" {
		return cfg, invalid("gemini: an API key or a Vertex AI project is required")
	}
	if cfg.Project != "" && cfg.Location == "" && cfg.APIKey == "" {
		return cfg, invalid("gemini: a Vertex AI location is required with a project")
	}
	return cfg.withDefaults(), nil
}

// NewGemini validates cfg and returns the provider; offline is the
// fallback (a new Offline with the system clock when nil). The API client
// is created on first use, and creation is retried on the next call when
// it fails. It returns a fault.Invalid error for an incomplete cfg.
func NewGemini(cfg GeminiConfig, offline *Offline) (*Gemini, error) {
	cfg, err := checkGeminiConfig(cfg)
	if err != nil {
		return nil, err
	}
	if offline == nil {
		offline = NewOffline(nil)
	}
	return &Gemini{geminiCaller: geminiCaller{cfg: cfg, sleep: sleepCtx}, offline: offline}, nil
}

// maxBackoff caps the wait between attempts; a wait is the current delay
// times a jitter factor in [1-backoffJitter, 1+backoffJitter).
const (
	maxBackoff    = 8 * time.Second
	backoffJitter = 0.25
)

// withDefaults returns c with its zero budget fields at their defaults.
func (c GeminiConfig) withDefaults() GeminiConfig {
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 500 * time.Millisecond
	}
	return c
}

// WorstCase returns the longest the model calls for one entry can take
// under c's budget (defaults filled in): every attempt times out and every
// wait between attempts is at its maximum (doubling, capped at 8 s, +25 %
// jitter). A function that analyses entries needs a longer timeout.
func (c GeminiConfig) WorstCase() time.Duration {
	c = c.withDefaults()
	total := time.Duration(c.MaxAttempts) * c.Timeout
	delay := c.Backoff
	for attempt := 2; attempt <= c.MaxAttempts; attempt++ {
		total += time.Duration(float64(delay) * (1 + backoffJitter))
		delay = min(delay*2, maxBackoff)
	}
	return total
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *geminiCaller) getClient(ctx context.Context) (*genai.Client, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client != nil {
		return g.client, nil
	}
	cc := &genai.ClientConfig{HTTPClient: g.cfg.HTTPClient}
	if g.cfg.BaseURL != "" {
		cc.HTTPOptions.BaseURL = g.cfg.BaseURL
	}
	if g.cfg.APIKey != "" {
		cc.Backend = genai.BackendGeminiAPI
		cc.APIKey = g.cfg.APIKey
	} else {
		cc.Backend = genai.BackendVertexAI
		cc.Project = g.cfg.Project
		cc.Location = g.cfg.Location
	}
	c, err := genai.NewClient(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("gemini: new client: %w", err)
	}
	g.client = c
	return c, nil
}

// Analyze implements Analyzer. It fails only for invalid input.
func (g *Gemini) Analyze(ctx context.Context, e Entry) (Result, error) {
	base, err := g.offline.Analyze(ctx, e)
	if err != nil {
		return Result{}, err
	}
	if !g.CallsModel(e) {
		return base, nil // nothing for the model to read
	}
	out, modelVersion, flagged, err := g.generate(ctx, e, base.Language)
	res := base
	switch {
	case errors.Is(err, errSafetyBlock):
		res.Fallback = "gemini_safety_block"
		markCrisis(&res, ReasonProviderSafetyBlock)
	case errors.Is(err, errStopped):
		res.Fallback = FallbackStopped
	case err != nil:
		res.Fallback = "gemini_error"
		// Operators see why the model was not used; never the error's
		// text (an API message or an answer may quote the entry).
		slog.WarnContext(ctx, "gemini analysis failed; offline analysis kept", "model", g.cfg.Model, "cause", geminiCause(err))
	default:
		res.Provider = ProviderGemini
		res.ModelVersion = modelVersion
		res.SentimentScore = round3(math.Max(-1, math.Min(1, *out.SentimentScore)))
		res.Magnitude = round3(math.Max(0, *out.Magnitude))
		switch l := Label(strings.ToLower(*out.Label)); l {
		case Positive, Negative, Neutral:
			res.Label = l
		default:
			res.Label = labelOf(res.SentimentScore)
		}
		if themes := knownThemes(*out.KeyThemes); len(themes) > 0 {
			res.KeyThemes = themes
		}
	}
	if flagged {
		// Some answer said crisis: true: the final one, or an earlier,
		// malformed one whose rest is not used (even when the call then
		// failed or a later answer said false). Once the model has flagged
		// the text, the flag is kept: err on the side of safety.
		markCrisis(&res, ReasonProviderFlag)
	}
	return res, nil
}

// CallsModel implements Metered: the model reads entries with text.
func (g *Gemini) CallsModel(e Entry) bool { return strings.TrimSpace(e.Text) != "" }

// AnalyzeOffline implements Metered: the analysis Analyze falls back to,
// without calling the model, Fallback set to reason for an entry the model
// would have read.
func (g *Gemini) AnalyzeOffline(ctx context.Context, e Entry, reason string) (Result, error) {
	res, err := g.offline.Analyze(ctx, e)
	if err != nil {
		return Result{}, err
	}
	if g.CallsModel(e) {
		res.Fallback = reason
	}
	return res, nil
}

// geminiOutput is the JSON the model is asked for. Every field is required
// (responseSchema); pointers tell a missing or null field from a zero
// value, and parseOutput rejects an answer that lacks one, so that a
// partial answer is never taken for a score of 0 or "no crisis". The one
// field read from a rejected answer is a crisis flag set to true (see
// flagsCrisis).
type geminiOutput struct {
	SentimentScore *float64  `json:"sentimentScore"`
	Magnitude      *float64  `json:"magnitude"`
	Label          *string   `json:"label"`
	KeyThemes      *[]string `json:"keyThemes"`
	Crisis         *bool     `json:"crisis"`
}

// missing returns the names of the required fields absent (or null) in
// the answer, in schema order.
func (o geminiOutput) missing() []string {
	var m []string
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"sentimentScore", o.SentimentScore != nil},
		{"magnitude", o.Magnitude != nil},
		{"label", o.Label != nil},
		{"keyThemes", o.KeyThemes != nil},
		{"crisis", o.Crisis != nil},
	} {
		if !f.present {
			m = append(m, f.name)
		}
	}
	return m
}

// flagsCrisis reports whether the answer, complete or not, says
// "crisis": true.
func (o geminiOutput) flagsCrisis() bool { return o.Crisis != nil && *o.Crisis }

var errSafetyBlock = errors.New("gemini: response blocked for safety")

// jsonRequest is a structured call's request: input as the user's turn,
// system as the system instruction, and one candidate answering in JSON
// of schema at temperature temp.
func jsonRequest(input []byte, system string, schema *genai.Schema, temp float32) ([]*genai.Content, *genai.GenerateContentConfig) {
	return []*genai.Content{genai.NewContentFromText(string(input), genai.RoleUser)}, &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText(system, genai.RoleUser),
		Temperature:       &temp,
		CandidateCount:    1,
		ResponseMIMEType:  "application/json",
		ResponseSchema:    schema,
	}
}

// generate asks the model, with per-attempt timeouts and bounded retries
// (call). It returns errSafetyBlock when the prompt or the answer was
// blocked. flagged reports that some attempt's answer, even a malformed
// one that was asked again, said "crisis": true; it is meaningful with an
// error too, and the caller keeps it whatever the final answer says.
func (g *Gemini) generate(ctx context.Context, e Entry, lang string) (out geminiOutput, modelVersion string, flagged bool, err error) {
	input, _ := json.Marshal(map[string]any{
		"text": e.Text, "moodBefore": e.MoodBefore, "moodAfter": e.MoodAfter,
		"rating": e.Rating, "language": lang,
	})
	contents, config := jsonRequest(input, systemPrompt(), responseSchema(), 0)
	err = g.call(ctx, contents, config, e.Proceed, func(resp *genai.GenerateContentResponse) error {
		if blocked(resp) {
			return errSafetyBlock
		}
		o, err := parseOutput(resp)
		flagged = flagged || o.flagsCrisis()
		if err != nil {
			return askAgain(err) // its crisis flag is kept
		}
		out, modelVersion = o, resp.ModelVersion
		if modelVersion == "" {
			modelVersion = g.cfg.Model
		}
		return nil
	})
	if err != nil {
		return geminiOutput{}, "", flagged, err
	}
	return out, modelVersion, flagged, nil
}

// badAnswer marks an answer that is worth asking for again (malformed, or
// failing the caller's checks): see askAgain.
type badAnswer struct{ err error }

func (b badAnswer) Error() string { return b.err.Error() }
func (b badAnswer) Unwrap() error { return b.err }

// askAgain wraps err, returned by a call's accept function, so that call
// asks the model again (within the attempts) instead of giving up.
func askAgain(err error) error { return badAnswer{err} }

// errStopped: a caller's proceed check ended a call's retries.
var errStopped = errors.New("gemini: retries stopped by the caller")

// call sends contents with config to the model, each attempt bounded by
// cfg.Timeout, at most cfg.MaxAttempts attempts with a jittered, doubling
// wait between them (capped at maxBackoff): the one retry policy of every
// Gemini use. proceed, when not nil, is asked after each wait, before the
// contents are sent again; its error ends the call. accept judges each
// response: nil takes it (call returns nil); an error wrapped by askAgain
// (a malformed answer) asks again; any other error ends the call with
// that error. API errors are retried when retryableGenAI says so (rate
// limits, server errors, timeouts); others end the call. Errors: the last
// attempt's (API errors wrapped as "gemini: generate (attempt N)", a
// rejected answer's unwrapped), errStopped wrapping proceed's error, ctx's
// error when ctx ends during a wait, and a client creation error.
func (g *geminiCaller) call(ctx context.Context, contents []*genai.Content, config *genai.GenerateContentConfig,
	proceed func(context.Context) error, accept func(*genai.GenerateContentResponse) error) error {
	client, err := g.getClient(ctx)
	if err != nil {
		return err
	}
	var lastErr error
	delay := g.cfg.Backoff
	for attempt := 1; attempt <= g.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			jitter := time.Duration(float64(delay) * (1 - backoffJitter + 2*backoffJitter*rand.Float64()))
			if err := g.sleep(ctx, jitter); err != nil {
				return err
			}
			delay = min(delay*2, maxBackoff)
			if proceed != nil {
				if err := proceed(ctx); err != nil {
					return fmt.Errorf("%w: %w", errStopped, err)
				}
			}
		}
		actx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		resp, err := client.Models.GenerateContent(actx, g.cfg.Model, contents, config)
		cancel()
		if err != nil {
			lastErr = fmt.Errorf("gemini: generate (attempt %d): %w", attempt, err)
			if ctx.Err() != nil || !retryableGenAI(err) {
				return lastErr
			}
			continue
		}
		err = accept(resp)
		var bad badAnswer
		if errors.As(err, &bad) {
			lastErr = bad.err
			continue
		}
		return err
	}
	return lastErr
}

// blocked reports a prompt blocked by the safety filters or an answer
// stopped for safety reasons.
func blocked(resp *genai.GenerateContentResponse) bool {
	if resp.PromptFeedback != nil && resp.PromptFeedback.BlockReason != "" &&
		resp.PromptFeedback.BlockReason != genai.BlockedReasonUnspecified {
		return true
	}
	for _, c := range resp.Candidates {
		switch c.FinishReason {
		case genai.FinishReasonSafety, genai.FinishReasonProhibitedContent,
			genai.FinishReasonBlocklist, genai.FinishReasonSPII:
			return true
		}
	}
	return false
}

// parseOutput decodes the model's answer. It returns an error (a malformed
// answer: generate asks again, then the offline analyzer answers) when
// there is no candidate, the text is not a JSON object of the schema, or a
// required field is missing or null. With the error it returns what was
// decoded, so that the caller can keep a "crisis": true (flagsCrisis) from
// an answer it otherwise rejects; nothing else of it may be used.
func parseOutput(resp *genai.GenerateContentResponse) (geminiOutput, error) {
	var out geminiOutput
	text, err := answerText(resp)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return out, fmt.Errorf("gemini: %w: %w", errMalformed, err)
	}
	if m := out.missing(); len(m) > 0 {
		return out, fmt.Errorf("gemini: %w: missing required %s", errMalformed, strings.Join(m, ", "))
	}
	return out, nil
}

// errMalformed is wrapped by every error of an answer that cannot be used
// as it is: no candidate, not JSON of the schema, a required field missing.
var errMalformed = errors.New("malformed answer")

// geminiCause names the kind of a failed analysis for the log: the API's
// HTTP status, "timeout", "malformed answer", or the error's fault code.
func geminiCause(err error) string {
	var apiErr genai.APIError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("http %d", apiErr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, errMalformed):
		return "malformed answer"
	case errors.Is(err, errStopped):
		return "stopped"
	}
	return string(fault.CodeOf(err))
}

// retryableGenAI: rate limits, server errors and timeouts are worth
// another attempt; other API errors (bad request, auth, not found) are not.
func retryableGenAI(err error) bool {
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	return fault.Retryable(err)
}

func knownThemes(ids []string) []string {
	known := map[string]bool{}
	for _, t := range Themes {
		known[t.ID] = true
	}
	out := []string{}
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if known[id] && !seen[id] && len(out) < MaxThemes {
			out = append(out, id)
			seen[id] = true
		}
	}
	return out
}

func themeIDs() []string {
	ids := make([]string, len(Themes))
	for i, t := range Themes {
		ids[i] = t.ID
	}
	return ids
}

func responseSchema() *genai.Schema {
	lo, hi, zero := -1.0, 1.0, 0.0
	maxThemes := int64(MaxThemes)
	return &genai.Schema{
		Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{
			"sentimentScore": {Type: genai.TypeNumber, Minimum: &lo, Maximum: &hi,
				Description: "overall sentiment of the writer, -1 very negative to 1 very positive"},
			"magnitude": {Type: genai.TypeNumber, Minimum: &zero,
				Description: "amount of emotional content regardless of sign, 0 = none"},
			"label":     {Type: genai.TypeString, Enum: []string{string(Positive), string(Negative), string(Neutral)}},
			"keyThemes": {Type: genai.TypeArray, MaxItems: &maxThemes, Items: &genai.Schema{Type: genai.TypeString, Enum: themeIDs()}},
			"crisis": {Type: genai.TypeBoolean,
				Description: "true if the writer expresses suicidal thoughts, wishes to be dead, self-harm or plans for it"},
		},
		Required:         []string{"sentimentScore", "magnitude", "label", "keyThemes", "crisis"},
		PropertyOrdering: []string{"sentimentScore", "magnitude", "label", "keyThemes", "crisis"},
	}
}

func systemPrompt() string {
	return "You analyze one journal entry that a user of a personal-growth app wrote after an exercise. " +
		"The input is JSON with the entry text (English or Swedish), optional moods before and after, and a rating. " +
		"Answer only with JSON matching the schema. sentimentScore: the writer's overall feeling in the text, -1..1; " +
		"label: positive, negative or neutral; keyThemes: up to 5 ids from the allowed list that the text is about, most prominent first; " +
		"crisis: true if the writer expresses, about themself, suicidal thoughts, a wish to be dead or not to wake up, " +
		"feeling others would be better off without them, self-harm, or plans or means for any of these, now or recently. " +
		"Figurative speech (\"this traffic is killing me\"), negated statements (\"I would never hurt myself\") and reports about " +
		"other people are not a crisis by themselves. When unsure whether it is a crisis, answer true."
}
