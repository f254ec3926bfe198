package canonjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// referenceString escapes s by the Rules, one rune at a
// time and as plainly as possible, to check AppendString against.
func referenceString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r) // includes RuneError for invalid bytes
		}
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\b\f\n\r\t\x00\x7f", "é😀\u2028", "\xff\xed\xa0\x80", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		if want := referenceString(s); string(got) != want {
			t.Fatalf("AppendString(%q): got %s, want %s", s, got, want)
		}
		for _, c := range got {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("AppendString(%q): got byte %#x, want printable ASCII only", s, c)
			}
		}
		obj := append(append([]byte(`{"k":`), got...), '}')
		if err := ScanObject(obj, func(_, _ []byte, _ int) error { return nil }); err != nil {
			t.Fatalf("ScanObject(%s): %v", obj, err)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", got, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want && back != replaceEachInvalid(s) {
			t.Fatalf("round trip of %q: got %q", s, back)
		}
		if u := Unquote(got[1 : len(got)-1]); u != back {
			t.Fatalf("Unquote(%s): got %q, want %q", got, u, back)
		}
	})
}

// replaceEachInvalid replaces every invalid byte, not every run, with U+FFFD.
func replaceEachInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0.1, 1e-05, 4, 1e16, 1300000000.5, 123456.789, 5e-324, -0.0, 1e-4, 9999999999999998} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got, err := appendFloat(nil, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if err == nil {
				t.Fatalf("appendFloat(%v): got %s, want an error", v, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("appendFloat(%v): %v", v, err)
		}
		back, err := strconv.ParseFloat(string(got), 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("appendFloat(%v) = %s reads back as %v, %v", v, got, back, err)
		}
		// The digits are Go's shortest, and the layout follows repr's rule.
		e := strconv.FormatFloat(math.Abs(v), 'e', -1, 64)
		exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
		digits := strings.Replace(e[:strings.IndexByte(e, 'e')], ".", "", 1)
		s := strings.TrimPrefix(string(got), "-")
		if v == 0 {
			if s != "0.0" {
				t.Fatalf("appendFloat(%v): got %s, want 0.0", v, got)
			}
			return
		}
		if exp >= -4 && exp < 16 {
			if strings.ContainsAny(s, "e") || !strings.Contains(s, ".") || strings.HasSuffix(s, ".") {
				t.Fatalf("appendFloat(%v): got %s, want fixed notation with a fraction", v, got)
			}
			if d := strings.TrimRight(strings.TrimLeft(strings.Replace(s, ".", "", 1), "0"), "0"); d != strings.TrimRight(digits, "0") {
				t.Fatalf("appendFloat(%v): got digits %s, want %s", v, d, digits)
			}
		} else {
			want := digits[:1]
			if len(digits) > 1 {
				want += "." + digits[1:]
			}
			want += fmt.Sprintf("e%+03d", exp)
			if s != want {
				t.Fatalf("appendFloat(%v): got %s, want %s", v, s, want)
			}
		}
		obj := append(append([]byte(`{"f":`), got...), '}')
		if err := ScanObject(obj, func(_, _ []byte, _ int) error { return nil }); err != nil {
			t.Fatalf("ScanObject(%s): %v", obj, err)
		}
	})
}

// FuzzScanObject checks the scanner against the encoder: whatever it
// accepts decodes and re-encodes to the same bytes, so accepting an object
// means it is canonical. It must never panic.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5,{"b":null}],"c":"\ud83d\ude00"}`, `{"a":1e-05}`, `{"b":1,"a":2}`, `{"a":-0}`,
		`{"a":"\u0041"}`, `{"a":"\ud800"}`, `{"a" : 1}`, `{"a":1.0e5}`, `[1]`, `{"a":"\/"}`, `{"a":123456789012345678901234567890}`,
		`{"datasets":["/raw/K1:LSC-DARM_OUT_DQ"],"params":{"asd":{"enabled":true,"fftlength":2.0}},"seq":7}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if ScanObject(data, func(_, _ []byte, _ int) error { return nil }) != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("accepted %q, but encoding/json: %v", data, err)
		}
		again, err := Marshal(m)
		if err != nil {
			t.Fatalf("accepted %q, but Marshal: %v", data, err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted %q, but it re-encodes as %q", data, again)
		}
	})
}
