package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/innerjourney/functions/shared/model"
)

func init() {
	register(&command{name: "roles", summary: "roles: show, give or remove a user's admin and coach roles (custom claims)", run: runRoles})
}

const rolesUsage = "roles --uid U [--admin true|false] [--coach true|false] [--project P]"

// rolesResult is what ops roles prints: the user's roles after the
// command, and whether it changed them.
type rolesResult struct {
	UID     string `json:"uid"`
	Admin   bool   `json:"admin"`
	Coach   bool   `json:"coach"`
	Changed bool   `json:"changed"`
}

// runRoles shows or sets the admin and coach custom claims of one
// account, keeping its other claims (entitlements, …). Custom claims can
// be set only through the Admin SDK (the Firebase console has no editor
// for them), so this is how an operator makes or unmakes an admin or a
// coach:
//
//	ops roles --uid U --project P                   # show
//	ops roles --uid U --coach true --project P      # make a coach
//	ops roles --uid U --admin false --project P     # remove the admin role
//
// The callables read the roles from the account at every call, so a
// change counts there at once; the security rules read them from the ID
// token, so there it counts when the user's token is next refreshed (at
// most an hour; see the README).
func runRoles(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "roles", rolesUsage)
	project := fs.String("project", "", "project id (default $GOOGLE_CLOUD_PROJECT or demo-innerjourney on the emulators)")
	uid := fs.String("uid", "", "the account's uid")
	set := map[string]bool{}
	for _, role := range []string{"admin", "coach"} {
		fs.Func(role, "give (true) or remove (false) the "+role+" role", func(s string) error {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return errors.New("true or false")
			}
			set[role] = v
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("roles: unexpected argument %q (one --uid per run)", fs.Arg(0))
	}
	if !model.ValidDocID(*uid) {
		return errors.New("roles: --uid is required")
	}
	proj, err := opsProject(*project)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	c, _, err := projectClients(ctx, proj)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	ac, err := c.Auth(ctx)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	u, err := ac.GetUser(ctx, *uid)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	claims := maps.Clone(u.CustomClaims)
	if claims == nil {
		claims = map[string]any{}
	}
	changed := false
	for role, give := range set {
		if had := claims[role] == true; had == give {
			continue
		}
		changed = true
		if give {
			claims[role] = true
		} else {
			delete(claims, role)
		}
	}
	if changed {
		if err := ac.SetCustomUserClaims(ctx, *uid, claims); err != nil {
			return fmt.Errorf("roles: %w", err)
		}
	}
	return writeResultJSON(env.stdout, rolesResult{UID: *uid, Admin: claims["admin"] == true, Coach: claims["coach"] == true, Changed: changed})
}
