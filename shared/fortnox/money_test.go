package fortnox

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/innerjourney/functions/shared/fault"
)

func TestAmountMarshal(t *testing.T) {
	tests := []struct {
		ore  Amount
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{10, "0.10"},
		{100, "1.00"},
		{123456, "1234.56"},
		{-5, "-0.05"},
		{-100050, "-1000.50"},
		{MaxAmount, "999999999999.99"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tc := range tests {
		got, err := json.Marshal(tc.ore)
		if err != nil || string(got) != tc.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", int64(tc.ore), got, err, tc.want)
		}
		var back Amount
		if err := json.Unmarshal(got, &back); err != nil || back != tc.ore {
			t.Errorf("round trip %d: %d, %v", int64(tc.ore), int64(back), err)
		}
	}
}

func TestAmountUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		ok   bool
	}{
		{"1234.56", 123456, true},
		{"1234.5", 123450, true},
		{"1234", 123400, true},
		{"0.1", 10, true},
		{"12.500", 1250, true},
		{"-0.01", -1, true},
		{"1e2", 10000, true},
		{"1.5E-1", 15, true},
		{`"99.99"`, 9999, true},
		{"null", 0, true},
		{"0.001", 0, false},
		{"0.015", 0, false},
		{"92233720368547758.08", 0, false}, // one öre beyond int64
		{`"1/3"`, 0, false},
		{`"0x10"`, 0, false},
		{`"Inf"`, 0, false},
		{`""`, 0, false},
		{`"abc"`, 0, false},
	}
	for _, tc := range tests {
		var a Amount
		err := json.Unmarshal([]byte(tc.in), &a)
		if tc.ok && (err != nil || a != tc.want) {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", tc.in, int64(a), err, int64(tc.want))
		}
		if !tc.ok && err == nil {
			t.Errorf("Unmarshal(%s) = %d, want an error", tc.in, int64(a))
		}
		if !tc.ok && err != nil && fault.CodeOf(err) != fault.InvalidArgument {
			t.Errorf("Unmarshal(%s): code %s", tc.in, fault.CodeOf(err))
		}
	}
}

// TestAmountNoDrift shows what float64 kronor would get wrong: 0.10 kr added
// a thousand times, and random amounts round-tripped.
func TestAmountNoDrift(t *testing.T) {
	var sum Amount
	var f float64
	for range 1000 {
		var a Amount
		if err := json.Unmarshal([]byte("0.1"), &a); err != nil {
			t.Fatal(err)
		}
		sum += a
		f += 0.1
	}
	if sum != 10000 {
		t.Fatalf("sum = %d öre, want 10000", int64(sum))
	}
	if f == 100 {
		t.Log("float64 happened to be exact (it usually is not)")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		a := Amount(r.Int64N(int64(MaxAmount)) - int64(MaxAmount)/2)
		data, _ := json.Marshal(a)
		var back Amount
		if err := json.Unmarshal(data, &back); err != nil || back != a {
			t.Fatalf("round trip %d via %s: %d, %v", int64(a), data, int64(back), err)
		}
	}
}
