package gwf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The kinds of error Decode returns. Decode works on bytes already in
// memory, so every error it returns is about those bytes, never an I/O
// error: each is an *Error wrapping exactly one of these (ErrChecksum also
// wraps ErrMalformed), to be told apart with errors.Is. Read and
// Index.Load return the same errors about the bytes, and errors of their
// readers, which are not *Error.
var (
	// ErrMalformed marks bytes that are not a well-formed frame file:
	// truncated, inconsistent, or failing a checksum.
	ErrMalformed = errors.New("malformed frame file")

	// ErrChecksum marks a checksum carried by the file that does not match
	// its bytes. Errors wrapping it also wrap ErrMalformed.
	ErrChecksum = errors.New("frame file checksum mismatch")

	// ErrUnsupported marks well-formed content this package does not
	// decode: format versions before 6, STRING vectors in channels, and
	// compression codes the format does not define for the vector's type.
	ErrUnsupported = errors.New("unsupported frame file content")

	// ErrTooLarge marks a file whose samples would decode to more than
	// Options.MaxBytes.
	ErrTooLarge = errors.New("frame file too large to decode")
)

// Error describes one problem with a frame file, on one line: what is wrong,
// in which structure and channel, where, and the detail, as in
//
//	gwf: truncated FrVect "H1:LDAS-STRAIN" at offset 1234: need 131072 bytes, have 100
type Error struct {
	Problem string // what is wrong, e.g. "truncated", "checksum mismatch in"
	Struct  string // the structure's class, e.g. "FrVect"; empty if none
	Name    string // the channel or structure name; empty if none
	Offset  int64  // byte offset in the file of the structure or field; -1 if none
	Detail  string // the particulars; may be empty

	kind error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gwf: ")
	b.WriteString(e.Problem)
	if e.Struct != "" {
		b.WriteByte(' ')
		b.WriteString(e.Struct)
	}
	if e.Name != "" {
		name := e.Name
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(name))
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Offset)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the kind of the error: ErrMalformed, ErrChecksum and
// ErrMalformed, ErrUnsupported or ErrTooLarge.
func (e *Error) Unwrap() []error {
	if e.kind == ErrChecksum {
		return []error{ErrChecksum, ErrMalformed}
	}
	return []error{e.kind}
}

// where names the structure an error is about.
type where struct {
	Struct string
	Name   string
	Offset int64
}

func (w where) malformed(problem, format string, args ...any) *Error {
	return w.err(ErrMalformed, problem, format, args...)
}

func (w where) unsupported(problem, format string, args ...any) *Error {
	return w.err(ErrUnsupported, problem, format, args...)
}

func (w where) err(kind error, problem, format string, args ...any) *Error {
	detail := format
	if len(args) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return &Error{Problem: problem, Struct: w.Struct, Name: w.Name, Offset: w.Offset, Detail: detail, kind: kind}
}
