package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gwwatchd/gwwatchd/config"
)

// errHelp is returned once a command's help has been printed, as asked.
var errHelp = errors.New("help shown")

// help is what "gwwatchd COMMAND --help" prints: the synopsis, what the
// command does, its flags, and an example.
type help struct {
	Synopsis string // after "Usage: ", one or more lines
	Text     string // what the command does, in a sentence or a few
	Example  string // one or more command lines, without indentation
}

// write prints the help of a command with the flags of fs (none if nil).
func (h help) write(w io.Writer, fs *flag.FlagSet) {
	h.writeSynopsis(w)
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(h.Text))
	hasFlags := false
	if fs != nil {
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	}
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	fmt.Fprint(w, "\nExample:\n")
	for _, l := range strings.Split(strings.TrimSpace(h.Example), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// writeSynopsis prints the "Usage:" lines.
func (h help) writeSynopsis(w io.Writer) {
	lines := strings.Split(h.Synopsis, "\n")
	fmt.Fprintf(w, "Usage: gwwatchd %s\n", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "       gwwatchd %s\n", l)
	}
}

// isHelp reports whether an argument asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// commandFlags is the flag set of one command, with its help.
type commandFlags struct {
	*flag.FlagSet
	help    help
	stdout  io.Writer
	cfgPath *string // set by configFlag
}

// newFlagSet returns the flag set of a command. Its own messages are
// discarded: parse returns them as usage errors, and prints the help on
// stdout when asked with -h or --help.
func (m *Main) newFlagSet(name string, h help) *commandFlags {
	fs := flag.NewFlagSet("gwwatchd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &commandFlags{FlagSet: fs, help: h, stdout: m.Stdout}
}

// parse parses flags that may stand before, between or after the
// positional arguments, and returns the positional ones.
func (fs *commandFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help.write(fs.stdout, fs.FlagSet)
				return nil, errHelp
			}
			return nil, fs.usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNone parses args for a command that takes no positional argument.
func (fs *commandFlags) parseNone(args []string) error {
	rest, err := fs.parse(args)
	if err == nil && len(rest) > 0 {
		err = fs.usageError(fs.command() + " takes no arguments")
	}
	return err
}

// parseOne parses args for a command that takes one positional argument,
// what, and returns it.
func (fs *commandFlags) parseOne(args []string, what string) (string, error) {
	rest, err := fs.parse(args)
	if err == nil && len(rest) != 1 {
		err = fs.usageError("give one " + what)
	}
	if err != nil {
		return "", err
	}
	return rest[0], nil
}

// parseSome parses args for a command that takes at least one positional
// argument, and refuses none with the message none.
func (fs *commandFlags) parseSome(args []string, none string) ([]string, error) {
	rest, err := fs.parse(args)
	if err == nil && len(rest) == 0 {
		err = fs.usageError(none)
	}
	return rest, err
}

// configFlag gives the command a --config flag, described by usage;
// loadConfig loads the file it names.
func (fs *commandFlags) configFlag(usage string) { fs.cfgPath = fs.String("config", "", usage) }

// loadConfig loads the configuration --config names, or the embedded
// default when it names none.
func (fs *commandFlags) loadConfig() (*config.Config, error) { return config.Load(*fs.cfgPath) }

// parseConfigOnly parses args for a command that takes no positional
// argument, only flags among which --config, and loads the configuration.
func (fs *commandFlags) parseConfigOnly(args []string) (*config.Config, error) {
	if err := fs.parseNone(args); err != nil {
		return nil, err
	}
	return fs.loadConfig()
}

// command is the command's name, as in "audit verify".
func (fs *commandFlags) command() string { return strings.TrimPrefix(fs.Name(), "gwwatchd ") }

// usageError is a mistake in this command's line, shown with its synopsis.
func (fs *commandFlags) usageError(msg string) error {
	name := fs.command()
	if !strings.HasPrefix(msg, name+":") && !strings.HasPrefix(msg, name+" ") {
		msg = name + ": " + msg
	}
	return &usageError{msg: msg, command: name, synopsis: fs.help.Synopsis}
}

func stringFlag(fs *commandFlags, name, help string) **string {
	var p *string
	fs.Func(name, help, func(s string) error { p = &s; return nil })
	return &p
}

func floatFlag(fs *commandFlags, name, help string) **float64 {
	var p *float64
	fs.Func(name, help, func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		p = &v
		return nil
	})
	return &p
}
