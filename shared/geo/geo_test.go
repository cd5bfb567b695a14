package geo

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/geo/fold"
)

func TestMain(m *testing.M) {
	// Importing the package (init, cold start) must not load the table.
	if n := tableLoads.Load(); n != 0 {
		fmt.Fprintf(os.Stderr, "place table loaded %d times before the first lookup\n", n)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestLookup(t *testing.T) {
	tests := []struct {
		query         string
		wantName      string
		wantCC        string
		wantZone      string
		wantLat       float64
		wantLon       float64
		wantAmbiguous bool
		wantAlso      string // a candidate's Label that must be listed
	}{
		{"Stockholm, Sweden", "Stockholm", "SE", "Europe/Stockholm", 59.3294, 18.0687, false, ""},
		{"Stockholm", "Stockholm", "SE", "Europe/Stockholm", 59.3294, 18.0687, false, ""},
		{"stockholm sweden", "Stockholm", "SE", "Europe/Stockholm", 59.3294, 18.0687, false, ""},
		{"Göteborg", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, false, ""},
		{"GOTEBORG", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, false, ""},
		{"Goeteborg", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, false, ""},
		{"Gothenburg, SE", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, false, ""},
		{"Gothenburg, Sverige", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, false, ""},
		// Gothenburg, Nebraska carries the name as its own.
		{"Gothenburg", "Göteborg", "SE", "Europe/Stockholm", 57.7072, 11.9668, true, "Gothenburg, Nebraska, United States"},
		{"Gothenburg, USA", "Gothenburg", "US", "America/Chicago", 0, 0, false, ""},
		{"Malmo", "Malmö", "SE", "Europe/Stockholm", 55.6059, 13.0007, false, ""},
		{"Växjö", "Växjö", "SE", "Europe/Stockholm", 0, 0, false, ""},
		{"Vaxjo, SWE", "Växjö", "SE", "Europe/Stockholm", 0, 0, false, ""},
		{"New York", "New York City", "US", "America/New_York", 40.7143, -74.006, false, ""},
		{"New York, N.Y.", "New York City", "US", "America/New_York", 40.7143, -74.006, false, ""},
		{"São Paulo, Brazil", "São Paulo", "BR", "America/Sao_Paulo", -23.5475, -46.6361, false, ""},
		{"Sao Paulo", "São Paulo", "BR", "America/Sao_Paulo", -23.5475, -46.6361, false, ""},
		{"Paris", "Paris", "FR", "Europe/Paris", 48.8534, 2.3488, true, "Paris, Texas, United States"},
		{"Paris, France", "Paris", "FR", "Europe/Paris", 48.8534, 2.3488, false, ""},
		{"Paris, Texas", "Paris", "US", "America/Chicago", 33.6609, -95.5555, false, ""},
		{"Paris, TX", "Paris", "US", "America/Chicago", 33.6609, -95.5555, false, ""},
		{"Paris Texas", "Paris", "US", "America/Chicago", 33.6609, -95.5555, false, ""},
		{"München", "Munich", "DE", "Europe/Berlin", 0, 0, false, ""},
		{"Munich, Germany", "Munich", "DE", "Europe/Berlin", 0, 0, false, ""},
		{"Saint-Étienne", "Saint-Étienne", "FR", "Europe/Paris", 0, 0, true, ""},
		{"saint etienne", "Saint-Étienne", "FR", "Europe/Paris", 0, 0, true, ""},
		{"Zürich", "Zürich", "CH", "Europe/Zurich", 0, 0, false, ""},
		{"Zurich", "Zürich", "CH", "Europe/Zurich", 0, 0, false, ""},
		{"Łódź, Poland", "Łódź", "PL", "Europe/Warsaw", 0, 0, false, ""},
		{"Lodz", "Łódź", "PL", "Europe/Warsaw", 0, 0, false, ""},
		{"Bombay", "Mumbai", "IN", "Asia/Kolkata", 0, 0, false, ""},
		{"Springfield, Illinois", "Springfield", "US", "America/Chicago", 0, 0, false, ""},
		{"London, Ontario", "London", "CA", "America/Toronto", 0, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r, err := Lookup(tt.query)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			b := r.Best
			if b.Name != tt.wantName || b.CountryCode != tt.wantCC || b.TimeZone != tt.wantZone {
				t.Errorf("Best = %s (%s, %s), want %s (%s, %s)", b.Label, b.CountryCode, b.TimeZone, tt.wantName, tt.wantCC, tt.wantZone)
			}
			if tt.wantLat != 0 && (b.Latitude != tt.wantLat || b.Longitude != tt.wantLon) {
				t.Errorf("coordinates = %v, %v, want %v, %v", b.Latitude, b.Longitude, tt.wantLat, tt.wantLon)
			}
			if r.Ambiguous != tt.wantAmbiguous {
				t.Errorf("Ambiguous = %v, want %v (candidates %v)", r.Ambiguous, tt.wantAmbiguous, labels(r.Candidates))
			}
			if r.Candidates[0] != r.Best || len(r.Candidates) > MaxCandidates || r.Matches < len(r.Candidates) {
				t.Errorf("candidates inconsistent: best %v, %d candidates, %d matches", b, len(r.Candidates), r.Matches)
			}
			if tt.wantAlso != "" && !strings.Contains(strings.Join(labels(r.Candidates), "|"), tt.wantAlso) {
				t.Errorf("candidates %v lack %q", labels(r.Candidates), tt.wantAlso)
			}
			if r.Query != tt.query {
				t.Errorf("Query = %q", r.Query)
			}
		})
	}
}

func labels(ps []Place) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Label
	}
	return out
}

func TestLookupCandidatesRanked(t *testing.T) {
	r, err := Lookup("Springfield")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Ambiguous || r.Matches <= MaxCandidates || len(r.Candidates) != MaxCandidates {
		t.Fatalf("Springfield: ambiguous %v, %d matches, %d candidates", r.Ambiguous, r.Matches, len(r.Candidates))
	}
	for i := 1; i < len(r.Candidates); i++ {
		if r.Candidates[i].Population > r.Candidates[i-1].Population {
			t.Errorf("candidate %d (%s, %d) ranks below a smaller place (%s, %d)", i,
				r.Candidates[i].Label, r.Candidates[i].Population, r.Candidates[i-1].Label, r.Candidates[i-1].Population)
		}
	}
}

func TestLookupIgnoredQualifier(t *testing.T) {
	r, err := Lookup("Solna, Stockholms kommun, Sweden")
	if err != nil {
		t.Fatal(err)
	}
	if r.Best.Name != "Solna" || r.Best.CountryCode != "SE" {
		t.Errorf("Best = %v", r.Best)
	}
	if len(r.IgnoredQualifiers) != 1 || r.IgnoredQualifiers[0] != "Stockholms kommun" {
		t.Errorf("IgnoredQualifiers = %q", r.IgnoredQualifiers)
	}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		query string
		want  fault.Code
	}{
		{"", fault.InvalidArgument},
		{"   ", fault.InvalidArgument},
		{", Sweden", fault.InvalidArgument},
		{"--, Sweden", fault.InvalidArgument},
		{strings.Repeat("a", 201), fault.InvalidArgument},
		{"Stock\xffholm", fault.InvalidArgument},
		{"Xyzzyville", fault.NotFound},
		{"Paris, Germany", fault.NotFound},
		{"Göteborg, Norway", fault.NotFound},
	}
	for _, tt := range tests {
		_, err := Lookup(tt.query)
		if got := fault.CodeOf(err); got != tt.want {
			t.Errorf("Lookup(%q) error = %v, want %s", tt.query, err, tt.want)
		}
	}
}

func TestLookupID(t *testing.T) {
	p, err := LookupID(2711537)
	if err != nil || p.Name != "Göteborg" || p.TimeZone != "Europe/Stockholm" || p.Admin1 != "Västra Götaland" {
		t.Errorf("LookupID(2711537) = %+v, %v", p, err)
	}
	for _, id := range []int{0, -1, 1, 1 << 40} {
		if _, err := LookupID(id); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("LookupID(%d) error = %v, want NOT_FOUND", id, err)
		}
	}
}

// The generator replaces a GeoNames zone that is wrong for the place's
// coordinates (internal/gen/zones.go); a listed zone in force within 5 km
// (border towns) or nested in its own division (Xinjiang time) is kept.
func TestLookupCorrectedZones(t *testing.T) {
	tests := []struct {
		query  string
		id     int
		want   string
		listed string // the GeoNames zone, when corrected
	}{
		{"Zhanjiang, China", 1784990, "Asia/Shanghai", "Asia/Urumqi"},
		{"Maoming, China", 1801180, "Asia/Shanghai", "Asia/Urumqi"},
		{"Zhongshan, Guangdong", 1915223, "Asia/Shanghai", "Asia/Urumqi"},
		{"Lévis, Canada", 6325521, "America/Toronto", "America/Blanc-Sablon"},
		{"Sevastopol", 694423, "Europe/Simferopol", "Europe/Zaporozhye"},
		// North Vietnam kept UTC+7 in 1959–1975, the south UTC+8.
		{"Hanoi", 1581130, "Asia/Bangkok", "Asia/Ho_Chi_Minh"},
		// Kept: Xinjiang time in Xinjiang.
		{"Ürümqi", 1529102, "Asia/Urumqi", ""},
		{"Kashgar", 1280849, "Asia/Urumqi", ""},
		// Kept: border towns the simplified boundaries put across the
		// border (Panama, Suriname, Malawi's lake waters).
		{"Canoas, Costa Rica", 3624436, "America/Costa_Rica", ""},
		{"Skeldon, Guyana", 3375941, "America/Guyana", ""},
		{"Mbamba Bay, Tanzania", 878023, "Africa/Dar_es_Salaam", ""},
		// Unchanged.
		{"Stockholm, Sweden", 2673730, "Europe/Stockholm", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r, err := Lookup(tt.query)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if r.Best.GeoNameID != tt.id || r.Best.TimeZone != tt.want {
				t.Errorf("Lookup(%q) = %d %s in %s, want %d in %s (GeoNames lists %q)",
					tt.query, r.Best.GeoNameID, r.Best.Label, r.Best.TimeZone, tt.id, tt.want, tt.listed)
			}
			p, err := LookupID(tt.id)
			if err != nil || p.TimeZone != tt.want {
				t.Errorf("LookupID(%d) = %s in %s, %v; want %s", tt.id, p.Label, p.TimeZone, err, tt.want)
			}
		})
	}
}

func TestLookupConcurrentFirstUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := Lookup("Uppsala"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := tableLoads.Load(); n != 1 {
		t.Errorf("table loaded %d times, want 1", n)
	}
}

// TestTableIntegrity checks the embedded data against the code that reads
// it: every key is in fold.Key form (so the generator and the matcher fold
// alike), every zone loads from the embedded tz database, every place has a
// known country and sane coordinates.
func TestTableIntegrity(t *testing.T) {
	tb, err := loadTable()
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.places) < 100000 {
		t.Errorf("only %d places", len(tb.places))
	}
	if len(placesGz) > 8<<20 {
		t.Errorf("embedded table is %d bytes, keep it under 8 MiB", len(placesGz))
	}
	n := len(tb.keyOff) - 1
	prev := ""
	for i := range n {
		k := tb.keys[tb.keyOff[i]:tb.keyOff[i+1]]
		if k <= prev && i > 0 {
			t.Fatalf("keys not sorted: %q after %q", k, prev)
		}
		if fold.Key(k) != k {
			t.Fatalf("key %q is not in fold.Key form (%q): regenerate the table", k, fold.Key(k))
		}
		prev = k
	}
	for _, z := range tb.zones {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("zone %q: %v", z, err)
		}
	}
	for i := range tb.places {
		r := &tb.places[i]
		if _, ok := tb.countries[r.cc]; !ok && r.cc != "XK" {
			t.Errorf("place %d %s: unknown country %q", r.id, r.name, r.cc)
		}
		if r.lat < -90 || r.lat > 90 || r.lon < -180 || r.lon > 180 {
			t.Errorf("place %d: coordinates %v, %v", r.id, r.lat, r.lon)
		}
		if i > 0 && r.pop > tb.places[i-1].pop {
			t.Fatalf("places not sorted by population at %d", i)
		}
	}
	for k, cs := range tb.qualifiers {
		if fold.Key(k) != k || len(cs) == 0 {
			t.Errorf("qualifier %q: %v", k, cs)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := parseTable(placesGz); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	queries := []string{"Stockholm, Sweden", "Göteborg", "Gothenburg, SE", "New York", "São Paulo, Brazil", "Paris", "Paris Texas"}
	if _, err := Lookup(queries[0]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := Lookup(queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
