package canonjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain ASCII ~", `"plain ASCII ~"`},
		{`quote " backslash \ slash /`, `"quote \" backslash \\ slash /"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f", `"\u007f"`},
		{"<>&", `"<>&"`},
		{"é", `"\u00e9"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"K1:LSC-DARM ∆t", `"K1:LSC-DARM \u2206t"`},
		{"😀", `"\ud83d\ude00"`},
		{"\U0010FFFF", `"\udbff\udfff"`},
		{"\ufffd", `"\ufffd"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // an encoded surrogate is invalid UTF-8
		{"cut \xe2\x82", `"cut \ufffd\ufffd"`},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.1, "0.1"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{0.00012345, "0.00012345"},
		{4, "4.0"},
		{-4, "-4.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{9999999999999998, "9999999999999998.0"},
		{12345678901234567, "1.2345678901234568e+16"},
		{1300000000.5, "1300000000.5"},
		{123456.789, "123456.789"},
		{1e22, "1e+22"},
		{1e300, "1e+300"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1.23e-20, "1.23e-20"},
		{100, "100.0"},
		{1.0 / 3, "0.3333333333333333"},
	}
	for _, tt := range tests {
		got, err := appendFloat(nil, tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendFloat(%v): got %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := appendFloat(nil, f); err == nil {
			t.Errorf("appendFloat(%v): got no error, want one", f)
		}
	}
}

type named string

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"empty", map[string]any{}, `{}`},
		{"sorted", map[string]any{"b": 1, "a": 2, "B": 3, "a_b": 4, "a b": 5}, `{"B":3,"a":2,"a b":5,"a_b":4,"b":1}`},
		{"scalars", map[string]any{"n": nil, "t": true, "f": false, "i": -7, "u": uint64(math.MaxUint64), "x": int64(math.MinInt64)},
			`{"f":false,"i":-7,"n":null,"t":true,"u":18446744073709551615,"x":-9223372036854775808}`},
		{"nested", map[string]any{"m": map[string]any{"z": []any{1, "a", 2.5, nil}, "a": map[string]string{"k": "v"}}, "s": []string{"x", "y"}},
			`{"m":{"a":{"k":"v"},"z":[1,"a",2.5,null]},"s":["x","y"]}`},
		{"reflect", map[string]any{"ints": []int64{1, 2}, "named": named("n"), "counts": map[string]int{"b": 2, "a": 1}, "arr": [2]bool{true, false}, "nilslice": []int(nil)},
			`{"arr":[true,false],"counts":{"a":1,"b":2},"ints":[1,2],"named":"n","nilslice":[]}`},
		{"numbers", map[string]any{"a": json.Number("1E5"), "b": json.Number("-0"), "c": json.Number("123456789012345678901234567890"), "d": json.Number("2.50")},
			`{"a":100000.0,"b":0,"c":123456789012345678901234567890,"d":2.5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("Marshal: got %s, %v, want %s", got, err, tt.want)
			}
		})
	}
}

type Inner struct {
	A string `json:"a"`
	Z int    `json:"z,omitempty"`
}

type Extra struct {
	N int `json:"n"`
}

type outer struct {
	Inner
	*Extra
	In      Inner             `json:"in"`
	Ptr     *Inner            `json:"ptr,omitempty"`
	List    []Inner           `json:"list"`
	Names   []string          `json:"names"`
	Map     map[string]string `json:"map,omitempty"`
	Skip    string            `json:"-"`
	Plain   bool
	Omitted float64   `json:"omitted,omitempty"`
	When    time.Time `json:"when"`
	Took    time.Duration
	hidden  int
}

func TestMarshalStruct(t *testing.T) {
	when := time.Date(2024, 3, 1, 12, 0, 0, 500, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"zero", outer{}, `{"Plain":false,"Took":0,"a":"","in":{"a":""},"list":[],"names":[],"when":"0001-01-01T00:00:00Z"}`},
		{"full", outer{Inner: Inner{A: "x", Z: 2}, Extra: &Extra{N: 3}, In: Inner{Z: 1}, Ptr: &Inner{}, List: []Inner{{A: "l"}},
			Names: []string{"b", "a"}, Map: map[string]string{"k": "v"}, Skip: "s", Plain: true, Omitted: 0.5, When: when, Took: time.Second, hidden: 1},
			`{"Plain":true,"Took":1000000000,"a":"x","in":{"a":"","z":1},"list":[{"a":"l"}],"map":{"k":"v"},"n":3,"names":["b","a"],` +
				`"omitted":0.5,"ptr":{"a":""},"when":"2024-03-01T11:00:00.0000005Z","z":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("Marshal: got %s, %v, want %s", got, err, tt.want)
			}
			ms, err := Members(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, m := range ms {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(string(AppendString(nil, m.Key)) + ":" + string(m.Value))
			}
			if o := "{" + b.String() + "}"; o != tt.want {
				t.Errorf("Members: got %s, want %s", o, tt.want)
			}
		})
	}
	type twice struct {
		Inner
		A int `json:"a"`
	}
	if _, err := Marshal(twice{}); err == nil {
		t.Errorf("Marshal of a struct with two fields named a: got no error")
	}
	if _, err := Members([]int{1}); err == nil {
		t.Errorf("Members of a slice: got no error")
	}
}

func TestMarshalRejects(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		path string
	}{
		{"non-ASCII key", map[string]any{"é": 1}, "é"},
		{"empty key", map[string]any{"": 1}, ""},
		{"quote in key", map[string]any{`a"b`: 1}, `a"b`},
		{"nested key", map[string]any{"m": map[string]any{"x\n": 1}}, "m.x\n"},
		{"NaN", map[string]any{"a": []any{1, math.NaN()}}, "a[1]"},
		{"Inf", map[string]any{"m": map[string]any{"f": math.Inf(1)}}, "m.f"},
		{"bytes", map[string]any{"b": []byte("x")}, "b"},
		{"float32", map[string]any{"f": float32(0.1)}, "f"},
		{"unsupported in a struct", map[string]any{"s": struct{ C chan int }{}}, "s.C"},
		{"chan", map[string]any{"c": make(chan int)}, "c"},
		{"int keys", map[string]any{"m": map[int]int{1: 1}}, "m"},
		{"bad number", map[string]any{"n": json.Number("1e999")}, "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.in)
			if err == nil {
				t.Fatalf("Marshal: got no error, want one")
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Path != tt.path || !strings.HasPrefix(err.Error(), "field "+tt.path) {
				t.Errorf("Marshal: got %v, want an error naming field %q", err, tt.path)
			}
		})
	}
}

// randomValue returns a value of the kinds records hold, with the strings
// and floats that differ between encoders.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case k == 0 && depth < 3:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randomKey(r)] = randomValue(r, depth+1)
		}
		return m
	case k == 1 && depth < 3:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randomValue(r, depth+1)
		}
		return s
	case k == 2:
		return randomFloat(r)
	case k == 3:
		return r.Int64() >> r.IntN(64)
	case k == 4:
		return []any{true, false, nil}[r.IntN(3)]
	case k == 5:
		return r.Uint64()
	default:
		return randomString(r)
	}
}

func randomKey(r *rand.Rand) string {
	b := make([]byte, 1+r.IntN(6))
	for i := range b {
		for {
			c := byte(0x20 + r.IntN(0x5f))
			if c != '"' && c != '\\' {
				b[i] = c
				break
			}
		}
	}
	return string(b)
}

func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		for {
			if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	case 1:
		return float64(r.Int64N(1<<54)) * math.Pow(10, float64(r.IntN(40)-20))
	case 2:
		return []float64{0.1, 1e-05, 4.0, 1e16, 1300000000.5, 123456.789, -0.0, 1e-4, 9999999999999998, 5e-324}[r.IntN(10)]
	default:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15))
	}
}

func randomString(r *rand.Rand) string {
	var b []byte
	for range r.IntN(12) {
		switch r.IntN(6) {
		case 0:
			b = append(b, byte(r.IntN(0x20)), 0x7f)
		case 1:
			b = append(b, `"\/`[r.IntN(3)])
		case 2:
			b = utf8.AppendRune(b, rune(0x80+r.IntN(0xd800-0x80)))
		case 3:
			b = utf8.AppendRune(b, rune(0x10000+r.IntN(0x100000)))
		case 4:
			b = append(b, byte(0x80+r.IntN(0x80))) // invalid UTF-8
		default:
			b = append(b, byte(0x20+r.IntN(0x5f)))
		}
	}
	return string(b)
}

// TestMarshalMatchesPython has Python re-serialize random objects: its
// json.dumps with the canonical options must give back the same bytes.
func TestMarshalMatchesPython(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python; not with -short")
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no %s", py)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var in bytes.Buffer
	var want []string
	for range 2000 {
		m := map[string]any{}
		for range 1 + r.IntN(6) {
			m[randomKey(r)] = randomValue(r, 0)
		}
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", m, err)
		}
		want = append(want, string(b))
		in.Write(b)
		in.WriteByte('\n')
	}
	cmd := exec.Command(py, "-c", `import json, sys
for line in sys.stdin.buffer:
    sys.stdout.write(json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n")`)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		if i < len(want) && sc.Text() != want[i] {
			t.Errorf("object %d: Python wrote\n%s\nwant\n%s", i, sc.Text(), want[i])
		}
		i++
	}
	if i != len(want) {
		t.Errorf("python: got %d lines, want %d", i, len(want))
	}
}
