package geo

import (
	"cmp"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

func civil(t *testing.T, date, clock string) Civil {
	t.Helper()
	c, err := ParseCivil(date, clock)
	if err != nil {
		t.Fatalf("ParseCivil(%q, %q): %v", date, clock, err)
	}
	return c
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	u, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}

func TestLocalToUTC(t *testing.T) {
	tests := []struct {
		name, zone, date, clock string
		policy                  Policy
		wantUTC                 string
		wantRes                 Resolution
		wantOffset              int
		wantAbbr                string
		wantCands               []string // for gap/overlap
	}{
		// Ordinary times.
		{"Stockholm winter", "Europe/Stockholm", "1990-01-15", "14:30", PreTransition, "1990-01-15T13:30:00Z", Exact, 3600, "CET", nil},
		{"Stockholm summer", "Europe/Stockholm", "1990-05-15", "14:30", PreTransition, "1990-05-15T12:30:00Z", Exact, 7200, "CEST", nil},
		{"New York summer", "America/New_York", "1942-06-18", "09:00", PreTransition, "1942-06-18T13:00:00Z", Exact, -14400, "EWT", nil},

		// Historical offsets.
		{"Stockholm LMT 1875", "Europe/Stockholm", "1875-06-01", "12:00", PreTransition, "1875-06-01T10:47:48Z", Exact, 4332, "LMT", nil},
		{"Stockholm SET 1890", "Europe/Stockholm", "1890-06-01", "12:00", PreTransition, "1890-06-01T10:59:46Z", Exact, 3614, "SET", nil},
		{"Sweden 1916 had DST", "Europe/Stockholm", "1916-07-01", "12:00", PreTransition, "1916-07-01T10:00:00Z", Exact, 7200, "CEST", nil},
		{"Sweden 1970 had no DST", "Europe/Stockholm", "1970-07-01", "12:00", PreTransition, "1970-07-01T11:00:00Z", Exact, 3600, "CET", nil},
		{"Sweden 1979 had no DST", "Europe/Stockholm", "1979-07-01", "12:00", PreTransition, "1979-07-01T11:00:00Z", Exact, 3600, "CET", nil},
		{"Sweden 1980 DST", "Europe/Stockholm", "1980-07-01", "12:00", PreTransition, "1980-07-01T10:00:00Z", Exact, 7200, "CEST", nil},
		{"New York LMT 1880", "America/New_York", "1880-01-01", "12:00", PreTransition, "1880-01-01T16:56:02Z", Exact, -17762, "LMT", nil},
		{"London double summer time 1943", "Europe/London", "1943-06-01", "12:00", PreTransition, "1943-06-01T10:00:00Z", Exact, 7200, "BDST", nil},
		{"Kolkata 1943 war time", "Asia/Kolkata", "1943-06-01", "12:00", PreTransition, "1943-06-01T05:30:00Z", Exact, 23400, "+0630", nil},

		// Spring forward: 02:00 → 03:00 local.
		{"Stockholm gap default", "Europe/Stockholm", "2021-03-28", "02:30", PreTransition, "2021-03-28T01:30:00Z", Gap, 7200, "CEST",
			[]string{"2021-03-28T00:30:00Z", "2021-03-28T01:30:00Z"}},
		{"Stockholm gap earlier", "Europe/Stockholm", "2021-03-28", "02:30", Earlier, "2021-03-28T00:30:00Z", Gap, 3600, "CET",
			[]string{"2021-03-28T00:30:00Z", "2021-03-28T01:30:00Z"}},
		{"Stockholm gap later", "Europe/Stockholm", "2021-03-28", "02:00", Later, "2021-03-28T01:00:00Z", Gap, 7200, "CEST",
			[]string{"2021-03-28T00:00:00Z", "2021-03-28T01:00:00Z"}},
		{"Stockholm just before gap", "Europe/Stockholm", "2021-03-28", "01:59:59", PreTransition, "2021-03-28T00:59:59Z", Exact, 3600, "CET", nil},
		{"Stockholm just after gap", "Europe/Stockholm", "2021-03-28", "03:00", PreTransition, "2021-03-28T01:00:00Z", Exact, 7200, "CEST", nil},
		{"New York gap", "America/New_York", "2021-03-14", "02:30", PreTransition, "2021-03-14T07:30:00Z", Gap, -14400, "EDT",
			[]string{"2021-03-14T06:30:00Z", "2021-03-14T07:30:00Z"}},
		{"Sweden 1916 gap (23:00 → 00:00)", "Europe/Stockholm", "1916-05-14", "23:15", PreTransition, "1916-05-14T22:15:00Z", Gap, 7200, "CEST",
			[]string{"1916-05-14T21:15:00Z", "1916-05-14T22:15:00Z"}},
		{"Samoa skipped 2011-12-30", "Pacific/Apia", "2011-12-30", "12:00", PreTransition, "2011-12-30T22:00:00Z", Gap, 50400, "+14",
			[]string{"2011-12-29T22:00:00Z", "2011-12-30T22:00:00Z"}},

		// Fall back: 03:00 → 02:00 local (Stockholm), 02:00 → 01:00 (New York).
		{"Stockholm overlap default", "Europe/Stockholm", "2021-10-31", "02:30", PreTransition, "2021-10-31T00:30:00Z", Overlap, 7200, "CEST",
			[]string{"2021-10-31T00:30:00Z", "2021-10-31T01:30:00Z"}},
		{"Stockholm overlap later", "Europe/Stockholm", "2021-10-31", "02:30", Later, "2021-10-31T01:30:00Z", Overlap, 3600, "CET",
			[]string{"2021-10-31T00:30:00Z", "2021-10-31T01:30:00Z"}},
		{"Stockholm after overlap", "Europe/Stockholm", "2021-10-31", "03:00", PreTransition, "2021-10-31T02:00:00Z", Exact, 3600, "CET", nil},
		{"New York overlap default", "America/New_York", "2021-11-07", "01:30", PreTransition, "2021-11-07T05:30:00Z", Overlap, -14400, "EDT",
			[]string{"2021-11-07T05:30:00Z", "2021-11-07T06:30:00Z"}},
		{"New York overlap earlier", "America/New_York", "2021-11-07", "01:30", Earlier, "2021-11-07T05:30:00Z", Overlap, -14400, "EDT",
			[]string{"2021-11-07T05:30:00Z", "2021-11-07T06:30:00Z"}},
		{"New York 1883 railway time overlap", "America/New_York", "1883-11-18", "12:02", PreTransition, "1883-11-18T16:58:02Z", Overlap, -17762, "LMT",
			[]string{"1883-11-18T16:58:02Z", "1883-11-18T17:02:00Z"}},
		{"Stockholm 1899 SET→CET 14 s overlap", "Europe/Stockholm", "1899-12-31", "23:59:50", PreTransition, "1899-12-31T22:59:36Z", Overlap, 3614, "SET",
			[]string{"1899-12-31T22:59:36Z", "1899-12-31T22:59:50Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LocalToUTCPolicy(civil(t, tt.date, tt.clock), tt.zone, tt.policy)
			if err != nil {
				t.Fatalf("LocalToUTCPolicy: %v", err)
			}
			if !got.UTC.Equal(utc(t, tt.wantUTC)) || got.UTC.Location() != time.UTC {
				t.Errorf("UTC = %v, want %s", got.UTC, tt.wantUTC)
			}
			if got.Resolution != tt.wantRes {
				t.Errorf("Resolution = %s, want %s", got.Resolution, tt.wantRes)
			}
			if got.OffsetSeconds != tt.wantOffset || got.Abbreviation != tt.wantAbbr {
				t.Errorf("offset = %d %s, want %d %s", got.OffsetSeconds, got.Abbreviation, tt.wantOffset, tt.wantAbbr)
			}
			if len(got.Candidates) != len(tt.wantCands) {
				t.Fatalf("Candidates = %v, want %v", got.Candidates, tt.wantCands)
			}
			for i, c := range tt.wantCands {
				if !got.Candidates[i].Equal(utc(t, c)) {
					t.Errorf("Candidates[%d] = %v, want %s", i, got.Candidates[i].UTC(), c)
				}
			}
			if !got.Local.Equal(got.UTC) {
				t.Errorf("Local %v is not the instant %v", got.Local, got.UTC)
			}
			if got.Resolution == Exact {
				w := got.Local
				if w.Hour() != civil(t, tt.date, tt.clock).Hour || w.Minute() != civil(t, tt.date, tt.clock).Minute {
					t.Errorf("exact Local %v does not read as %s %s", w, tt.date, tt.clock)
				}
			}
		})
	}
}

func TestLocalToUTCReject(t *testing.T) {
	tests := []struct {
		name, zone, date, clock string
		wantErr                 bool
	}{
		{"gap", "Europe/Stockholm", "2021-03-28", "02:30", true},
		{"overlap", "America/New_York", "2021-11-07", "01:30", true},
		{"exact", "Europe/Stockholm", "2021-03-28", "03:30", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LocalToUTCPolicy(civil(t, tt.date, tt.clock), tt.zone, Reject)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.InvalidArgument {
				t.Fatalf("error = %v, want INVALID_ARGUMENT", err)
			}
			in, ok := fe.Details.(Instant)
			if !ok || len(in.Candidates) != 2 {
				t.Errorf("details = %#v, want an Instant with two candidates", fe.Details)
			}
		})
	}
}

func TestLocalToUTCInvalid(t *testing.T) {
	ok := Civil{Year: 1990, Month: 5, Day: 15, Hour: 14, Minute: 30}
	tests := []struct {
		name   string
		c      Civil
		zone   string
		policy Policy
	}{
		{"unknown zone", ok, "Europe/Atlantis", PreTransition},
		{"empty zone", ok, "", PreTransition},
		{"Local zone", ok, "Local", PreTransition},
		{"Feb 30", Civil{Year: 1990, Month: 2, Day: 30}, "UTC", PreTransition},
		{"Feb 29 non-leap", Civil{Year: 1900, Month: 2, Day: 29}, "UTC", PreTransition},
		{"month 13", Civil{Year: 1990, Month: 13, Day: 1}, "UTC", PreTransition},
		{"hour 24", Civil{Year: 1990, Month: 1, Day: 1, Hour: 24}, "UTC", PreTransition},
		{"minute 60", Civil{Year: 1990, Month: 1, Day: 1, Minute: 60}, "UTC", PreTransition},
		{"second 60", Civil{Year: 1990, Month: 1, Day: 1, Second: 60}, "UTC", PreTransition},
		{"year 0", Civil{Year: 0, Month: 1, Day: 1}, "UTC", PreTransition},
		{"bad policy", ok, "UTC", Policy(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LocalToUTCPolicy(tt.c, tt.zone, tt.policy)
			if fault.CodeOf(err) != fault.InvalidArgument {
				t.Errorf("error = %v, want INVALID_ARGUMENT", err)
			}
		})
	}
}

func TestParseCivil(t *testing.T) {
	tests := []struct {
		date, clock string
		want        Civil
		wantErr     bool
	}{
		{"1990-05-15", "14:30", Civil{1990, 5, 15, 14, 30, 0}, false},
		{"1990-05-15", "4:05:09", Civil{1990, 5, 15, 4, 5, 9}, false},
		{" 2000-02-29 ", "00:00", Civil{2000, 2, 29, 0, 0, 0}, false},
		{"1900-02-29", "12:00", Civil{}, true},
		{"1990-5-15", "14:30", Civil{}, true},
		{"15/05/1990", "14:30", Civil{}, true},
		{"1990-05-15", "", Civil{}, true},
		{"1990-05-15", "14", Civil{}, true},
		{"1990-05-15", "14:30:00:00", Civil{}, true},
		{"1990-05-15", "2:30 pm", Civil{}, true},
		{"1990-05-15", "24:00", Civil{}, true},
		{"1990-05-15", "-1:30", Civil{}, true},
		{"1990-05-15", "+1:30", Civil{}, true},
		{"1990-05-15", "123:30", Civil{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCivil(tt.date, tt.clock)
		if tt.wantErr {
			if fault.CodeOf(err) != fault.InvalidArgument {
				t.Errorf("ParseCivil(%q, %q) error = %v, want INVALID_ARGUMENT", tt.date, tt.clock, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseCivil(%q, %q) = %+v, %v; want %+v", tt.date, tt.clock, got, err, tt.want)
		}
	}
}

func TestInstantJSON(t *testing.T) {
	// A local-mean-time offset with seconds must still marshal.
	in, err := LocalToUTC(Civil{Year: 1875, Month: 6, Day: 1, Hour: 12}, "Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["utc"] != "1875-06-01T10:47:48Z" || back["resolution"] != "exact" {
		t.Errorf("JSON = %s", b)
	}
}

func BenchmarkLocalToUTC(b *testing.B) {
	c := Civil{Year: 1990, Month: 5, Day: 15, Hour: 14, Minute: 30}
	for b.Loop() {
		if _, err := LocalToUTC(c, "Europe/Stockholm"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNextHourIsLocalToUTCs: NextHour (HourOn's fast path away from clock
// changes) gives, through a year of clock changes in zones with
// spring-forward and fall-back gaps at various hours (midnight jumps, a
// half-hour one), the instant LocalToUTC gives for hour:00 of the first
// local date on which it is after t.
func TestNextHourIsLocalToUTCs(t *testing.T) {
	zones := []string{"America/New_York", "America/Santiago", "Europe/Stockholm", "Australia/Lord_Howe", "America/Havana", "Africa/Cairo", "UTC"}
	reference := func(now time.Time, hour int, loc *time.Location) time.Time {
		t.Helper()
		l := now.In(loc)
		for d := 0; d < 3; d++ {
			day := time.Date(l.Year(), l.Month(), l.Day()+d, 12, 0, 0, 0, time.UTC)
			in, err := LocalToUTC(Civil{Year: day.Year(), Month: day.Month(), Day: day.Day(), Hour: hour}, loc.String())
			if err != nil {
				t.Fatal(err)
			}
			if in.UTC.After(now) {
				return in.UTC.UTC()
			}
		}
		t.Fatalf("no hour:00 within three days of %s", now)
		return time.Time{}
	}
	for _, z := range zones {
		loc, err := LoadZone(z)
		if err != nil {
			t.Fatal(err)
		}
		for h := range 24 {
			for now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); now.Year() == 2026; now = now.Add(7 * time.Hour) {
				if got, want := NextHour(now, loc, h), reference(now, h, loc); !got.Equal(want) {
					t.Fatalf("%s %02d:00 after %s: NextHour %s, LocalToUTC %s", z, h, now.Format(time.RFC3339),
						got.Format(time.RFC3339), want.Format(time.RFC3339))
				}
			}
		}
	}
}

// TestHourOnIsLocalToUTC checks HourOn (the daily-insight schedule's local hour → UTC conversion)
// against LocalToUTC for every hour of every day of a year in zones
// with gaps and overlaps at various hours (at midnight, of half an hour,
// a skipped day).
func TestHourOnIsLocalToUTC(t *testing.T) {
	years := map[string]int{"Pacific/Apia": 2011} // skipped 2011-12-30
	for _, z := range []string{"Europe/Stockholm", "America/New_York", "America/Santiago", "America/Havana", "Africa/Cairo",
		"Australia/Lord_Howe", "Pacific/Chatham", "Asia/Tokyo", "UTC", "Pacific/Apia"} {
		loc, err := LoadZone(z)
		if err != nil {
			t.Fatal(err)
		}
		y := cmp.Or(years[z], 2026)
		for day := time.Date(y, 1, 1, 12, 0, 0, 0, time.UTC); day.Year() == y; day = day.AddDate(0, 0, 1) {
			for h := range 24 {
				in, err := LocalToUTC(Civil{Year: y, Month: day.Month(), Day: day.Day(), Hour: h}, z)
				if err != nil {
					t.Fatal(err)
				}
				if got := HourOn(y, day.Month(), day.Day(), h, loc); !got.Equal(in.UTC) {
					t.Fatalf("%s %s %02d:00: HourOn = %s, geo = %s (%s)", z, day.Format(time.DateOnly), h,
						got.UTC().Format(time.RFC3339), in.UTC.Format(time.RFC3339), in.Resolution)
				}
			}
		}
	}
	// Days past the month's end roll over, as time.Date's do.
	newYork, err := LoadZone("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := HourOn(2026, 3, 39, 2, newYork), time.Date(2026, 4, 8, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("HourOn(2026-03-39 02:00) = %s, want %s", got, want)
	}
}
