// Command gwwatchd archives gravitational-wave sample files as HDF5 with
// provenance. See the README for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gwwatchd/gwwatchd/internal/gcgoal"
)

func main() {
	// The heap is at times mostly a few large sample buffers without
	// pointers, so collecting often is cheap, and it keeps the footprint
	// close to what is live instead of twice that; at other times, with
	// many small files, it is small, and collecting after every megabyte
	// would cost more than the files. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		gcgoal.Set(25, 16<<20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain(os.Stdout, os.Stderr)
	m.Abort = os.Exit
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit codes shared by the commands.
const (
	exitOK       = 0
	exitProblems = 1 // some file failed or did not verify
	exitError    = 2 // usage, configuration, or unreadable input
)

// Main holds the command's outputs so that tests can run it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Abort          func(code int) // ends the process at once; nil in tests
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main { return &Main{Stdout: stdout, Stderr: stderr} }

// usageError is a mistake in the command line; Run prints it with the
// command's synopsis, or the list of commands.
type usageError struct {
	msg      string
	command  string // "audit verify"; "" for no command in particular
	synopsis string // the command's, as its help gives it
}

func (e *usageError) Error() string { return e.msg }

// problemError is a problem with what a command was given to work on
// rather than with its command line: Run prints it and exits 1.
type problemError struct{ err error }

func (e *problemError) Error() string { return e.err.Error() }
func (e *problemError) Unwrap() error { return e.err }

// exitCodeError carries a command's exit code without a further message.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

const usage = `gwwatchd archives gravitational-wave sample files as HDF5 with provenance.

Usage:
  gwwatchd run [--config F]
  gwwatchd ingest [--config F] [--out DIR] [metadata flags] FILE...
  gwwatchd reprocess [--config F] [--product NAME]... ARCHIVE... | --all
  gwwatchd inspect [--config F] [--json] FILE.h5
  gwwatchd verify FILE.h5...
  gwwatchd plot [-o FILE.png] [--dataset D] [--spectrogram] FILE.h5
  gwwatchd trace [--config F] [--json] ARCHIVE|SOURCE|SHA256-PREFIX
  gwwatchd audit verify [--config F] [--archives] [--pubkey K] [--since CHECKPOINT]
  gwwatchd audit checkpoint [--config F] > CHECKPOINT
  gwwatchd audit prove [--config F] ARCHIVE > PROOF
  gwwatchd audit check-proof --pubkey K PROOF
  gwwatchd audit pubkey [--config F]
  gwwatchd config check [FILE]
  gwwatchd version

Run "gwwatchd COMMAND --help" for what a command does, its flags and an
example.
`

// Run runs one command and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return exitError
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "ingest":
		err = m.ingest(ctx, rest)
	case "reprocess":
		err = m.reprocess(ctx, rest)
	case "run":
		err = m.run(ctx, rest)
	case "inspect":
		err = m.inspect(rest)
	case "verify":
		err = m.verify(rest)
	case "plot":
		err = m.plot(rest)
	case "config":
		err = m.config(rest)
	case "audit":
		err = m.audit(rest)
	case "trace":
		err = m.trace(rest)
	case "version":
		err = m.version(rest)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && !isHelp(rest[0]) {
			return m.Run(ctx, append(rest, "--help"))
		}
		fmt.Fprint(m.Stdout, usage)
		return exitOK
	default:
		err = &usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue *usageError
	var ce *exitCodeError
	var pe *problemError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue) && ue.synopsis != "":
		fmt.Fprintf(m.Stderr, "gwwatchd: %v\n\n", err)
		help{Synopsis: ue.synopsis}.writeSynopsis(m.Stderr)
		fmt.Fprintf(m.Stderr, "Run \"gwwatchd %s --help\" for its flags and an example.\n", ue.command)
		return exitError
	case errors.As(err, &ue):
		fmt.Fprintf(m.Stderr, "gwwatchd: %v\n\n%s", err, usage)
		return exitError
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &pe):
		fmt.Fprintf(m.Stderr, "gwwatchd: %v\n", err)
		return exitProblems
	default:
		fmt.Fprintf(m.Stderr, "gwwatchd: %v\n", err)
		return exitError
	}
}
