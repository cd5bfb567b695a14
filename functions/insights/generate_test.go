package insights

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/astro"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/numerology"
)

// testChart computes a natal chart for birth data (UTC instant, place).
func testChart(t testing.TB, birth time.Time, lat, lon float64) *astro.Chart {
	t.Helper()
	c, err := astro.ComputeChart(astro.ChartInput{Time: birth, Location: &astro.Location{Latitude: lat, Longitude: lon}})
	if err != nil {
		t.Fatalf("chart: %v", err)
	}
	return &c
}

// subjects returns n varied subjects: 70 % with a chart, 20 % with a
// birth date only, 10 % without birth data; every focus area and time
// commitment.
func subjects(t testing.TB, l *Library, n int) []Subject {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]Subject, n)
	for i := range out {
		birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(55 * 365 * 24 * time.Hour))))
		s := Subject{UID: fmt.Sprintf("user-%06d", i), Focus: model.FocusAreas[rng.IntN(len(model.FocusAreas))],
			Minutes: []int{0, 5, 10, 15, 20, 30}[rng.IntN(6)], Recent: l.NewRecent()}
		switch r := rng.IntN(10); {
		case r < 7:
			s.Chart = testChart(t, birth, -50+100*rng.Float64(), -180+360*rng.Float64())
			fallthrough
		case r < 9:
			s.Birth, s.HasBirth = numerology.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}, true
		default:
			s.Focus = ""
		}
		out[i] = s
	}
	return out
}

func date(s string) numerology.Date {
	d, err := numerology.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestGenerateKinds(t *testing.T) {
	l := mustLibrary(t)
	day := NewDay(date("2026-11-21"))
	if day.MoonSign() == "" {
		t.Fatal("no sky for 2026-11-21")
	}
	chart := testChart(t, time.Date(1990, 5, 15, 12, 30, 0, 0, time.UTC), 59.33, 18.07)
	var sc Scratch
	cases := []struct {
		name string
		s    Subject
		kind string
	}{
		{"chart", Subject{UID: "a", Birth: date("1990-05-15"), HasBirth: true, Chart: chart, Focus: model.FocusSleep, Minutes: 15}, KindChart},
		{"numerology", Subject{UID: "b", Birth: date("1985-11-02"), HasBirth: true, Focus: model.FocusCareerGrowth, Minutes: 10}, KindNumerology},
		{"focus only", Subject{UID: "c", Focus: model.FocusCreativity, Minutes: 5}, KindGeneral},
		{"nothing", Subject{UID: "d"}, KindGeneral},
		{"chart without birth date is ignored", Subject{UID: "e", Chart: chart}, KindGeneral},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "chart without birth date is ignored" {
				c.s.Chart = nil // subject() drops it; Generate trusts its input
			}
			in := l.Generate(&c.s, day, &sc)
			if in.Kind != c.kind {
				t.Errorf("kind %q, want %q", in.Kind, c.kind)
			}
			if in.Headline == "" || in.Content == "" || in.Intention == "" || in.Affirmation == "" || in.JournalPrompt == "" {
				t.Errorf("empty field: %+v", in)
			}
			if strings.Contains(in.Content+in.Headline+in.Intention+in.JournalPrompt, "{") {
				t.Errorf("unfilled variable: %+v", in)
			}
			if in.Date != "2026-11-21" || in.UserID != c.s.UID || in.TemplatesVersion != l.Version || in.MoonSign != day.MoonSign() {
				t.Errorf("identity fields: %+v", in)
			}
			if c.s.HasBirth {
				want := numerology.PersonalDay(c.s.Birth, day.Date)
				if in.PersonalDay != want {
					t.Errorf("personal day %d, want %d", in.PersonalDay, want)
				}
			} else if in.PersonalDay != 0 {
				t.Errorf("personal day %d without birth date", in.PersonalDay)
			}
			if len(in.TemplateIDs) < 2 {
				t.Errorf("templates %v", in.TemplateIDs)
			}
			minutes := c.s.Minutes
			if minutes == 0 {
				minutes = DefaultMinutes
			}
			if in.PracticeMinutes < 1 || in.PracticeMinutes > minutes {
				t.Errorf("practice of %d minutes for a %d-minute user", in.PracticeMinutes, minutes)
			}
			if !strings.Contains(in.Content, fmt.Sprintf("%d minute", in.PracticeMinutes)) && !strings.Contains(in.Content, fmt.Sprintf("%d-minute", in.PracticeMinutes)) {
				t.Errorf("practice minutes %d not in content %q", in.PracticeMinutes, in.Content)
			}
		})
	}
}

func TestGenerateTransits(t *testing.T) {
	l := mustLibrary(t)
	var sc Scratch
	// Over many charts some have transits; every stored transit targets the
	// natal Sun, Moon or Ascendant within the transit orbs, tightest first,
	// and a chart insight with transits is led by an aspect template.
	subs := subjects(t, l, 400)
	day := NewDay(date("2026-11-21"))
	withTransits := 0
	for i := range subs {
		s := &subs[i]
		if s.Chart == nil {
			continue
		}
		in := l.Generate(s, day, &sc)
		if len(in.Transits) == 0 {
			continue
		}
		withTransits++
		if len(in.Transits) > MaxTransits {
			t.Fatalf("%d transits", len(in.Transits))
		}
		for j, tr := range in.Transits {
			if tr.Natal != "sun" && tr.Natal != "moon" && tr.Natal != "ascendant" {
				t.Errorf("transit to %s", tr.Natal)
			}
			if tr.Orb > 2 || (j > 0 && tr.Orb < in.Transits[j-1].Orb) {
				t.Errorf("orbs %+v", in.Transits)
			}
		}
		if !strings.HasPrefix(in.TemplateIDs[0], "aspect.") {
			t.Errorf("lead %s with transits %+v", in.TemplateIDs[0], in.Transits)
		}
	}
	if withTransits < 20 {
		t.Errorf("only %d of ~280 charts have a transit", withTransits)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	l := mustLibrary(t)
	subs := subjects(t, l, 50)
	day := NewDay(date("2026-11-21"))
	var sc1, sc2 Scratch
	for i := range subs {
		a, b := l.Generate(&subs[i], day, &sc1), l.Generate(&subs[i], day, &sc2)
		if a.Content != b.Content || !slices.Equal(a.TemplateIDs, b.TemplateIDs) {
			t.Fatalf("%s: not deterministic", subs[i].UID)
		}
	}
}

// TestNoRepeatWithin14Days simulates 120 days for many users, feeding each
// day's templates back as the recent set, as the worker does.
func TestNoRepeatWithin14Days(t *testing.T) {
	l := mustLibrary(t)
	subs := subjects(t, l, 60)
	subs = append(subs, Subject{UID: "tiny", Minutes: 2}, Subject{UID: "slow-transit", Minutes: 5})
	var sc Scratch
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	days := make([]*Day, 120)
	for i := range days {
		d := start.AddDate(0, 0, i)
		days[i] = NewDay(numerology.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()})
	}
	for si := range subs {
		s := &subs[si]
		var states State
		lastSeen := map[string]int{}
		kinds := map[string]int{}
		for di, day := range days {
			s.Recent = recentSet(l, states.Days, day)
			in := l.Generate(s, day, &sc)
			kinds[in.Kind]++
			for _, id := range in.TemplateIDs {
				if prev, ok := lastSeen[id]; ok && di-prev < RecentDays {
					t.Fatalf("%s: template %s on day %d and again on day %d", s.UID, id, prev, di)
				}
				lastSeen[id] = di
			}
			states = nextState(states, day, in.TemplateIDs, start)
			if len(states.Days) > RecentDays {
				t.Fatalf("state keeps %d entries", len(states.Days))
			}
		}
	}
}

// TestNoRepeatEveryCommitment simulates two windows and more for users of
// every focus area and without one, at every timeCommitment that chooses
// differently (commitments: 0, 1 up to the largest minMinutes and beyond,
// 600), with and without a birth date: no template is repeated within
// RecentDays, and the practice fits the commitment and comes from the
// focus area's pool or the shared one.
func TestNoRepeatEveryCommitment(t *testing.T) {
	l := mustLibrary(t)
	var sc Scratch
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	days := make([]*Day, 2*RecentDays+3)
	for i := range days {
		d := start.AddDate(0, 0, i)
		days[i] = NewDay(numerology.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()})
	}
	for _, f := range append([]model.FocusArea{""}, model.FocusAreas...) {
		for _, m := range commitments(l) {
			for _, birth := range []bool{false, true} {
				s := Subject{UID: fmt.Sprintf("focus=%s,minutes=%d,birth=%v", f, m, birth), Focus: f, Minutes: m}
				if birth {
					s.Birth, s.HasBirth = date("1988-03-09"), true
				}
				var st State
				lastSeen := map[string]int{}
				for di, day := range days {
					s.Recent = recentSet(l, st.Days, day)
					in := l.Generate(&s, day, &sc)
					for _, id := range in.TemplateIDs {
						if prev, ok := lastSeen[id]; ok && di-prev < RecentDays {
							t.Fatalf("%s: template %s on day %d and again on day %d (practice %d min)", s.UID, id, prev, di, in.PracticeMinutes)
						}
						lastSeen[id] = di
					}
					pid := in.TemplateIDs[len(in.TemplateIDs)-1]
					i, _ := l.Lookup(pid)
					p := &l.Templates[i]
					if p.Slot != SlotPractice || (p.Key != "any" && p.Key != string(f)) {
						t.Fatalf("%s: practice %s (key %q) for focus %q", s.UID, pid, p.Key, f)
					}
					if p.MinMinutes > effectiveMinutes(m) || in.PracticeMinutes < 1 || in.PracticeMinutes > effectiveMinutes(m) {
						t.Fatalf("%s: practice %s (%d–%d) sized %d for a commitment of %d", s.UID, pid, p.MinMinutes, p.MaxMinutes, in.PracticeMinutes, m)
					}
					st = nextState(st, day, in.TemplateIDs, start)
				}
			}
		}
	}
}

func TestMasterDay(t *testing.T) {
	l := mustLibrary(t)
	var sc Scratch
	// Find a date whose personal month + day reduces to 11, 22 or 33.
	birth := date("1990-05-15")
	for d := 1; d <= 28; d++ {
		on := numerology.Date{Year: 2026, Month: time.November, Day: d}
		m := numerology.Reduce(numerology.PersonalMonth(birth, 2026, time.November)+d, true)
		if !numerology.IsMaster(m) {
			continue
		}
		s := Subject{UID: "m", Birth: birth, HasBirth: true, Recent: l.NewRecent()}
		in := l.Generate(&s, NewDay(on), &sc)
		if in.MasterNumber != m || in.PersonalDay != numerology.PersonalDay(birth, on) {
			t.Fatalf("master %d / day %d, want %d / %d", in.MasterNumber, in.PersonalDay, m, numerology.PersonalDay(birth, on))
		}
		if !strings.HasPrefix(in.TemplateIDs[0], fmt.Sprintf("day.%d.", m)) || !strings.Contains(in.Content, itoa(m)) {
			t.Fatalf("master day insight %v: %q", in.TemplateIDs, in.Content)
		}
		return
	}
	t.Fatal("no master day in November 2026 for the test birth date")
}

func TestRecentSet(t *testing.T) {
	l := mustLibrary(t)
	day := NewDay(date("2026-11-21"))
	entries := []string{
		"2026-11-08 general.3",                       // 13 days before: kept
		"2026-11-21 general.1",                       // the date itself: ignored
		"2026-11-20 general.2 unknown.id  general.6", // an unknown id is skipped, extra spaces too
		"2026-11-07 general.4",                       // 14 days before: dropped
		"2026-12-04 general.7",                       // 13 days after (a clock moved back): kept
		"bad general.5",
		"2026-11-1 general.8",
		"",
	}
	r := recentSet(l, entries, day)
	for id, want := range map[string]bool{"general.1": false, "general.2": true, "general.3": true, "general.4": false,
		"general.5": false, "general.6": true, "general.7": true, "general.8": false} {
		i, _ := l.Lookup(id)
		if r.Has(i) != want {
			t.Errorf("%s recent = %v, want %v", id, r.Has(i), want)
		}
	}
	st := nextState(State{Days: entries}, day, []string{"general.9", "practice.any.1"}, time.Time{})
	want := []string{"2026-12-04 general.7", "2026-11-21 general.9 practice.any.1", "2026-11-20 general.2 unknown.id  general.6", "2026-11-08 general.3"}
	if !slices.Equal(st.Days, want) {
		t.Errorf("next state %q, want %q", st.Days, want)
	}
	if !st.records("2026-11-21", []string{"general.9", "practice.any.1"}) || st.records("2026-11-21", []string{"general.9"}) ||
		st.records("2026-11-20", []string{"general.2"}) || st.records("2026-11-22", []string{"general.9", "practice.any.1"}) {
		t.Error("records does not match exactly the date's templates")
	}
}

// BenchmarkGenerate measures generation alone on one core (the sky is
// shared; users vary): insights/s is reported.
//
//	go test -run '^$' -bench Generate -cpu 1 ./functions/insights/
func BenchmarkGenerate(b *testing.B) {
	l := mustLibrary(b)
	subs := subjects(b, l, 1024)
	day := NewDay(date("2026-11-21"))
	var sc Scratch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = l.Generate(&subs[i&1023], day, &sc)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "insights/s")
}
