package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func utcDate(year int) time.Time {
	return time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return l
}

func TestSameOffsetsBetween(t *testing.T) {
	tests := []struct {
		a, b     string
		from, to int // years
		want     bool
	}{
		{"Europe/Stockholm", "Europe/Stockholm", 1900, 2100, true},
		{"Asia/Calcutta", "Asia/Kolkata", 1900, 2100, true}, // a link
		{"Asia/Urumqi", "Asia/Shanghai", 1900, 2100, false},
		{"America/Blanc-Sablon", "America/Toronto", 1990, 2000, false},
		// North Vietnam kept UTC+7 while the south had UTC+8 (1959–1975).
		{"Asia/Ho_Chi_Minh", "Asia/Bangkok", 1976, 2100, true},
		{"Asia/Ho_Chi_Minh", "Asia/Bangkok", 1900, 2100, false},
		// The same EU rules since 1996, through leap years whose last UTC
		// day ZoneBounds misreports (2040, 2096): the walk must end.
		{"Europe/Warsaw", "Europe/Berlin", 1997, 2100, true},
		{"Europe/Warsaw", "Europe/Berlin", 1900, 2100, false},
		// Canada did not follow the US's 1974–75 year-round DST.
		{"America/New_York", "America/Toronto", 1990, 2100, true},
		{"America/New_York", "America/Toronto", 1973, 1976, false},
		// A fixed offset against a zone without DST since 1992.
		{"Etc/GMT-8", "Asia/Shanghai", 1992, 2100, true},
		{"Etc/GMT-8", "Asia/Shanghai", 1985, 2100, false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			a, b := mustZone(t, tt.a), mustZone(t, tt.b)
			if got := sameOffsetsBetween(a, b, utcDate(tt.from), utcDate(tt.to)); got != tt.want {
				t.Errorf("sameOffsetsBetween(%s, %s, %d, %d) = %v, want %v", tt.a, tt.b, tt.from, tt.to, got, tt.want)
			}
			if got := sameOffsetsBetween(b, a, utcDate(tt.from), utcDate(tt.to)); got != tt.want {
				t.Errorf("sameOffsetsBetween(%s, %s, %d, %d) = %v, want %v", tt.b, tt.a, tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// border is a fake zone finder: west of lon the zone is west, east of it
// east; at sea (latitude above 60) Etc/GMT-7; nothing south of −60.
func border(lon float64, west, east string) zoneFinder {
	return func(la, lo float64) (string, error) {
		switch {
		case la > 60:
			return "Etc/GMT-7", nil
		case la < -60:
			return "", errors.New("no zone")
		case lo < lon:
			return west, nil
		default:
			return east, nil
		}
	}
}

func TestZoneFor(t *testing.T) {
	china := border(-180, "", "Asia/Shanghai")
	indochina := border(105, "Asia/Bangkok", "Asia/Ho_Chi_Minh")
	tests := []struct {
		name   string
		at     zoneFinder
		p      place
		admin1 string
		want   string
	}{
		{"listed zone is the coordinate zone", china,
			place{tz: "Asia/Shanghai", cc: "CN", lat: "23.1167", lon: "113.25"}, "Guangdong", "Asia/Shanghai"},
		{"wrong listed zone (Zhanjiang)", china,
			place{tz: "Asia/Urumqi", cc: "CN", lat: "21.2339", lon: "110.3875"}, "Guangdong", "Asia/Shanghai"},
		{"nested zone in its division (Kashgar)", china,
			place{tz: "Asia/Urumqi", cc: "CN", lat: "39.4704", lon: "75.9898"}, "Xinjiang", "Asia/Urumqi"},
		{"nested zone outside its division", china,
			place{tz: "Asia/Urumqi", cc: "CN", lat: "39.4704", lon: "75.9898"}, "Gansu", "Asia/Shanghai"},
		{"same offsets, another name", border(-180, "", "Asia/Kolkata"),
			place{tz: "Asia/Calcutta", cc: "IN", lat: "22.5697", lon: "88.3697"}, "", "Asia/Calcutta"},
		{"nautical coordinate zone", indochina,
			place{tz: "Asia/Ho_Chi_Minh", cc: "VN", lat: "61", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
		{"no coordinate zone", indochina,
			place{tz: "Asia/Ho_Chi_Minh", cc: "VN", lat: "-61", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
		{"coordinate zone not in the database", border(-180, "", "Mars/Olympus"),
			place{tz: "Asia/Ho_Chi_Minh", cc: "VN", lat: "21", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
		{"border town: the listed zone 2 km away", indochina,
			place{tz: "Asia/Bangkok", cc: "LA", lat: "20", lon: "105.02"}, "", "Asia/Bangkok"},
		{"listed zone 100 km away", indochina,
			place{tz: "Asia/Bangkok", cc: "VN", lat: "20", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
		{"listed zone 100 km away, west", indochina,
			place{tz: "Asia/Ho_Chi_Minh", cc: "VN", lat: "20", lon: "104"}, "", "Asia/Bangkok"},
		{"a nautical probe does not keep the listed zone", border(-180, "", "Asia/Ho_Chi_Minh"),
			place{tz: "Asia/Bangkok", cc: "VN", lat: "59.99", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
		{"listed zone not in the database", indochina,
			place{tz: "Nowhere/Town", cc: "VN", lat: "20", lon: "106"}, "", "Asia/Ho_Chi_Minh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newZoneJudge(tt.at, time.LoadLocation)
			p := tt.p
			p.id = "1"
			got, err := j.zoneFor(&p, tt.admin1)
			if err != nil {
				t.Fatalf("zoneFor: %v", err)
			}
			if got != tt.want {
				t.Errorf("zoneFor(%s at %s, %s) = %s, want %s", p.tz, p.lat, p.lon, got, tt.want)
			}
		})
	}
}

func TestZoneForBadCoordinates(t *testing.T) {
	j := newZoneJudge(border(0, "Europe/London", "Europe/Paris"), time.LoadLocation)
	p := &place{id: "7", tz: "Europe/Paris", lat: "north", lon: "2"}
	if _, err := j.zoneFor(p, ""); err == nil || !strings.Contains(err.Error(), "place 7") {
		t.Errorf("zoneFor with latitude %q: error %v, want one naming the place", p.lat, err)
	}
}

func TestCorrectZones(t *testing.T) {
	places := []*place{
		{id: "1784990", name: "Zhanjiang", cc: "CN", admin1: "30", tz: "Asia/Urumqi", lat: "21.2339", lon: "110.3875", pop: 637790},
		{id: "1280849", name: "Kashgar", cc: "CN", admin1: "13", tz: "Asia/Urumqi", lat: "39.4704", lon: "75.9898", pop: 506640},
		{id: "1809858", name: "Guangzhou", cc: "CN", admin1: "30", tz: "Asia/Shanghai", lat: "23.1167", lon: "113.25", pop: 11071424},
		{id: "1801180", name: "Maoming", cc: "CN", admin1: "30", tz: "Asia/Urumqi", lat: "21.6618", lon: "110.9178"},
	}
	admin1 := []*admin{{code: "CN.13", name: "Xinjiang"}, {code: "CN.30", name: "Guangdong"}}
	j := newZoneJudge(border(-180, "", "Asia/Shanghai"), time.LoadLocation)
	cs, err := correctZones(places, admin1, j)
	if err != nil {
		t.Fatalf("correctZones: %v", err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.p.name+" "+c.from+" "+c.to)
	}
	if want := []string{"Zhanjiang Asia/Urumqi Asia/Shanghai", "Maoming Asia/Urumqi Asia/Shanghai"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("corrections %q, want %q", got, want)
	}
	for _, p := range places {
		want := "Asia/Shanghai"
		if p.name == "Kashgar" {
			want = "Asia/Urumqi"
		}
		if p.tz != want {
			t.Errorf("%s: zone %s, want %s", p.name, p.tz, want)
		}
	}

	var b strings.Builder
	reportCorrections(&b, cs, admin1)
	for _, want := range []string{
		"zone corrections: 2 places",
		"1784990\tZhanjiang, CN, Guangdong\tAsia/Urumqi → Asia/Shanghai\tpop 637790",
		"    2  Asia/Urumqi → Asia/Shanghai",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
