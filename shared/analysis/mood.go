package analysis

import (
	"math"
	"strconv"
	"strings"
)

// MoodShift compares the mood before an activation with the mood after it.
type MoodShift struct {
	// Before and After are the canonical mood ids (see Moods) of
	// moodBefore and moodAfter, empty when missing or not recognised.
	Before string `json:"before,omitempty" firestore:"before,omitempty"`
	After  string `json:"after,omitempty" firestore:"after,omitempty"`
	// BeforeValence and AfterValence are the moods' valences in −1..1.
	BeforeValence *float64 `json:"beforeValence,omitempty" firestore:"beforeValence,omitempty"`
	AfterValence  *float64 `json:"afterValence,omitempty" firestore:"afterValence,omitempty"`
	// Shift is AfterValence − BeforeValence (−2..2), nil unless both are
	// known.
	Shift *float64 `json:"shift,omitempty" firestore:"shift,omitempty"`
	// Label is improved (Shift ≥ 0.2), worsened (≤ −0.2), unchanged, or
	// unknown when either mood is missing or not recognised.
	Label string `json:"label" firestore:"label"`
}

// Mood shift labels.
const (
	MoodImproved  = "improved"
	MoodWorsened  = "worsened"
	MoodUnchanged = "unchanged"
	MoodUnknown   = "unknown"
	// MoodShiftThreshold is the smallest |shift| that counts as a change.
	MoodShiftThreshold = 0.2
)

// Mood is one entry of the mood vocabulary: a canonical id, its valence
// (−1 very unpleasant … +1 very pleasant) and the words (English and
// Swedish, with common forms) that the apps or users use for it.
type Mood struct {
	ID      string
	Valence float64
	Words   []string
}

// Moods is the mood vocabulary. A mood string is matched after trimming
// and lower-casing, first as a whole, then word by word (the first
// recognised word wins: "very calm" → calm). Numbers 1–5 (a mood scale)
// map linearly to −1..1; 1–10 likewise. Anything else is looked up in the
// sentiment lexicon as a last resort (id "other").
var Moods = []Mood{
	{"joyful", 0.9, []string{"joyful", "joy", "happy", "glad", "lycklig", "glädje", "elated", "euphoric", "delighted", "glada", "😄", "😊", "😀"}},
	{"grateful", 0.8, []string{"grateful", "thankful", "tacksam", "gratitude", "tacksamhet"}},
	{"loved", 0.8, []string{"loved", "älskad", "connected", "warm", "varm", "ansluten"}},
	{"inspired", 0.7, []string{"inspired", "inspirerad", "creative", "kreativ"}},
	{"proud", 0.7, []string{"proud", "stolt", "accomplished"}},
	{"calm", 0.6, []string{"calm", "peaceful", "relaxed", "serene", "lugn", "avslappnad", "harmonisk", "fridfull", "at peace", "chill", "tranquil", "grounded", "centered", "centred", "😌"}},
	{"hopeful", 0.6, []string{"hopeful", "hoppfull", "optimistic", "optimistisk"}},
	{"confident", 0.6, []string{"confident", "självsäker", "strong", "stark", "trygg", "safe", "secure"}},
	{"energized", 0.6, []string{"energized", "energised", "energetic", "energisk", "pigg", "alert", "vital", "alive", "levande"}},
	{"motivated", 0.6, []string{"motivated", "motiverad", "driven", "eager", "peppad"}},
	{"content", 0.5, []string{"content", "satisfied", "nöjd", "good", "bra", "fine", "well", "okay-good"}},
	{"focused", 0.5, []string{"focused", "focussed", "fokuserad", "clear", "clear-headed", "klar", "present", "närvarande"}},
	{"rested", 0.5, []string{"rested", "utvilad", "refreshed", "recharged"}},
	{"neutral", 0.0, []string{"neutral", "okay", "ok", "okej", "so-so", "meh", "mixed", "blandat", "indifferent", "😐"}},
	{"tired", -0.3, []string{"tired", "trött", "sleepy", "sömnig", "fatigued", "drowsy"}},
	{"bored", -0.3, []string{"bored", "uttråkad", "understimulated"}},
	{"distracted", -0.3, []string{"distracted", "scattered", "splittrad", "ofokuserad", "unfocused"}},
	{"restless", -0.4, []string{"restless", "rastlös", "fidgety", "jittery", "wired"}},
	{"unmotivated", -0.4, []string{"unmotivated", "omotiverad", "lazy", "lat", "stuck", "fast"}},
	{"nervous", -0.4, []string{"nervous", "nervös", "uneasy", "tense", "spänd", "on edge"}},
	{"worried", -0.5, []string{"worried", "orolig", "concerned", "bekymrad"}},
	{"irritated", -0.5, []string{"irritated", "irriterad", "annoyed", "frustrated", "frustrerad", "grumpy", "sur"}},
	{"stressed", -0.6, []string{"stressed", "stressad", "pressured", "pressad", "stressed out", "busy"}},
	{"exhausted", -0.6, []string{"exhausted", "utmattad", "drained", "dränerad", "burnt out", "burned out", "utbränd", "slut", "worn out"}},
	{"lonely", -0.6, []string{"lonely", "ensam", "isolated", "isolerad"}},
	{"sad", -0.7, []string{"sad", "ledsen", "down", "nere", "low", "låg", "blue", "unhappy", "olycklig", "nedstämd", "😢", "😞"}},
	{"anxious", -0.7, []string{"anxious", "ängslig", "ångestfylld", "ångest", "panicky", "afraid", "scared", "rädd", "fearful"}},
	{"angry", -0.7, []string{"angry", "arg", "mad", "furious", "förbannad", "😠", "😡"}},
	{"overwhelmed", -0.7, []string{"overwhelmed", "överväldigad"}},
	{"ashamed", -0.7, []string{"ashamed", "skamsen", "guilty", "skyldig", "embarrassed", "generad"}},
	{"hurt", -0.6, []string{"hurt", "sårad", "rejected", "avvisad", "heartbroken"}},
	{"numb", -0.5, []string{"numb", "avtrubbad", "empty", "tom", "disconnected", "flat"}},
	{"hopeless", -0.9, []string{"hopeless", "hopplös", "despair", "förtvivlad", "desperate"}},
	{"depressed", -0.9, []string{"depressed", "deprimerad", "deppig", "miserable", "eländig"}},
}

var moodIndex map[string]int

func init() {
	moodIndex = map[string]int{}
	for i, m := range Moods {
		for _, w := range m.Words {
			moodIndex[w] = i
		}
		moodIndex[m.ID] = i
	}
}

// resolveMood returns the canonical id and valence of a mood string;
// ok is false for an empty or unrecognised one.
func resolveMood(s string) (id string, valence float64, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", 0, false
	}
	if i, found := moodIndex[s]; found {
		return Moods[i].ID, Moods[i].Valence, true
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		switch {
		case n >= 1 && n <= 5:
			return "scale", round3((n - 3) / 2), true
		case n > 5 && n <= 10:
			return "scale", round3((n - 5.5) / 4.5), true
		}
		return "", 0, false
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == '/' || r == '-' || r == '&' || r == '+'
	}) {
		if i, found := moodIndex[w]; found {
			return Moods[i].ID, Moods[i].Valence, true
		}
	}
	// last resort: the sentiment lexicon
	toks := tokenize(s)
	lang := detectLanguage(s, toks, "")
	if st := scoreText(toks, lang); st.hits > 0 {
		return "other", round3(math.Max(-1, math.Min(1, st.compound))), true
	}
	return "", 0, false
}

// moodShift compares two mood strings.
func moodShift(before, after string) MoodShift {
	ms := MoodShift{Label: MoodUnknown}
	bID, bV, bOK := resolveMood(before)
	aID, aV, aOK := resolveMood(after)
	if bOK {
		ms.Before, ms.BeforeValence = bID, &bV
	}
	if aOK {
		ms.After, ms.AfterValence = aID, &aV
	}
	if bOK && aOK {
		d := round3(aV - bV)
		ms.Shift = &d
		switch {
		case d >= MoodShiftThreshold:
			ms.Label = MoodImproved
		case d <= -MoodShiftThreshold:
			ms.Label = MoodWorsened
		default:
			ms.Label = MoodUnchanged
		}
	}
	return ms
}
