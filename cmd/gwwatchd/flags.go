package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
)

var errHelp = errors.New("help shown")

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gwwatchd "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parse parses flags that may stand before, between or after the
// positional arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{err.Error()}
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

func stringFlag(fs *flag.FlagSet, name, help string) **string {
	var p *string
	fs.Func(name, help, func(s string) error { p = &s; return nil })
	return &p
}

func floatFlag(fs *flag.FlagSet, name, help string) **float64 {
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
