// Command ops is the Inner Journey operations CLI: one binary, one
// subcommand per task (serve, seed, tick, chart, …). Run `ops help` or
// `ops <command> --help`.
//
//	go run ./scripts/ops <command> [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of ops.
type command struct {
	name    string
	summary string
	// run executes the command with its own arguments (after the name).
	// Returning flag.ErrHelp means usage was printed on request.
	run func(ctx context.Context, env *cmdEnv, args []string) error
}

// cmdEnv is what a command may use: its output streams and input.
type cmdEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

var commands = map[string]*command{}

// register adds a subcommand; it panics on a duplicate name (a programming
// error caught by the package's tests).
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("ops: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// newFlags returns a flag set for a subcommand that prints its usage and
// flags to the command's stderr on --help.
func newFlags(env *cmdEnv, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: ops %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses args with fs, letting flags come after the
// positional arguments too (the flag package stops at the first one, so
// `tick JOB --project P` would leave --project unread), and returns the
// positional arguments in order. "--" ends the flags as usual.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cmdEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "ops: unknown command %q\n", args[0])
		usage(env.stderr)
		return 2
	}
	if err := c.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.stderr, "ops %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ops <command> [flags]   (ops <command> --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
}
