package ingest

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseText(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		values []float64
		t0     *float64
		rate   *float64
	}{
		{"one column", "1\n2\n3\n", []float64{1, 2, 3}, nil, nil},
		{"no final newline", "1\n2", []float64{1, 2}, nil, nil},
		{"comments and blanks", "# header\n\n1 # first\n  \n2\n#3\n", []float64{1, 2}, nil, nil},
		{"CRLF and BOM", "\ufeff1\r\n2\r\n", []float64{1, 2}, nil, nil},
		{"exponents and specials", "1e3\n-2.5E-1\nnan\n+Inf\n-inf\n0x1p-2\n", []float64{1000, -0.25, math.NaN(), math.Inf(1), math.Inf(-1), 0.25}, nil, nil},
		{"time and value, comma", "0,10\n0.25,11\n0.5,12\n", []float64{10, 11, 12}, ptr(0.0), ptr(4.0)},
		{"comma and spaces", "100 , 1\n100.5,  2\n", []float64{1, 2}, ptr(100.0), ptr(2.0)},
		{"whitespace separated", "1e9\t5\n1000000000.0625   6\n1000000000.125 7\n", []float64{5, 6, 7}, ptr(1e9), ptr(16.0)},
		{"one row of times", "5,1\n", []float64{1}, ptr(5.0), nil},
		{"nan value with times", "0,nan\n1,inf\n", []float64{math.NaN(), math.Inf(1)}, ptr(0.0), ptr(1.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td, err := parseText([]byte(tt.in))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !sameFloats(td.Values, tt.values) {
				t.Errorf("values: got %v, want %v", td.Values, tt.values)
			}
			if !reflect.DeepEqual(td.T0, tt.t0) {
				t.Errorf("t0: got %v, want %v", deref(td.T0), deref(tt.t0))
			}
			if !reflect.DeepEqual(td.Rate, tt.rate) {
				t.Errorf("rate: got %v, want %v", deref(td.Rate), deref(tt.rate))
			}
		})
	}
}

func TestParseTextGPSAt16384Hz(t *testing.T) {
	// At GPS times near 1e9 a float64 resolves only ~1.2e-7 s, far
	// coarser than 1e-6 of a 16384 Hz step; such columns must still pass.
	var b strings.Builder
	for i := range 64 {
		b.WriteString(fmtFloat(1e9+float64(i)/16384) + " 0\n")
	}
	td, err := parseText([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(*td.Rate-16384) > 1e-3 {
		t.Errorf("rate: got %v, want 16384", *td.Rate)
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty file"},
		{"only comments", "# nothing\n\n", "no samples"},
		{"header line", "time,value\n0,1\n", `line 1: a 4-byte token of printable ASCII is not a number`},
		{"word on line 7", "1\n2\n3\n4\n5\n6\nabc\n", `line 7: a 3-byte token of printable ASCII is not a number`},
		{"semicolons", "1;2\n", `line 1: a 3-byte token of printable ASCII is not a number`},
		{"out of range", "1e400\n", `line 1: a 5-byte token of printable ASCII is out of range for float64`},
		{"three columns", "1 2 3\n", "line 1: 3 columns; want one (value) or two (time, value)"},
		{"ragged", "0,1\n1,2\n3\n", "line 3: 1 columns, but line 1 has 2"},
		{"empty field", "0,,1\n", "line 1: empty field"},
		{"trailing comma", "1,\n", "line 1: empty field"},
		{"nan time", "nan,1\n1,2\n", `line 1: time NaN is not finite`},
		{"inf time", "0,1\ninf,2\n", `line 2: time +Inf is not finite`},
		{"repeated time", "0,1\n0,2\n", "line 2: time 0 does not increase after 0"},
		{"decreasing time", "0,1\n1,2\n0.5,3\n", "line 3: time 0.5 does not increase after 1"},
		{"gap", "0,1\n1,2\n2,3\n4,4\n5,5\n", "non-uniform time column at line 4: step 2, expected 1"},
		{"jitter", "0 1\n1 1\n2.00001 1\n3 1\n", "non-uniform time column at line 3"},
		{"subnormal span", "0,1\n5e-324,2\n", "does not give a usable sample rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseText([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
