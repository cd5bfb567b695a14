package model

import (
	"strings"
	"testing"
)

func TestValidDocID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"u1", true},
		{"Jx8kQ2pLm0aZ3vB7nC1dE4fG5hI6", true},
		{"cus_Nf3k2", true},
		{"__x", true}, // only __.*__ is reserved
		{"x__", true},
		{"___", true},     // too short to match __.*__
		{"åsa_örn", true}, // UTF-8
		{strings.Repeat("a", 128), true},
		{"", false},
		{strings.Repeat("a", 129), false},
		{"a/b", false},
		{".", false},
		{"..", false},
		{"____", false},
		{"__name__", false},
		{"a\x00b", false},
		{"\xff\xfe", false},
	}
	for _, tt := range tests {
		if got := ValidDocID(tt.id); got != tt.want {
			t.Errorf("ValidDocID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
