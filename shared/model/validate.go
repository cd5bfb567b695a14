package model

import (
	"time"

	"github.com/innerjourney/functions/shared/fault"
)

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD.
func ValidDate(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// ValidClock reports whether s is a 24-hour time written HH:MM.
func ValidClock(s string) bool { return hhmmRE.MatchString(s) }

// Validate checks the client-written onboarding fields of a user document.
// It returns a fault.InvalidArgument error naming the first bad field.
func (u *User) Validate() error {
	if u.UserID == "" {
		return fault.Invalid("userId is required")
	}
	if u.BirthDate != "" && !ValidDate(u.BirthDate) {
		return fault.Invalid("birthDate must be a date YYYY-MM-DD")
	}
	if u.BirthTime != "" && !ValidClock(u.BirthTime) {
		return fault.Invalid("birthTime must be HH:MM")
	}
	if len(u.BirthLocation) > 200 {
		return fault.Invalid("birthLocation is longer than 200 characters")
	}
	if u.UIStyle != "" && !u.UIStyle.Valid() {
		return fault.Invalid("uiStyle %q is not known", u.UIStyle)
	}
	if u.FocusArea != "" && !u.FocusArea.Valid() {
		return fault.Invalid("focusArea %q is not known", u.FocusArea)
	}
	if u.TimeCommitment < 0 || u.TimeCommitment > 600 {
		return fault.Invalid("timeCommitment must be 0–600 minutes")
	}
	if u.TimeZone != "" {
		if _, err := time.LoadLocation(u.TimeZone); err != nil {
			return fault.Invalid("timeZone %q is not an IANA zone", u.TimeZone)
		}
	}
	if u.InsightHour != nil && (*u.InsightHour < 0 || *u.InsightHour > 23) {
		return fault.Invalid("insightHour must be 0–23")
	}
	if len(u.Answers) > 200 {
		return fault.Invalid("too many answers")
	}
	return nil
}

// Location returns the user's time zone, UTC when unset or unknown.
func (u *User) Location() *time.Location {
	if u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}
