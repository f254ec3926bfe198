package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/alloctest"
	"github.com/gwwatchd/gwwatchd/internal/h5"
	"github.com/gwwatchd/gwwatchd/internal/samples"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// These tests measure the process's allocations, so none of them runs in
// parallel with another test.

// readSlack is what Read may allocate beyond the samples it returns: its
// buffers, the header, metadata and the like, whatever the file's size.
const readSlack = 2 << 20

// oddFloats holds bit patterns that a conversion through float64 values
// could lose: NaN payloads, both zeros, infinities, a subnormal.
var oddFloats = []float64{
	math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff0000000000001),
	math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, -1.5,
}

// rampFloat64s returns n float64 values, oddFloats first.
func rampFloat64s(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) * 0.5
	}
	copy(v, oddFloats)
	return v
}

// writeFile writes data to name in a new temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileSHA256(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readCounted reads the file at p with Read and returns the series and
// the bytes Read allocated.
func readCounted(t *testing.T, p string, opt Options) (*Series, uint64) {
	t.Helper()
	var s *Series
	var err error
	alloc := alloctest.Bytes(func() { s, err = Read(p, opt) })
	if err != nil {
		t.Fatal(err)
	}
	return s, alloc
}

func checkAlloc(t *testing.T, alloc uint64, values int) {
	t.Helper()
	if bound := uint64(values) + readSlack; alloc > bound {
		t.Errorf("Read allocated %d bytes for %d bytes of samples, more than %d", alloc, values, bound)
		return
	}
	t.Logf("Read allocated %d bytes for %d bytes of samples", alloc, values)
}

func checkBits(t *testing.T, got []float64, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("sample %d: got %#x, want %#x", i, math.Float64bits(got[i]), math.Float64bits(want[i]))
		}
	}
}

// TestReadNPYAllocatesSamplesOnce reads a 32 MiB float64 .npy file: Read
// allocates its samples once, the file's bytes not besides them.
func TestReadNPYAllocatesSamplesOnce(t *testing.T) {
	testsize.Large(t)
	const n = 1 << 20
	want := rampFloat64s(n)
	p := writeFile(t, "a.npy", npyFile(1, fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", n), float64Bytes(want...)))
	s, alloc := readCounted(t, p, timing)
	checkAlloc(t, alloc, 8*n)
	checkBits(t, s.Values.([]float64), want)
	if got := fileSHA256(t, p); s.Source.SHA256 != got {
		t.Errorf("source sha256 %s, want %s", s.Source.SHA256, got)
	}
}

// TestReadRawAllocatesSamplesOnce does the same for a raw float64 file.
func TestReadRawAllocatesSamplesOnce(t *testing.T) {
	testsize.Large(t)
	const n = 1 << 20
	want := rampFloat64s(n)
	p := writeFile(t, "a.bin", float64Bytes(want...))
	s, alloc := readCounted(t, p, Options{Flags: Meta{DType: ptr("float64")}, Defaults: timing.Defaults})
	checkAlloc(t, alloc, 8*n)
	checkBits(t, s.Values.([]float64), want)
	if got := fileSHA256(t, p); s.Source.SHA256 != got {
		t.Errorf("source sha256 %s, want %s", s.Source.SHA256, got)
	}
}

// TestReadInt16NPYAllocatesSamplesOnce reads a 32 MiB int16 .npy file into
// int16 samples, with no float64 copy of them.
func TestReadInt16NPYAllocatesSamplesOnce(t *testing.T) {
	testsize.Large(t)
	const n = 4 << 20
	want := make([]int16, n)
	for i := range want {
		want[i] = int16(i*7 - 30000)
	}
	var body bytes.Buffer
	binary.Write(&body, binary.LittleEndian, want)
	p := writeFile(t, "a.npy", npyFile(1, fmt.Sprintf("{'descr': '<i2', 'fortran_order': False, 'shape': (%d,), }", n), body.Bytes()))
	s, alloc := readCounted(t, p, timing)
	checkAlloc(t, alloc, 2*n)
	got, ok := s.Values.([]int16)
	if !ok || s.DType != samples.Int16 {
		t.Fatalf("got %T %s, want []int16", s.Values, s.DType)
	}
	if !slices.Equal(got, want) {
		t.Error("samples differ from those written")
	}
}

// TestReadBigEndianNPY reads a big-endian file: the samples, swapped in
// place, keep every bit, and the source sha256 is that of the file as it
// is, before the swap.
func TestReadBigEndianNPY(t *testing.T) {
	const n = 512 << 10
	want := rampFloat64s(n)
	var body bytes.Buffer
	binary.Write(&body, binary.BigEndian, want)
	p := writeFile(t, "a.npy", npyFile(2, fmt.Sprintf("{'descr': '>f8', 'fortran_order': False, 'shape': (%d, 1), }", n), body.Bytes()))
	s, alloc := readCounted(t, p, timing)
	checkAlloc(t, alloc, 8*n)
	if s.ByteOrder != "big" {
		t.Errorf("byte order %q, want big", s.ByteOrder)
	}
	checkBits(t, s.Values.([]float64), want)
	if got := fileSHA256(t, p); s.Source.SHA256 != got {
		t.Errorf("source sha256 %s, want %s", s.Source.SHA256, got)
	}

	// A big-endian integer file too.
	ints := []int32{1, -2, math.MaxInt32, math.MinInt32}
	body.Reset()
	binary.Write(&body, binary.BigEndian, ints)
	p = writeFile(t, "i.npy", npyFile(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (4,), }", body.Bytes()))
	if s, err := Read(p, timing); err != nil {
		t.Fatal(err)
	} else if !slices.Equal(s.Values.([]int32), ints) {
		t.Errorf("got %v, want %v", s.Values, ints)
	}
}

// TestReadTextAllocatesValuesOnce reads a two-column text file of 256 Ki
// rows: Read allocates the values and small buffers, neither the file's
// bytes nor its time column nor anything per line.
func TestReadTextAllocatesValuesOnce(t *testing.T) {
	testsize.Large(t)
	const n = 256 << 10
	var b bytes.Buffer
	b.WriteString("# time value\n")
	want := make([]float64, n)
	for i := range n {
		want[i] = float64(i%1000) * 1.25e-3
		b.WriteString(strconv.FormatFloat(1e9+float64(i)/1024, 'f', -1, 64))
		b.WriteString(", ")
		b.WriteString(strconv.FormatFloat(want[i], 'g', -1, 64))
		b.WriteString("  # note\n\n")
	}
	p := writeFile(t, "a.csv", b.Bytes())
	s, alloc := readCounted(t, p, Options{})
	checkAlloc(t, alloc, 8*n)
	checkBits(t, s.Values.([]float64), want)
	if s.T0 != 1e9 || s.SampleRate != 1024 || s.Origin["sample_rate"] != "file" {
		t.Errorf("t0 %v, sample rate %v from %s", s.T0, s.SampleRate, s.Origin["sample_rate"])
	}
	if got := fileSHA256(t, p); s.Source.SHA256 != got {
		t.Errorf("source sha256 %s, want %s", s.Source.SHA256, got)
	}
}

// TestSourceSHA256EveryFormat checks, for every format, that the source
// sha256 is that of the whole file's bytes.
func TestSourceSHA256EveryFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// More than one chunk of the reader, and not a whole number of them.
	const n = 5<<20/8 + 3
	values := rampFloat64s(n)
	h5Path := filepath.Join(dir, "a.h5")
	doc := &h5.Doc{Datasets: []h5.Dataset{{Path: "/K1:A", Data: values, Attrs: []h5.Attr{{Name: "x0", Value: 1e9}, {Name: "dx", Value: 0.25}}}}}
	if err := h5.Write(h5Path, doc, h5.Compression{}); err != nil {
		t.Fatal(err)
	}
	gwf, err := filepath.Abs("../testdata/gwf/selfmade-v8-le.gwf")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"npy":  write("a.npy", npyFile(3, fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", n), float64Bytes(values...))),
		"raw":  write("a.raw", float64Bytes(values...)),
		"text": write("a.txt", []byte("\ufeff1\n2\r\n# three\n3")),
		"hdf5": h5Path,
		"gwf":  gwf,
	}
	for format, p := range files {
		opt := timing
		if format == "raw" {
			opt.Flags.DType = ptr("float64")
		}
		all, err := ReadAll(p, opt)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		want := fileSHA256(t, p)
		for _, s := range all {
			if s.Format != format || s.Source.SHA256 != want {
				t.Errorf("%s: format %s, source sha256 %s, want %s", format, s.Format, s.Source.SHA256, want)
			}
		}
		if format == "npy" || format == "raw" || format == "hdf5" {
			checkBits(t, all[0].Values.([]float64), values)
		}
	}
}

// BenchmarkReadNPY reads a 64 MiB float64 .npy file.
func BenchmarkReadNPY(b *testing.B) {
	const n = 8 << 20
	p := writeFile(b, "a.npy", npyFile(1, fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", n), float64Bytes(rampFloat64s(n)...)))
	b.SetBytes(8 * n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(p, timing); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReadText checks that a text file read from disk, as Read reads it,
// gives what parseText gives of the same bytes in memory: the same
// values, times and rate, or the same refusal.
func FuzzReadText(f *testing.F) {
	long := strings.Repeat(" ", 70<<10) + "1"
	for _, s := range []string{
		"1\n2\n3\n", "1\n2\n3", "\ufeff0x1p-2\r\n-0\r\n", "\ufeff", "\n\n1\n\n", "# c\n0, 1\n0.25, 2\n0.5, 3 # x\n",
		"1 2 3\n", "0,1\n1,2\n2,3\n4,4\n5,5\n", "0,1\n1,2\n2,3\n4,4\n5,x\n", "0,1\n1,2\n0.5,3\n", "0,1\n5e-324,2\n",
		long + "\n" + long, "0 1\n" + long + " 2\n", "1\u00a02\n", strings.Repeat("1e-3\n", 20000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return // refused as an empty file before it is parsed
		}
		want, werr := parseText(data)
		p := writeFile(t, "a.txt", data)
		o, err := openChecked(p, p, maxFileSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer o.close()
		got, err := o.readText()
		if werr != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Err == nil || ie.Err.Error() != werr.Error() {
				t.Fatalf("read: %v; in memory: %v", err, werr)
			}
			return
		}
		if err != nil {
			t.Fatalf("read: %v; in memory: %d values", err, len(want.Values))
		}
		if !sameFloats(got.Values, want.Values) || got.Columns != want.Columns || deref(got.T0) != deref(want.T0) || deref(got.Rate) != deref(want.Rate) {
			t.Fatalf("read %d values of %d columns, t0 %v, rate %v; in memory %d of %d, t0 %v, rate %v",
				len(got.Values), got.Columns, deref(got.T0), deref(got.Rate), len(want.Values), want.Columns, deref(want.T0), deref(want.Rate))
		}
	})
}

// TestOpenFileNoticesChanges checks that a file read piece by piece is
// found changed when it grows, shrinks or is written to in place.
func TestOpenFileNoticesChanges(t *testing.T) {
	open := func(t *testing.T) (*openFile, string) {
		p := writeFile(t, "a.bin", make([]byte, 100))
		if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
			t.Fatal(err)
		}
		o, err := openChecked(p, p, maxFileSize, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(o.close)
		if err := o.check(); err != nil {
			t.Fatalf("unchanged file: %v", err)
		}
		return o, p
	}
	changed := func(t *testing.T, err error, want string) {
		t.Helper()
		if !errors.Is(err, ErrChanged) || IsInputError(err) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("got %v, want an error wrapping ErrChanged ending in %q", err, want)
		}
	}
	t.Run("grew", func(t *testing.T) {
		o, p := open(t)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{1})
		f.Close()
		changed(t, o.check(), "it grew")
	})
	t.Run("shrank", func(t *testing.T) {
		o, p := open(t)
		if err := os.Truncate(p, 50); err != nil {
			t.Fatal(err)
		}
		h := newChunkHash()
		changed(t, o.readHashed(make([]byte, 100), 0, h), "it shrank")
		h.sum()
		_, err := o.hashFile()()
		changed(t, err, "it shrank")
		changed(t, o.check(), ErrChanged.Error())
	})
	t.Run("written", func(t *testing.T) {
		o, p := open(t)
		if err := os.WriteFile(p, make([]byte, 100), 0o644); err != nil {
			t.Fatal(err)
		}
		changed(t, o.check(), ErrChanged.Error())
	})
}
