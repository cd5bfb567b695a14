package insights

import (
	"strconv"
	"time"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
)

// Kinds of insight (DailyInsight.Kind).
const (
	// KindChart: the user has a natal chart; transits and the day's Moon
	// lead, with the personal day and a practice.
	KindChart = "chart"
	// KindNumerology: a birth date but no chart; the personal day leads.
	KindNumerology = "numerology"
	// KindGeneral: no birth data; a general lead with a practice for the
	// focus area when one is set.
	KindGeneral = "general"
)

// RecentDays is the window in which a template is not reused for a user:
// a template used on date D is not used again before D + RecentDays.
const RecentDays = 14

// DefaultMinutes is the practice length for users without a time
// commitment.
const DefaultMinutes = 10

// MaxTransits is the number of transits stored on an insight.
const MaxTransits = 3

// Day is what every insight of one local date shares: the date and the sky
// at 12:00 UTC of that date (the day's Moon sign, the transiting bodies).
// Compute it once per date (Service caches it) and share it read-only.
type Day struct {
	Date     numerology.Date
	date     string
	ordinal  uint64
	sky      *astro.Sky // nil when the date is outside the ephemeris
	moonSign int        // index into astro.Signs; -1 without sky
}

// NewDay returns the Day of a local date. Outside the ephemeris' range the
// Day has no sky: chart users then get a numerology insight.
func NewDay(d numerology.Date) *Day {
	noon := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	day := &Day{Date: d, date: noon.Format(time.DateOnly), ordinal: uint64(noon.Unix() / 86400), moonSign: -1}
	if sky, err := astro.SkyAt(noon); err == nil {
		day.sky = &sky
		day.moonSign = int(sky.Positions[astro.Moon].Longitude/30) % 12
	}
	return day
}

// String is the date as YYYY-MM-DD.
func (d *Day) String() string { return d.date }

// MoonSign is the sign of the Moon at 12:00 UTC, "" without sky.
func (d *Day) MoonSign() string {
	if d.moonSign < 0 {
		return ""
	}
	return astro.Signs[d.moonSign]
}

// Recent is the set of templates a user saw in the last RecentDays days
// (a bit set over the library's template indexes).
type Recent []uint64

// NewRecent returns an empty set sized for the library.
func (l *Library) NewRecent() Recent { return make(Recent, (len(l.Templates)+63)/64) }

// Add marks template i as recent.
func (r Recent) Add(i int) {
	if i >= 0 && i/64 < len(r) {
		r[i/64] |= 1 << (i % 64)
	}
}

// Has reports whether template i is recent.
func (r Recent) Has(i int) bool { return i >= 0 && i/64 < len(r) && r[i/64]&(1<<(i%64)) != 0 }

// Subject is what generation needs to know about one user.
type Subject struct {
	UID string
	// Birth is the birth date when HasBirth.
	Birth    numerology.Date
	HasBirth bool
	// Chart is the natal chart, nil without one.
	Chart *astro.Chart
	// Focus is the focus area, "" when not chosen.
	Focus model.FocusArea
	// Minutes is the daily time commitment, 0 when unknown.
	Minutes int
	// Recent are the templates to avoid (nil: none).
	Recent Recent
}

// Scratch is reusable working memory of one generating goroutine.
type Scratch struct {
	aspects []astro.Aspect
	buf     []byte
}

var (
	bodyTitles   = [astro.NumBodies]string{"Sun", "Moon", "Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Pluto"}
	focusWords   = map[model.FocusArea]string{model.FocusStressRelief: "stress relief", model.FocusCareerGrowth: "career growth", model.FocusRelationships: "relationships", model.FocusSelfDiscovery: "self-discovery", model.FocusWellbeing: "wellbeing", model.FocusCreativity: "creativity", model.FocusMindfulness: "mindfulness", model.FocusSleep: "sleep", model.FocusSpirituality: "spirituality", model.FocusPurpose: "purpose"}
	natalTitles  = map[string]string{"sun": "Sun", "moon": "Moon", "ascendant": "Ascendant"}
	natalThemes  = map[string]string{"sun": "your sense of purpose", "moon": "your emotional needs", "ascendant": "the way you meet the world"}
	aspectPhrase = map[astro.AspectType]string{astro.Conjunction: "a conjunction with", astro.Sextile: "a sextile to", astro.Square: "a square to", astro.Trine: "a trine to", astro.Opposition: "an opposition to"}
	aspectClass  = map[astro.AspectType]int{astro.Conjunction: classConj, astro.Sextile: classSoft, astro.Trine: classSoft, astro.Square: classHard, astro.Opposition: classHard}
	smallInts    [1000]string
	durations    [1000]string // "1 minute", "2 minutes", …
)

func init() {
	for i := range smallInts {
		smallInts[i] = strconv.Itoa(i)
		durations[i] = smallInts[i] + " minutes"
	}
	durations[1] = "1 minute"
}

// setMinutes fills the practice length variables: {minutes} ("5") and
// {duration} ("5 minutes", "1 minute").
func setMinutes(vars *[numVars]string, n int) {
	vars[vMinutes] = itoa(n)
	if n >= 0 && n < len(durations) {
		vars[vDuration] = durations[n]
	} else {
		vars[vDuration] = vars[vMinutes] + " minutes"
	}
}

func itoa(n int) string {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return strconv.Itoa(n)
}

// seedOf mixes the uid and the date into the selection seed (FNV-1a, then
// splitmix64), so selection is deterministic: the same user, date and
// recent set always give the same templates.
func seedOf(uid string, ordinal uint64) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(uid); i++ {
		h ^= uint64(uid[i])
		h *= 1099511628211
	}
	return mix(h ^ ordinal*0x9E3779B97F4A7C15)
}

func mix(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// pick returns a template of pool not in recent, starting at a position
// drawn from seed and salt, or -1 when every one is recent.
func pick(pool []int, seed, salt uint64, recent Recent) int {
	n := len(pool)
	if n == 0 {
		return -1
	}
	start := int(mix(seed+salt) % uint64(n))
	for i := 0; i < n; i++ {
		t := pool[(start+i)%n]
		if !recent.Has(t) {
			return t
		}
	}
	return -1
}

// Salts separate the draws of the slots.
const (
	saltAspect = iota + 1
	saltMoon
	saltDay
	saltGeneral
	saltPractice
)

// pickPractice draws a practice of the focus area's pool or the shared
// pool that fits in minutes and is not recent. When every fitting one is
// recent (a library too small for the rule) it takes a fitting one anyway;
// when none fits it takes the shortest-minimum one.
func (l *Library) pickPractice(focus model.FocusArea, minutes int, seed uint64, recent Recent) int {
	a, b := l.practice[focus], l.practiceA
	n := len(a) + len(b)
	if n == 0 {
		return -1
	}
	at := func(i int) int {
		if i < len(a) {
			return a[i]
		}
		return b[i-len(a)]
	}
	start := int(mix(seed+saltPractice) % uint64(n))
	fallback, shortest := -1, -1
	for i := 0; i < n; i++ {
		t := at((start + i) % n)
		tp := &l.Templates[t]
		if shortest < 0 || tp.MinMinutes < l.Templates[shortest].MinMinutes {
			shortest = t
		}
		if tp.MinMinutes > minutes {
			continue
		}
		if !recent.Has(t) {
			return t
		}
		if fallback < 0 {
			fallback = t
		}
	}
	if fallback >= 0 {
		return fallback
	}
	return shortest
}

// Generate composes the insight of s for day d from the library. It is
// deterministic and never fails: missing data only narrows the insight
// (see the Kind constants). The result has no CreatedAt; TemplateIDs lists
// every template used (also the ones to add to the user's recent set).
func (l *Library) Generate(s *Subject, d *Day, sc *Scratch) model.DailyInsight {
	var vars [numVars]string
	vars[vMoonSign] = d.MoonSign()
	vars[vFocus] = focusWords[s.Focus]
	seed := seedOf(s.UID, d.ordinal)
	in := model.DailyInsight{UserID: s.UID, Date: d.date, TemplatesVersion: l.Version, MoonSign: vars[vMoonSign],
		FocusArea: s.Focus, TemplateIDs: make([]string, 0, 4)}

	// The personal day: 1–9 stored; master 11/22/33 when personal month +
	// calendar day reduces to one, masters kept at each step as in the life
	// path (a sum of 29 or 38 is day 11, as a birthday on the 29th is 11).
	dayKey := 0
	if s.HasBirth && !before(d.Date, s.Birth) {
		in.PersonalDay = numerology.PersonalDay(s.Birth, d.Date)
		dayKey = in.PersonalDay
		pm := numerology.PersonalMonth(s.Birth, d.Date.Year, d.Date.Month)
		if m := numerology.Reduce(pm+d.Date.Day, true); numerology.IsMaster(m) {
			in.MasterNumber, dayKey = m, m
		}
		vars[vDay] = itoa(dayKey)
	}
	pickDay := func() int {
		if dayKey == 0 {
			return -1
		}
		t := pick(l.day[dayKey], seed, saltDay, s.Recent)
		if t < 0 && in.MasterNumber != 0 {
			vars[vDay] = itoa(in.PersonalDay)
			t = pick(l.day[in.PersonalDay], seed, saltDay, s.Recent)
		}
		return t
	}

	lead, moonLine, day := -1, -1, -1
	switch {
	case s.Chart != nil && d.sky != nil:
		in.Kind = KindChart
		vars[vSunSign] = s.Chart.Bodies.Sun.Sign
		sc.aspects = d.sky.Transits(s.Chart, nil, sc.aspects[:0])
		for _, a := range sc.aspects {
			if a.B != "sun" && a.B != "ascendant" && (a.B != "moon" || !s.Chart.BirthTimeKnown) {
				continue // natal Sun, Moon and Ascendant only; a date-only Moon is too vague
			}
			if lead < 0 {
				b, c := bodyIndex(a.A), aspectClass[a.Type]
				t := -1
				if b >= 0 {
					t = pick(l.aspect[b][c], seed, saltAspect, s.Recent)
				}
				if t < 0 {
					t = pick(l.aspectAny[c], seed, saltAspect, s.Recent)
				}
				if t >= 0 {
					lead = t
					if b >= 0 {
						vars[vTransit] = bodyTitles[b]
					}
					vars[vNatal], vars[vNatalTheme], vars[vAspectPhrase] = natalTitles[a.B], natalThemes[a.B], aspectPhrase[a.Type]
				}
			}
			if len(in.Transits) < MaxTransits {
				in.Transits = append(in.Transits, model.Transit{Transiting: a.A, Natal: a.B, Aspect: string(a.Type), Orb: a.Orb})
			}
		}
		m := pick(l.moon[d.moonSign], seed, saltMoon, s.Recent)
		if lead < 0 {
			lead = m
		} else {
			moonLine = m
		}
		day = pickDay()
		if lead < 0 {
			lead, day = day, -1
		}
	case s.HasBirth && dayKey != 0:
		in.Kind = KindNumerology
		lead = pickDay()
	default:
		in.Kind = KindGeneral
	}
	if lead < 0 {
		lead = pick(l.general, seed, saltGeneral, s.Recent)
		if lead < 0 { // cannot happen with the shipped library (tested)
			lead = l.general[int(seed%uint64(len(l.general)))]
		}
	}

	minutes := s.Minutes
	if minutes <= 0 {
		minutes = DefaultMinutes
	}
	practice := l.pickPractice(s.Focus, minutes, seed, s.Recent)
	if practice >= 0 {
		p := &l.Templates[practice]
		in.PracticeMinutes = max(p.MinMinutes, min(minutes, p.MaxMinutes))
		setMinutes(&vars, in.PracticeMinutes)
	}

	// Compose.
	lt := &l.Templates[lead]
	buf := sc.buf[:0]
	str := func(t text) string {
		buf = t.appendTo(buf[:0], &vars)
		return string(buf)
	}
	in.Headline = str(lt.headline)
	in.Intention = str(lt.intention)
	aff := lt.affirmation
	if day >= 0 && l.Templates[day].affirmation != nil {
		aff = l.Templates[day].affirmation
	}
	if aff == nil {
		aff = l.Templates[l.general[int(seed%uint64(len(l.general)))]].affirmation
	}
	in.Affirmation = str(aff)
	if practice >= 0 {
		in.JournalPrompt = str(l.Templates[practice].prompt)
	}
	buf = buf[:0]
	for _, t := range [4]int{lead, moonLine, day, practice} {
		if t < 0 {
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, ' ')
		}
		buf = l.Templates[t].content.appendTo(buf, &vars)
		in.TemplateIDs = append(in.TemplateIDs, l.Templates[t].ID)
	}
	in.Content = string(buf)
	sc.buf = buf
	return in
}

func before(a, b numerology.Date) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}
