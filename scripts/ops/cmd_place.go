package main

import (
	"context"
	"fmt"

	"github.com/innerjourney/functions/shared/geo"
)

func init() {
	register(&command{
		name:    "place",
		summary: "resolve a birthplace (offline GeoNames table) to coordinates and time zone, as JSON",
		run:     runPlace,
	})
}

// placeOutput is geo.Result, plus the birth instant when --date and --time
// were given.
type placeOutput struct {
	geo.Result
	Birth *geo.Instant `json:"birth,omitempty"`
}

// runPlace prints the geo.Result (best match and candidates) as JSON:
//
//	ops place --query "Göteborg" [--date 1990-05-15 --time 14:30 [--policy pre|earlier|later|reject]]
//	ops place --id 2711537
func runPlace(_ context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "place", `place --query "City, Country" | --id GEONAMEID [--date YYYY-MM-DD --time HH:MM [--policy pre|earlier|later|reject]]`)
	query := fs.String("query", "", `free text, e.g. "Stockholm, Sweden", "Gothenburg, SE", "Paris, TX"`)
	id := fs.Int("id", 0, "GeoNames id of a candidate (instead of --query)")
	date := fs.String("date", "", "local birth date, YYYY-MM-DD: also convert --date --time to UTC in the best place's zone")
	clock := fs.String("time", "", "local birth time, HH:MM or HH:MM:SS (with --date)")
	policy := fs.String("policy", "pre", "for a time skipped or repeated by a clock change: pre (offset before the change), earlier, later, reject")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (*query == "") == (*id == 0) {
		fs.Usage()
		return fmt.Errorf("give exactly one of --query and --id")
	}
	if (*date == "") != (*clock == "") {
		return fmt.Errorf("--date and --time go together")
	}
	pol, ok := map[string]geo.Policy{"pre": geo.PreTransition, "earlier": geo.Earlier, "later": geo.Later, "reject": geo.Reject}[*policy]
	if !ok {
		return fmt.Errorf("--policy must be pre, earlier, later or reject")
	}

	var out placeOutput
	if *id != 0 {
		p, err := geo.LookupID(*id)
		if err != nil {
			return err
		}
		out.Result = geo.Result{Best: p, Candidates: []geo.Place{p}, Matches: 1}
	} else {
		r, err := geo.Lookup(*query)
		if err != nil {
			return err
		}
		out.Result = r
	}
	if *date != "" {
		c, err := geo.ParseCivil(*date, *clock)
		if err != nil {
			return err
		}
		in, err := geo.LocalToUTCPolicy(c, out.Best.TimeZone, pol)
		if err != nil {
			return err
		}
		out.Birth = &in
	}
	return writeResultJSON(env.stdout, out)
}
