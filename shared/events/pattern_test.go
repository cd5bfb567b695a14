package events_test

import (
	"reflect"
	"testing"

	"github.com/innerjourney/functions/shared/events"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          map[string]string
		ok            bool
	}{
		{"users/{uid}", "users/abc", map[string]string{"uid": "abc"}, true},
		{"users/{uid}", "/users/abc/", map[string]string{"uid": "abc"}, true},
		{"users/{uid}", "users/abc/daily_insights/d1", nil, false},
		{"users/{uid}", "sessions/abc", nil, false},
		{"users/{uid}", "users", nil, false},
		{"users/{uid}", "", nil, false},
		{"users/{uid}/daily_insights/{date}", "users/abc/daily_insights/2026-11-21",
			map[string]string{"uid": "abc", "date": "2026-11-21"}, true},
		{"users/{uid}/daily_insights/{date}", "users/abc/other/2026-11-21", nil, false},
		{"user_activations/{id}", "user_activations/ua1", map[string]string{"id": "ua1"}, true},
		{"users/abc", "users/abc", map[string]string{}, true},
		{"users/*", "users/abc", map[string]string{}, true},
		{"users/{uid}/{sub=**}", "users/abc/daily_insights/d1", map[string]string{"uid": "abc", "sub": "daily_insights/d1"}, true},
		{"users/{uid}/{sub=**}", "users/abc", nil, false},
		{"users/**", "users/abc/x/y", map[string]string{}, true},
		{"{coll}/{id}", "payments/p1", map[string]string{"coll": "payments", "id": "p1"}, true},
		{"users/{uid}", "users//", nil, false},
		{"users//{uid}", "users//abc", nil, false},
		{"", "users/abc", nil, false},
		{"users/{}", "users/abc", nil, false},
		{"users/{uid", "users/{uid", nil, false},
		{"users/{=**}", "users/abc", nil, false},
		{"users/**/x", "users/a/x", nil, false},
		{"users/{a/b}", "users/x", nil, false},
		{"users/{uid}/{sub=**}", "users/abc//x", nil, false},
	}
	for _, tt := range tests {
		got, ok := events.MatchPattern(tt.pattern, tt.path)
		if ok != tt.ok || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("MatchPattern(%q, %q) = %v, %v; want %v, %v", tt.pattern, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
