package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/innerjourney/functions/shared/geo"
	"github.com/innerjourney/functions/shared/numerology"
)

// numerologyNow is the clock for the default --today (tests replace it).
var numerologyNow = time.Now

func init() {
	register(&command{
		name:    "numerology",
		summary: "numerology of a birth date (and name) with the personal year/month/day of a date, as JSON",
		run:     runNumerology,
	})
}

// runNumerology prints numerology.Result as JSON:
//
//	ops numerology --date 1942-06-18 [--name "…"] [--today YYYY-MM-DD | --zone Europe/Stockholm]
func runNumerology(_ context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "numerology", `numerology --date YYYY-MM-DD [--name "full birth name"] [--today YYYY-MM-DD] [--zone IANA]`)
	date := fs.String("date", "", "birth date, YYYY-MM-DD (required)")
	name := fs.String("name", "", "full birth name for expression, soul urge and personality (optional)")
	today := fs.String("today", "", "local date for the personal year, month and day (default: today in --zone)")
	zone := fs.String("zone", "", "IANA time zone whose current date is the default --today (default: this machine's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *date == "" {
		fs.Usage()
		return fmt.Errorf("--date is required")
	}
	birth, err := numerology.ParseDate(*date)
	if err != nil {
		return err
	}
	onText := *today
	if onText == "" {
		now := numerologyNow()
		if *zone != "" {
			loc, err := geo.LoadZone(*zone)
			if err != nil {
				return err
			}
			now = now.In(loc)
		}
		onText = now.Format("2006-01-02")
	}
	on, err := numerology.ParseDate(onText)
	if err != nil {
		return err
	}
	res, err := numerology.CalculateOn(birth, *name, on)
	if err != nil {
		return err
	}
	return writeResultJSON(env.stdout, res)
}

// writeResultJSON prints v as indented JSON, without HTML escaping.
func writeResultJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
