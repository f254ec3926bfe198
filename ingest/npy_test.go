package ingest

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

const goldenDir = "../testdata/ingest"

type goldenArray struct {
	DType     string   `json:"dtype"`
	ByteOrder string   `json:"byte_order"`
	Shape     []int64  `json:"shape"`
	Values    []string `json:"values"`
}

func loadGolden(t *testing.T) map[string]goldenArray {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]goldenArray
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("expected.json lists no files")
	}
	return m
}

// goldenStrings renders samples the way expected.json does: integers in
// decimal, floats as the hex bits of their own width.
func goldenStrings(values any) []string {
	var out []string
	switch v := values.(type) {
	case []float32:
		for _, x := range v {
			out = append(out, "0x"+strconv.FormatUint(uint64(math.Float32bits(x)), 16))
		}
	case []float64:
		for _, x := range v {
			out = append(out, "0x"+strconv.FormatUint(math.Float64bits(x), 16))
		}
	default:
		rv := reflect.ValueOf(values)
		for i := 0; i < rv.Len(); i++ {
			e := rv.Index(i)
			if e.CanInt() {
				out = append(out, strconv.FormatInt(e.Int(), 10))
			} else {
				out = append(out, strconv.FormatUint(e.Uint(), 10))
			}
		}
	}
	return out
}

func TestGoldenNPY(t *testing.T) {
	golden := loadGolden(t)
	seen := map[DType]bool{}
	versions := map[int]bool{}
	for name, want := range golden {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(goldenDir, name))
			if err != nil {
				t.Fatal(err)
			}
			a, err := parseNPY(data)
			if err != nil {
				t.Fatalf("parseNPY: %v", err)
			}
			if a.DType != DType(want.DType) {
				t.Errorf("dtype: got %s, want %s", a.DType, want.DType)
			}
			if a.ByteOrder != want.ByteOrder {
				t.Errorf("byte order: got %q, want %q", a.ByteOrder, want.ByteOrder)
			}
			if !reflect.DeepEqual(a.Shape, want.Shape) {
				t.Errorf("shape: got %v, want %v", a.Shape, want.Shape)
			}
			if samples.Of(a.Values) != a.DType {
				t.Errorf("values are %T, want a slice of %s", a.Values, a.DType)
			}
			if got := goldenStrings(a.Values); !reflect.DeepEqual(got, want.Values) {
				t.Errorf("values:\ngot  %v\nwant %v", got, want.Values)
			}
			seen[a.DType] = true
			versions[a.Major] = true

			s, err := Read(filepath.Join(goldenDir, name), Options{Defaults: Meta{T0: ptr(0.0), SampleRate: ptr(1.0)}})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := goldenStrings(s.Values); !reflect.DeepEqual(got, want.Values) {
				t.Errorf("Read values:\ngot  %v\nwant %v", got, want.Values)
			}
			if s.Format != "npy" || s.DType != a.DType || s.ByteOrder != a.ByteOrder {
				t.Errorf("Read: got format %q dtype %s byte order %q, want npy %s %q", s.Format, s.DType, s.ByteOrder, a.DType, a.ByteOrder)
			}
		})
	}
	for _, d := range samples.Declarable {
		if !seen[d] {
			t.Errorf("no golden file holds %s", d)
		}
	}
	for _, v := range []int{1, 2, 3} {
		if !versions[v] {
			t.Errorf("no golden file has format version %d.0", v)
		}
	}
}

func TestGoldenNPYRejected(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"bad_object.npy", `unsupported dtype "|O": object arrays are not supported`},
		{"bad_2d.npy", "shape (3, 4): only 1-D or N×1 arrays are supported"},
		{"bad_1xn.npy", "shape (1, 4): only 1-D or N×1 arrays are supported"},
		{"bad_3d.npy", "shape (4, 1, 1): only 1-D or N×1 arrays are supported"},
		{"bad_0d.npy", "shape (): 0-d arrays are not supported"},
		{"bad_complex.npy", `unsupported dtype "<c16" (complex128)`},
		{"bad_bool.npy", `unsupported dtype "|b1" (bool)`},
		{"bad_float16.npy", `unsupported dtype "<f2" (float16)`},
		{"bad_uint64.npy", `unsupported dtype "<u8" (uint64)`},
		{"bad_str.npy", `unsupported dtype "<U2" (str)`},
		{"bad_bytes.npy", `unsupported dtype "|S2" (bytes)`},
		{"bad_structured.npy", "unsupported dtype (a 28-byte list): structured arrays are not supported"},
		{"bad_empty_array.npy", "no samples"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(goldenDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseNPY(data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseNPY(t *testing.T) {
	ramp := float64Bytes(1, 2, 3, 4)
	good := npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", ramp)
	tests := []struct {
		name string
		data []byte
		want string // error substring; "" for success
	}{
		{"numpy layout", good, ""},
		{"reordered keys, no trailing comma", npyFile(1, `{"shape":(4,),"fortran_order":False,"descr":"<f8"}`, ramp), ""},
		{"tabs and newlines", npyFile(2, "{\n\t'descr' : '<f8' ,\n\t'shape' : ( 4 , ) ,\n\t'fortran_order' : True ,\n}", ramp), ""},
		{"python 2 long", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4L,), }", ramp), ""},
		{"N×1", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1), }", ramp), ""},
		{"empty", nil, "empty file"},
		{"magic prefix", []byte("\x93NUM"), "truncated header"},
		{"bad magic", []byte("PK\x03\x04 not numpy at all"), "not a NumPy file"},
		{"short bad magic", []byte("ab"), "not a NumPy file"},
		{"no version", []byte("\x93NUMPY\x01"), "truncated header"},
		{"no header length", []byte("\x93NUMPY\x01\x00\x10"), "truncated header"},
		{"no v2 header length", []byte("\x93NUMPY\x02\x00\x10\x00\x00"), "truncated header"},
		{"header beyond file", append([]byte("\x93NUMPY\x01\x00\xff\x00"), "{'descr'"...), "extends beyond the end of the"},
		{"header over limit", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{"), "exceeds the limit"},
		{"version 4", append([]byte("\x93NUMPY\x04\x00"), good[8:]...), "unsupported .npy format version 4.0"},
		{"version 1.1", append([]byte("\x93NUMPY\x01\x01"), good[8:]...), "unsupported .npy format version 1.1"},
		{"not a dict", npyFile(1, "['descr', '<f8']", ramp), "unparsable header: not a dict"},
		{"unterminated dict", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)", ramp), "unparsable header"},
		{"garbage after dict", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)} x", ramp), "unparsable header"},
		{"missing shape", npyFile(1, "{'descr': '<f8', 'fortran_order': False}", ramp), `no "shape" key`},
		{"extra key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'x': 1}", ramp), `unexpected key a 1-byte token of printable ASCII at offset 56`},
		{"duplicate key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (4,)}", ramp), `duplicate key "descr"`},
		{"shape not a tuple", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4)}", ramp), "shape at offset 50 is not a tuple"},
		{"shape of floats", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4.0,)}", ramp), "unparsable header"},
		{"huge dimension", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", ramp), "out of range"},
		{"negative dimension", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-4,)}", ramp), "negative dimension"},
		{"overflowing shape", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", ramp), "data is 32 bytes"},
		{"fortran_order not bool", npyFile(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (4,)}", ramp), "fortran_order at offset 34 is not True or False"},
		{"descr not a string", npyFile(1, "{'descr': 8, 'fortran_order': False, 'shape': (4,)}", ramp), "descr at offset 10 is not a string"},
		{"no byte order", npyFile(1, "{'descr': 'f8', 'fortran_order': False, 'shape': (4,)}", ramp), `dtype "f8" does not state the byte order`},
		{"native byte order", npyFile(1, "{'descr': '=f8', 'fortran_order': False, 'shape': (4,)}", ramp), `dtype "=f8" does not state the byte order`},
		{"pipe on wide type", npyFile(1, "{'descr': '|f8', 'fortran_order': False, 'shape': (4,)}", ramp), "byte order '|' is not valid"},
		{"unknown descr", npyFile(1, "{'descr': 'hello', 'fortran_order': False, 'shape': (4,)}", ramp), `unknown dtype a 5-byte token of printable ASCII`},
		{"short data", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (126,), }", make([]byte, 1001)), "data is 1001 bytes, expected 1008 for shape (126,) float64"},
		{"long data", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", append(ramp, 0)), "data is 33 bytes, expected 32 for shape (4,) float64"},
		{"deep nesting", npyFile(1, strings.Repeat("(", 100)+strings.Repeat(")", 100), nil), "nested too deeply"},
		{"newline in string", npyFile(1, "{'descr\n': '<f8'}", nil), "newline in string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseNPY(tt.data)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if got := a.Values.([]float64); !reflect.DeepEqual(got, []float64{1, 2, 3, 4}) {
					t.Errorf("got %v, want [1 2 3 4]", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNPYBigEndianBits(t *testing.T) {
	// A signalling NaN would be quieted by any float conversion on some
	// platforms; the swap must keep it bit for bit.
	const bits = 0x7FF0000000000001
	body := []byte{0x7F, 0xF0, 0, 0, 0, 0, 0, 0x01}
	a, err := parseNPY(npyFile(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", body))
	if err != nil {
		t.Fatal(err)
	}
	if got := math.Float64bits(a.Values.([]float64)[0]); got != bits {
		t.Errorf("got bits %#x, want %#x", got, uint64(bits))
	}
}
