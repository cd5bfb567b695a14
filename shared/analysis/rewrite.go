package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/genai"

	"github.com/innerjourney/functions/shared/fault"
)

// RewriteRequest is the wording of one daily insight to rewrite: its five
// texts and their language, and nothing else. No uid, name, date, birth
// data or focus area belongs here: everything in it is sent to the model.
type RewriteRequest struct {
	Headline, Content, Intention, Affirmation, JournalPrompt string
	// Language is the ISO 639-1 code of the texts, kept by the rewrite
	// ("en" when empty; the insight templates are English).
	Language string
}

// RewriteResponse is the rewritten wording. A field whose text was empty
// in the request is empty.
type RewriteResponse struct {
	Headline, Content, Intention, Affirmation, JournalPrompt string
	// ModelVersion is the model that answered (the response's
	// modelVersion, else the configured model).
	ModelVersion string
}

// ErrRewriteBlocked is returned (wrapped) when the safety filters blocked
// the prompt or the answer of a rewrite.
var ErrRewriteBlocked = errors.New("gemini rewrite: blocked for safety")

// GeminiRewriter rewrites the texts of daily insights with Gemini. It is
// built from the same GeminiConfig as the reflection analysis (Gemini)
// and shares its client construction and retry policy (geminiCaller):
// per-attempt Timeout, MaxAttempts, jittered doubling Backoff capped at
// 8 s, so GeminiConfig.WorstCase bounds one Rewrite too. Safe for
// concurrent use.
type GeminiRewriter struct {
	geminiCaller
}

// NewGeminiRewriter validates cfg as NewGemini does and returns the
// rewriter; the API client is created on first use. It returns a
// fault.Invalid error for an incomplete cfg.
func NewGeminiRewriter(cfg GeminiConfig) (*GeminiRewriter, error) {
	cfg, err := checkGeminiConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &GeminiRewriter{geminiCaller: geminiCaller{cfg: cfg, sleep: sleepCtx}}, nil
}

// Model returns the configured model name ("gemini-2.5-flash").
func (r *GeminiRewriter) Model() string { return r.cfg.Model }

// Rewrite asks the model for a fresh wording of req's texts (system
// prompt: rewriteSystemPrompt; structured answer: rewriteSchema) and
// checks the answer. Error contract, every error meaning "keep the
// original wording":
//   - fault.Invalid when req has no headline or no content (nothing is
//     sent);
//   - ErrRewriteBlocked (wrapped) when the safety filters blocked the
//     prompt or the answer (not retried);
//   - the last attempt's error when every attempt failed: an API error
//     (retried when retryable: 408, 429, 5xx, timeouts), or an answer that
//     was asked again because it was not JSON of the schema, lacked a
//     field (or had it null, or blank where the original is not), or made
//     a claim UnsafeClaim finds (medical, therapeutic, certainty);
//   - ctx's error when ctx ends.
//
// Errors never quote the texts.
func (r *GeminiRewriter) Rewrite(ctx context.Context, req RewriteRequest) (RewriteResponse, error) {
	if strings.TrimSpace(req.Headline) == "" || strings.TrimSpace(req.Content) == "" {
		return RewriteResponse{}, fault.Invalid("gemini rewrite: a headline and a content are required")
	}
	lang := req.Language
	if lang == "" {
		lang = "en"
	}
	input, err := json.Marshal(rewriteInput{Language: lang, Headline: req.Headline, Content: req.Content,
		Intention: req.Intention, Affirmation: req.Affirmation, JournalPrompt: req.JournalPrompt})
	if err != nil {
		return RewriteResponse{}, fmt.Errorf("gemini rewrite: encode input: %w", err)
	}
	contents, config := jsonRequest(input, rewriteSystemPrompt(), rewriteSchema(), 0.6)
	config.ThinkingConfig = rewriteThinking(r.cfg.Model)
	var out RewriteResponse
	err = r.call(ctx, contents, config, nil, func(resp *genai.GenerateContentResponse) error {
		if blocked(resp) {
			return ErrRewriteBlocked
		}
		o, err := parseRewrite(resp, req)
		if err != nil {
			return askAgain(err)
		}
		o.ModelVersion = resp.ModelVersion
		if o.ModelVersion == "" {
			o.ModelVersion = r.cfg.Model
		}
		out = o
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrRewriteBlocked) {
			return RewriteResponse{}, err
		}
		return RewriteResponse{}, fmt.Errorf("gemini rewrite: %w", err)
	}
	return out, nil
}

// rewriteInput is the user message of a rewrite: the texts and their
// language, nothing else.
type rewriteInput struct {
	Language      string `json:"language"`
	Headline      string `json:"headline"`
	Content       string `json:"content"`
	Intention     string `json:"intention"`
	Affirmation   string `json:"affirmation"`
	JournalPrompt string `json:"journalPrompt"`
}

// rewriteOutput is the JSON the model is asked for; pointers tell a
// missing or null field from an empty one.
type rewriteOutput struct {
	Headline      *string `json:"headline"`
	Content       *string `json:"content"`
	Intention     *string `json:"intention"`
	Affirmation   *string `json:"affirmation"`
	JournalPrompt *string `json:"journalPrompt"`
}

// rewriteFields are the fields of the schema, in order.
var rewriteFields = []string{"headline", "content", "intention", "affirmation", "journalPrompt"}

// parseRewrite decodes and checks the model's answer against the request:
// a JSON object with every field present and a string; a field whose
// original is not blank must not be blank, must be valid UTF-8 and must
// pass UnsafeClaim; a field whose original is blank is answered empty
// whatever the model said. The error names the field and the term, never
// the text.
func parseRewrite(resp *genai.GenerateContentResponse, req RewriteRequest) (RewriteResponse, error) {
	text, err := answerText(resp)
	if err != nil {
		return RewriteResponse{}, err
	}
	var o rewriteOutput
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		return RewriteResponse{}, fmt.Errorf("gemini: %w: %w", errMalformed, err)
	}
	got := []*string{o.Headline, o.Content, o.Intention, o.Affirmation, o.JournalPrompt}
	orig := []string{req.Headline, req.Content, req.Intention, req.Affirmation, req.JournalPrompt}
	var missing []string
	for i, g := range got {
		if g == nil {
			missing = append(missing, rewriteFields[i])
		}
	}
	if len(missing) > 0 {
		return RewriteResponse{}, fmt.Errorf("gemini: %w: missing required %s", errMalformed, strings.Join(missing, ", "))
	}
	out := make([]string, len(got))
	for i, g := range got {
		if strings.TrimSpace(orig[i]) == "" {
			continue // nothing to rewrite: stays empty
		}
		s := strings.TrimSpace(*g)
		switch {
		case s == "":
			return RewriteResponse{}, fmt.Errorf("gemini: rewrite: %s is empty", rewriteFields[i])
		case !utf8.ValidString(s):
			return RewriteResponse{}, fmt.Errorf("gemini: rewrite: %s is not valid UTF-8", rewriteFields[i])
		}
		if term := UnsafeClaim(s); term != "" {
			return RewriteResponse{}, fmt.Errorf("gemini: rewrite: %s contains %q (medical or certain claims are not allowed)", rewriteFields[i], term)
		}
		out[i] = s
	}
	return RewriteResponse{Headline: out[0], Content: out[1], Intention: out[2], Affirmation: out[3], JournalPrompt: out[4]}, nil
}

// answerText returns the text of the first candidate (thoughts left out),
// without a Markdown code fence. An answer without a candidate is an
// error (fault.Unavailable).
func answerText(resp *genai.GenerateContentResponse) (string, error) {
	if len(resp.Candidates) == 0 || resp.Candidates[0].Content == nil {
		return "", fmt.Errorf("gemini: empty response (%w): %w", errMalformed, fault.New(fault.Unavailable, "no candidates"))
	}
	var b strings.Builder
	for _, p := range resp.Candidates[0].Content.Parts {
		if p != nil && !p.Thought {
			b.WriteString(p.Text)
		}
	}
	text := strings.TrimSpace(b.String())
	text = strings.TrimPrefix(strings.TrimSuffix(text, "```"), "```json")
	return strings.TrimSpace(text), nil
}

// unsafeTerms are the word stems a daily insight (its templates, and a
// rewrite of them) must not contain, matched case-insensitively:
// medical or therapeutic claims, and promises of certainty. A stem is
// found anywhere in a word, so that compounds are caught too
// ("psychotherapy", "antidepressant", "asymptomatic", "subclinical",
// "misdiagnosis"), except the stems of wordStartTerms, which occur inside
// innocent words. A false positive only keeps the template wording.
var unsafeTerms = []string{
	"cure", "heal", "diagnos", "medic", "therap", "disorder", "depress", "anxiety",
	"symptom", "illness", "disease", "clinical", "prescri", "treatment",
	"will happen", "guarantee",
}

// wordStartTerms are the unsafeTerms matched only at the start of a word:
// "cure" (not "secure", "obscure", "manicure"), "medic" (not "comedic"),
// "illness" (not "stillness"), and the phrase "will happen".
var wordStartTerms = map[string]bool{"cure": true, "medic": true, "illness": true, "will happen": true}

// UnsafeClaim returns the first of the terms a daily insight must not
// contain (medical or therapeutic claims: cure, heal…, diagnos…,
// therap…, medic…, symptom, treatment…; certainty: "will happen",
// guarantee…) that s contains, case-insensitively, or "" when there is
// none: anywhere in a word ("psychotherapy" is "therap"), but cure, medic…,
// illness and "will happen" only at the start of a word ("secure",
// "comedic" and "stillness" are fine). The insight templates are held to
// it by their tests, and a rewrite that fails it is rejected.
func UnsafeClaim(s string) string {
	low := strings.ToLower(s)
	for _, t := range unsafeTerms {
		for from := 0; ; {
			i := strings.Index(low[from:], t)
			if i < 0 {
				break
			}
			i += from
			if r, _ := utf8.DecodeLastRuneInString(low[:i]); i == 0 || !wordStartTerms[t] || !unicode.IsLetter(r) {
				return t
			}
			from = i + len(t)
		}
	}
	return ""
}

// rewriteSchema is the structured answer of a rewrite: the five texts,
// every one required.
func rewriteSchema() *genai.Schema {
	return &genai.Schema{
		Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{
			"headline":      {Type: genai.TypeString, Description: "the rewritten headline: short, a few words"},
			"content":       {Type: genai.TypeString, Description: "the rewritten content, about as long as the original"},
			"intention":     {Type: genai.TypeString, Description: "the rewritten intention, one sentence in the first person like the original"},
			"affirmation":   {Type: genai.TypeString, Description: "the rewritten affirmation, one sentence in the first person like the original"},
			"journalPrompt": {Type: genai.TypeString, Description: "the rewritten journal prompt, a question or an invitation to write; empty when the original is empty"},
		},
		Required:         rewriteFields,
		PropertyOrdering: rewriteFields,
	}
}

// rewriteSystemPrompt is the instruction of a rewrite. It names the rules
// parseRewrite also checks where it can (no medical claims, no promises,
// every text kept), and the ones only the model can keep (meaning, tone,
// language, length, no new facts).
func rewriteSystemPrompt() string {
	return "You rewrite the texts of one daily insight of a personal-growth app so that they read fresh and personal, " +
		"without changing what they say. The input is JSON with the texts' language and five texts: headline, content, " +
		"intention, affirmation and journalPrompt. Answer only with JSON matching the schema: each field the rewrite of " +
		"the text of the same name, written in the input's language. " +
		"Rules: keep the meaning of every text, and every astrological or numerological reference in it (signs, planets, " +
		"aspects, houses, personal day numbers, minutes of practice) exactly as given. Add no new facts, events, " +
		"predictions, names, dates, places or details about the reader: you know nothing about them beyond these texts. " +
		"Keep the tone warm, encouraging and tentative (\"may\", \"could\", \"perhaps\"); never state that something " +
		"will happen, never promise or guarantee anything. Make no medical, psychological, therapeutic or health claims " +
		"and do not use words such as cure, heal, diagnosis, therapy, treatment, symptom, disorder, depression, anxiety, " +
		"illness or medication. Keep each text about as long as the original: the headline a few words, the intention " +
		"and the affirmation one sentence in the first person as in the original, the journal prompt a question or an " +
		"invitation to write. No emojis, hashtags, Markdown or quotation marks around a text. If a text is empty, " +
		"answer an empty string for it."
}

// rewriteThinking is the thinking setting of a rewrite on model: off
// (budget 0) for the Flash models, which allow it: rewording five short
// texts needs no reasoning, and 2.5 Flash thinks by default, which can
// take several seconds of the per-attempt timeout and cost output tokens
// across every user's daily insight. Other models (2.5 Pro cannot turn
// thinking off) keep their default: nil.
func rewriteThinking(model string) *genai.ThinkingConfig {
	if !strings.Contains(strings.ToLower(model), "flash") {
		return nil
	}
	off := int32(0)
	return &genai.ThinkingConfig{ThinkingBudget: &off}
}
