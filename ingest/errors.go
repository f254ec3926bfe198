package ingest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gwwatchd/gwwatchd/internal/oneline"
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
	return oneline.Escape(e.Path + ": " + reason)
}

// Unwrap returns the sentinel or underlying error, if any.
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is, or wraps, an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func inputErr(path string, err error, reason string) *InputError {
	return &InputError{Path: path, Reason: oneline.Escape(reason), Err: err}
}

// describe says what a token taken from a file is without quoting it, as
// reasons never quote file content: its length and the class of its
// bytes, as in "a 22-byte token of printable ASCII".
func describe(s string) string {
	return fmt.Sprintf("a %d-byte token of %s", len(s), byteClass(s))
}

// byteClass names the class of the bytes of s.
func byteClass(s string) string {
	switch {
	case s == "":
		return "nothing"
	case !utf8.ValidString(s):
		return "binary bytes"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "text with control characters"
	case strings.IndexFunc(s, func(r rune) bool { return r > unicode.MaxASCII }) >= 0:
		return "non-ASCII text"
	}
	return "printable ASCII"
}

// byteKind names the kind of one byte, for a parser's "unexpected" errors.
func byteKind(c byte) string {
	switch {
	case c >= '0' && c <= '9':
		return "a digit"
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return "a letter"
	case c < ' ' || c == 0x7f:
		return fmt.Sprintf("control byte 0x%02x", c)
	case c >= 0x80:
		return "a non-ASCII byte"
	}
	return fmt.Sprintf("punctuation %q", c)
}

// typeToken quotes s if it has the shape of a NumPy type string such as
// "<f2" or "|b1", which says nothing else, or describes it otherwise.
func typeToken(s string) string {
	if typeShape.MatchString(s) {
		return strconv.Quote(s)
	}
	return describe(s)
}

var typeShape = regexp.MustCompile(`^([<>|=]?[a-zA-Z?][0-9]{0,2}(\[[a-z]{1,2}\])?)?$`)
