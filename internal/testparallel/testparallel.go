// Package testparallel lets a package run more of its parallel tests at a
// time than the machine has cores, for tests that spend nearly all their
// time waiting, on settle times or on fsync, rather than on a CPU. The
// go test default, -parallel GOMAXPROCS, would queue each such test behind
// the others' waits on a machine of few cores.
package testparallel

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// Set parses the command line and sets -parallel to n unless the command
// line gives it. Call it first in a TestMain that does more before m.Run.
func Set(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}

// Main is a whole TestMain: it runs m with -parallel n (see Set) and exits
// with its status.
func Main(m *testing.M, n int) {
	Set(n)
	os.Exit(m.Run())
}
