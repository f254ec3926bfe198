package ingest

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

func TestParseDType(t *testing.T) {
	tests := []struct {
		in    string
		want  DType
		order string
		err   string
	}{
		{"float64", samples.Float64, "", ""},
		{" int16 ", samples.Int16, "", ""},
		{"uint32", samples.Uint32, "", ""},
		{"<f8", samples.Float64, "little", ""},
		{">i2", samples.Int16, "big", ""},
		{"f4", samples.Float32, "", ""},
		{"i8", samples.Int64, "", ""},
		{"u1", samples.Uint8, "", ""},
		{"|i1", samples.Int8, "", ""},
		{"<i1", samples.Int8, "", ""},
		{">u4", samples.Uint32, "big", ""},
		{"uint64", "", "", "unsupported dtype uint64"},
		{"float16", "", "", "unsupported dtype float16"},
		{"<u8", "", "", `unsupported dtype "<u8" (uint64)`},
		{"<f2", "", "", `unsupported dtype "<f2" (float16)`},
		{"<f16", "", "", `unsupported dtype "<f16" (float128)`},
		{"<c8", "", "", `unsupported dtype "<c8" (complex64)`},
		{"?", "", "", `unsupported dtype "?" (bool)`},
		{"O", "", "", "object arrays are not supported"},
		{"<M8[ns]", "", "", `unsupported dtype "<M8[ns]" (datetime64)`},
		{"|f8", "", "", "byte order '|' is not valid for a 8-byte type"},
		{"f+8", "", "", `unknown dtype a 3-byte token of printable ASCII`},
		{"double", "", "", `unknown dtype a 6-byte token of printable ASCII: want one of int8, int16`},
		{"", "", "", `unknown dtype ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, order, err := parseDTypeSpec(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tt.want || order != tt.order {
				t.Errorf("got %s %q, want %s %q", got, order, tt.want, tt.order)
			}
			if d, err := ParseDType(tt.in); d != tt.want || err != nil {
				t.Errorf("ParseDType: got %s, %v, want %s, nil", d, err, tt.want)
			}
		})
	}
}

func TestParseNumPyDescrNative(t *testing.T) {
	_, order, err := ParseNumPyDescr("=f8")
	if err != nil || order != nativeOrder() {
		t.Errorf("got %q, %v, want %q, nil", order, err, nativeOrder())
	}
	if _, _, err := ParseNumPyDescr("float64"); err == nil {
		t.Error("got no error for a type name, want one: names are not descrs")
	}
}

func TestDTypeSize(t *testing.T) {
	want := map[DType]int{samples.Int8: 1, samples.Uint8: 1, samples.Int16: 2, samples.Uint16: 2, samples.Int32: 4, samples.Uint32: 4, samples.Float32: 4, samples.Int64: 8, samples.Float64: 8, "uint64": 0, "": 0}
	for d, size := range want {
		if got := d.Size(); got != size {
			t.Errorf("%q.Size(): got %d, want %d", d, got, size)
		}
	}
}

func TestFloat64s(t *testing.T) {
	f64 := []float64{1.5, math.Inf(-1)}
	tests := []struct {
		in   any
		want []float64
	}{
		{[]int8{-128, 127}, []float64{-128, 127}},
		{[]int16{-32768, 1}, []float64{-32768, 1}},
		{[]int32{math.MinInt32}, []float64{math.MinInt32}},
		{[]int64{1 << 53}, []float64{1 << 53}},
		{[]uint8{255}, []float64{255}},
		{[]uint16{65535}, []float64{65535}},
		{[]uint32{math.MaxUint32}, []float64{math.MaxUint32}},
		{[]float32{0.5, -2}, []float64{0.5, -2}},
		{f64, f64},
		{[]float64{}, []float64{}},
		{[]uint64{1, 1 << 63}, []float64{1, 1 << 63}},
		{[]string{"1"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		got := Float64s(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Float64s(%#v): got %v, want %v", tt.in, got, tt.want)
		}
		if samples.Len(tt.in) != len(tt.want) {
			t.Errorf("Len(%#v): got %d, want %d", tt.in, samples.Len(tt.in), len(tt.want))
		}
	}
	// Complex samples have a length but no real values.
	c := []complex128{1, 2i}
	if Float64s(c) != nil || samples.Len(c) != 2 || !IsComplex(c) || IsComplex(f64) {
		t.Errorf("complex: Float64s %v, samples.Len %d, IsComplex %v", Float64s(c), samples.Len(c), IsComplex(c))
	}
	if got := Float64s(f64); &got[0] == &f64[0] {
		t.Error("Float64s returned its argument, want a copy")
	}
}

func TestDecodeSamplesByteOrder(t *testing.T) {
	b := []byte{0x01, 0x02, 0x03, 0x04}
	tests := []struct {
		d     DType
		order string
		want  any
	}{
		{samples.Int16, "little", []int16{0x0201, 0x0403}},
		{samples.Int16, "big", []int16{0x0102, 0x0304}},
		{samples.Uint32, "big", []uint32{0x01020304}},
		{samples.Int8, "", []int8{1, 2, 3, 4}},
		{samples.Float32, "big", []float32{math.Float32frombits(0x01020304)}},
	}
	for _, tt := range tests {
		if got := decodeSamples(b, tt.d, tt.order); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeSamples(%s, %s): got %v, want %v", tt.d, tt.order, got, tt.want)
		}
	}
}
