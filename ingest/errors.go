package ingest

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// ErrUnsupportedFormat is wrapped by the InputError for a file whose
// extension names no format this package reads.
var ErrUnsupportedFormat = errors.New("unsupported format")

// ErrSidecar is wrapped by the InputError for a .json or .toml file passed
// as data. Such files are metadata for a neighbouring data file, so a
// watcher should skip them rather than quarantine them.
var ErrSidecar = errors.New("sidecar file")

// ErrChanged is wrapped by the error returned when a file changes while it
// is being read. It is not an InputError: reading again later may succeed.
var ErrChanged = errors.New("file changed while being read")

// ErrInUse is wrapped by the error for a file another process holds
// locked for writing, as libhdf5 does while an HDF5 file is open for
// writing. It is not an InputError: the file is to be read once the writer
// is done.
var ErrInUse = errors.New("file locked by a writer")

// InputError reports a file that can never be ingested as it stands: a
// malformed file, missing or contradictory metadata. Retrying will not
// help, unlike the operating-system errors Read returns unwrapped.
type InputError struct {
	Path   string // the data file
	Reason string
	Err    error // a sentinel such as ErrSidecar, an underlying parse error, or nil
}

// Error returns "<path>: <reason>" on a single line.
func (e *InputError) Error() string {
	reason := e.Reason
	if reason == "" && e.Err != nil {
		reason = e.Err.Error()
	}
	return oneLine(e.Path + ": " + reason)
}

// Unwrap returns the sentinel or underlying error, if any.
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is, or wraps, an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func inputErr(path string, err error, reason string) *InputError {
	return &InputError{Path: path, Reason: oneLine(reason), Err: err}
}

// oneLine escapes control characters so that a message derived from file
// contents or names stays on one log line.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
