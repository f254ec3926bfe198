package h5

// #include <stdlib.h>
// #include <string.h>
// #include <hdf5.h>
//
// // What the innermost entries of the last failing call's error stack
// // said, kept per thread: libhdf5 keeps its error stack and its
// // automatic error handler per thread.
// #define GW_ERR_ENTRIES 4
// typedef struct {
//   int n;                                  // entries kept, innermost first
//   hid_t maj[GW_ERR_ENTRIES], min[GW_ERR_ENTRIES];
//   char desc[GW_ERR_ENTRIES][512];
//   int sys_errno;                          // from "errno = N" in a description, or 0
//   char sys_msg[128];                      // from "error message = '...'", or ""
// } gw_err_t;
//
// static __thread gw_err_t gw_last;
//
// static herr_t gw_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
//   gw_err_t *g = data;
//   const char *d = e->desc ? e->desc : "";
//   if (g->n < GW_ERR_ENTRIES) {
//     g->maj[g->n] = e->maj_num;
//     g->min[g->n] = e->min_num;
//     strncpy(g->desc[g->n], d, sizeof g->desc[0] - 1);
//     g->desc[g->n][sizeof g->desc[0] - 1] = 0;
//     g->n++;
//   }
//   if (g->sys_errno == 0) {
//     const char *p = strstr(d, "errno = ");
//     if (p != NULL) g->sys_errno = atoi(p + 8);
//     const char *q = strstr(d, "error message = '");
//     if (q != NULL) {
//       q += strlen("error message = '");
//       const char *end = strchr(q, '\'');
//       size_t len = end ? (size_t)(end - q) : strlen(q);
//       if (len >= sizeof g->sys_msg) len = sizeof g->sys_msg - 1;
//       memcpy(g->sys_msg, q, len);
//       g->sys_msg[len] = 0;
//     }
//   }
//   return 0;
// }
//
// // gw_capture replaces libhdf5's printing of its error stack: it is
// // called as a failing API call returns, and keeps what the stack says.
// static herr_t gw_capture(hid_t estack, void *unused) {
//   (void)unused;
//   memset(&gw_last, 0, sizeof gw_last);
//   H5Ewalk2(estack, H5E_WALK_UPWARD, gw_walk_cb, &gw_last);
//   return 0;
// }
//
// // gw_quiet installs gw_capture on the calling thread and forgets any
// // earlier failure.
// static void gw_quiet(void) {
//   H5Eset_auto2(H5E_DEFAULT, gw_capture, NULL);
//   memset(&gw_last, 0, sizeof gw_last);
// }
//
// static gw_err_t *gw_last_error(void) { return &gw_last; }
//
// static void gw_clear(void) { H5Eclear2(H5E_DEFAULT); }
//
// static void gw_msg(hid_t id, char *buf, size_t n) {
//   buf[0] = 0;
//   if (H5Eget_msg(id, NULL, buf, n) < 0) buf[0] = 0;
// }
import "C"

import (
	"errors"
	"runtime"
	"strings"
	"syscall"
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

// run calls f on one locked OS thread, where libhdf5 keeps its error
// stack and error handler, with the automatic printing of errors to
// stderr replaced by a capture that lastError reads. Every call into
// libhdf5 goes through run: a thread that never had its handler replaced
// would print.
func run(f func() error) error {
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
	e := &Error{Op: op, Detail: oneLine(C.GoString(&g.desc[0][0]))}
	if g.sys_errno > 0 {
		e.Errno = syscall.Errno(g.sys_errno)
		e.Msg = oneLine(C.GoString(&g.sys_msg[0]))
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
	e.Msg = oneLine(strings.TrimSpace(C.GoString(&min[0])))
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
	return &Error{Op: op, Msg: oneLine(err.Error())}
}

// oneLine keeps a message on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
