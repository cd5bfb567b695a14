package crisis

// The broad tier trades precision for recall. The concept layer
// (concept.go) fires on a weak concept — the writer's own death or
// disappearance, a negated "living" concept, a self-harm word, a means, a
// single farewell line — only together with a desire, plan, hopelessness
// or time cue. Plainly worded entries often carry no such cue ("I think
// about my funeral", "jag orkar inte vara här", "the pills are in the
// drawer and I keep looking at them"), so the broad tier fires on the
// concept alone, keeping only the strong suppressors:
//
//   - idioms and hyperbole (masked before the scan: killing me, dying to,
//     die of embarrassment, dödstrött, skratta ihjäl);
//   - a subject that is someone else (a third person, a person noun, a
//     thing; the writer or no subject at all counts as the writer);
//   - media, fiction, games, training and questions someone asked;
//   - benign literal frames: accidents (cut my finger while cooking),
//     travel (not be here next week: away on holiday), fear of dying,
//     philosophy and nature talk about death, work burden;
//   - negation: "I would never hurt myself" does not fire; "I don't want to
//     die" fires only with hopelessness elsewhere in the text ("… but I
//     can't take this anymore");
//   - a past the writer has left ("a year ago I wanted to die, now I'm
//     grateful"); recurring thoughts ("the thoughts are back") have no
//     recovery marker and fire.
//
// Means (pills, rope, bridge …) still need some cue in the sentence — a
// wish, a thought, looking at or counting them — as "I took my pills" is
// everyday text. Rule ids: "<lang>.broad.<name>" with name death, not_living,
// self_harm, means, farewell, negated_death.

// broadJudge adds the broad tier's rule ids to seen.
func broadJudge(scans []sentScan, recovered bool, seen map[string]bool) {
	negatedDeath := ""
	hopeless, benignBody := false, false
	for _, sc := range scans {
		for _, h := range sc.hits {
			if h.e.cat == catBlock && h.e.block&blockAccident != 0 {
				benignBody = true
			}
		}
		for _, t := range sc.s.tokens {
			if broadMedical[t] {
				benignBody = true
			}
		}
	}
	for _, sc := range scans {
		if recovered && sc.past {
			continue
		}
		humour := false
		for _, t := range sc.s.tokens {
			if broadHumour[t] {
				humour = true
			}
		}
		for _, id := range broadSentence(sc.s, sc.hits, recovered) {
			if (humour && id.name == "death") || (benignBody && (id.name == "self_harm" || id.name == "means")) {
				continue
			}
			if id.negated {
				negatedDeath = id.lang
				continue
			}
			seen[id.lang+".broad."+id.name] = true
		}
		for _, h := range sc.hits {
			if h.e.cat == catHopelessStrong || (h.e.cat == catCue && hopelessCue[sc.s.tokens[h.start]] && !cueNegated(sc.s, h.start)) {
				hopeless = true
			}
		}
	}
	if negatedDeath != "" && hopeless {
		seen[negatedDeath+".broad.negated_death"] = true
	}
}

// hopelessCue: the first word of a hopelessness cue; a negated death
// concept with one of these in the text still fires ("I don't want to die,
// but I can't take this anymore").
var hopelessCue = map[string]bool{
	"pointless": true, "hopeless": true, "hopelessness": true, "unbearable": true, "trapped": true,
	"give": true, "giving": true, "gave": true, "can": true, "had": true, "done": true, "too": true,
	"no": true, "only": true, "way": true, "tired": true,
	"meningslöst": true, "meningslös": true, "hopplöst": true, "hopplös": true, "orkar": true, "orkade": true,
	"klarar": true, "gett": true, "ger": true, "ingen": true, "inget": true, "enda": true, "fast": true,
	"outhärdligt": true, "outhärdlig": true, "för": true, "trött": true,
}

// broadHumour: laughter, jokes and embarrassment in a sentence make a death
// word hyperbole ("I'm dead lol", "jag dör, så roligt", "I could just die,
// so embarrassing").
var broadHumour = map[string]bool{
	"lol": true, "lmao": true, "haha": true, "hahaha": true, "xd": true, "😂": true, "🤣": true, "💀": true,
	"meme": true, "memes": true, "memen": true, "funny": true, "hilarious": true, "joke": true, "jokes": true,
	"embarrassing": true, "embarrassed": true, "awkward": true, "cringe": true, "dramatic": true,
	"rolig": true, "roligt": true, "roliga": true, "skämt": true, "skämtet": true, "haha,": true,
	"pinsamt": true, "pinsam": true, "skratt": true, "skrattade": true, "skratta": true, "dramatiskt": true,
	"inside": true, "inuti": true, "inombords": true, "literally": true, "bokstavligen": true,
	"almost": true, "nearly": true, "nästan": true, "good": false,
	"meeting": true, "mötet": true, "möte": true, "hike": true, "workout": true, "träningen": true,
	"deadline": true, "deadlinen": true, "spreadsheet": true, "kalkylarket": true, "laptop": true,
}

// broadMedical: care and medical routine; self-harm words and means in
// such a text are literal ("bled after the dentist", "refill my pills").
var broadMedical = map[string]bool{
	"prescription": true, "refill": true, "pharmacy": true, "pharmacist": true, "dentist": true,
	"teeth": true, "tooth": true, "surgery": true, "nosebleed": true, "period": true, "doctor": true,
	"recept": true, "receptet": true, "apotek": true, "apoteket": true, "tandläkaren": true, "tandläkare": true,
	"tänder": true, "visdomständerna": true, "operation": true, "operationen": true, "näsblod": true,
	"mens": true, "läkaren": true, "vårdcentralen": true,
}

type broadID struct {
	lang, name string
	negated    bool
}

// broadSentence judges one sentence for the broad tier.
func broadSentence(s sentence, hits []hit, recovered bool) []broadID {
	var accident, travel, past, recovery, work, wantLive, cue bool
	for _, h := range hits {
		switch h.e.cat {
		case catBlock:
			accident = accident || h.e.block&blockAccident != 0
			travel = travel || h.e.block&blockTravel != 0
			past = past || h.e.block&blockPast != 0
			recovery = recovery || h.e.block&blockRecovery != 0
			work = work || h.e.block&blockWork != 0
		case catCue, catMeansCue, catMeansCueWeak:
			if h.e.plain || !cueNegated(s, h.start) {
				cue = true
			}
		case catLive:
			if !livingNegated(s, hits, h.start) && wantBefore(s, h.start) {
				wantLive = true
			}
		}
	}
	if (past && recovery) || (past && recovered) {
		return nil
	}
	var out []broadID
	for _, h := range hits {
		e := h.e
		switch e.cat {
		case catDeathWeak, catHarmWeak, catMeans, catLive, catFarewell:
		default:
			continue
		}
		if mediaClause(s, hits, h.start) {
			continue
		}
		if e.cat == catFarewell {
			if !decisionOrPeace(s, h) && !travel && !work && !lookbackNegated(s, h.start) && !thirdPartyInClause(s, h.start) {
				out = append(out, broadID{lang: e.lang, name: "farewell"})
			}
			continue
		}
		switch {
		case e.self:
		case e.cat == catHarmWeak:
			if thirdPartyInClause(s, h.start) || !writerOwns(s, h.start, h.end) {
				continue
			}
		case !writerOwns(s, h.start, h.end):
			continue
		}
		if e.cat == catLive {
			if !travel && !wantLive && livingNegated(s, hits, h.start) {
				out = append(out, broadID{lang: e.lang, name: "not_living"})
			}
			continue
		}
		neg := !e.plain && (lookbackNegated(s, h.start) || (!e.litNeg && spanNegated(s, h)) || subjectNegated(s, h))
		switch e.cat {
		case catDeathWeak:
			if travel || (deathNouns[s.tokens[h.start]] && h.end-h.start == 1 && !mentionsWriter(s)) || feared(s, hits, h.start) || blockedInClause(s, hits, h.start, blockPhilosophy) {
				continue
			}
			out = append(out, broadID{lang: e.lang, name: "death", negated: neg})
		case catHarmWeak:
			if !neg && !accident {
				out = append(out, broadID{lang: e.lang, name: "self_harm"})
			}
		case catMeans:
			if !neg && !accident && cue {
				out = append(out, broadID{lang: e.lang, name: "means"})
			}
		}
	}
	return out
}

// decisionOrPeace: "I've made up my mind", "jag har bestämt mig", "at
// peace": farewell lines that are everyday on their own (the concept layer
// counts them when two farewell lines meet).
// A decision with no object ("I've made my decision and I'm at peace with
// it.", "Jag har bestämt mig.") is not everyday and still fires.
func decisionOrPeace(s sentence, h hit) bool {
	found := false
	for j := h.start; j < h.end; j++ {
		switch s.tokens[j] {
		case "mind", "decided", "decision", "peace", "bestämt", "bestämde", "beslut", "beslutat", "frid":
			found = true
		}
	}
	if !found {
		return false
	}
	for _, t := range s.tokens[h.end:] {
		if !openDecision[t] {
			return true
		}
	}
	return false
}

// openDecision: words that may follow a decision without giving it an
// object.
var openDecision = map[string]bool{"with": true, "it": true, "now": true, "and": true, "i": true, "am": true,
	"at": true, "peace": true, "have": true, "made": true, "my": true, "decision": true, "mind": true, "up": true,
	"mig": true, "nu": true, "det": true, "och": true, "jag": true, "är": true, "med": true, "har": true,
	"bestämt": true, "frid": true, "tonight": true, "ikväll": true, "": true, "finally": true, "äntligen": true}

// deathNouns name death as a thing; alone they are the writer's only when
// the sentence mentions the writer ("death is part of life" is not).
var deathNouns = map[string]bool{"death": true, "deaths": true, "corpse": true, "döden": true,
	"död": true, "dödsfall": true, "lik": true, "liket": true}

// mentionsWriter: a first-person token anywhere in the sentence.
func mentionsWriter(s sentence) bool {
	for _, t := range s.tokens {
		if firstPersonTokens[t] || possessiveSelf[t] || t == "mej" {
			return true
		}
	}
	return false
}
