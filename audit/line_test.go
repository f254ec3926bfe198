package audit

import (
	"strings"
	"testing"
)

func TestScanObject(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{}`, true},
		{`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{`{"a":"\u00e9\ud83d\ude00\u007f\u0000\"\\\b\f\n\r\t"}`, true},
		{`{"a":0.1,"b":1e-05,"c":4.0,"d":1e+16,"e":-0.0,"f":123456789012345678901234567890}`, true},
		{`{"a":[],"b":{}}`, true},
		{``, false},
		{`[]`, false},
		{`{"a":1} `, false},
		{`{"a": 1}`, false},
		{`{ "a":1}`, false},
		{`{"b":1,"a":2}`, false},
		{`{"a":1,"a":2}`, false},
		{`{"":1}`, false},
		{`{"é":1}`, false},
		{"{\"\\u00e9\":1}", false},
		{`{"a":"é"}`, false},
		{`{"a":"\u00E9"}`, false},
		{`{"a":"\u0041"}`, false},
		{`{"a":"\u000a"}`, false},
		{`{"a":"\/"}`, false},
		{`{"a":"\ud800"}`, false},
		{`{"a":"\udc00"}`, false},
		{`{"a":"\ud800\u0041"}`, false},
		{"{\"a\":\"\x7f\"}", false},
		{"{\"a\":\"\t\"}", false},
		{`{"a":-0}`, false},
		{`{"a":01}`, false},
		{`{"a":+1}`, false},
		{`{"a":1.0e5}`, false},
		{`{"a":1E5}`, false},
		{`{"a":100000}`, true},
		{`{"a":100000.0}`, true},
		{`{"a":1e16}`, false},
		{`{"a":0.10}`, false},
		{`{"a":1e400}`, false},
		{`{"a":NaN}`, false},
		{`{"a":tru}`, false},
		{`{"a":"x}`, false},
		{`{"a":1,}`, false},
		{`{"a":[1,]}`, false},
		{`{"a"}`, false},
		{`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{`{"a":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`, true},
	}
	for _, tt := range tests {
		err := scanObject([]byte(tt.in), func(_, _ []byte, _ int) error { return nil })
		if (err == nil) != tt.ok {
			t.Errorf("scanObject(%s): got %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestParseRecordLine(t *testing.T) {
	h := header{seq: 42, time: "2024-03-01T12:00:00.000000001Z", event: "archived", host: "h\u00e9"}
	h.prev[0] = 0xab
	fields := map[string]any{"a": 1, "zz": "z", "hash_like": "x"}
	keys, _ := checkFields(h.event, fields)
	line, sum, err := encodeRecord(&h, keys, fields)
	if err != nil {
		t.Fatal(err)
	}
	body := line[:len(line)-1]
	var lr lineRecord
	if err := parseRecordLine(body, &lr); err != nil {
		t.Fatalf("parseRecordLine(%s): %v", body, err)
	}
	if lr.seq != 42 || lr.hash != sum || lr.prev != h.prev || unquote(lr.host) != h.host || string(lr.event) != "archived" {
		t.Errorf("parseRecordLine: got %+v, want the header written", lr)
	}
	if got := lr.bodyHash(body); got != sum {
		t.Errorf("bodyHash: got %x, want %x", got, sum)
	}
	for _, missing := range []string{keySeq, keyHash, keyPrev, keyEvent, keyTime, keyHost} {
		var m map[string]any
		rec, _ := decodeRecord(body)
		m = map[string]any{keySeq: rec.Seq, keyHash: rec.Hash, keyPrev: rec.Prev, keyEvent: rec.Event, keyTime: "t", keyHost: rec.Host}
		delete(m, missing)
		b, _ := Canonical(m)
		if err := parseRecordLine(b, &lr); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("parseRecordLine without %s: got %v, want an error naming it", missing, err)
		}
	}
}

func TestCheckFields(t *testing.T) {
	tests := []struct {
		event  string
		fields map[string]any
		ok     bool
	}{
		{"archived", map[string]any{"source_path": "x"}, true},
		{"archived", nil, true},
		{"", nil, false},
		{"archived", map[string]any{"seq": 1}, false},
		{"archived", map[string]any{"hash": "x"}, false},
		{"archived", map[string]any{"time": "x"}, false},
		{"archived", map[string]any{"event": "x"}, false},
		{"archived", map[string]any{"host": "x"}, false},
		{"archived", map[string]any{"prev": "x"}, false},
		{"archived", map[string]any{"naïve": "x"}, false},
	}
	for _, tt := range tests {
		_, err := checkFields(tt.event, tt.fields)
		if (err == nil) != tt.ok {
			t.Errorf("checkFields(%q, %v): got %v, want ok=%v", tt.event, tt.fields, err, tt.ok)
		}
	}
}
