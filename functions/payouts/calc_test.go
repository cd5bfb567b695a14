package payouts

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		weights map[string]int64
		want    map[string]int64
	}{
		{"equal thirds, ties to the smaller id", 8000, map[string]int64{"c": 1, "a": 1, "b": 1}, map[string]int64{"a": 2667, "b": 2667, "c": 2666}},
		{"one öre", 1, map[string]int64{"a": 1, "b": 1}, map[string]int64{"a": 1, "b": 0}},
		{"bps 70/30 with a half öre each", 12345, map[string]int64{"a": 7000, "b": 3000}, map[string]int64{"a": 8642, "b": 3703}},
		{"largest remainder wins over id", 100, map[string]int64{"a": 1, "b": 2}, map[string]int64{"a": 33, "b": 67}},
		{"negative mirrors positive", -8000, map[string]int64{"a": 1, "b": 1, "c": 1}, map[string]int64{"a": -2667, "b": -2667, "c": -2666}},
		{"zero weight gets nothing", 999, map[string]int64{"a": 1, "z": 0}, map[string]int64{"a": 999, "z": 0}},
		{"zero total", 0, map[string]int64{"a": 1}, map[string]int64{"a": 0}},
		{"seven ways", 1000003, map[string]int64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1},
			map[string]int64{"a": 142858, "b": 142858, "c": 142858, "d": 142858, "e": 142857, "f": 142857, "g": 142857}},
	}
	for _, tt := range tests {
		got := Split(tt.total, tt.weights)
		var sum int64
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %d, want %d (all %v)", tt.name, k, got[k], v, got)
			}
		}
		for _, v := range got {
			sum += v
		}
		if sum != tt.total {
			t.Errorf("%s: parts sum to %d, want %d", tt.name, sum, tt.total)
		}
	}
}

func TestSharesAlwaysExact(t *testing.T) {
	weights := []map[string]int64{{"a": 1}, {"a": 1, "b": 1, "c": 1}, {"a": 3333, "b": 3333, "c": 3334}, {"a": 1, "b": 9999}}
	for _, w := range weights {
		for _, bps := range []int{0, 1, 1500, 2000, 3333, 9999, 10000} {
			for net := int64(0); net < 3000; net += 7 {
				sh := shares(net, bps, w)
				var g, c, a int64
				for _, s := range sh {
					if s.amount < 0 || s.gross < s.amount {
						t.Fatalf("net %d bps %d w %v: bad share %+v", net, bps, w, s)
					}
					g, c, a = g+s.gross, c+s.commission, a+s.amount
				}
				if g != net || c != Commission(net, bps) || a != net-Commission(net, bps) {
					t.Fatalf("net %d bps %d w %v: sums %d/%d/%d", net, bps, w, g, c, a)
				}
			}
		}
	}
}

func TestCommissionAndVAT(t *testing.T) {
	tests := []struct {
		net  int64
		bps  int
		want int64
	}{
		{10000, 2000, 2000}, {4999, 2000, 1000}, {12345, 1000, 1235}, {5, 1000, 1}, {4, 1000, 0},
		{-12345, 1000, -1235}, {1, 5000, 1}, {99999, 0, 0}, {99999, 10000, 99999},
	}
	for _, tt := range tests {
		if got := Commission(tt.net, tt.bps); got != tt.want {
			t.Errorf("Commission(%d, %d) = %d, want %d", tt.net, tt.bps, got, tt.want)
		}
	}
	vat := []struct{ amount, want int64 }{{12500, 2500}, {2000, 400}, {1000, 200}, {3, 1}, {2, 0}, {-2000, -400}, {0, 0}}
	for _, tt := range vat {
		if got := VATIncluded(tt.amount, 2500); got != tt.want {
			t.Errorf("VATIncluded(%d) = %d, want %d", tt.amount, got, tt.want)
		}
	}
}

func TestNetAmount(t *testing.T) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		p               model.Payment
		net             int64
		countable, held bool
	}{
		{"succeeded", model.Payment{Amount: 10000, Status: model.PaymentSucceeded}, 10000, true, false},
		{"pending", model.Payment{Amount: 10000, Status: model.PaymentPending}, 0, false, false},
		{"failed", model.Payment{Amount: 10000, Status: model.PaymentFailed}, 0, false, false},
		{"partially refunded", model.Payment{Amount: 10000, Status: model.PaymentPartiallyRefunded,
			RefundDetails: &model.RefundDetails{AmountRefunded: 2500}}, 7500, true, false},
		{"refunded", model.Payment{Amount: 10000, Status: model.PaymentRefunded, RefundDetails: &model.RefundDetails{AmountRefunded: 10000}}, 0, true, false},
		{"open dispute holds", model.Payment{Amount: 10000, Status: model.PaymentSucceeded,
			Dispute: &model.Dispute{Amount: 10000, Open: true, CreatedAt: at}}, 10000, true, true},
		{"lost dispute counts as refund", model.Payment{Amount: 10000, Status: model.PaymentSucceeded,
			Dispute: &model.Dispute{Amount: 6000, Lost: true, CreatedAt: at}}, 4000, true, false},
		{"won dispute changes nothing", model.Payment{Amount: 10000, Status: model.PaymentSucceeded,
			Dispute: &model.Dispute{Amount: 10000, Status: "won", CreatedAt: at}}, 10000, true, false},
		{"refund and lost dispute never below zero", model.Payment{Amount: 10000, Status: model.PaymentPartiallyRefunded,
			RefundDetails: &model.RefundDetails{AmountRefunded: 5000}, Dispute: &model.Dispute{Amount: 10000, Lost: true}}, 0, true, false},
	}
	for _, tt := range tests {
		net, countable, held := NetAmount(&tt.p)
		if net != tt.net || countable != tt.countable || held != tt.held {
			t.Errorf("%s: got %d %v %v, want %d %v %v", tt.name, net, countable, held, tt.net, tt.countable, tt.held)
		}
	}
}

func TestWeights(t *testing.T) {
	bad := 12000
	tests := []struct {
		name string
		p    model.Program
		want map[string]int64
		ok   bool
	}{
		{"equal", model.Program{CreatedBy: []string{"a", "b", "a", ""}}, map[string]int64{"a": 1, "b": 1}, true},
		{"splits", model.Program{CreatedBy: []string{"a", "b"}, CoachSplits: map[string]int{"a": 7000, "b": 3000}}, map[string]int64{"a": 7000, "b": 3000}, true},
		{"zero share left out", model.Program{CreatedBy: []string{"a", "b"}, CoachSplits: map[string]int{"a": 10000, "b": 0}}, map[string]int64{"a": 10000}, true},
		{"no coach", model.Program{}, nil, false},
		{"stranger in splits", model.Program{CreatedBy: []string{"a"}, CoachSplits: map[string]int{"a": 5000, "x": 5000}}, nil, false},
		{"splits not 100 %", model.Program{CreatedBy: []string{"a", "b"}, CoachSplits: map[string]int{"a": 5000, "b": 4000}}, nil, false},
		{"negative split", model.Program{CreatedBy: []string{"a", "b"}, CoachSplits: map[string]int{"a": 11000, "b": -1000}}, nil, false},
	}
	for _, tt := range tests {
		got, err := Weights(&tt.p)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
	}
	if _, err := CommissionBps(&model.Program{CommissionBps: &bad}, 2000); err == nil {
		t.Error("commissionBps 12000 accepted")
	}
}

func TestLoadSettings(t *testing.T) {
	env := map[string]string{"PAYOUTS_COMMISSION_BPS": "0", "FORTNOX_VOUCHER_SERIES": "q", "FORTNOX_BOOK_SALES": "true",
		"FORTNOX_CLEARING_ACCOUNT": "1930", "PAYOUTS_ZONE": "Europe/Oslo"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	st, err := LoadSettings(lookup)
	if err != nil {
		t.Fatal(err)
	}
	st = st.withDefaults()
	if st.CommissionBps != 0 || st.VoucherSeries != "Q" || !st.BookSales || st.ClearingAccount != 1930 ||
		st.Zone.String() != "Europe/Oslo" || st.PeriodDays != 14 || st.VATBps != 2500 {
		t.Errorf("settings %+v", st)
	}
	for k, v := range map[string]string{"PAYOUTS_COMMISSION_BPS": "10001", "FORTNOX_CLEARING_ACCOUNT": "999",
		"FORTNOX_BOOK_SALES": "maybe", "PAYOUTS_ZONE": "Mars/Base", "FORTNOX_VOUCHER_SERIES": "A B"} {
		env := map[string]string{k: v}
		if _, err := LoadSettings(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
	// With the sales booked, a payout must clear the liability they
	// credit: a cost account as its debit would count the cost twice.
	for _, env := range []map[string]string{
		{"FORTNOX_BOOK_SALES": "true", "FORTNOX_PAYOUT_DEBIT_ACCOUNT": "4600"},
		{"FORTNOX_BOOK_SALES": "true", "FORTNOX_LIABILITY_ACCOUNT": "2891"},
	} {
		if _, err := LoadSettings(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
	for _, env := range []map[string]string{
		{"FORTNOX_BOOK_SALES": "false", "FORTNOX_PAYOUT_DEBIT_ACCOUNT": "4600"},
		{"FORTNOX_BOOK_SALES": "true", "FORTNOX_PAYOUT_DEBIT_ACCOUNT": "2891", "FORTNOX_LIABILITY_ACCOUNT": "2891"},
	} {
		if _, err := LoadSettings(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Errorf("%v refused: %v", env, err)
		}
	}
}
