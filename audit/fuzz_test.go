package audit

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

// referenceString escapes s by the rules of CanonicalForm, one rune at a
// time and as plainly as possible, to check appendString against.
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

func FuzzCanonicalString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\b\f\n\r\t\x00\x7f", "é😀\u2028", "\xff\xed\xa0\x80", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if want := referenceString(s); string(got) != want {
			t.Fatalf("appendString(%q): got %s, want %s", s, got, want)
		}
		for _, c := range got {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("appendString(%q): got byte %#x, want printable ASCII only", s, c)
			}
		}
		obj := append(append([]byte(`{"k":`), got...), '}')
		if err := scanObject(obj, func(_, _ []byte, _ int) error { return nil }); err != nil {
			t.Fatalf("scanObject(%s): %v", obj, err)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", got, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want && back != replaceEachInvalid(s) {
			t.Fatalf("round trip of %q: got %q", s, back)
		}
		if u := unquote(got[1 : len(got)-1]); u != back {
			t.Fatalf("unquote(%s): got %q, want %q", got, u, back)
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

func FuzzCanonicalFloat(f *testing.F) {
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
		if err := scanObject(obj, func(_, _ []byte, _ int) error { return nil }); err != nil {
			t.Fatalf("scanObject(%s): %v", obj, err)
		}
	})
}

// FuzzParseLine checks the line parser against the encoder: whatever it
// accepts decodes and re-encodes to the same bytes, so accepting a line
// means it is canonical. It must never panic.
func FuzzParseLine(f *testing.F) {
	h := header{seq: 7, time: "2024-03-01T12:00:00.000000000Z", event: EventArchived, host: "h"}
	fields := archivedRecord(3)
	keys, _ := checkFields(EventArchived, fields)
	line, _, _ := encodeRecord(&h, keys, fields)
	f.Add(line[:len(line)-1])
	for _, s := range []string{`{}`, `{"a":[1,2.5,{"b":null}],"c":"\ud83d\ude00"}`, `{"a":1e-05}`, `{"b":1,"a":2}`, `{"a":-0}`,
		`{"a":"\u0041"}`, `{"a":"\ud800"}`, `{"a" : 1}`, `{"a":1.0e5}`, `[1]`, `{"a":"\/"}`, `{"a":123456789012345678901234567890}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var lr lineRecord
		if parseRecordLine(data, &lr) == nil {
			if lr.hashStart < 0 || lr.hashEnd > len(data) || lr.hashStart >= lr.hashEnd {
				t.Fatalf("hash member [%d:%d] outside the line", lr.hashStart, lr.hashEnd)
			}
			_ = lr.bodyHash(data)
			_, _ = decodeRecord(data)
		}
		if scanObject(data, func(_, _ []byte, _ int) error { return nil }) != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("accepted %q, but encoding/json: %v", data, err)
		}
		again, err := Canonical(m)
		if err != nil {
			t.Fatalf("accepted %q, but Canonical: %v", data, err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted %q, but it re-encodes as %q", data, again)
		}
	})
}

// FuzzRecord encodes records with fuzzed strings and numbers and checks
// that they parse back with the hash that was written.
func FuzzRecord(f *testing.F) {
	f.Add("archived", "host", "a\x00é😀\xff", int64(-3), 0.1, uint64(1))
	f.Fuzz(func(t *testing.T, event, host, s string, i int64, x float64, seq uint64) {
		if event == "" || seq == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		h := header{seq: seq, time: "2024-03-01T12:00:00.000000000Z", event: event, host: host}
		fields := map[string]any{"s": s, "i": i, "x": x, "l": []any{s, x}, "zz": map[string]any{"s": s}}
		keys, err := checkFields(event, fields)
		if err != nil {
			t.Fatal(err)
		}
		line, sum, err := encodeRecord(&h, keys, fields)
		if err != nil {
			t.Fatal(err)
		}
		var lr lineRecord
		if err := parseRecordLine(line[:len(line)-1], &lr); err != nil {
			t.Fatalf("parseRecordLine(%s): %v", line, err)
		}
		if lr.hash != sum || lr.bodyHash(line[:len(line)-1]) != sum || lr.seq != seq {
			t.Fatalf("parseRecordLine(%s): got seq %d hash %x, want %d %x", line, lr.seq, lr.hash, seq, sum)
		}
		rec, err := decodeRecord(line[:len(line)-1])
		if err != nil {
			t.Fatalf("decodeRecord(%s): %v", line, err)
		}
		if rec.Event != replaceEachInvalid(event) || rec.Host != replaceEachInvalid(host) {
			t.Fatalf("decodeRecord: got event %q host %q, want %q %q", rec.Event, rec.Host, event, host)
		}
	})
}
