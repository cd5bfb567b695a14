package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/innerjourney/functions/shared/config"
)

func init() {
	register(&command{name: "env", summary: "list the environment variables the functions read", run: runEnv})
}

func runEnv(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "env", "env [--markdown]")
	md := fs.Bool("markdown", false, "print the README's table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*md {
		return json.NewEncoder(env.stdout).Encode(config.Vars)
	}
	fmt.Fprintln(env.stdout, "| variable | secret | default | meaning |\n|---|---|---|---|")
	for _, v := range config.Vars {
		secret, def := "", ""
		if v.Secret {
			secret = "yes"
		}
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(env.stdout, "| `%s` | %s | %s | %s |\n", v.Name, secret, def, v.Doc)
	}
	return nil
}
