package audit

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseLine checks that the record line parser never panics and that
// the hash member it finds lies in the line.
func FuzzParseLine(f *testing.F) {
	h := header{seq: 7, time: "2024-03-01T12:00:00.000000000Z", event: eventArchived, host: "h"}
	fields := archivedRecord(3)
	line, _, _ := encodeFields(&h, fields)
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
		line, sum, err := encodeFields(&h, fields)
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

// replaceEachInvalid replaces every invalid byte, not every run, with U+FFFD.
func replaceEachInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
