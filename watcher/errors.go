package watcher

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// limitError reports an exhausted inotify limit and the sysctl that raises it.
// It unwraps to the errno (ENOSPC or EMFILE) the kernel returned.
type limitError struct {
	op     string // "watch /data/drop" or "start inotify"
	what   string // "watches" or "instances"
	sysctl string
	value  int
	err    error
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%s: out of inotify %s: raise %s (sysctl -w %s=%d)",
		e.op, e.what, e.sysctl, e.sysctl, e.value)
}

func (e *limitError) Unwrap() error { return e.err }

// addError explains why adding an inotify watch on dir failed. inotify
// reports running out of watches as ENOSPC, "no space left on device",
// which sends people looking at their disks.
func addError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return &limitError{op: "watch " + dir, what: "watches", sysctl: "fs.inotify.max_user_watches", value: 524288, err: err}
	case errors.Is(err, syscall.EMFILE):
		return instanceError("watch "+dir, err)
	case errors.Is(err, fs.ErrNotExist):
		return &noDirError{dir: dir}
	}
	return fmt.Errorf("watch %s: %w", dir, err)
}

// startError explains why creating the inotify instance failed.
func startError(err error) error {
	if errors.Is(err, syscall.EMFILE) {
		return instanceError("start inotify", err)
	}
	return fmt.Errorf("start inotify: %w", err)
}

func instanceError(op string, err error) error {
	return &limitError{op: op, what: "instances", sysctl: "fs.inotify.max_user_instances", value: 1024, err: err}
}

// isLimit reports whether err is an exhausted inotify limit: no further
// watch can be added, so a walk adding them should stop.
func isLimit(err error) bool {
	var le *limitError
	return errors.As(err, &le)
}

// noDirError is a watch dir that does not exist. It matches fs.ErrNotExist.
type noDirError struct{ dir string }

func (e *noDirError) Error() string        { return "watch dir " + e.dir + ": no such directory" }
func (e *noDirError) Is(target error) bool { return target == fs.ErrNotExist }
