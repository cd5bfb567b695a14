package screening

import "testing"

// Review (scoring): every published cut-off checked exactly at and below
// its boundary, with the published keys written out independently of the
// bank (Kroenke 2001/2003; Kessler 2005 Part A shading; Allison 2012 /
// ARC scoring sheet).

func TestReview23ScoringPHQBoundaries(t *testing.T) {
	for total := 0; total <= 27; total++ {
		vals := make([]any, 9)
		left := total
		for i := range vals {
			v := min(3, left)
			vals[i] = v
			left -= v
		}
		r := Score(items("phq9", vals...))
		want := "none"
		switch {
		case total >= 20:
			want = "severe"
		case total >= 15:
			want = "moderately_severe"
		case total >= 10:
			want = "moderate"
		case total >= 5:
			want = "mild"
		}
		if r.Scores.PHQ9.Score == nil || *r.Scores.PHQ9.Score != total || r.Scores.PHQ9.Severity != want {
			t.Errorf("PHQ-9 total %d: score %s severity %q, want %q", total, intp(r.Scores.PHQ9.Score), r.Scores.PHQ9.Severity, want)
		}
		phq2 := vals[0].(int) + vals[1].(int)
		wantDep := total >= 10 || phq2 >= 3
		if r.WellbeingFlags.DepressionRisk != wantDep {
			t.Errorf("PHQ-9 total %d (PHQ-2 %d): depressionRisk %v, want %v", total, phq2, r.WellbeingFlags.DepressionRisk, wantDep)
		}
		wantSui := vals[8].(int) >= 1
		if r.WellbeingFlags.SuicideRisk != wantSui {
			t.Errorf("PHQ-9 total %d item9 %d: suicideRisk %v", total, vals[8], r.WellbeingFlags.SuicideRisk)
		}
	}
	for a := 0; a <= 3; a++ {
		for b := 0; b <= 3; b++ {
			r := Score(items("phq2", a, b))
			if *r.Scores.PHQ2.Score != a+b || *r.Scores.PHQ2.Positive != (a+b >= 3) || r.WellbeingFlags.DepressionRisk != (a+b >= 3) {
				t.Errorf("PHQ-2 %d+%d: %s %s dep=%v", a, b, intp(r.Scores.PHQ2.Score), boolp(r.Scores.PHQ2.Positive), r.WellbeingFlags.DepressionRisk)
			}
		}
	}
}

func TestReview23ScoringASRSAndAQ10Keys(t *testing.T) {
	// ASRS Part A: shaded from Sometimes (items 1-3) or Often (4-6).
	asrsFrom := []int{2, 2, 2, 3, 3, 3}
	for n := 0; n <= 6; n++ {
		vals := make([]any, 6)
		for i := range vals {
			if i < n {
				vals[i] = asrsFrom[i] // exactly at the shading
			} else {
				vals[i] = asrsFrom[i] - 1 // one below
			}
		}
		r := Score(items("asrs", vals...))
		if r.Scores.ASRS.Count == nil || *r.Scores.ASRS.Count != n || *r.Scores.ASRS.Positive != (n >= 4) {
			t.Errorf("ASRS %v: count %s positive %s, want %d %v", vals, intp(r.Scores.ASRS.Count), boolp(r.Scores.ASRS.Positive), n, n >= 4)
		}
	}
	// AQ-10 (the key, aqAgreeScores: agree scores on 1, 7, 8, 10; each
	// item's direction is TestAQ10ItemDirections): every total, with the
	// non-scoring answers only slightly off, positive from 6.
	for n := 0; n <= 10; n++ {
		base := make([]any, 10)
		for i := range base {
			scoring := i < n
			if aqAgreeScores[i+1] == scoring {
				base[i] = "slightly_agree"
			} else {
				base[i] = "slightly_disagree"
			}
		}
		r := Score(items("aq10", base...))
		if *r.Scores.AQ10.Score != n || *r.Scores.AQ10.Positive != (n >= 6) || *r.NeuroTendencies.AutismScore != n {
			t.Errorf("AQ-10 %d: %s %s", n, intp(r.Scores.AQ10.Score), boolp(r.Scores.AQ10.Positive))
		}
	}
}

// Unanswered items as clients send them (null, "", missing) never score,
// and the rest of the instrument is left unscored.
func TestReview23ScoringUnanswered(t *testing.T) {
	for _, skip := range []string{`null`, `""`, `"skipped"`, `-1`, `"n/a"`} {
		doc := `[{"questionId":"phq9_1","answer":3},{"questionId":"phq9_2","answer":3},{"questionId":"phq9_3","answer":3},{"questionId":"phq9_4","answer":3},` +
			`{"questionId":"phq9_5","answer":3},{"questionId":"phq9_6","answer":3},{"questionId":"phq9_7","answer":3},{"questionId":"phq9_8","answer":3},{"questionId":"phq9_9","answer":` + skip + `}]`
		r, err := ScoreJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if r.Scores.PHQ9.Score != nil || r.Scores.PHQ9.Item9 != nil || r.WellbeingFlags.SuicideRisk {
			t.Errorf("item 9 = %s: score %s item9 %s suicide %v", skip, intp(r.Scores.PHQ9.Score), intp(r.Scores.PHQ9.Item9), r.WellbeingFlags.SuicideRisk)
		}
		if !r.WellbeingFlags.DepressionRisk { // PHQ-2 = 6
			t.Errorf("item 9 = %s: depressionRisk lost", skip)
		}
	}
}
