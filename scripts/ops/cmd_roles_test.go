package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/testenv"
)

// TestRolesKeepsOtherClaims: ops roles gives and removes the admin and
// coach roles one at a time, keeps the account's other claims, changes
// nothing when asked for what is already so, and refuses a bad value.
func TestRolesKeepsOtherClaims(t *testing.T) {
	a := testenv.AuthEmulator(t)
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1") // the emulators' project defaults apply; Firestore is not used
	t.Setenv("GOOGLE_CLOUD_PROJECT", testenv.AuthProject)
	ctx := context.Background()
	a.SignIn(t, "roles-u1", map[string]any{"admin": true, "entitlements": []any{"premium"}})

	steps := []struct {
		args []string
		want rolesResult
	}{
		{[]string{"--uid", "roles-u1"}, rolesResult{UID: "roles-u1", Admin: true}},
		{[]string{"--uid", "roles-u1", "--coach", "true"}, rolesResult{UID: "roles-u1", Admin: true, Coach: true, Changed: true}},
		{[]string{"--uid", "roles-u1", "--admin", "false"}, rolesResult{UID: "roles-u1", Coach: true, Changed: true}},
		{[]string{"--uid", "roles-u1", "--admin", "false", "--coach", "true"}, rolesResult{UID: "roles-u1", Coach: true}},
	}
	for _, s := range steps {
		code, out, errOut := runOps(t, append([]string{"roles"}, s.args...)...)
		var got rolesResult
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got != s.want {
			t.Errorf("roles %s: exit %d, %q %q; want %+v", strings.Join(s.args, " "), code, out, errOut, s.want)
		}
	}
	u, err := a.Client.GetUser(ctx, "roles-u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.CustomClaims["admin"]; ok || u.CustomClaims["coach"] != true {
		t.Errorf("claims %v: want coach only among the roles", u.CustomClaims)
	}
	if e, _ := u.CustomClaims["entitlements"].([]any); len(e) != 1 || e[0] != "premium" {
		t.Errorf("claims %v: the entitlements were not kept", u.CustomClaims)
	}
	for _, bad := range [][]string{{"--uid", "roles-u1", "--admin", "yes please"}, {"--admin", "true"}, {"--uid", "roles-u1", "roles-u2"}} {
		if code, _, _ := runOps(t, append([]string{"roles"}, bad...)...); code == 0 {
			t.Errorf("roles %s: accepted", strings.Join(bad, " "))
		}
	}
}
