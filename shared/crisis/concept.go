package crisis

import "strings"

// The concept layer catches phrasings the phrase rules do not know: a
// clause that names death or not-being ("die", "not be here", "stop
// existing", "inte finnas") AND takes a wishing, relieved or planning
// stance towards it ("I wish", "would be easier", "doesn't scare me",
// "låt mig", "vore skönt") fires, unless the clause is about someone else,
// about media, or the stance is negated ("I don't want to die").
// Figurative idioms ("dying to", "die laughing", "ready to die on this
// hill") are removed before the search.
//
// Rule ids: "en.concept.death_wish", "sv.concept.death_wish".

type conceptSet struct {
	lang    string
	death   []string // padded phrases (" die ")
	stance  []string
	idioms  []string // removed before matching
	negStop []string // negated stances ("not want", "inte vill")
}

var conceptSets = []conceptSet{
	{
		lang: "en",
		death: []string{" die ", " dying ", " dead ", " death ", " suicide ", " suicidal ", " not wake up ",
			" never wake up ", " not be here ", " not be around ", " be around much longer ", " stop being ",
			" stop breathing ", " not exist ", " not existing ", " stop existing ", " disappear forever ",
			" be gone ", " kill myself ", " end my life ", " end it ", " overdose ", " still alive ",
			" even alive ", " not be alive ", " no longer alive ", " not alive ", " in my grave ", " my funeral ",
			" the end of me ", " not to exist ", " not to be ", " never existed ", " stop living ", " if i died ",
			" if i was dead ", " if i were dead "},
		stance: []string{" want ", " wanted ", " wish ", " wished ", " hope ", " hoping ", " let me ", " pray ",
			" plan ", " planning ", " decided ", " going to ", " easier ", " better ", " relief ", " peaceful ",
			" fine ", " comfort ", " comforts ", " comforting ", " not scare ", " not scared ", " ready to ",
			" longing ", " tempted ", " urge ", " thoughts ", " thinking ", " idea ", " why am i ",
			" why do i ", " would be nice ", " appealing ", " welcome ", " deserve ", " should ", " rather ",
			" fantasi", " dream of ", " crave ", " nobody would ", " no one would ", " would be fine ", " okay with ",
			" ok with ", " at peace with ", " calling ", " tonight ", " how to ", " again "},
		idioms: []string{" dying to ", " dying for ", " dying of ", " die of ", " die laughing ", " died laughing ",
			" die on this hill ", " die for a ", " die for that ", " die for some ", " die for the ",
			" dead tired ", " dead inside lol ", " battery is dead ", " battery died ", " phone died ",
			" phone is dead ", " dead lol ", " be the death of me ", " dying my ", " die hard ", " to die for ",
			" die happy ", " die old ", " die peacefully ", " die with no regrets ", " death penalty ",
			" sudden death ", " dead end ", " dead battery ", " deadline ", " end it with ", " end it on ",
			" be gone for ", " be gone by ", " suicide prevention ", " better off dead than ", " why do i even bother ",
			" rather die than ", " stop living on ", " stop living in ", " stop living for ", " stop living like ",
			" not wake up early ", " not want to wake up early ", " stop existing on ", " memoir ", " documentary "},
		negStop: []string{" not want ", " never want ", " never wanted ", " not wish ", " not plan ",
			" not going to ", " no thoughts ", " never thought ", " not thinking ", " no urge ", " no plan ",
			" never had ", " not ready to ", " not suicidal ", " never be ", " not afraid to fail "},
	},
	{
		lang: "sv",
		death: []string{" dö ", " död ", " döden ", " självmord ", " självmordstankar", " suicidal ", " inte vakna ",
			" aldrig vakna ", " inte finnas ", " sluta finnas ", " sluta andas ", " sluta leva ", " försvinna för alltid ",
			" vara borta ", " ta livet av mig ", " ta mitt liv ", " avsluta mitt liv ", " lever jag ", " vid liv ",
			" inte leva ", " min begravning ", " överdos "},
		stance: []string{" vill ", " ville ", " önskar ", " hoppas ", " låt mig ", " ber ", " planerar ", " bestämt ",
			" ska ", " lättare ", " enklare ", " bättre ", " skönt ", " skönare ", " lättnad ", " fridfull",
			" tröst", " skrämmer mig inte ", " inte rädd ", " redo ", " längtar ", " frestad ", " tankar",
			" tänker ", " varför ", " förtjänar ", " borde ", " hellre ", " drömmer om ", " ingen skulle ",
			" okej med ", " ikväll ", " hur man ", " orkar inte ", " igen "},
		idioms: []string{" dö av skratt ", " dog av skratt ", " dör av ", " dog av ", " dö av ", " död i benen ",
			" dödstrött ", " mobilen är död ", " batteriet är död", " mobilen dog ", " batteriet dog ",
			" dö lycklig ", " dö gammal ", " självmordsprevention", " suicidprevention", " vara borta i ",
			" vara borta på ", " vara borta över ", " vara borta en ", " död i ", " döden nära ",
			" inte vakna tidigt ", " sluta leva på ", " sluta leva i ", " sluta leva för ", " sluta leva som "},
		negStop: []string{" inte vill ", " vill inte dö ", " aldrig velat ", " aldrig vill ", " inga tankar ",
			" inga självmordstankar", " inte suicidal ", " inte redo ", " aldrig skulle ", " inte planerar "},
	},
}

// conceptMatch reports the concept rule id that fires on a padded clause,
// or "".
func conceptMatch(padded string, tokens []string) string {
	for _, cs := range conceptSets {
		if firstIndex(padded, cs.death) < 0 || firstIndex(padded, cs.stance) < 0 {
			continue // cheap exit for the common case
		}
		c := padded
		for _, id := range cs.idioms {
			if strings.Contains(c, id) {
				c = strings.ReplaceAll(c, id, " ")
			}
		}
		di := firstIndex(c, cs.death)
		if di < 0 || firstIndex(c, cs.stance) < 0 {
			continue
		}
		if firstIndex(c, cs.negStop) >= 0 {
			continue
		}
		prev := strings.Fields(c[:di])
		if negated(prev, nil) {
			continue
		}
		if thirdPartySubject(prev) || mediaContext(strings.Fields(c), nil) || remissionRe.MatchString(c) {
			continue
		}
		return cs.lang + ".concept.death_wish"
	}
	return ""
}

func firstIndex(s string, subs []string) int {
	best := -1
	for _, x := range subs {
		if i := strings.Index(s, x); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}
