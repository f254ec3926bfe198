//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import (
	"errors"
	"os"
)

const (
	lockShared = iota
	lockExclusive
	lockRelease
)

// flock is not implemented here: without it writers in different
// processes could fork the chain, so the log refuses to open.
func flock(f *os.File, how int) error {
	return &os.PathError{Op: "flock", Path: f.Name(), Err: errors.ErrUnsupported}
}

func tryLock(f *os.File, how int) (bool, error) {
	return false, flock(f, how)
}
