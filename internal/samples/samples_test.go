package samples

import (
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"testing"
)

func TestEveryType(t *testing.T) {
	widths := map[DType]int{Int8: 1, Uint8: 1, Int16: 2, Uint16: 2, Int32: 4, Uint32: 4, Float32: 4,
		Int64: 8, Uint64: 8, Float64: 8, Complex64: 8, Complex128: 16}
	for d, w := range widths {
		v := Make(d, 3)
		if Of(v) != d || Len(v) != 3 || Width(d) != w || len(Bytes(v)) != 3*w {
			t.Errorf("%s: Of %q, Len %d, Width %d, Bytes %d", d, Of(v), Len(v), Width(d), len(Bytes(v)))
		}
		if wantSize := map[bool]int{true: w, false: 0}[slices.Contains(Declarable, d)]; d.Size() != wantSize {
			t.Errorf("%s.Size() = %d, want %d", d, d.Size(), wantSize)
		}
	}
	if len(Declarable) != 9 || slices.Contains(Declarable, Uint64) {
		t.Errorf("Declarable = %v", Declarable)
	}
	for _, v := range []any{nil, []int{1}, []string{"a"}, 3.0} {
		if Of(v) != "" || Len(v) != 0 || Bytes(v) != nil || Float64s(v) != nil {
			t.Errorf("%T taken for samples", v)
		}
	}
	if Make("float16", 1) != nil || Width("int") != 0 || DType("uint64").Valid() {
		t.Error("an unknown or undeclarable type is taken")
	}
}

func TestConcat(t *testing.T) {
	got := Concat([]any{[]int16{1, -2}, []int16{}, []int16{3}})
	if !reflect.DeepEqual(got, []int16{1, -2, 3}) {
		t.Errorf("Concat = %v", got)
	}
	c := Concat([]any{[]complex64{1 + 2i}, []complex64{3 - 4i}})
	if !reflect.DeepEqual(c, []complex64{1 + 2i, 3 - 4i}) {
		t.Errorf("Concat = %v", c)
	}
}

func TestSwapOrder(t *testing.T) {
	b := binary.BigEndian.AppendUint32(nil, math.Float32bits(1.5))
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(-2))
	SwapOrder(b, Complex64)
	if re, im := math.Float32frombits(binary.LittleEndian.Uint32(b)), math.Float32frombits(binary.LittleEndian.Uint32(b[4:])); re != 1.5 || im != -2 {
		t.Errorf("complex64 swapped to %v, %v", re, im)
	}
	b = []byte{1, 2, 3}
	SwapOrder(b, Int8)
	if !slices.Equal(b, []byte{1, 2, 3}) {
		t.Errorf("one-byte samples swapped: %v", b)
	}
}

func TestFloat64s(t *testing.T) {
	if got := Float64s([]uint64{1 << 60}); got[0] != 1<<60 {
		t.Errorf("Float64s(uint64) = %v", got)
	}
	in := []float64{1, math.NaN()}
	out := Float64s(in)
	out[0] = 7
	if in[0] != 1 || !math.IsNaN(out[1]) {
		t.Error("Float64s of float64 is not a copy")
	}
	if Float64s([]complex128{1}) != nil {
		t.Error("Float64s took complex samples")
	}
}
