package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// DType is the NumPy name of a sample type, without byte order; the
// types are listed in internal/samples.
type DType = samples.DType

// unsupportedNames are NumPy type names that are recognised only to be
// refused with a precise message.
var unsupportedNames = map[string]bool{
	"uint64": true, "float16": true, "float128": true, "longdouble": true,
	"complex64": true, "complex128": true, "complex256": true,
	"bool": true, "object": true, "str": true, "bytes": true, "void": true,
}

// ParseDType parses a sample type given either by name ("float64") or as a
// NumPy type string ("<f8", ">i2", "f4", "|u1"). Any byte order in a type
// string is discarded; use ParseNumPyDescr to keep it.
func ParseDType(s string) (DType, error) {
	d, _, err := parseDTypeSpec(s)
	return d, err
}

// parseDTypeSpec is ParseDType keeping the byte order ("little", "big" or
// "" when the spec has none or the type is one byte wide).
func parseDTypeSpec(s string) (DType, string, error) {
	name := strings.TrimSpace(s)
	if d := DType(name); d.Valid() {
		return d, "", nil
	}
	if unsupportedNames[name] {
		return "", "", fmt.Errorf("unsupported dtype %s", name)
	}
	d, order, err := ParseNumPyDescr(name)
	if err != nil && !isDescrLike(name) {
		return "", "", fmt.Errorf("unknown dtype %s: want one of %s or a NumPy type string such as <f8", typeToken(s), samples.List(samples.Declarable))
	}
	return d, order, err
}

// isDescrLike reports whether s looks like a NumPy type string, so that
// the error from ParseNumPyDescr is more useful than "unknown dtype".
func isDescrLike(s string) bool {
	if s != "" && strings.ContainsRune("<>|=", rune(s[0])) {
		s = s[1:]
	}
	if s == "" || !strings.ContainsRune("iufcbUSaVOMm?", rune(s[0])) {
		return false
	}
	rest := s[1:]
	if i := strings.IndexByte(rest, '['); i >= 0 {
		rest = rest[:i] // datetime units such as M8[ns]
	}
	return rest == "" || allDigits(rest)
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ParseNumPyDescr parses a NumPy array-protocol type string such as "<f8",
// ">i2" or "|u1", as found in the descr field of a .npy header. byteOrder
// is "little" or "big", or "" for one-byte types and for strings without
// an order character. '=' means the byte order of this machine.
func ParseNumPyDescr(descr string) (d DType, byteOrder string, err error) {
	s := descr
	var orderChar byte
	if s != "" && strings.IndexByte("<>|=", s[0]) >= 0 {
		orderChar, s = s[0], s[1:]
	}
	if s == "" {
		return "", "", fmt.Errorf("unknown dtype %s", typeToken(descr))
	}
	kind, digits := s[0], s[1:]
	if kind == 'O' {
		return "", "", fmt.Errorf("unsupported dtype %s: object arrays are not supported", typeToken(descr))
	}
	size, perr := strconv.Atoi(digits)
	if perr != nil || size <= 0 || !allDigits(digits) {
		if !isDescrLike(descr) {
			return "", "", fmt.Errorf("unknown dtype %s", typeToken(descr))
		}
		return "", "", fmt.Errorf("unsupported dtype %s (%s)", typeToken(descr), kindName(kind, 0))
	}
	switch {
	case kind == 'i' && (size == 1 || size == 2 || size == 4 || size == 8):
		d = DType("int" + strconv.Itoa(8*size))
	case kind == 'u' && (size == 1 || size == 2 || size == 4):
		d = DType("uint" + strconv.Itoa(8*size))
	case kind == 'f' && (size == 4 || size == 8):
		d = DType("float" + strconv.Itoa(8*size))
	default:
		return "", "", fmt.Errorf("unsupported dtype %s (%s)", typeToken(descr), kindName(kind, size))
	}
	if d.Size() == 1 {
		return d, "", nil
	}
	switch orderChar {
	case '<':
		byteOrder = "little"
	case '>':
		byteOrder = "big"
	case '=':
		byteOrder = nativeOrder()
	case '|':
		return "", "", fmt.Errorf("dtype %s: byte order '|' is not valid for a %d-byte type", typeToken(descr), size)
	}
	return d, byteOrder, nil
}

func kindName(kind byte, size int) string {
	bits := ""
	if size > 0 && size <= math.MaxInt32/8 {
		bits = strconv.Itoa(8 * size)
	}
	switch kind {
	case 'i':
		return "int" + bits
	case 'u':
		return "uint" + bits
	case 'f':
		return "float" + bits
	case 'c':
		return "complex" + bits
	case 'b', '?':
		return "bool"
	case 'U':
		return "str"
	case 'S', 'a':
		return "bytes"
	case 'V':
		return "void"
	case 'M':
		return "datetime64"
	case 'm':
		return "timedelta64"
	}
	return "unknown kind " + strconv.QuoteRune(rune(kind))
}

func nativeOrder() string {
	if samples.NativeLittle {
		return "little"
	}
	return "big"
}

// IsComplex reports whether values holds complex samples.
func IsComplex(values any) bool { return samples.IsComplex(values) }

// Float64s returns a new []float64 holding values, which must be one of the
// real-valued slice types a Series can hold; it returns nil otherwise, and
// for complex samples. int64 and uint64 samples beyond 2^53 in magnitude
// are rounded to the nearest float64.
func Float64s(values any) []float64 { return samples.Float64s(values) }
