package ingest

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// DType is the NumPy name of a sample type, without byte order.
type DType string

// The supported sample types. uint64 is left out on purpose: HDF5 readers
// and downstream float processing cannot hold all of its values.
const (
	Int8    DType = "int8"
	Int16   DType = "int16"
	Int32   DType = "int32"
	Int64   DType = "int64"
	Uint8   DType = "uint8"
	Uint16  DType = "uint16"
	Uint32  DType = "uint32"
	Float32 DType = "float32"
	Float64 DType = "float64"
)

// The sample types that only frame and HDF5 files give: their series
// are archived as they are, but .npy, raw and text files cannot hold them.
const (
	Uint64     DType = "uint64"
	Complex64  DType = "complex64"
	Complex128 DType = "complex128"
)

// DTypes lists the supported sample types.
var DTypes = []DType{Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Float32, Float64}

// Size returns the size of one sample in bytes, or 0 if d is not a
// supported type.
func (d DType) Size() int {
	switch d {
	case Int8, Uint8:
		return 1
	case Int16, Uint16:
		return 2
	case Int32, Uint32, Float32:
		return 4
	case Int64, Float64:
		return 8
	}
	return 0
}

// Valid reports whether d is a supported sample type.
func (d DType) Valid() bool { return d.Size() > 0 }

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
		return "", "", fmt.Errorf("unknown dtype %s: want one of %s or a NumPy type string such as <f8", typeToken(s), dtypeList())
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

func dtypeList() string {
	names := make([]string, len(DTypes))
	for i, d := range DTypes {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
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
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return "little"
	}
	return "big"
}

// sliceTypes maps each DType to the Go slice type that holds its samples.
var sliceTypes = map[DType]reflect.Type{
	Int8:    reflect.TypeFor[[]int8](),
	Int16:   reflect.TypeFor[[]int16](),
	Int32:   reflect.TypeFor[[]int32](),
	Int64:   reflect.TypeFor[[]int64](),
	Uint8:   reflect.TypeFor[[]uint8](),
	Uint16:  reflect.TypeFor[[]uint16](),
	Uint32:  reflect.TypeFor[[]uint32](),
	Float32: reflect.TypeFor[[]float32](),
	Float64: reflect.TypeFor[[]float64](),
}

// decodeSamples converts b, which must hold a whole number of samples, to
// a slice of d in native byte order. Floats are rebuilt from their bits so
// every NaN payload and signed zero survives.
func decodeSamples(b []byte, d DType, byteOrder string) any {
	var bo binary.ByteOrder = binary.LittleEndian
	if byteOrder == "big" {
		bo = binary.BigEndian
	}
	t, ok := sliceTypes[d]
	if !ok {
		return nil
	}
	v := reflect.MakeSlice(t, len(b)/d.Size(), len(b)/d.Size()).Interface()
	if _, err := binary.Decode(b, bo, v); err != nil {
		return nil
	}
	return v
}

// lenValues returns the length of a sample slice, or 0 for anything else.
func lenValues(values any) int {
	if dtypeOf(values) == "" {
		return 0
	}
	return reflect.ValueOf(values).Len()
}

// wideTypes maps the types of frame and HDF5 files only to their slices.
var wideTypes = map[DType]reflect.Type{
	Uint64:     reflect.TypeFor[[]uint64](),
	Complex64:  reflect.TypeFor[[]complex64](),
	Complex128: reflect.TypeFor[[]complex128](),
}

// dtypeOf returns the DType of a sample slice, or "" for anything else.
func dtypeOf(values any) DType {
	t := reflect.TypeOf(values)
	for _, types := range []map[DType]reflect.Type{sliceTypes, wideTypes} {
		for d, st := range types {
			if st == t {
				return d
			}
		}
	}
	return ""
}

// IsComplex reports whether values holds complex samples.
func IsComplex(values any) bool {
	switch values.(type) {
	case []complex64, []complex128:
		return true
	}
	return false
}

// Float64s returns a new []float64 holding values, which must be one of the
// real-valued slice types a Series can hold; it returns nil otherwise, and
// for complex samples. int64 and uint64 samples beyond 2^53 in magnitude
// are rounded to the nearest float64.
func Float64s(values any) []float64 {
	switch v := values.(type) {
	case []int8:
		return convert(v)
	case []int16:
		return convert(v)
	case []int32:
		return convert(v)
	case []int64:
		return convert(v)
	case []uint8:
		return convert(v)
	case []uint16:
		return convert(v)
	case []uint32:
		return convert(v)
	case []uint64:
		return convert(v)
	case []float32:
		return convert(v)
	case []float64:
		out := make([]float64, len(v))
		copy(out, v)
		return out
	}
	return nil
}

func convert[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
