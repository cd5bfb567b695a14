package analysis

import (
	"sort"
	"strings"
	"sync"
)

// MaxThemes is the most themes a Result lists.
const MaxThemes = 5

// Theme is one entry of the personal-growth theme vocabulary.
//
// Terms are matched on lower-cased tokens: a term ending in "*" matches
// any word that starts with it (word forms: "stress*" matches stressed,
// stressful, stressad, stressig); other terms match whole words or, with a
// space, whole phrases. Exclude lists words a prefix would wrongly catch
// ("workout" is not work, "jobbig" – Swedish for "tough" – is not a job).
//
// A negated mention still counts ("not stressed at all" has theme stress):
// a theme says what the entry is about; its direction is in the sentiment
// and the mood shift.
type Theme struct {
	ID      string
	EN      []string
	SV      []string
	Exclude []string
}

// Themes is the vocabulary, in the order used to break ties.
var Themes = []Theme{
	{ID: "calm",
		EN: []string{"calm*", "peace", "peaceful*", "relax*", "serene", "serenity", "tranquil*", "centred", "centered", "grounded", "settled", "soothing", "soothed", "at ease", "quiet mind", "still mind"},
		SV: []string{"lugn*", "avslappn*", "frid*", "ro", "rofylld", "harmoni*", "stillhet*", "avkopplande", "avkoppling", "landa", "landade", "jordad"}},
	{ID: "focus",
		EN: []string{"focus*", "concentrat*", "attention", "attentive", "distract*", "clarity", "clear-headed", "clear headed", "productive", "productivity", "procrastinat*", "deep work", "in the flow"},
		SV: []string{"fokus*", "koncentr*", "uppmärksam*", "distrah*", "splittrad*", "produktiv*", "prokrastin*", "klar i huvudet", "tankarna rusade"}},
	{ID: "stress",
		EN: []string{"stress*", "pressure*", "overwhelm*", "deadline*", "too much", "rushed", "rushing", "hectic", "burnout", "burnt out", "burned out", "frazzled", "tense", "tension", "workload"},
		SV: []string{"stress*", "press", "pressad*", "pressat", "överväldig*", "deadline*", "hets*", "jäkt*", "utbränd*", "för mycket", "spänd", "spänt", "arbetsbörda*"}},
	{ID: "anxiety",
		EN: []string{"anxi*", "worr*", "nervous*", "panic*", "fear*", "afraid", "scared", "dread*", "uneasy", "overthink*", "on edge", "jitter*", "restless*"},
		SV: []string{"ångest*", "oro", "oron", "orolig*", "oroa*", "oroli*", "ängsl*", "nervös*", "panik*", "rädd*", "rädsla*", "ältar", "ältande", "grubbl*", "rastlös*"}},
	{ID: "gratitude",
		EN: []string{"grateful*", "gratitude", "thankful*", "thanks", "appreciat*", "blessed"},
		SV: []string{"tacksam*", "uppskatt*"}},
	{ID: "relationships",
		EN:      []string{"relationship*", "partner*", "friend*", "boyfriend*", "girlfriend*", "husband*", "wife", "spouse*", "dating", "breakup", "broke up", "marriage", "married", "argument*", "conflict*", "connection*", "reconnected", "lover"},
		SV:      []string{"relation*", "partner*", "vän", "vänner*", "vännen", "väninna*", "kompis*", "pojkvän*", "flickvän*", "sambo*", "make", "maka", "fru", "frun", "dejt*", "förhållande*", "äktenskap*", "bråk*", "gräl*", "gjorde slut", "kärlek*"},
		Exclude: []string{"friendly", "vänlig", "vänligt", "vänliga"}},
	{ID: "family",
		EN:      []string{"family", "families", "mother*", "mom", "moms", "mum", "mums", "mama", "father*", "dad", "dads", "daddy", "parent*", "son", "sons", "daughter*", "child", "children", "kid", "kids", "brother*", "sister*", "sibling*", "grandma", "grandmother*", "grandpa", "grandfather*", "grandparent*", "grandkid*", "aunt", "uncle", "cousin*", "baby", "toddler*"},
		SV:      []string{"familj*", "mamma*", "pappa*", "föräld*", "barn", "barnen", "barnens", "barnet", "son", "sonen", "söner", "dotter", "dottern", "döttrar*", "bror", "brodern", "bröder*", "syster*", "syskon*", "mormor*", "morfar*", "farmor*", "farfar*", "moster*", "faster*", "morbror*", "farbror*", "kusin*", "bebis*"},
		Exclude: []string{"parenthesis", "parentheses"}},
	{ID: "work",
		EN:      []string{"work", "job", "jobs", "career*", "boss*", "manager*", "colleague*", "coworker*", "co-worker*", "office", "meeting*", "project*", "client*", "workload", "promotion", "salary", "workplace", "employer*", "shift", "at work"},
		SV:      []string{"jobb", "jobbet", "jobbets", "jobbar", "jobbade", "arbet*", "chef*", "kollega*", "kollegor*", "kontor*", "möte", "mötet", "möten*", "projekt*", "kund*", "karriär*", "lön", "lönen", "befordran", "anställ*", "team", "teamet", "arbetsbörda*", "på jobbet"},
		Exclude: []string{"workout", "workouts", "bossa"}},
	{ID: "sleep",
		EN: []string{"sleep*", "slept", "asleep", "insomnia", "nap", "naps", "napped", "dream*", "nightmare*", "bed", "bedtime", "woke", "waking", "wake up", "rested", "well-rested"},
		SV: []string{"sömn*", "sov", "sova", "sover", "somna*", "somnade", "vaknade", "vakna", "vaknar", "dröm*", "mardröm*", "säng*", "tupplur*", "utvilad*", "läggdags", "natt", "natten", "nätter*"}},
	{ID: "self-worth",
		EN: []string{"self-worth", "self worth", "self-esteem", "self esteem", "esteem", "worthless*", "worthy", "unworthy", "not good enough", "good enough", "confidence", "confident", "insecur*", "proud", "pride", "shame*", "ashamed", "self-compassion", "self compassion", "kind to myself", "kinder to myself", "believe in myself", "trust myself", "hate myself", "failure", "failing", "compare myself", "comparing myself", "imposter", "impostor", "inadequate", "self-doubt", "self doubt"},
		SV: []string{"självkänsla*", "självförtroende*", "självbild*", "värdelös*", "värdig", "duger", "tillräckligt bra", "stolt*", "skam", "skäms", "skamsen", "misslyck*", "osäker*", "snällare mot mig själv", "snäll mot mig själv", "lita på mig själv", "jämför mig", "hatar mig själv", "självmedkänsla", "självtvivel"}},
	{ID: "energy",
		EN: []string{"energ*", "tired*", "exhaust*", "fatigue*", "drained", "draining", "lethargic", "sluggish", "vitality", "alive", "refreshed", "recharged", "worn out", "no energy", "motivat*", "unmotivated"},
		SV: []string{"energi*", "trött*", "utmatt*", "orkeslös*", "ork", "orkar", "orkade", "pigg*", "dränerad*", "helt slut", "slutkörd*", "motiver*", "omotiverad*", "levande"}},
	{ID: "body",
		EN:      []string{"body", "bodies", "physical*", "health*", "sick*", "ill", "illness*", "pain*", "ache*", "aching", "achy", "headache*", "migraine*", "injur*", "doctor*", "exercise*", "workout*", "gym", "yoga", "stretch*", "running", "run", "walk", "walks", "walking", "walked", "hike*", "hiking", "swim*", "muscle*", "shoulder*", "chest", "jaw", "stomach*", "diet", "eating", "posture"},
		SV:      []string{"kropp*", "hälsa*", "sjuk*", "ont", "värk*", "huvudvärk*", "migrän*", "läkare*", "träning*", "träna*", "tränade", "gym*", "yoga*", "stretch*", "löpning*", "springa", "sprang", "promenad*", "promenera*", "vandr*", "simma*", "simmade", "muskl*", "axl*", "bröst*", "käk*", "mage*", "magen", "kost*"},
		Exclude: []string{"sicko", "painting", "paintings", "paint", "painted", "painter", "walkthrough", "käkade"}},
	{ID: "creativity",
		EN:      []string{"creativ*", "create", "created", "creating", "art", "artist*", "artwork", "paint", "painted", "painting*", "draw", "drew", "drawing*", "sketch*", "music*", "sing", "sang", "singing", "song*", "poem*", "poetry", "craft*", "design*", "compose*", "composing", "imagination", "imagin*", "photograph*", "knit*", "guitar*", "piano*", "novel"},
		SV:      []string{"kreativ*", "skapa*", "skapande", "måla*", "målade", "målning*", "teckna*", "rita", "ritade", "ritar", "musik*", "sjunga*", "sjöng", "dikt*", "poesi*", "pyssel*", "pysslade", "design*", "foto*", "fotograf*", "fantasi*", "gitarr*", "piano*"},
		Exclude: []string{"artificial", "article", "articles", "designated"}},
	{ID: "purpose",
		EN: []string{"purpose*", "meaning", "meaningful*", "meaningless", "values", "goal*", "vision", "mission", "calling", "passion*", "direction", "intention*", "what matters", "fulfil*", "fulfill*", "make a difference", "why i"},
		SV: []string{"mening", "meningen", "meningsfull*", "meningslös*", "syfte*", "mål", "målet", "målen", "målsättning*", "värderingar*", "riktning*", "passion*", "intention*", "gör skillnad", "göra skillnad"}},
	{ID: "grief",
		EN: []string{"grief", "griev*", "mourn*", "loss", "passed away", "funeral*", "bereave*", "death", "widow*", "lost my", "miss her", "miss him", "miss them", "memorial"},
		SV: []string{"sorg", "sorgen", "sörj*", "saknad*", "begravning*", "gick bort", "dödsfall*", "döden", "bortgång*", "förlust*", "saknar henne", "saknar honom"}},
	{ID: "loneliness",
		EN: []string{"lonel*", "alone", "isolat*", "left out", "excluded", "disconnected", "invisible", "no one to talk"},
		SV: []string{"ensam*", "isoler*", "utanför", "övergiven*", "utanförskap*"}},
	{ID: "anger",
		EN: []string{"anger", "angry", "angrier", "angrily", "furious", "rage*", "irritat*", "annoy*", "frustrat*", "resent*", "snapped", "snap at", "snapping", "mad at", "pissed"},
		SV: []string{"arg", "arga", "argt", "ilsk*", "irrit*", "frustr*", "förbannad*", "sur", "fräste", "fräser", "skrek", "vred*"}},
	{ID: "joy",
		EN:      []string{"joy*", "happy", "happier", "happiness", "delight*", "laugh*", "fun", "playful*", "excite*", "cheerful*", "glad"},
		SV:      []string{"glädje*", "glad", "glada", "glatt", "gladare", "lycklig*", "lycka", "lyckan", "skratt*", "kul", "rolig*", "roligt"},
		Exclude: []string{"joystick"}},
	{ID: "boundaries",
		EN:      []string{"boundar*", "said no", "say no", "saying no", "speak up", "spoke up", "assert*", "stood up for myself", "stand up for myself"},
		SV:      []string{"gräns*", "sa nej", "säga nej", "säger nej", "sa ifrån", "säga ifrån", "säger ifrån"},
		Exclude: []string{"assertion", "assertions"}},
	{ID: "nature",
		EN: []string{"nature", "forest*", "woods", "tree*", "sea", "ocean*", "beach*", "lake*", "mountain*", "park", "parks", "garden*", "outdoors", "sun", "sunny", "sunshine", "sunlight", "sunset*", "sunrise*", "birds", "flowers", "hike", "hiking", "fresh air"},
		SV: []string{"natur*", "skog*", "träd", "träden", "hav", "havet", "strand*", "sjö", "sjön", "berg", "bergen", "fjäll*", "park", "parken", "trädgård*", "sol", "solen", "soligt", "solsken", "fåglar*", "blommor*", "frisk luft"}},
	{ID: "mindfulness",
		EN: []string{"meditat*", "mindful*", "breath*", "breathing", "body scan", "awareness", "grounding", "visualis*", "visualiz*", "mantra*", "present moment", "journaling", "breathwork"},
		SV: []string{"medit*", "mindful*", "andning*", "andas", "andetag*", "andades", "kroppsskanning*", "närvar*", "visualiser*", "mantra*", "här och nu"}},
	{ID: "growth",
		EN: []string{"growth", "grow", "grown", "growing", "learn*", "progress*", "new chapter", "transition*", "habit*", "routine*", "improv*", "breakthrough*", "lesson*"},
		SV: []string{"utveckl*", "växa", "växer", "växt", "förändr*", "lärde", "lära", "lärdom*", "lärorik*", "vana", "vanor*", "rutin*", "framsteg*", "genombrott*"}},
	{ID: "money",
		EN: []string{"money", "financ*", "debt*", "bills", "budget*", "rent", "afford*", "expensive", "savings"},
		SV: []string{"pengar*", "ekonomi*", "räkning*", "räkningar*", "budget*", "hyra*", "hyran", "dyr", "dyrt", "sparpengar*", "lån*"}},
}

// themeIndex is the compiled vocabulary.
type themeIndex struct {
	exact    map[string][]int        // word → theme indexes
	prefix   map[string][]int        // prefix (without *) → theme indexes
	phrases  map[string][]int        // "w1 w2" → theme indexes
	exclude  map[string]map[int]bool // word → themes it must not count for
	maxWords int
}

var (
	themeOnce sync.Once
	themeIdx  *themeIndex
)

func loadThemes() *themeIndex {
	themeOnce.Do(func() {
		ix := &themeIndex{exact: map[string][]int{}, prefix: map[string][]int{}, phrases: map[string][]int{}, exclude: map[string]map[int]bool{}}
		add := func(m map[string][]int, k string, i int) {
			for _, have := range m[k] {
				if have == i {
					return
				}
			}
			m[k] = append(m[k], i)
		}
		for i, th := range Themes {
			for _, terms := range [][]string{th.EN, th.SV} {
				for _, term := range terms {
					switch {
					case strings.Contains(term, " "):
						add(ix.phrases, term, i)
						if n := len(strings.Fields(term)); n > ix.maxWords {
							ix.maxWords = n
						}
					case strings.HasSuffix(term, "*"):
						add(ix.prefix, strings.TrimSuffix(term, "*"), i)
					default:
						add(ix.exact, term, i)
					}
				}
			}
			for _, x := range th.Exclude {
				if ix.exclude[x] == nil {
					ix.exclude[x] = map[int]bool{}
				}
				ix.exclude[x][i] = true
			}
		}
		themeIdx = ix
	})
	return themeIdx
}

// extractThemes returns the ids of the most prominent themes of the text,
// at most MaxThemes, by number of mentions (phrases count 1.5), ties in
// vocabulary order. Never nil.
func extractThemes(toks []token) []string {
	ix := loadThemes()
	scores := make([]float64, len(Themes))
	words := make([]string, 0, len(toks))
	idx := make([]int, 0, len(toks))
	for i, t := range toks {
		if t.kind == tkWord {
			words = append(words, t.lower)
			idx = append(idx, i)
		}
	}
	covered := make([]bool, len(words))
	for size := ix.maxWords; size >= 2; size-- {
		for i := 0; i+size <= len(words); i++ {
			// phrases must not cross punctuation
			if idx[i+size-1]-idx[i] != size-1 {
				continue
			}
			if ts, ok := ix.phrases[strings.Join(words[i:i+size], " ")]; ok {
				for _, th := range ts {
					scores[th] += 1.5
				}
				for k := i; k < i+size; k++ {
					covered[k] = true
				}
			}
		}
	}
	for i, w := range words {
		if covered[i] {
			continue
		}
		if w == "work" && !workIsNoun(words, i) {
			continue
		}
		hit := map[int]bool{}
		for _, th := range ix.exact[w] {
			hit[th] = true
		}
		r := []rune(w)
		for n := 2; n <= len(r); n++ {
			for _, th := range ix.prefix[string(r[:n])] {
				hit[th] = true
			}
		}
		for th := range hit {
			if !ix.exclude[w][th] {
				scores[th]++
			}
		}
	}
	order := make([]int, 0, len(Themes))
	for i, s := range scores {
		if s > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	out := make([]string, 0, MaxThemes)
	for _, i := range order {
		if len(out) == MaxThemes {
			break
		}
		out = append(out, Themes[i].ID)
	}
	return out
}

// workIsNoun tells "work" the place or task ("at work", "work was busy")
// from "work" the verb "function" ("it didn't work", "seemed to work").
func workIsNoun(words []string, i int) bool {
	prev, prev2, next := "", "", ""
	if i > 0 {
		prev = words[i-1]
	}
	if i > 1 {
		prev2 = words[i-2]
	}
	if i+1 < len(words) {
		next = words[i+1]
	}
	switch prev {
	case "at", "from", "after", "before", "my", "of", "the", "about", "with", "more", "much", "hard", "for", "this", "new", "our", "home":
		return true
	case "to":
		switch prev2 {
		case "went", "go", "going", "get", "got", "back", "drove", "cycled", "walked", "biked", "late", "return", "returned":
			return true
		}
		return false
	case "not", "it", "that", "will", "would", "can", "could", "might", "did", "does", "do", "they", "these", "exercises", "practice":
		return false
	}
	switch next {
	case "was", "is", "stress", "life", "load", "day", "week", "today", "tomorrow", "meeting", "has", "been", "feels", "felt", "colleague", "colleagues", "trip", "party":
		return true
	}
	return i == 0
}
