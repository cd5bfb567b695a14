// Package screening scores the Inner Journey onboarding questionnaire: focus
// area, daily time commitment, personality traits, and the validated
// screening instruments PHQ-2/PHQ-9 (depression), an explicit safety
// question, ASRS v1.1 Part A (adult ADHD) and AQ-10 (adult autism).
//
// The question bank is data: questions/v1.json, embedded and versioned
// (Bank.Version, copied into every Result). The scoring rules — the
// published cut-offs, the PHQ-9 bands, the 0–10 scaling and the flag rules —
// are code, versioned by RulesVersion. Scoring is pure and never fails on
// bad answers: unknown question ids and invalid answers are counted, and no
// score is produced from an incomplete instrument. The one deliberate
// exception is safety first: PHQ-9 item 9 ≥ 1, or the safety question
// answered yes, sets WellbeingFlags.SuicideRisk on its own.
//
// These are screening results, not diagnoses (Disclaimer); every Result
// carries that statement.
package screening
