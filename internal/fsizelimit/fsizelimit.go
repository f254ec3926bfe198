// Package fsizelimit lowers the process's file size limit, for the tests
// of writes that fail as on a full disk.
package fsizelimit

import (
	"os/signal"
	"syscall"
)

// Set makes writes past n bytes of a file fail with EFBIG: it ignores
// SIGXFSZ, which would otherwise end the process, and sets the soft limit
// of RLIMIT_FSIZE to n. restore puts the old limit back.
func Set(n uint64) (restore func() error, err error) {
	signal.Ignore(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		return nil, err
	}
	lim := syscall.Rlimit{Cur: n, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return nil, err
	}
	return func() error { return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }, nil
}
