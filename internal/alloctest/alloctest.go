// Package alloctest measures what a function allocates on the Go heap,
// for the tests that bound the memory of reading and processing a file.
package alloctest

import "runtime"

// Bytes returns the bytes fn allocates on the Go heap, counted from a
// fresh garbage collection. The count is the process's: a test that uses
// it must not run in parallel with others.
func Bytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
