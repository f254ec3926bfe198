package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// checkMessage fails if err, as reported for a file, would span lines.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	if msg := inputErr("/f", err, err.Error()).Error(); strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("message spans lines: %q", msg)
	}
}

func FuzzNPY(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.npy"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npyFile(3, "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 1), }", []byte{0, 0, 0, 1, 0, 0, 0, 2}))
	f.Add([]byte(npyMagic + "\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseNPY(data)
		if err != nil {
			checkMessage(t, err)
			return
		}
		checkNPY(t, a, len(data))
	})
}

// FuzzNPYHeader mutates the header dict alone, which raw byte mutation
// rarely reaches with a consistent length field.
func FuzzNPYHeader(f *testing.F) {
	f.Add(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", make([]byte, 16))
	f.Add(2, "{'descr': [('a', '<i2'), ('b', ('<f4', (2,)))], 'fortran_order': False, 'shape': (1,)}", make([]byte, 10))
	f.Add(3, `{"shape": (4, 1), "descr": "|u1", "fortran_order": True}`, []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, version int, dict string, body []byte) {
		a, err := parseNPY(npyFile(byte(1+uint(version)%3), dict, body))
		if err != nil {
			checkMessage(t, err)
			return
		}
		checkNPY(t, a, -1)
	})
}

func checkNPY(t *testing.T, a *npyArray, size int) {
	t.Helper()
	n := samples.Len(a.Values)
	switch {
	case n == 0:
		t.Fatal("accepted an array without samples")
	case !a.DType.Valid() || samples.Of(a.Values) != a.DType:
		t.Fatalf("values %T do not match dtype %q", a.Values, a.DType)
	case len(a.Shape) != 1 && (len(a.Shape) != 2 || a.Shape[1] != 1):
		t.Fatalf("accepted shape %v", a.Shape)
	case int64(n) != a.Shape[0]:
		t.Fatalf("got %d samples for shape %v", n, a.Shape)
	case size >= 0 && n*a.DType.Size() >= size:
		t.Fatalf("got %d samples of %s from a %d-byte file", n, a.DType, size)
	case a.DType.Size() > 1 && a.ByteOrder != "little" && a.ByteOrder != "big":
		t.Fatalf("byte order %q for %s", a.ByteOrder, a.DType)
	case a.DType.Size() == 1 && a.ByteOrder != "":
		t.Fatalf("byte order %q for %s", a.ByteOrder, a.DType)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"1\n2\n3\n",
		"# c\n0, 1\n0.25, 2\n0.5, 3 # x\n",
		"1e9\tnan\n1000000000.5\tinf\n",
		"\ufeff0x1p-2\r\n-0\r\n",
		"1 2 3\n",
		"time,value\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		td, err := parseText(data)
		if err != nil {
			checkMessage(t, err)
			return
		}
		switch {
		case len(td.Values) == 0:
			t.Fatal("accepted text without samples")
		case td.Columns != 1 && td.Columns != 2:
			t.Fatalf("accepted %d columns", td.Columns)
		case (td.T0 != nil) != (td.Columns == 2):
			t.Fatalf("t0 %v with %d columns", td.T0, td.Columns)
		case td.T0 != nil && !isFinite(*td.T0):
			t.Fatalf("t0 %v", *td.T0)
		case td.Rate != nil && (!isFinite(*td.Rate) || *td.Rate <= 0):
			t.Fatalf("rate %v", *td.Rate)
		case (td.Rate != nil) != (td.Columns == 2 && len(td.Values) >= 2):
			t.Fatalf("rate %v with %d rows of %d columns", td.Rate, len(td.Values), td.Columns)
		}
	})
}

func FuzzSidecarJSON(f *testing.F) {
	for _, s := range []string{
		`{"channel": "K1:X", "t0": 1e9, "sample_rate": 4096, "dtype": "<f8", "byte_order": "little"}`,
		`{"unit": "m", "description": "a\nb", "dataset": "d"}`,
		`{}`, `[]`, `{"t0": "x"}`, `{"t0": 1} {}`, `{"x": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseSidecarJSON(data)
		checkSidecar(t, m, err)
	})
}

func FuzzSidecarTOML(f *testing.F) {
	for _, s := range []string{
		"channel = \"K1:X\"\nt0 = 1000000000\nsample_rate = 4096.0\ndtype = \">i2\"\n",
		"unit = 'm'\ndescription = \"\"\"a\nb\"\"\"\n",
		"", "[x]\n", "t0 = nan\n", "t0 = 1\nt0 = 2\n", "sample_rate = 1979-05-27\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseSidecarTOML(data)
		checkSidecar(t, m, err)
	})
}

func checkSidecar(t *testing.T, m Meta, err error) {
	t.Helper()
	if err != nil {
		checkMessage(t, err)
		return
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("accepted a sidecar that does not validate: %v", err)
	}
	if m.DType != nil {
		if _, err := ParseDType(*m.DType); err != nil {
			t.Fatalf("accepted dtype %q: %v", *m.DType, err)
		}
	}
}
