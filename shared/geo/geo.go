// Package geo resolves a birthplace typed as free text ("Stockholm, Sweden",
// "Göteborg", "Gothenburg, SE", "São Paulo, Brazil") to coordinates and an
// IANA time zone, offline, and converts a local birth time to UTC with the
// historical offsets of that zone.
//
// The place table is embedded (data/places.tsv.gz, built by internal/gen
// from GeoNames data, CC BY 4.0, geonames.org) and is decompressed and
// indexed on first use, never at program start; the first Lookup takes a few
// hundred milliseconds, later ones microseconds. The time-zone database is
// embedded too (time/tzdata), so conversions do not depend on the host.
//
// Matching: the query is split on commas into a name and qualifiers. The
// name is compared, case- and diacritic-insensitively (fold.Key), with the
// GeoNames name, ASCII name and Latin-script alternate names (English
// exonyms such as "Gothenburg" included) of places with at least 1000
// inhabitants. Each qualifier may name a country (English or another
// language's name, ISO 3166 alpha-2 or alpha-3 code) or a first-level
// division (name, or postal code such as "TX" in the US); recognised
// qualifiers filter, unrecognised ones are ignored and reported. Without a
// comma, trailing words that name a country or division are used as a
// qualifier when the whole text is not a place name ("Paris Texas").
// Matches are ranked by population, a match on the place's own name weighing
// four times one on an alternate name; see Result.Ambiguous for when the
// answer is ambiguous.
package geo

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/geo/fold"
)

// MaxCandidates is the most candidates a Result lists.
const MaxCandidates = 10

// maxQueryLen bounds the query length in bytes.
const maxQueryLen = 200

// ambiguityRatio: a runner-up matched only by an alternate name makes a
// result ambiguous when its score is at least 1/ambiguityRatio of the best.
const ambiguityRatio = 100

// primaryWeight is how much more a match on a place's own (GeoNames or
// ASCII) name counts than one on an alternate name, relative to population.
const primaryWeight = 4

// Place is one populated place of the table.
type Place struct {
	// GeoNameID is the place's id at GeoNames; LookupID accepts it back.
	GeoNameID int `json:"geonameId" firestore:"geonameId"`
	// Name is the GeoNames name (local form with diacritics, "Göteborg").
	Name string `json:"name" firestore:"name"`
	// Admin1 is the first-level division's name ("Västra Götaland"), or "".
	Admin1 string `json:"admin1,omitempty" firestore:"admin1,omitempty"`
	// CountryCode is the ISO 3166-1 alpha-2 code ("SE").
	CountryCode string `json:"countryCode" firestore:"countryCode"`
	// Country is the country's English name ("Sweden").
	Country string `json:"country" firestore:"country"`
	// Label is "Name, Admin1, Country" for display.
	Label string `json:"label" firestore:"label"`
	// Latitude and Longitude are in degrees (north and east positive),
	// rounded to 4 decimals.
	Latitude  float64 `json:"latitude" firestore:"latitude"`
	Longitude float64 `json:"longitude" firestore:"longitude"`
	// TimeZone is the IANA time-zone name ("Europe/Stockholm").
	TimeZone string `json:"timeZone" firestore:"timeZone"`
	// Population is the GeoNames population figure (0 when unknown).
	Population int `json:"population" firestore:"population"`
}

// Result is the answer to a Lookup.
type Result struct {
	// Query is the text looked up.
	Query string `json:"query" firestore:"query"`
	// Best is the highest-ranked place (Candidates[0]).
	Best Place `json:"best" firestore:"best"`
	// Candidates are the matching places, best first, at most
	// MaxCandidates of them.
	Candidates []Place `json:"candidates" firestore:"candidates"`
	// Matches is how many places matched in all (may exceed
	// len(Candidates)).
	Matches int `json:"matches" firestore:"matches"`
	// Ambiguous is true when another matching place bears the queried name
	// as its own name (Paris, Texas for "Paris"), or is at least 1/100 as
	// large as Best after the name weight (St. Petersburg, Florida for
	// "Saint Petersburg"); small places that merely list the name among
	// their alternate names do not count. A client should then let the
	// person confirm Best or pick another candidate (LookupID).
	Ambiguous bool `json:"ambiguous" firestore:"ambiguous"`
	// IgnoredQualifiers lists comma-separated parts of the query that name
	// no known country or division and so did not filter.
	IgnoredQualifiers []string `json:"ignoredQualifiers,omitempty" firestore:"ignoredQualifiers,omitempty"`
}

// Lookup resolves free text to places. It returns a fault.InvalidArgument
// error for an empty or over-long query or invalid UTF-8, a fault.NotFound
// error when no place matches, and a fault.Internal error if the embedded
// table cannot be read (a build defect). Safe for concurrent use; the first
// call loads the table.
func Lookup(query string) (Result, error) {
	q := strings.TrimSpace(query)
	switch {
	case q == "":
		return Result{}, fault.Invalid("geo: empty place query")
	case len(q) > maxQueryLen:
		return Result{}, fault.Invalid("geo: place query longer than %d bytes", maxQueryLen)
	case !utf8.ValidString(q):
		return Result{}, fault.Invalid("geo: place query is not valid UTF-8")
	}
	t, err := loadTable()
	if err != nil {
		return Result{}, fault.Wrap(err, fault.Internal, "geo: place table unavailable")
	}

	parts := strings.Split(q, ",")
	nameKey := fold.Key(parts[0])
	if nameKey == "" {
		return Result{}, fault.Invalid("geo: place query has no name before the first comma")
	}
	var quals [][]constraint
	var ignored []string
	for _, p := range parts[1:] {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if cs := t.qualifier(p); cs != nil {
			quals = append(quals, cs)
		} else {
			ignored = append(ignored, strings.TrimSpace(p))
		}
	}

	hits := t.lookupKey(nameKey)
	if hits == nil && len(parts) == 1 {
		// "Paris Texas", "Stockholm Sweden": try trailing words as a qualifier.
		words := strings.Split(nameKey, " ")
		for cut := len(words) - 1; cut >= 1 && hits == nil; cut-- {
			cs := t.qualifier(strings.Join(words[cut:], " "))
			if cs == nil {
				continue
			}
			if h := t.lookupKey(strings.Join(words[:cut], " ")); h != nil {
				hits, nameKey, quals = h, strings.Join(words[:cut], " "), [][]constraint{cs}
			}
		}
	}

	type scored struct {
		idx     uint32
		score   float64
		primary bool
	}
	var ranked []scored
	for _, i := range hits {
		r := &t.places[i]
		if !satisfies(r, quals) {
			continue
		}
		s := float64(r.pop) + 1
		primary := fold.Key(r.name) == nameKey
		if primary {
			s *= primaryWeight
		}
		ranked = append(ranked, scored{i, s, primary})
	}
	if len(ranked) == 0 {
		return Result{}, fault.New(fault.NotFound, "geo: no known place matches the query")
	}
	// Stable on the table order, which is by population then id.
	slices.SortStableFunc(ranked, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	res := Result{Query: query, Matches: len(ranked), IgnoredQualifiers: ignored}
	for _, s := range ranked[1:] {
		if s.primary || s.score*ambiguityRatio >= ranked[0].score {
			res.Ambiguous = true
			break
		}
	}
	for _, s := range ranked[:min(len(ranked), MaxCandidates)] {
		res.Candidates = append(res.Candidates, t.place(s.idx))
	}
	res.Best = res.Candidates[0]
	return res, nil
}

// LookupID returns the place with that GeoNames id, as a client sends back
// the candidate a person picked. It returns a fault.NotFound error for an id
// not in the table and a fault.Internal error if the table cannot be read.
func LookupID(geonameID int) (Place, error) {
	t, err := loadTable()
	if err != nil {
		return Place{}, fault.Wrap(err, fault.Internal, "geo: place table unavailable")
	}
	if geonameID <= 0 || geonameID > 1<<32-1 {
		return Place{}, fault.New(fault.NotFound, "geo: no place with id %d", geonameID)
	}
	i, ok := t.byGeoNameID(uint32(geonameID))
	if !ok {
		return Place{}, fault.New(fault.NotFound, "geo: no place with id %d", geonameID)
	}
	return t.place(i), nil
}

// qualifier returns the readings of one qualifier, or nil when it names no
// known country or division. "N.Y." and "U.S." are also tried without
// their spaces ("ny", "us").
func (t *table) qualifier(s string) []constraint {
	k := fold.Key(s)
	if k == "" {
		return nil
	}
	if cs, ok := t.qualifiers[k]; ok {
		return cs
	}
	if compact := strings.ReplaceAll(k, " ", ""); compact != k {
		return t.qualifiers[compact]
	}
	return nil
}

// satisfies reports whether r meets every qualifier (each by any reading).
func satisfies(r *record, quals [][]constraint) bool {
	for _, cs := range quals {
		ok := false
		for _, c := range cs {
			if c.cc == r.cc && (c.admin1 == "" || c.admin1 == r.admin1) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// place converts record i to a Place.
func (t *table) place(i uint32) Place {
	r := &t.places[i]
	p := Place{
		GeoNameID:   int(r.id),
		Name:        r.name,
		CountryCode: r.cc,
		Country:     t.countries[r.cc].name,
		Latitude:    r.lat,
		Longitude:   r.lon,
		TimeZone:    t.zones[r.zone],
		Population:  int(r.pop),
	}
	if p.Country == "" {
		p.Country = r.cc
	}
	if r.admin1 != "" {
		p.Admin1 = t.admin1[r.cc+"."+r.admin1]
	}
	label := []string{p.Name}
	if p.Admin1 != "" && p.Admin1 != p.Name {
		label = append(label, p.Admin1)
	}
	p.Label = strings.Join(append(label, p.Country), ", ")
	return p
}

// String returns the place's label.
func (p Place) String() string {
	if p.Label != "" {
		return p.Label
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.CountryCode)
}
