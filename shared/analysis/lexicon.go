package analysis

// Valences use VADER's scale: −4 (most negative) … +4 (most positive).

// enLexicon adds to and overrides VADER's English lexicon: vocabulary of
// first-person reflective writing (states of body and mind after a practice)
// that VADER lacks or scores for another register ("overwhelmed" is +0.2 in
// VADER), and a few general evaluative words it misses.
var enLexicon = map[string]float64{
	// reflective, positive
	"grounded": 1.8, "centred": 1.6, "centered": 1.6, "rested": 1.6, "refreshed": 1.8,
	"recharged": 1.8, "energised": 2.0, "energized": 2.0, "energising": 1.8, "energizing": 1.8,
	"empowering": 2.0, "empowered": 2.0, "breakthrough": 2.0, "healing": 1.6, "healed": 1.6,
	"connected": 1.2, "reconnected": 1.6, "grateful": 2.3, "thankful": 2.2, "calmer": 1.8,
	"calmness": 1.8, "serene": 2.2, "serenity": 2.2, "centredness": 1.5, "steady": 1.0,
	"steadier": 1.2, "clearer": 1.2, "lighter": 1.2, "spacious": 1.2, "nourishing": 1.6,
	"nourished": 1.6, "uplifting": 2.2, "uplifted": 2.0, "rejuvenated": 2.2, "restorative": 1.6,
	"restored": 1.4, "meaningful": 2.0, "fulfilling": 2.2, "fulfilled": 2.2, "inspired": 2.0,
	"inspiring": 2.2, "motivated": 2.0, "productive": 1.6, "accomplished": 2.0, "aligned": 1.2,
	"present": 0.6, "mindful": 1.4, "resilient": 1.6, "brave": 2.0, "courageous": 2.0,
	"supported": 1.5, "accepted": 1.4, "heard": 0.6, "seen": 0.4, "validated": 1.5, "forgave": 1.2,
	"forgiving": 1.2, "content": 0.8, "contented": 1.8, "relaxing": 1.8, "soothing": 1.6,
	"cosy": 1.6, "cozy": 1.6, "wonderful": 2.7, "lovely": 2.8, "tasty": 2.0, "yummy": 2.0,
	"reliable": 1.5, "sturdy": 1.2, "recommend": 1.8, "recommended": 1.6, "worth": 1.0,
	"wins": 1.5, "win": 1.8, "progress": 1.8, "quieter": 0.8,
	// reflective, negative
	"overwhelmed": -1.8, "overwhelming": -1.6, "drained": -1.8, "draining": -1.6,
	"exhausted": -1.8, "exhausting": -1.6, "burnout": -2.4, "restless": -1.2, "irritable": -1.6,
	"unmotivated": -1.6, "numb": -1.5, "stuck": -1.4, "tense": -1.4, "tension": -1.0,
	"headache": -1.6, "migraine": -1.8, "insomnia": -1.8, "sleepless": -1.8, "procrastinating": -1.0,
	"procrastinated": -1.0, "heavy": -0.8, "heaviness": -1.4, "judged": -1.6, "invisible": -0.8,
	"dread": -2.2, "dreading": -2.0, "snapped": -1.4, "jittery": -1.2, "scattered": -1.0,
	"distracted": -1.0, "reactive": -0.8, "disconnected": -1.6, "defeated": -2.0, "miserable": -2.6,
	"awful": -2.4, "irritated": -1.8, "resentful": -2.0, "resentment": -2.0, "grieving": -2.0,
	"grief": -2.2, "aches": -1.4, "achy": -1.2, "tight": -0.4, "bloated": -1.2, "sluggish": -1.4,
	"foggy": -1.2, "groggy": -1.2, "wired": -0.6, "edgy": -1.0, "panicky": -2.0, "dreaded": -2.0,
	"behind": -0.3, "forced": -0.6, "fake": -1.4, "unproductive": -1.6, "worse": -2.0,
	// general evaluative words VADER lacks
	"junk": -2.0, "bland": -1.5, "stale": -1.5, "overpriced": -1.8, "flavorless": -1.8,
	"tasteless": -1.8, "mediocre": -1.4, "lacking": -1.2, "lacks": -1.2, "lacked": -1.2,
	"flimsy": -1.5, "unreliable": -1.8, "unwatchable": -2.6, "garbage": -2.3, "poorly": -1.5,
	"crappy": -2.0, "sucked": -1.8, "sucks": -1.8, "horrid": -2.5, "disgusting": -2.8,
	"inedible": -2.4, "undercooked": -1.6, "overcooked": -1.6, "soggy": -1.4, "greasy": -1.0,
	"cheaply": -1.2, "defective": -2.0, "malfunction": -1.8, "worthless": -2.4, "pointless": -1.8,
	"slow": -0.8, "noisy": -1.0, "dirty": -1.6, "unhelpful": -1.8, "refund": -0.8,
	"returned": -0.6, "returning": -0.4, "lousy": -2.0, "flop": -1.6, "clichéd": -1.2,
	"cliched": -1.2, "predictable": -0.8, "unfunny": -1.8, "cheesy": -0.8, "incoherent": -1.8,
	"pathetic": -2.4, "overrated": -1.6, "disappointment": -2.2, "mess": -1.5, "avoid": -1.4,
	"rude": -2.0, "nasty": -2.4, "gross": -2.0, "drab": -1.2, "dull": -1.6, "wasted": -1.8,
	"stopped": -0.4, "broke": -1.6, "breaks": -1.2, "cracked": -1.2, "died": -1.2, "dies": -1.0,
	"fails": -1.6, "failed": -1.8, "worn": -0.6, "ok": 0.0, "okay": 0.0, "fine": 0.6,
	"decent": 1.2, "solid": 1.0, "friend": 0.5, "friends": 0.5, "hand": 0.0, "special": 0.8, "sure": 0.3, "average": -0.4, "anxiety": -1.6, "anxious": -1.6,
	"worried": -1.5, "nervous": -1.2, "extraordinary": 2.8, "standout": 2.2, "eloquent": 2.0,
	"eloquently": 2.0, "fast": 0.6, "quick": 0.6, "quickly": 0.4, "easy": 1.2, "easily": 0.0,
	"easier": 1.0, "comfy": 1.6, "fresh": 1.4, "delightful": 2.8, "flawless": 2.6, "superb": 3.0,
	"gem": 2.0, "must": 0.0, "hooked": 1.0, "satisfied": 1.8, "unsatisfied": -1.8,
	"dissatisfied": -2.0, "unhappy": -2.2, "frustrating": -2.0, "annoying": -1.8,
	"uncomfortable": -1.6, "unbearable": -2.6, "terrible": -2.8, "horrible": -2.8,
}

// enPhrases are multi-word expressions, matched on lemmatized tokens (see
// enLemma) before single words; their words are then not scored alone.
var enPhrases = map[string]float64{
	// reflective, positive
	"feel lighter": 2.0, "feel light": 1.6, "at peace": 2.2, "let go": 1.4, "weight off": 1.8,
	"clear my head": 1.8, "clear head": 1.6, "clear headed": 1.6, "clear-headed": 1.6,
	"feel like myself": 1.8, "myself again": 1.6, "proud of myself": 2.4, "kind to myself": 1.6,
	"kinder to myself": 1.8, "peace of mind": 2.2, "sense of purpose": 1.8, "small win": 1.6,
	"lose track of time": 1.4, "in the flow": 1.6, "worth it": 2.0, "actually work": 1.6,
	"work for me": 1.6, "work well": 1.8, "work great": 2.4, "feel good": 2.0, "feel great": 2.6,
	"feel better": 2.0, "feel worse": -2.2, "make me feel worse": -2.4, "can breathe": 1.8,
	"breathe again": 1.8, "sleep well": 2.0, "sleep better": 1.8, "well rested": 2.0,
	"heart feel full": 2.4, "full of energy": 2.2, "energy be back": 2.2, "so much better": 2.4,
	"much better": 2.0, "better than last": 1.6, "better than yesterday": 1.6,
	"look forward": 1.8, "looking forward": 1.8, "high recommend": 2.6, "highly recommend": 2.6,
	"well worth": 2.2, "a must": 1.8, "love it": 2.8, "love this": 2.8, "blown away": 2.4,
	"ten out of ten": 2.8, "10/10": 2.8, "five star": 2.4, "5 star": 2.4, "a plus": 1.6,
	"fall asleep easily": 1.6, "sense of calm": 2.2, "open up": 1.0, "speak up": 1.0,
	// reflective, negative
	"can not focus": -1.6, "could not focus": -1.6, "not focus": -1.4, "can not sleep": -1.8,
	"could not sleep": -1.8, "not sleep": -1.4, "no energy": -2.0, "no motivation": -2.0,
	"motivation be gone": -2.0, "energy be gone": -2.0, "burn out": -2.4, "burnt out": -2.4,
	"burned out": -2.4, "on edge": -1.8, "eat me alive": -2.4, "fall apart": -2.2,
	"shut down": -1.4, "feel nothing": -1.6, "feel heavy": -1.8, "feel small": -1.6,
	"feel invisible": -1.8, "feel empty": -2.2, "feel numb": -1.8, "feel stuck": -1.8,
	"feel behind": -1.4, "feel forced": -1.6, "feel off": -1.2, "too many": -0.8,
	"not cope": -1.8, "not coping": -1.8, "can not stop crying": -2.6, "can not shake": -1.6,
	"mind race": -1.6, "mind be racing": -1.6, "mind keep racing": -1.8, "thought race": -1.6,
	"chest be tight": -1.6, "chest tight": -1.6, "knot in my stomach": -1.8,
	"snap at": -1.6, "get out of bed": -0.8, "out of bed": -0.4, "not work": -1.6,
	"stop work": -1.8, "stopped working": -2.0, "not help": -1.4, "nothing help": -1.6,
	"waste of": -2.2, "waste of money": -2.6, "waste of time": -2.6, "not worth": -1.8,
	"fall apart after": -2.2, "break after": -1.8, "poor quality": -2.0, "low quality": -1.8,
	"would not recommend": -2.2, "not recommend": -2.0, "do not buy": -2.4, "do not waste": -2.2,
	"stay away": -2.0, "never again": -2.2, "never go back": -2.4,
	"not go back": -2.0, "not be back": -2.0, "will be back": 1.8, "could not be happier": 3.0,
	"can not be happier": 3.0, "could not ask for more": 2.6, "can not ask for more": 2.6,
	"can not wait": 2.0, "can not complain": 1.6, "no complaints": 1.8, "never disappoints": 2.6,
	"never disappoint": 2.6, "without effort": 1.2, "can not recommend enough": 2.8,

	"at all": 0.0, "would like": 0.0, "above and beyond": 2.4, "thumbs up": 2.0, "thumbs down": -2.0,
	"over rated": -1.6, "would rather": -0.8, "would much rather": -1.0, "at best": -1.4, "below average": -1.8, "above average": 1.4,
	"leave a lot to be desired": -2.2, "leaves a lot to be desired": -2.2, "had better": -1.0,
	"expected a better": -1.6, "have expected": -0.8, "let us be honest": 0.0, "be honest": 0.0, "be hoping": -1.0, "had hoped": -1.2, "have hoped": -1.0,
	"hoping for more": -1.6, "expected better": -1.8, "expect better": -1.6, "expected more": -1.6,
	"do not watch": -2.0, "do not bother": -1.8, "do not go": -1.2, "look elsewhere": -1.8,
	"not worth it": -2.2, "not impressed": -2.0, "not the best": -1.2, "one star": -2.4, "1 star": -2.4, "zero star": -2.6,
	"0 star": -2.6, "a joke": -1.6, "what a joke": -2.0, "rip off": -2.4, "ripoff": -2.4,
	"too long": -0.8, "too slow": -1.2, "too small": -0.8, "too big": -0.6, "too loud": -1.0,
	"hard to": -0.6, "difficult to": -0.6, "no longer": -0.4, "did not like": -1.8,
	"feel like a failure": -2.4, "like a burden": -2.2, "let down": -1.8, "let me down": -1.8,
	"supposed to": -0.2, "more anxious": -1.8, "more stressed": -1.8, "ugh": -1.6,
	"bad mood": -2.0, "not happy": -1.8, "not good": -1.8, "not great": -1.4, "not bad": 1.0,
	"not too bad": 1.2, "not sure": 0.0,
	// counterfactuals and review idioms
	"could have be better": -1.6, "could be better": -1.2, "should have be better": -1.6,
	"could have be good": -1.2, "could use some work": -1.4, "could use improvement": -1.4,
	"will come back": 1.8, "would come back": 1.6, "will definitely be back": 2.2, "will return": 1.6,
	"would return": 1.4, "would go back": 1.6, "will go back": 1.6, "go back again": 1.4,
	"come back again": 1.6, "be back again": 1.6, "worth see": 2.2, "worth watch": 2.2, "worth every": 2.4,
	"must see": 2.4, "out of this world": 2.4, "edge of my seat": 2.0, "edge of your seat": 2.0,
	"the place to go": 1.8, "total package": 2.0, "get it right": 1.4, "got it right": 1.6,
	"down the drain": -2.0, "out of luck": -1.6, "walk out": -1.4, "walked out": -1.6,
	"elsewhere": -1.0, "some place else": -1.2, "someplace else": -1.2, "somewhere else": -1.0,
	"what on earth": -1.2, "who in their right mind": -1.8, "beyond me": -1.2,
	"fall out": -1.2, "falls out": -1.4, "fell apart": -2.0, "falls apart": -2.0,
}

// enLemma maps inflected verbs to the lemma used in phrases.
var enLemma = map[string]string{
	"felt": "feel", "feels": "feel", "feeling": "feel", "was": "be", "were": "be", "is": "be",
	"am": "be", "are": "be", "been": "be", "being": "be", "cleared": "clear", "clears": "clear",
	"clearing": "clear", "lost": "lose", "losing": "lose", "worked": "work", "works": "work",
	"working": "work", "made": "make", "makes": "make", "slept": "sleep", "sleeping": "sleep",
	"sleeps": "sleep", "breathing": "breathe", "letting": "let", "lets": "let", "burning": "burn",
	"eating": "eat", "eats": "eat", "fell": "fall", "falling": "fall", "falls": "fall",
	"snapped": "snap", "snapping": "snap", "helped": "help", "helps": "help", "helping": "help",
	"coping": "cope", "copes": "cope", "racing": "race", "raced": "race", "races": "race",
	"thoughts": "thought", "wins": "win", "broke": "break", "breaks": "break", "recommended": "recommend",
	"loved": "love", "loves": "love", "going": "go", "went": "go", "coming": "come", "came": "come",
	"looked": "look", "looks": "look", "stopping": "stop", "stops": "stop", "stopped": "stop",
	"opened": "open", "opening": "open", "spoke": "speak", "speaking": "speak", "highly": "high",
	"stars": "star", "falls asleep": "fall asleep", "fallen": "fall",
}

// enBoosters are intensifiers (+) and diminishers (−), VADER-style
// (±0.293 at full strength).
var enBoosters = map[string]float64{
	"absolutely": 0.293, "amazingly": 0.293, "awfully": 0.293, "completely": 0.293,
	"considerably": 0.293, "decidedly": 0.293, "deeply": 0.293, "enormously": 0.293,
	"entirely": 0.293, "especially": 0.293, "exceptionally": 0.293, "extremely": 0.293,
	"fabulously": 0.293, "greatly": 0.293, "hella": 0.293, "highly": 0.293, "hugely": 0.293,
	"incredibly": 0.293, "intensely": 0.293, "majorly": 0.293, "more": 0.2, "most": 0.293,
	"much": 0.293, "particularly": 0.293, "purely": 0.293, "quite": 0.2, "really": 0.293,
	"remarkably": 0.293, "so": 0.293, "substantially": 0.293, "thoroughly": 0.293,
	"totally": 0.293, "tremendously": 0.293, "truly": 0.293, "unbelievably": 0.293,
	"unusually": 0.293, "utterly": 0.293, "very": 0.293, "super": 0.293, "such": 0.2,
	"too": 0.2, "genuinely": 0.293, "seriously": 0.293, "definitely": 0.293, "certainly": 0.293,
	"surely": 0.2, "honestly": 0.2, "literally": 0.2, "pretty": 0.2, "downright": 0.293,
	"way": 0.0, "insanely": 0.293, "ridiculously": 0.293, "overly": 0.2,
	"almost": -0.293, "barely": -0.293, "hardly": -0.293, "kind": -0.2, "kindof": -0.293,
	"less": -0.293, "little": -0.2, "marginally": -0.293, "occasionally": -0.293,
	"partly": -0.293, "scarcely": -0.293, "slightly": -0.293, "somewhat": -0.293,
	"sort": -0.2, "a bit": -0.293, "bit": -0.2, "fairly": -0.15, "mildly": -0.293,
}

var enNegators = map[string]bool{
	"not": true, "no": true, "never": true, "nothing": true, "nobody": true, "none": true,
	"neither": true, "nor": true, "nowhere": true, "without": true, "lack": true, "lacks": true,
	"lacked": true, "lacking": true,
	"rarely": true, "seldom": true, "n't": true, "cannot": true,
}

// contrastWords start a clause that outweighs what came before (×1.5,
// before ×0.5); concessive words start a clause that is outweighed (×0.5).
var (
	enContrast   = map[string]bool{"but": true, "however": true, "yet": false, "though": false, "anyway": false}
	enConcessive = map[string]bool{"although": true, "though": true, "despite": true, "whereas": true}
	svContrast   = map[string]bool{"men": true, "dock": true, "fast": false}
	svConcessive = map[string]bool{"fastän": true, "trots": true, "även": false}
)

// feelVerbs mark a word that follows them as the writer's own state (×1.2).
var feelVerbs = map[string]bool{
	"feel": true, "felt": true, "feeling": true, "feels": true, "känner": true, "kände": true,
	"känns": true, "kändes": true, "mår": true, "mådde": true,
}

// emojiValence scores common emojis and emoticons.
var emojiValence = map[string]float64{
	"😊": 2.0, "🙂": 1.4, "😀": 2.2, "😃": 2.2, "😄": 2.4, "😁": 2.2, "😆": 2.0, "😂": 1.6, "🤣": 1.6,
	"❤": 2.5, "💕": 2.4, "💖": 2.4, "💗": 2.4, "💛": 2.0, "💚": 2.0, "💙": 2.0, "💜": 2.0,
	"🥰": 2.8, "😍": 2.8, "🙏": 1.5, "🌞": 1.6, "☀": 1.4, "✨": 1.2, "💪": 1.8, "🎉": 2.2, "👍": 1.6,
	"😌": 1.8, "🤗": 2.0, "🌈": 1.2, "🌸": 1.0, "🌱": 1.0, "😇": 1.8, "😎": 1.5, "🥳": 2.4,
	"☺": 2.0, "💯": 1.6, "🤩": 2.6, "😋": 1.8, "👌": 1.4, "🧘": 0.8,
	"😢": -2.0, "😭": -2.2, "😞": -2.0, "😔": -1.8, "😟": -1.8, "😩": -2.0, "😫": -2.0,
	"😤": -1.6, "😠": -2.2, "😡": -2.5, "🤬": -2.8, "😰": -2.2, "😱": -1.6, "😨": -1.8,
	"😥": -1.6, "😓": -1.4, "💔": -2.5, "😒": -1.3, "🙁": -1.6, "☹": -1.8, "😖": -2.0,
	"😣": -1.8, "😿": -1.8, "😑": -0.4, "🥺": -1.0, "😬": -0.8, "🤯": -1.0, "😴": -0.3,
	"🥱": -0.6, "👎": -1.6, "🤢": -2.0, "🤮": -2.2, "😪": -1.0, "😕": -1.2,
	":)": 2.0, ":-)": 2.0, ":D": 2.3, ":-D": 2.3, ";)": 1.5, ";-)": 1.5, "<3": 2.5, "=)": 1.8,
	":(": -2.0, ":-(": -2.0, ":'(": -2.2, ":/": -1.0, ":-/": -1.0, "=(": -1.8, ":p": 1.0, ":P": 1.0,
}

// svLexicon is a Swedish lexicon of the same scale, written for this
// project (lemma forms; inflections are found by svStem). Entries marked
// as verbs in svVerbs are negated also by a following "inte"/"aldrig"
// (Swedish verb-second order: "jag gillade inte passet").
var svLexicon = map[string]float64{
	// positive
	"glad": 2.2, "glada": 2.2, "glatt": 2.0, "lycklig": 2.8, "lycka": 2.8, "nöjd": 1.8, "tacksam": 2.3,
	"tacksamhet": 2.3, "tack": 1.2, "lugn": 1.8, "lugnare": 1.9, "lugnt": 1.6, "avslappnad": 1.8,
	"avslappnade": 1.8, "avslappnat": 1.6, "avslappning": 1.6, "avslappnande": 1.8, "harmonisk": 2.0,
	"trygg": 1.8, "tryggt": 1.6, "trygghet": 1.8, "fri": 1.2, "frihet": 1.8, "fridfull": 2.2,
	"frid": 2.0, "stolt": 2.0, "stark": 1.2, "starkare": 1.4, "energi": 1.0, "energisk": 1.8,
	"pigg": 1.5, "piggare": 1.6, "utvilad": 1.8, "utvilade": 1.8, "fokuserad": 1.5, "fokuserat": 1.4,
	"motiverad": 1.8, "motivation": 1.2, "hoppfull": 2.0, "hopp": 1.2, "inspirerad": 2.0,
	"inspiration": 1.6, "inspirerande": 2.0, "kärlek": 2.5, "älska": 2.7, "älskar": 2.7,
	"älskade": 2.6, "gilla": 1.8, "gillar": 1.8, "gillade": 1.8, "bra": 1.8, "bättre": 1.8,
	"bäst": 2.2, "bästa": 2.2, "toppen": 2.5, "underbar": 2.8, "underbart": 2.8, "härlig": 2.5,
	"härligt": 2.5, "fantastisk": 3.0, "fantastiskt": 3.0, "fin": 1.8, "fint": 1.8, "fina": 1.8,
	"vacker": 2.2, "vackert": 2.2, "skön": 2.0, "skönt": 2.0, "mysig": 2.0, "mysigt": 2.0, "mys": 1.8,
	"rolig": 2.0, "roligt": 2.0, "kul": 2.0, "skratt": 1.8, "skratta": 1.8, "skrattade": 1.8,
	"glädje": 2.5, "lättad": 1.8, "lättnad": 1.8, "lättare": 1.2, "positiv": 1.8, "positivt": 1.6,
	"trivs": 1.8, "trivdes": 1.8, "njuta": 2.0, "njöt": 2.0, "njuter": 2.0, "vila": 0.8,
	"meningsfull": 2.0, "meningsfullt": 2.0, "läkande": 1.8, "stärkande": 1.8, "stöttad": 1.5,
	"stöd": 1.2, "sedd": 1.0, "framsteg": 1.8, "seger": 2.0, "segrar": 2.0, "modig": 1.8,
	"vågade": 1.2, "värme": 1.5, "varm": 1.0, "ro": 1.2, "närvarande": 1.2, "tydlig": 0.8,
	"hjälpa": 1.2, "hjälpte": 1.4, "hjälper": 1.4, "hjälp": 0.8, "fungera": 1.0, "fungerade": 1.2,
	"fungerar": 1.2, "grym": 1.5, "grymt": 1.8, "perfekt": 2.5, "gott": 1.8, "god": 1.6,
	"välmående": 2.0, "uppskattad": 1.8, "uppskattar": 1.8, "älskad": 2.5, "förlät": 1.2,
	"förlåta": 1.2, "snäll": 1.8, "snällare": 1.8, "vänlig": 1.5, "befriande": 2.0,
	"uppfriskande": 2.0, "upprymd": 2.0, "förväntansfull": 1.6, "spännande": 1.8,
	"intressant": 1.2, "lärorik": 1.6, "givande": 1.8, "tillfreds": 1.8, "balans": 1.2,
	"balanserad": 1.5, "klarhet": 1.5, "rofylld": 2.0, "nöje": 1.8, "lyckad": 2.0, "lyckades": 1.8,
	"lyckat": 2.0, "kraft": 1.0, "kraftfull": 1.6, "levande": 1.4, "inspirerat": 1.8,
	"entusiastisk": 2.2, "peppad": 2.0, "pepp": 1.8, "underbara": 2.8, "soligt": 1.0, "sol": 0.8,
	"solen": 0.8, "omtänksam": 1.8, "kärleksfull": 2.4, "välbehag": 2.0,
	"fokus": 0.5, "landa": 0.8, "landade": 1.0, "hoppas": 0.8, "ser fram": 1.8, "seende": 0.0,
	"härliga": 2.5, "bekväm": 1.6, "bekvämt": 1.4, "stolthet": 2.0, "kärt": 1.6, "mjuk": 0.8,
	// negative
	"ledsen": -2.0, "ledsna": -2.0, "ledset": -1.8, "sorg": -2.2, "sörjer": -2.0, "sörja": -2.0,
	"sorgsen": -2.0, "sorglig": -2.0, "sorgligt": -2.0, "arg": -2.2, "arga": -2.2, "argt": -2.0,
	"ilska": -2.3, "irriterad": -1.8, "irriterade": -1.8, "irritation": -1.8, "irriterande": -1.8,
	"frustrerad": -1.8, "frustrerande": -1.8, "frustration": -1.8, "besviken": -2.0,
	"besvikelse": -2.0, "orolig": -1.8, "oroliga": -1.8, "oro": -1.8, "oroar": -1.6, "oroade": -1.6,
	"ångest": -2.5, "ångesten": -2.5, "ängslig": -1.8, "nervös": -1.3, "rädd": -1.8, "rädsla": -2.0,
	"stress": -1.8, "stressad": -1.8, "stressig": -1.6, "stressigt": -1.6, "stressande": -1.8,
	"stressen": -1.8, "trött": -1.2, "trötthet": -1.2, "utmattad": -2.0, "utmattning": -2.0,
	"utbränd": -2.5, "dränerad": -1.8, "ensam": -1.8, "ensamhet": -1.8, "tom": -1.5, "tomt": -1.5,
	"tomhet": -2.0, "meningslös": -2.2, "meningslöst": -2.2, "hopplös": -2.5, "hopplöst": -2.5,
	"värdelös": -2.5, "misslyckande": -2.2, "misslyckas": -2.0, "misslyckad": -2.2, "skam": -2.0,
	"skäms": -2.0, "skamsen": -2.0, "skuld": -1.5, "dålig": -2.0, "dåligt": -2.0, "dåliga": -2.0,
	"sämre": -1.8, "sämst": -2.5, "hemsk": -2.5, "hemskt": -2.5, "fruktansvärd": -2.8,
	"fruktansvärt": -2.8, "jobbig": -1.8, "jobbigt": -1.8, "tung": -1.5, "tungt": -1.6,
	"svår": -1.2, "svårt": -1.0, "spänd": -1.3, "spänt": -1.3, "värk": -1.5, "värker": -1.5,
	"ont": -1.5, "huvudvärk": -1.6, "sjuk": -1.5, "eländig": -2.5, "usch": -1.5, "sömnlös": -1.8,
	"sömnlöshet": -1.8, "sömnlösheten": -1.8, "rastlös": -1.2, "uttråkad": -1.2, "tråkig": -1.5,
	"tråkigt": -1.5, "omotiverad": -1.6, "fastnat": -1.2, "överväldigad": -1.8, "kaos": -1.5,
	"bråk": -1.8, "gräl": -1.8, "fräste": -1.5, "skrek": -1.5, "gråta": -1.5, "gråter": -1.5,
	"grät": -1.5, "gråtit": -1.5, "tårar": -1.2, "hata": -2.5, "hatar": -2.5, "avundsjuk": -1.8,
	"svartsjuk": -1.8, "sårad": -2.0, "kränkt": -2.0, "utanför": -1.5, "osynlig": -1.2,
	"ignorerad": -1.5, "avvisad": -2.0, "ångrar": -1.5, "ångra": -1.5, "nedstämd": -2.2,
	"deprimerad": -2.5, "depression": -2.5, "låg": -1.0, "besegrad": -2.0, "förtvivlad": -2.8,
	"panik": -2.5, "oroande": -1.5, "problem": -1.2, "dränerande": -1.8, "krossat": -2.0,
	"krossad": -2.0, "inställd": -0.8, "trist": -1.5, "dyster": -1.8, "deppig": -2.0,
	"deppad": -2.0, "bekymrad": -1.6, "bekymmer": -1.6, "skräck": -2.5, "orkeslös": -2.0,
	"slutkörd": -2.0, "matt": -1.0, "jävla": -1.0, "fan": -0.8, "tyvärr": -1.0, "synd": -1.2,
	"misslyckats": -2.0, "rädda": -1.6, "smärta": -2.0, "smärtsam": -2.0,
	"stel": -0.8, "spänningar": -1.0, "spänningen": -0.6, "svag": -1.2, "svårigheter": -1.4,
	"obekväm": -1.4, "otrygg": -1.8, "konflikt": -1.4, "ilsken": -2.0, "sur": -1.5,
	"grinig": -1.6, "kass": -1.8, "värdelöst": -2.5, "onödig": -1.0, "stressat": -1.6,
	"utmattande": -1.8, "ensamt": -1.6, "sömnlösa": -1.8, "splittrad": -1.2, "uppgiven": -2.2,
	"olycklig": -2.4, "missnöjd": -1.8, "irriterat": -1.6, "nervösa": -1.3, "ängsligt": -1.6,
	"eländigt": -2.5, "hemska": -2.5, "jobbiga": -1.8, "tunga": -1.4, "sjukt": -0.6,
}

// svPhrases are Swedish multi-word expressions (lower-case tokens).
var svPhrases = map[string]float64{
	"mår bra": 2.2, "mådde bra": 2.2, "må bra": 2.0, "mår bättre": 2.0, "mådde bättre": 2.0,
	"mår dåligt": -2.2, "mådde dåligt": -2.2, "mår sämre": -2.0, "mådde sämre": -2.0,
	"känns bra": 2.0, "kändes bra": 2.0, "känns tungt": -2.0, "kändes tungt": -2.0,
	"helt slut": -2.0, "dåligt samvete": -2.0, "klar i huvudet": 1.6, "rensade huvudet": 1.8,
	"släppa taget": 1.4, "släppte taget": 1.6, "som mig själv": 1.4, "mig själv igen": 1.6,
	"stolt över mig själv": 2.4, "snällare mot mig själv": 1.8, "ser fram emot": 1.8,
	"såg fram emot": 1.4, "inte alls": 0.0, "massor av energi": 2.2, "ingen energi": -2.0,
	"kunde inte fokusera": -1.6, "kunde inte sova": -1.8, "inte sova": -1.4, "sov gott": 2.0,
	"sov bra": 2.0, "sov dåligt": -2.0, "tankarna rusade": -1.8, "gör ont": -1.6, "gjorde ont": -1.6,
	"ont i": -1.5, "i kroppen": 0.0, "på gott och ont": 0.0, "värt det": 2.0, "känns fint": 2.0,
	"kändes fint": 2.0, "hjärtat känns fullt": 2.4, "gav mig": 0.4, "tog mig": 0.0,
	"fungerade inte": -1.6, "fungerar inte": -1.6, "hjälpte inte": -1.4, "hjälper inte": -1.4,
	"äter upp mig": -2.2, "trött på": -1.8, "less på": -1.8, "ur sängen": -0.6, "ta mig ur": -0.4,
	"svårt att": -0.8, "för många": -0.8, "inte nöjd": -1.8, "lite bättre": 1.4, "klart bättre": 2.0,
	"mycket bättre": 2.2, "bättre än": 1.4, "en seger": 2.0, "små segrar": 1.8,
	"motivationen är borta": -2.0, "energin är borta": -2.0, "orken är borta": -2.2, "glädjen är borta": -2.2,
}

// svBoosters are Swedish intensifiers and diminishers.
var svBoosters = map[string]float64{
	"väldigt": 0.293, "mycket": 0.293, "jätte": 0.293, "så": 0.25, "otroligt": 0.293,
	"extremt": 0.293, "riktigt": 0.293, "verkligen": 0.293, "helt": 0.2, "totalt": 0.293,
	"supert": 0.293, "galet": 0.293, "oerhört": 0.293, "enormt": 0.293, "särskilt": 0.2,
	"ordentligt": 0.2, "sjukt": 0.293, "hur": 0.1, "alltför": 0.2, "för": 0.0,
	"ganska": -0.15, "lite": -0.25, "något": -0.2, "lagom": -0.2, "knappt": -0.293,
	"mindre": -0.293, "delvis": -0.2, "aningen": -0.25,
}

var svNegators = map[string]bool{
	"inte": true, "ej": true, "aldrig": true, "ingen": true, "inget": true, "inga": true,
	"ingenting": true, "varken": true, "knappast": true, "utan": true,
}

// svPrefixBoost are compounding intensifier prefixes: "jätteglad",
// "superlugn", "skittrött".
var svPrefixBoost = []string{"jätte", "super", "skit", "mega", "asså"}

// svSuffixes are tried, longest first, to find a lemma in svLexicon.
var svSuffixes = []string{"aste", "are", "ast", "ade", "ande", "ende", "arna", "erna", "orna",
	"heten", "het", "na", "en", "et", "er", "ar", "or", "de", "te", "n", "t", "a", "e", "s"}

// svEnglishCollisions are Swedish words that are also English words with
// another meaning; in Swedish text the English lexicon is not asked about
// them ("slut" = end, "gift" = married/poison, "bad" = bath).
var svEnglishCollisions = map[string]bool{
	"slut": true, "gift": true, "bad": true, "men": true, "bra": true, "fast": true, "hell": true,
	"kind": true, "full": true, "rock": true, "dog": true, "hit": true, "super": true, "glad": true,
	"bar": true, "ful": false, "sex": true, "far": true, "mod": true, "brand": true, "fin": true,
	"sur": true, "arg": true, "lust": true, "ond": true, "vill": true, "die": true, "hate": false,
	"pest": true, "trist": false, "god": true, "help": false, "fall": true, "spring": true,
	"kill": false, "bank": true, "barn": true, "bet": true, "kiss": true, "rang": true, "tar": true,
	"tog": true, "stark": true, "warm": false, "fan": true, "lite": true, "ja": true, "nej": true,
}
