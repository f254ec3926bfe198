// Package testsize says at which size the tests that check a large
// corpus or a large file run.
//
// Such a test runs at a reduced size with -short, for a quick loop, and
// under the race detector, which makes its single-threaded loops about ten
// times slower without finding more: `make unit` runs every package whose
// tests ask Full a second time without -race, where they run at full
// size. What a reduced run keeps must still cross the concurrent
// paths, so that -race sees them.
//
// A test of a bound on memory is skipped with -short instead (Large): its
// input must be large enough for a copy of it to stand out of the slack
// the bound allows, which no reduced size keeps.
package testsize

import "testing"

// Full reports whether the tests run at full size: not with -short, and
// not under the race detector.
func Full() bool { return !testing.Short() && !race }

// Race reports whether the race detector is built in.
func Race() bool { return race }

// Large skips t with -short: t checks a bound on the memory that
// processing an input allocates or holds, which only a large input shows.
// `make test` runs it, under the race detector too (at a reduced size,
// where t has one).
func Large(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("a memory bound, shown only by a large input: runs without -short")
	}
}
