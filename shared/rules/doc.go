// Package rules proves firestore.rules on the Cloud Firestore emulator.
//
// It has no production code: its tests seed one project with the Admin
// client, then send every request of a table — as an unauthenticated
// caller, the owner, another user, the assigned coach, an unassigned coach
// and an admin — through the emulator's REST API with unsigned ID tokens,
// and compare the answer (200 or 403 PERMISSION_DENIED) with the table.
// The access model itself is documented in the README ("Security rules").
//
// Run: go test ./shared/rules -run TestRulesMatrix -v
package rules
