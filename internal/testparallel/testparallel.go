// Package testparallel lets a package run more of its parallel tests at a
// time than the machine has cores, for tests that spend nearly all their
// time waiting, on settle times or on fsync, rather than on a CPU. The
// go test default, -parallel GOMAXPROCS, would queue each such test behind
// the others' waits on a machine of few cores.
package testparallel

import (
	"flag"
	"strconv"
)

// Set parses the command line and sets -parallel to n unless the command
// line gives it. Call it first in TestMain.
func Set(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}
