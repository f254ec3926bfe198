package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/canonjson"
)

// TestCanonicalFormInDoc keeps the package documentation saying what the
// encoder does.
func TestCanonicalFormInDoc(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc strings.Builder
	for line := range strings.Lines(string(b)) {
		doc.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "//"), " "))
	}
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if !strings.Contains(norm(doc.String()), norm(canonjson.Rules)) {
		t.Errorf("doc.go does not contain canonjson.Rules:\n%s", canonjson.Rules)
	}
}

func TestParseRecordLine(t *testing.T) {
	t.Parallel()
	h := header{seq: 42, time: "2024-03-01T12:00:00.000000001Z", event: "archived", host: "h\u00e9"}
	h.prev[0] = 0xab
	fields := map[string]any{"a": 1, "zz": "z", "hash_like": "x"}
	ms, err := eventMembers(h.event, fields)
	if err != nil {
		t.Fatal(err)
	}
	line, sum := encodeRecord(&h, ms)
	body := line[:len(line)-1]
	var lr lineRecord
	if err := parseRecordLine(body, &lr); err != nil {
		t.Fatalf("parseRecordLine(%s): %v", body, err)
	}
	if lr.seq != 42 || lr.hash != sum || lr.prev != h.prev || canonjson.Unquote(lr.host) != h.host || string(lr.event) != "archived" {
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
		b, _ := canonjson.Marshal(m)
		if err := parseRecordLine(b, &lr); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("parseRecordLine without %s: got %v, want an error naming it", missing, err)
		}
	}
}

func TestEventMembers(t *testing.T) {
	t.Parallel()
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
		_, err := eventMembers(tt.event, tt.fields)
		if (err == nil) != tt.ok {
			t.Errorf("eventMembers(%q, %v): got %v, want ok=%v", tt.event, tt.fields, err, tt.ok)
		}
	}
}
