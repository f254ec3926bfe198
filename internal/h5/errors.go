package h5

// #include "h5shim.h"
import "C"

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/gwwatchd/gwwatchd/internal/oneline"
)

// Error is a failure reported by libhdf5, described by the innermost
// entry of its error stack. When the library failed on a system call,
// as a write to a full disk does, Msg is the system's error text and
// Errno its number, which Unwrap returns.
type Error struct {
	Op     string        // what was being done, e.g. "write archive"
	Msg    string        // the library's or the system's message, one line
	Errno  syscall.Errno // 0 unless a system call failed
	Detail string        // the innermost entry's own description, which may name objects in the file
}

func (e *Error) Error() string { return e.Op + ": " + e.Msg }

// Unwrap returns the system error, if any, so that errors.Is(err,
// syscall.ENOSPC) tells a full disk.
func (e *Error) Unwrap() error {
	if e.Errno != 0 {
		return e.Errno
	}
	return nil
}

// libMu is held by run.
var libMu sync.Mutex

// run calls f on one locked OS thread, where libhdf5 keeps its error
// stack and error handler, with the automatic printing of errors to
// stderr replaced by a capture that lastError reads. Every call into
// libhdf5 goes through run: a thread that never had its handler replaced
// would print.
//
// Calls of run take turns: one whole read or write at a time. libhdf5
// serialises every call on a lock of its own, so this costs no
// parallelism, but without it concurrent reads and writes hand that lock
// from thread to thread at each of their thousands of calls, and the
// wake-ups cost more than the calls.
func run(f func() error) error {
	libMu.Lock()
	defer libMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.gw_quiet()
	err := f()
	// The entries of a failed call's stack hold references to the
	// library's error messages until the thread's next call clears them;
	// a thread that never calls again would keep them to the exit, where
	// libhdf5 then cannot close and prints "infinite loop closing library".
	C.gw_clear()
	return err
}

// lastError describes the last libhdf5 call that failed on this thread
// since run began, or returns nil if none did. It must be called from
// within run.
func lastError(op string) *Error {
	g := C.gw_last_error()
	if g.n == 0 {
		return nil
	}
	e := &Error{Op: op, Detail: oneline.Escape(strings.TrimSpace(C.GoString(&g.desc[0][0])))}
	if g.sys_errno > 0 {
		e.Errno = syscall.Errno(g.sys_errno)
		e.Msg = oneline.Escape(strings.TrimSpace(C.GoString(&g.sys_msg[0])))
		if e.Msg == "" {
			e.Msg = e.Errno.Error()
		}
		return e
	}
	var maj, min [128]C.char
	C.gw_msg(g.maj[0], &maj[0], C.size_t(len(maj)))
	C.gw_msg(g.min[0], &min[0], C.size_t(len(min)))
	// The major and minor messages are the library's own fixed texts,
	// such as "File accessibility" and "File signature not found".
	e.Msg = oneline.Escape(strings.TrimSpace(C.GoString(&min[0])))
	if m := strings.TrimSpace(C.GoString(&maj[0])); m != "" {
		e.Msg = m + ": " + e.Msg
	}
	return e
}

// fail returns err with what libhdf5 said about it: an *Error for op when
// a library call failed, else err wrapped with op. It must be called from
// within run, before any other library call.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var he *Error
	if errors.As(err, &he) {
		return err
	}
	if e := lastError(op); e != nil {
		return e
	}
	return &Error{Op: op, Msg: oneline.Escape(err.Error())}
}
