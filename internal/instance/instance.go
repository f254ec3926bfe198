// Package instance makes sure one gwwatchd daemon at a time works on a
// state directory and an archive root.
package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockName is the lock file Acquire keeps in each directory.
const LockName = ".gwwatchd.lock"

// InUseError reports a directory another process holds.
type InUseError struct {
	Dir string
	PID int // 0 when the lock file names none
}

func (e *InUseError) Error() string {
	who := "another gwwatchd"
	if e.PID > 0 {
		who = fmt.Sprintf("another gwwatchd (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s is in use by %s: stop that one first, or give this one a state_dir and archive root of its own", e.Dir, who)
}

// Lock is held until Release or the end of the process: the kernel drops
// it when the process dies, however it dies, so a lock is never stale.
type Lock struct {
	files []*os.File
}

// Acquire takes an exclusive lock on each directory, creating missing
// directories, and writes this process's pid into each lock file. If any
// is held by another process it takes none and returns an *InUseError
// naming the directory and the holder's pid.
func Acquire(dirs ...string) (*Lock, error) {
	l := &Lock{}
	seen := map[string]bool{}
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			l.Release()
			return nil, err
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		f, err := lockDir(abs)
		if err != nil {
			l.Release()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, LockName)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &InUseError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// Release drops the locks. The lock files stay: removing one while
// another process waits to open it would let two processes hold two
// different files.
func (l *Lock) Release() {
	for _, f := range l.files {
		f.Close()
	}
	l.files = nil
}
