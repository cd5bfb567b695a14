package payouts

import "testing"

// TestProgramFieldsPayoutsDoNotUse: a coach can write a program field the
// rules bound only in size (tags: [1], a module of the wrong shape). The
// webhook records the sale whatever such a field holds, so the payouts
// must pay it too; only a split or commission that is not an integer in
// range keeps the payment back, with that reason.
func TestProgramFieldsPayoutsDoNotUse(t *testing.T) {
	cases := []struct {
		name    string
		extra   map[string]any
		payouts int
		skipped string
	}{
		{"tags of the wrong type", map[string]any{"tags": []any{1}}, 1, ""},
		{"a module of the wrong shape", map[string]any{"modules": []any{"intro"}}, 1, ""},
		{"a title of the wrong type", map[string]any{"title": 42}, 1, ""},
		{"a coach id of the wrong type beside a valid one", map[string]any{"createdBy": []any{"coach-a", 7}}, 1, ""},
		{"split values of the wrong type", map[string]any{"coachSplits": map[string]any{"coach-a": "10000"}}, 0, skipBadSplit},
		{"splits not a map", map[string]any{"coachSplits": "all to coach-a"}, 0, skipBadSplit},
		{"commission of the wrong type", map[string]any{"commissionBps": "2000"}, 0, skipBadCommission},
		{"commission of a fraction", map[string]any{"commissionBps": 12.5}, 0, skipBadCommission},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			prog := map[string]any{"programId": "prog-m", "title": "p", "createdBy": []any{"coach-a"}}
			for k, v := range tc.extra {
				prog[k] = v
			}
			e.set("programs/prog-m", prog)
			e.coach("coach-a", "acct_a", true)
			e.payment("pay-m", "prog-m", 10000, "SEK", 2)
			rep := e.run(RunRequest{DryRun: true})
			if len(rep.Payouts) != tc.payouts {
				t.Fatalf("payouts %+v, skipped %v: want %d", rep.Payouts, rep.Skipped, tc.payouts)
			}
			if tc.skipped != "" && rep.Skipped[tc.skipped] != 1 {
				t.Errorf("skipped %v, want %q once", rep.Skipped, tc.skipped)
			}
		})
	}
}
