package audit

import (
	"bytes"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// python returns the Python that checks the log independently, or skips
// the test: with -short too, as its start-up alone is most of the test.
func python(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Python; not with -short")
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("no python3")
	return ""
}

// trickyRecords are event fields whose serialization differs between
// encoders.
var trickyRecords = []map[string]any{
	{"s": "é ü ß 中文 ∆t"},
	{"s": "😀 𝄞 \U0010FFFF"},
	{"s": "\x00\x01\b\f\n\r\t\x1f\x7f"},
	{"s": `"quoted" back\slash /slash`},
	{"s": "line\u2028separator\u2029paragraph <script>&amp;"},
	{"s": "invalid \xff\xfe utf-8 \xed\xa0\x80"},
	{"floats": []any{0.1, 1e-05, 4.0, 1e16, 1300000000.5, 123456.789, math.Copysign(0, -1), 5e-324, 1.5e16, 0.0001, 1e22}},
	{"nested": map[string]any{"b": []any{map[string]any{"z": nil, "a": true}}, "a": uint64(18446744073709551615)}},
	{"big": int64(-9223372036854775808), "list": []string{"x", "", "\u00e9"}},
}

func writeTrickyLog(t *testing.T) Options {
	t.Helper()
	opts := testOptions(t)
	opts.MaxSize = 600 // several segments
	l := mustOpen(t, opts)
	for _, f := range trickyRecords {
		mustAppend(t, l, "tricky", f)
	}
	for i := range 5 {
		mustAppend(t, l, eventArchived, archivedRecord(i))
	}
	mustClose(t, l)
	requireOK(t, mustVerify(t, opts))
	return opts
}

func runVerifyChain(t *testing.T, py string, segs []string) (string, error) {
	t.Helper()
	cmd := exec.Command(py, append([]string{"testdata/verify_chain.py"}, segs...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestVerifyChainPython runs testdata/verify_chain.py, which uses only
// Python's standard library, on a log with tricky strings and floats in
// several segments, and on edited copies of it.
func TestVerifyChainPython(t *testing.T) {
	t.Parallel()
	py := python(t)
	opts := writeTrickyLog(t)
	segs, err := Segments(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("got %d segments, want several", len(segs))
	}
	n := len(trickyRecords) + 5 + 1 // and the checkpoint of Close
	out, err := runVerifyChain(t, py, segs)
	if err != nil || out != "OK "+strconv.Itoa(n)+" records" {
		t.Fatalf("verify_chain.py: got %q, %v, want OK %d records", out, err, n)
	}

	edits := []struct {
		name string
		edit func(lines [][]byte) [][]byte
	}{
		{"string edited", func(ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(`\u00e9`), []byte(`\u00e8`), 1)
			return ls
		}},
		{"float edited", func(ls [][]byte) [][]byte {
			for i, l := range ls {
				ls[i] = bytes.Replace(l, []byte("1300000000.5"), []byte("1300000000.25"), 1)
			}
			return ls
		}},
		{"line deleted", func(ls [][]byte) [][]byte { return append(ls[:1], ls[2:]...) }},
		{"first line deleted", func(ls [][]byte) [][]byte { return ls[1:] }},
		{"line duplicated", func(ls [][]byte) [][]byte { return append(ls[:1], append([][]byte{ls[0]}, ls[1:]...)...) }},
		{"newline dropped", func(ls [][]byte) [][]byte {
			last := len(ls) - 2
			ls[last] = bytes.TrimSuffix(ls[last], []byte("\n"))
			return ls
		}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			opts := writeTrickyLog(t)
			segs, _ := Segments(opts.Path)
			for _, seg := range segs {
				lines := readLinesOf(t, seg)
				if len(lines) > 2 {
					writeLines(t, seg, e.edit(lines))
				}
			}
			if rep := mustVerify(t, opts); rep.OK() {
				t.Errorf("Verify of the edited log: got OK, want a problem")
			}
			out, err := runVerifyChain(t, py, segs)
			if err == nil || !strings.HasPrefix(out, "BAD ") {
				t.Errorf("verify_chain.py on the edited log: got %q, %v, want BAD and exit status 1", out, err)
			}
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 1 {
				t.Errorf("verify_chain.py: got exit status %d, want 1", ee.ExitCode())
			}
		})
	}
}
