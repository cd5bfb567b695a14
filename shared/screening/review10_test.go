package screening

import "testing"

// TestReview10NegativeNumericStringIsInvalid: an answer given as a
// negative numeric string ("-1", a common "skipped" sentinel) must be
// invalid, exactly as the same negative JSON number is: the values are
// PHQ 0–3, ASRS 0–4, AQ-10 0–3, yes/no 1/0, minutes. normalize() folds '-'
// into a space and trims it, so "-3" matched the option of value 3.
func TestReview10NegativeNumericStringIsInvalid(t *testing.T) {
	// Eight PHQ-9 items answered, item 3 "skipped" as "-1": the PHQ-9 must
	// stay incomplete, not be scored as if item 3 were "several days".
	r := Score(items("phq9", 0, 0, "-1", 0, 0, 0, 0, 0, 0))
	if r.Scores.PHQ9.Complete || r.Scores.PHQ9.Score != nil || r.InvalidAnswers != 1 {
		t.Errorf("PHQ-9 with item 3 = \"-1\": complete=%v score=%s invalid=%d; want incomplete, nil, 1",
			r.Scores.PHQ9.Complete, intp(r.Scores.PHQ9.Score), r.InvalidAnswers)
	}
	// All nine "-3": out of range, not a severe PHQ-9 with item 9 = 3.
	r = Score(items("phq9", "-3", "-3", "-3", "-3", "-3", "-3", "-3", "-3", "-3"))
	if r.Scores.PHQ9.Score != nil || r.WellbeingFlags.DepressionRisk || r.WellbeingFlags.SuicideRisk || r.InvalidAnswers != 9 {
		t.Errorf("PHQ-9 all \"-3\": score=%s severity=%q flags=%+v invalid=%d; want nothing scored, 9 invalid",
			intp(r.Scores.PHQ9.Score), r.Scores.PHQ9.Severity, r.WellbeingFlags, r.InvalidAnswers)
	}
	// The same answers as JSON numbers are invalid; strings must agree.
	for _, tc := range []struct {
		qid string
		v   string
		n   int
	}{{"safety_1", "-1", -1}, {"asrs_4", "-3", -3}, {"aq10_2", "-2", -2}, {"time_commitment", "-30", -30}, {"trait_energy_1", "-1", -1}} {
		num := Score([]Answer{{tc.qid, tc.n}})
		str := Score([]Answer{{tc.qid, tc.v}})
		if num.InvalidAnswers != 1 {
			t.Fatalf("%s = %d (number): invalid=%d, want 1", tc.qid, tc.n, num.InvalidAnswers)
		}
		if str.InvalidAnswers != 1 || str.Answered != 0 || str.WellbeingFlags.SuicideRisk || str.TimeCommitment != nil {
			t.Errorf("%s = %q (string): invalid=%d answered=%d suicideRisk=%v timeCommitment=%v; want it invalid like the number %d",
				tc.qid, tc.v, str.InvalidAnswers, str.Answered, str.WellbeingFlags.SuicideRisk, str.TimeCommitment, tc.n)
		}
	}
}
