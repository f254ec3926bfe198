// Package samples knows the sample types a series can hold: their NumPy
// names, the Go slices that hold them, and what is done to any such slice
// without regard to its type (its length, its memory, a new one of the
// same type). It is the one place that lists the types.
package samples

import (
	"encoding/binary"
	"reflect"
	"strings"
	"unsafe"
)

// DType is the NumPy name of a sample type, without byte order.
type DType string

// The sample types.
const (
	Int8       DType = "int8"
	Int16      DType = "int16"
	Int32      DType = "int32"
	Int64      DType = "int64"
	Uint8      DType = "uint8"
	Uint16     DType = "uint16"
	Uint32     DType = "uint32"
	Uint64     DType = "uint64"
	Float32    DType = "float32"
	Float64    DType = "float64"
	Complex64  DType = "complex64"
	Complex128 DType = "complex128"
)

// types holds every sample type with its slice type, in the order of
// Declarable and then the rest.
var types = []struct {
	d DType
	t reflect.Type
}{
	{Int8, reflect.TypeFor[[]int8]()},
	{Int16, reflect.TypeFor[[]int16]()},
	{Int32, reflect.TypeFor[[]int32]()},
	{Int64, reflect.TypeFor[[]int64]()},
	{Uint8, reflect.TypeFor[[]uint8]()},
	{Uint16, reflect.TypeFor[[]uint16]()},
	{Uint32, reflect.TypeFor[[]uint32]()},
	{Float32, reflect.TypeFor[[]float32]()},
	{Float64, reflect.TypeFor[[]float64]()},
	{Uint64, reflect.TypeFor[[]uint64]()},
	{Complex64, reflect.TypeFor[[]complex64]()},
	{Complex128, reflect.TypeFor[[]complex128]()},
}

// declarable is how many of types lead the list as Declarable.
const declarable = 9

// Declarable lists the types a .npy, raw or text file, a sidecar or a
// watch may declare. uint64 is left out on purpose: HDF5 readers and
// downstream float processing cannot hold all of its values; it and the
// complex types come only from frame and HDF5 files, whose series are
// archived as they are.
var Declarable = func() []DType {
	out := make([]DType, declarable)
	for i := range out {
		out[i] = types[i].d
	}
	return out
}()

// List names types as a message lists them: "int8, int16, ...".
func List(ds []DType) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// Size returns the size of one sample in bytes of a Declarable type, or 0
// for any other.
func (d DType) Size() int {
	for _, t := range types[:declarable] {
		if t.d == d {
			return int(t.t.Elem().Size())
		}
	}
	return 0
}

// Valid reports whether d is a Declarable type.
func (d DType) Valid() bool { return d.Size() > 0 }

// Width returns the size of one sample of d in bytes, for every type (a
// complex64 sample is 8 bytes), or 0 if d is none.
func Width(d DType) int {
	if t := sliceType(d); t != nil {
		return int(t.Elem().Size())
	}
	return 0
}

func sliceType(d DType) reflect.Type {
	for _, t := range types {
		if t.d == d {
			return t.t
		}
	}
	return nil
}

// Make returns a new slice of n samples of d, or nil if d is no type.
func Make(d DType, n int) any {
	t := sliceType(d)
	if t == nil {
		return nil
	}
	return reflect.MakeSlice(t, n, n).Interface()
}

// Of returns the type of the samples v holds, or "" if v is no sample
// slice.
func Of(v any) DType {
	t := reflect.TypeOf(v)
	for _, st := range types {
		if st.t == t {
			return st.d
		}
	}
	return ""
}

// Len returns the number of samples v holds, or 0 if v is no sample slice.
func Len(v any) int {
	if Of(v) == "" {
		return 0
	}
	return reflect.ValueOf(v).Len()
}

// Bytes returns the memory of the samples v holds, in this machine's byte
// order, without copying; nil if v is no sample slice or is empty.
func Bytes(v any) []byte {
	d := Of(v)
	rv := reflect.ValueOf(v)
	if d == "" || rv.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(rv.UnsafePointer()), rv.Len()*Width(d))
}

// Concat joins sample slices of one type into a new slice.
func Concat(parts []any) any {
	if len(parts) == 0 {
		return nil
	}
	d, n := Of(parts[0]), 0
	for _, p := range parts {
		n += Len(p)
	}
	out := Make(d, n)
	b := Bytes(out)
	for _, p := range parts {
		b = b[copy(b, Bytes(p)):]
	}
	return out
}

// NativeLittle reports whether this machine stores values little-endian.
var NativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// SwapOrder reverses, in place, the byte order of every sample of type d
// in b (of each part of a complex sample): from little- to big-endian or
// back. b holds whole samples.
func SwapOrder(b []byte, d DType) {
	w := Width(d)
	if d == Complex64 || d == Complex128 {
		w /= 2
	}
	if w < 2 {
		return
	}
	for i := 0; i+w <= len(b); i += w {
		word := b[i : i+w]
		for j, k := 0, w-1; j < k; j, k = j+1, k-1 {
			word[j], word[k] = word[k], word[j]
		}
	}
}

// IsComplex reports whether v holds complex samples.
func IsComplex(v any) bool {
	d := Of(v)
	return d == Complex64 || d == Complex128
}

// Float64s returns a new []float64 holding the real samples of v; nil for
// complex samples and anything else. int64 and uint64 samples beyond 2^53
// in magnitude are rounded to the nearest float64.
func Float64s(v any) []float64 {
	switch v := v.(type) {
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
		return convert(v)
	}
	return nil
}

func convert[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
