// Command strata is the command-line interface to Strata tables: create
// tables, write rows, scan snapshots and inspect history, on a local
// warehouse or on S3.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// signalContext returns a context that the first SIGINT or SIGTERM
// cancels, caught from the first moment so that a command stopped right
// after it started still exits cleanly. By the time the context is done
// the signals are no longer caught: a second one kills the process the
// default way, should the command not stop.
func signalContext() (context.Context, context.CancelFunc) {
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-sig.Done()
		stop()
		cancel(context.Cause(sig))
	}()
	return ctx, func() {
		stop()
		cancel(nil)
	}
}

// run executes the CLI and returns the exit code: 0 on success, 1 when the
// command failed, 2 for usage errors.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "strata: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
