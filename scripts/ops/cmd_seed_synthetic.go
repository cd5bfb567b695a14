package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

// syntheticPlaces are birthplaces with their zones, for load-test users.
var syntheticPlaces = []struct{ Name, Zone string }{
	{"Stockholm, Sweden", "Europe/Stockholm"}, {"Göteborg, Sweden", "Europe/Stockholm"}, {"Malmö, Sweden", "Europe/Stockholm"},
	{"Uppsala, Sweden", "Europe/Stockholm"}, {"Oslo, Norway", "Europe/Oslo"}, {"Copenhagen, Denmark", "Europe/Copenhagen"},
	{"Helsinki, Finland", "Europe/Helsinki"}, {"London, United Kingdom", "Europe/London"}, {"Berlin, Germany", "Europe/Berlin"},
	{"Madrid, Spain", "Europe/Madrid"}, {"New York, United States", "America/New_York"}, {"Chicago, United States", "America/Chicago"},
	{"Los Angeles, United States", "America/Los_Angeles"}, {"São Paulo, Brazil", "America/Sao_Paulo"},
	{"Tokyo, Japan", "Asia/Tokyo"}, {"Sydney, Australia", "Australia/Sydney"}, {"Mumbai, India", "Asia/Kolkata"},
	{"Cape Town, South Africa", "Africa/Johannesburg"}, {"Reykjavík, Iceland", "Atlantic/Reykjavik"}, {"Kiruna, Sweden", "Europe/Stockholm"},
}

// seedSynthetic writes n users with realistic birth data, zones and focus
// areas (uids synthetic-000001 …), with BulkWriter and a progress bar.
// A fixed seed makes the set reproducible.
func seedSynthetic(ctx context.Context, env *cmdEnv, c *firestore.Client, n int, now time.Time) (int, error) {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	bw := c.BulkWriter(ctx)
	bar := newProgress(env.stderr, "seed users", n)
	var jobs []*firestore.BulkWriterJob
	for i := 1; i <= n; i++ {
		place := syntheticPlaces[rng.IntN(len(syntheticPlaces))]
		birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(55*365))
		u := model.User{
			UserID: fmt.Sprintf("synthetic-%06d", i), BirthDate: birth.Format(time.DateOnly),
			BirthLocation: place.Name, TimeZone: place.Zone, CreatedAt: now, InsightsOptIn: true,
			FocusArea:      model.FocusAreas[rng.IntN(len(model.FocusAreas))],
			TimeCommitment: []int{5, 10, 15, 20, 30}[rng.IntN(5)], Locale: "en",
		}
		switch r := rng.IntN(10); {
		case r < 7: // most know their birth time
			u.BirthTime = fmt.Sprintf("%02d:%02d", rng.IntN(24), rng.IntN(60))
		case r == 9: // some gave no birth data at all
			u.BirthDate, u.BirthLocation = "", ""
		}
		j, err := bw.Set(c.Collection(model.ColUsers).Doc(u.UserID), u)
		if err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
		jobs = append(jobs, j)
		if len(jobs) == 500 || i == n {
			bw.Flush()
			for _, j := range jobs {
				if _, err := j.Results(); err != nil {
					return 0, fmt.Errorf("seed: %w", err)
				}
			}
			jobs = jobs[:0]
			bar.set(i)
		}
	}
	bw.End()
	bar.done()
	return n, nil
}
