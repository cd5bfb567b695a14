package main

import (
	"context"
	"fmt"
	"io"

	"github.com/innerjourney/functions/shared/screening"
)

// maxScreenInput bounds the answers read from stdin (a Firestore document
// is at most 1 MiB).
const maxScreenInput = 1 << 20

func init() {
	register(&command{
		name:    "screen",
		summary: "score onboarding answers (JSON on stdin); --questions prints the question bank",
		run:     runScreen,
	})
}

// runScreen reads answers ([{"questionId","answer"}] or a user document with
// an "answers" array) from stdin and prints the screening Result as JSON.
func runScreen(_ context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "screen", "screen [--questions] < answers.json")
	questions := fs.Bool("questions", false, "print the embedded question bank instead of scoring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *questions {
		_, err := env.stdout.Write(screening.QuestionsJSON())
		return err
	}
	data, err := io.ReadAll(io.LimitReader(env.stdin, maxScreenInput+1))
	if err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if len(data) > maxScreenInput {
		return fmt.Errorf("input larger than %d bytes", maxScreenInput)
	}
	res, err := screening.ScoreJSON(data)
	if err != nil {
		return err
	}
	return writeResultJSON(env.stdout, res)
}
