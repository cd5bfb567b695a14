package crisis

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	d := New()
	tests := []struct {
		name   string
		text   string
		crisis bool
		rule   string // a rule id that must be among the matches, when crisis
	}{
		{"active en", "I want to kill myself.", true, "en.active.kill_myself"},
		{"contraction", "i wanna die tbh", true, "en.active.want_die"},
		{"kms slang", "kms honestly", true, "en.active.kill_myself"},
		{"passive better off", "Everyone would be better off without me.", true, "en.passive.better_without_me"},
		{"passive never wake", "I wish I could disappear and never wake up", true, "en.passive.disappear_forever"},
		{"negated want live", "I don't want to live anymore.", true, "en.passive.not_want_live"},
		{"no reason", "I don't see any reason to keep living", true, "en.passive.no_reason_to_live"},
		{"self harm", "I cut myself again last night.", true, "en.selfharm.cut"},
		{"plan pills", "I've been saving up my medication just in case.", true, "en.plan.pills"},
		{"past attempt", "I tried to kill myself two weeks ago.", true, "en.past.attempt"},
		{"sv vill dö", "Jag vill dö.", true, "sv.active.vill_do"},
		{"sv vill inte leva längre", "Jag vill inte leva längre.", true, "sv.passive.vill_inte_leva"},
		{"sv ta livet av mig", "Jag har tankar på att ta livet av mig.", true, "sv.active.ta_livet_av_mig"},
		{"sv utan mig", "Alla skulle ha det bättre utan mig.", true, "sv.passive.battre_utan_mig"},
		{"sv skär mig", "Jag skär mig.", true, "sv.selfharm.skar_mig"},
		{"sv lever eller dör", "Det spelar ingen roll om jag lever eller dör.", true, "sv.passive.lever_eller_dor"},

		{"figurative traffic", "This traffic is killing me.", false, ""},
		{"figurative coffee", "I could kill for a coffee", false, ""},
		{"figurative dying to", "I'm dying to see the new exhibition.", false, ""},
		{"figurative rather die than", "I'd rather die than sing karaoke again, haha.", false, ""},
		{"negated never", "I would never kill myself, I love my kids too much.", false, ""},
		{"negated not that", "It's not that I want to die, I just need a break.", false, ""},
		{"negated no thoughts", "No thoughts of hurting myself, just sadness.", false, ""},
		{"third person died", "My uncle killed himself when I was ten.", false, ""},
		{"media", "Watched a documentary about suicide prevention.", false, ""},
		{"training", "Our team did a training on recognising self-harm in teenagers.", false, ""},
		{"quoted lyric", `Sang "I wanna die in your arms tonight" in the car.`, false, ""},
		{"accident", "I cut my finger chopping onions.", false, ""},
		{"burned on oven", "I burned myself on the oven tray.", false, ""},
		{"disappear into book", "I just want to disappear into a book for the weekend.", false, ""},
		{"sv skrattade ihjäl", "Jag skrattade ihjäl mig åt filmen.", false, ""},
		{"sv jobbet tar livet av mig", "Det här jobbet tar livet av mig.", false, ""},
		{"sv vill inte dö", "Jag vill inte dö, jag vill bara att det ska bli bättre.", false, ""},
		{"sv aldrig", "Jag skulle aldrig ta livet av mig.", false, ""},
		{"sv third person", "Min bror försökte ta sitt liv förra året.", false, ""},
		{"sv accident", "Jag skar mig i fingret när jag lagade mat.", false, ""},
		{"sv vill leva", "Jag vill leva länge och se barnen växa upp.", false, ""},
		{"empty", "   ", false, ""},
		{"concept relief", "Death doesn't scare me anymore, it sounds peaceful.", true, "en.concept.death_wish"},
		{"subject negated", "Suicide is not an option for me, I want to get better.", false, ""},
		{"concept sv", "Det vore så mycket enklare att bara inte finnas.", true, ""},
		{"concept negated", "I have no suicidal thoughts.", false, ""},
		{"concept third party", "My grandmother always said she was ready to die, she was 96.", false, ""},
		{"remission", "I used to self-harm as a teenager; ten years clean today and proud of it.", false, ""},
		{"broad not being here", "I keep thinking about not being here.", true, "en.broad.not_living"},
		{"broad gone", "Everyone would be fine if I was gone.", true, "en.broad.death"},
		{"broad giving away", "I've been giving my things away.", true, "en.broad.death"},
		{"broad letters", "I wrote letters to everyone.", true, "en.broad.farewell"},
		{"broad sv ge bort", "Jag har gett bort mina saker.", true, "sv.broad.death"},
		{"broad sv brev", "Jag skrev brev till alla.", true, "sv.broad.farewell"},
		{"broad recurring", "The dark thoughts are back.", true, "en.broad.death"},
		{"broad negated with hopelessness", "I don't want to die but I can't take this anymore.", true, "en.broad.negated_death"},
		{"broad sv negated with hopelessness", "Jag vill inte dö men jag orkar inte mer.", true, "sv.broad.negated_death"},
		{"broad negated alone", "I don't want to die.", false, ""},
		{"broad never hurt", "I would never hurt myself.", false, ""},
		{"broad recovered", "A year ago I wanted to die, now I'm grateful.", false, ""},
		{"broad humour", "Jag dör, den memen är så rolig.", false, ""},
		{"broad travel", "I won't be here next week, we're flying to Lisbon.", false, ""},
		{"broad dentist", "I had my wisdom teeth out and bled a lot.", false, ""},
		{"broad refill", "I counted my pills to refill the prescription.", false, ""},
		{"broad decision", "I've made up my mind, I'm applying for the job.", false, ""},
		{"broad death as topic", "Death cafe meetup was surprisingly uplifting.", false, ""},
		{"broad organ donor", "I registered as an organ donor.", false, ""},
		{"remission across but", "I used to think everyone would be better off without me, but not anymore.", false, ""},
		{"slang sewerslide", "Thinking about sewerslide again tonight.", true, "en.concept.death_wish"},
		{"sv checka ut", "Jag vill checka ut för gott.", true, "sv.concept.death_wish"},
		{"sv inverted self-harm", "Efter festen skar jag mig igen.", true, "sv.concept.self_harm"},
		{"sv inverted accident", "Skar jag mig på kniven? Ja, när jag lagade mat.", false, ""},
		{"plan without death words", "I have been researching how.", true, "en.concept.death_wish"},
		{"rule floor: model overrules", "Two years self-harm free today, proud of me.", false, ""},
		{"wedding date", "We finally picked a date for the wedding!", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Detect(tt.text)
			if got.Crisis != tt.crisis {
				t.Fatalf("Detect(%q).Crisis = %v (rules %v), want %v", tt.text, got.Crisis, got.Rules, tt.crisis)
			}
			if got.Version != RuleSetVersion {
				t.Errorf("Version = %q", got.Version)
			}
			if tt.rule != "" && !contains(got.Rules, tt.rule) {
				t.Errorf("rules %v do not include %s", got.Rules, tt.rule)
			}
			for _, id := range got.Rules {
				if strings.Contains(strings.ToLower(tt.text), id) {
					t.Errorf("rule id %q looks like text", id)
				}
			}
		})
	}
}

// TestConcepts covers the concept layer: the first-person + death /
// self-harm / disappearance / burden / ending concept + cue combinations,
// slang and euphemisms in both languages, and the suppressors (idioms,
// third persons, media and games, negation, fear, accidents, travel).
func TestConcepts(t *testing.T) {
	d := New()
	tests := []struct {
		text   string
		crisis bool
		rule   string // a concept id that must fire, when crisis
	}{
		// English: slang, euphemisms, indirect
		{"i want to unalive myself", true, "en.concept.death_wish"},
		{"kms tbh", true, "en.concept.death_wish"},
		{"I don't want to be here anymore.", true, "en.concept.not_living"},
		{"I just want to sleep forever.", true, "en.concept.death_wish"},
		{"I'm going to end it all.", true, "en.concept.death_wish"},
		{"I don't think I'll be here next week.", true, "en.concept.not_living"},
		{"I hope something happens to me so I don't have to keep going.", true, ""},
		{"Sometimes I imagine my funeral and feel calm.", true, "en.concept.death_wish"},
		{"Honestly, what is the point of me.", true, ""},
		{"I looked at the train tracks today and wanted to step onto them.", true, "en.concept.means"},
		{"I'm thinking about taking all my pills tonight.", true, "en.concept.means"},
		{"Burned my wrist with a lighter so I could focus on something else.", true, "en.concept.self_harm"},
		{"The scars on my arms are fresh again.", true, "en.concept.self_harm"},
		{"I'm a waste of space and everyone knows it.", true, "en.concept.burden"},
		{"This will be my last entry. Thank you for everything.", true, "en.concept.farewell"},
		{"I've got the rope. I just need to find the right moment.", true, "en.concept.means"},
		{"I can't stop thinking about driving off the road.", true, "en.concept.means"},
		{"Dying doesn't sound so bad right now.", true, "en.concept.death_wish"},
		// Swedish
		{"Jag orkar inte mer, jag vill bara försvinna.", true, "sv.concept.death_wish"},
		{"Jag vill ta slut på allt.", true, "sv.concept.death_wish"},
		{"Jag har skurit mig igen.", true, "sv.concept.self_harm"},
		{"Jag gör illa mig själv när det blir för mycket.", true, "sv.concept.self_harm"},
		{"Jag tror inte att jag finns kvar nästa vecka.", true, "sv.concept.not_living"},
		{"Jag vill somna och slippa komma tillbaka.", true, "sv.concept.death_wish"},
		{"Jag är inte rädd för att dö längre.", true, "sv.concept.death_wish"},
		{"Alla skulle vara gladare om jag dog.", true, ""},
		{"Jag tittade på spåren idag och ville kliva ut på dem.", true, "sv.concept.means"},
		// suppressed: idioms
		{"This job is killing me.", false, ""},
		{"I could die of embarrassment.", false, ""},
		{"I'm dying to see the show.", false, ""},
		{"I'm so tired I could die, but tomorrow is Saturday.", false, ""},
		{"I wrote a will for the house.", false, ""},
		{"My friend told me she has been thinking about suicide.", false, ""},
		{"Jag är dödstrött.", false, ""},
		{"Vi skrattade ihjäl oss.", false, ""},
		{"Pendlingen kommer att ta livet av mig.", false, ""},
		// third persons, things, media, games
		{"My brother wants to die.", false, ""},
		{"My dog is dying and I wish I could do more for him.", false, ""},
		{"I want my old habits to die so the new me can grow.", false, ""},
		{"My character died in the game again.", false, ""},
		{"We watched a film where the main character takes an overdose.", false, ""},
		{"Min vän sa att hon önskar att hon var död.", false, ""},
		// negation, fear, health, accidents, travel, work
		{"I don't want to die, I want things to get better.", false, ""},
		{"Suicide has never been something I'd consider.", false, ""},
		{"Jag vill inte dö.", false, ""},
		{"Jag har noll planer på att avsluta mitt liv.", false, ""},
		{"I'm afraid of dying alone.", false, ""},
		{"I had a panic attack and honestly thought I was dying.", false, ""},
		{"I cut my hand opening a package.", false, ""},
		{"Jag skar mig när jag rakade mig i morse.", false, ""},
		{"I won't be here next week, we're flying to Lisbon.", false, ""},
		{"I feel like a burden to my team this week.", false, ""},
		{"I want to be cremated when I die, I told my wife.", false, ""},
		{"I bought a rope to hang the hammock between the trees.", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := d.Detect(tt.text)
			if got.Crisis != tt.crisis {
				t.Fatalf("Detect(%q).Crisis = %v (rules %v), want %v", tt.text, got.Crisis, got.Rules, tt.crisis)
			}
			if tt.rule != "" && !contains(got.Rules, tt.rule) {
				t.Errorf("rules %v do not include %s", got.Rules, tt.rule)
			}
		})
	}
}

// TestConceptPatternsCompile checks that every concept pattern parses and
// is reachable from the index.
func TestConceptPatternsCompile(t *testing.T) {
	ix := conceptLexicon()
	n := 0
	for _, es := range ix.byFirst {
		n += len(es)
	}
	for _, es := range ix.byPrefix {
		n += len(es)
	}
	if n < 500 {
		t.Errorf("only %d indexed concept patterns", n)
	}
}

func TestRuleIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range New().RuleIDs() {
		if seen[id] {
			t.Errorf("duplicate rule id %s", id)
		}
		seen[id] = true
		if p := strings.Split(id, "."); len(p) < 3 || (p[0] != "en" && p[0] != "sv") {
			t.Errorf("rule id %s not of the form lang.category.name", id)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	d := New()
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() {
			for j := 0; j < 50; j++ {
				if !d.Detect("I want to end my life").Crisis {
					t.Error("missed")
				}
			}
			done <- true
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
}

func BenchmarkDetect(b *testing.B) {
	d := New()
	text := "Meditated for twenty minutes. I was nervous at first, but by the end I felt really grounded, " +
		"although work stress is still there and my boss is killing me with deadlines."
	for b.Loop() {
		d.Detect(text)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// knownFalseAlarms are negatives the detector is known to flag: the
// learned tier of crisis-rules-2026.11.6 reads "orkar inte mer" (can't take
// any more) as hopelessness even with an everyday object; a mundane-object
// rule would also silence "orkar inte mer med smärtan" (the pain), which is
// a risk signal. The test pins the limitation so that whoever fixes it
// moves the case to the negatives of TestConcepts.
//
// Since crisis-rules-2026.11.9 (17 authors' training data, threshold
// 0.401, down from 0.437) the learned tier also flags three one-sentence
// idioms that the rules let pass, each scoring just over the threshold:
// not wanting to wake up early on a Saturday (0.47), sleeping forever
// after a hike (0.44) and living on autopilot (0.40). Whole entries, where
// the training data and the evaluation sets live, carry more context than
// one sentence. The will for a house and a friend's reported suicidal
// thoughts, false alarms of 2026.11.8, no longer fire (0.34 and 0.38).
var knownFalseAlarms = []string{
	"Jag orkar inte mer med disken.",
	"I don't want to wake up early tomorrow, it's Saturday.",
	"I could sleep forever after that hike.",
	"I want to stop living on autopilot.",
}

// knownMisses are texts the rule author wanted flagged that the learned
// tier overrules: since crisis-rules-2026.11.8 "thinking about my own
// death", with no wish, scores 0.09 (the broad and concept hits need
// 0.20). The independent authors label such thoughts, without a wish to
// die, as no crisis (fear of death, mortality); a careful clinician might
// still ask. Pinned so that a change is seen.
var knownMisses = []string{
	"Sometimes I think about my own death.",
}

func TestKnownMisses(t *testing.T) {
	d := New()
	for _, text := range knownMisses {
		if d.Detect(text).Crisis {
			t.Errorf("Detect(%q) flags it again: move it back to the positives of TestDetect", text)
		}
	}
}

func TestKnownFalseAlarms(t *testing.T) {
	d := New()
	for _, text := range knownFalseAlarms {
		if !d.Detect(text).Crisis {
			t.Errorf("Detect(%q) no longer flags it: move it to the negatives of TestDetect or TestConcepts", text)
		}
	}
}
