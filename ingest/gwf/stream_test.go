package gwf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/gwwatchd/gwwatchd/internal/alloctest"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// streamFiles are written files of every version and byte order, and the
// shared real files.
func streamFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, v := range []int{6, 7, 8, 9} {
		for _, big := range []bool{false, true} {
			files[fmt.Sprintf("spec v%d big=%v", v, big)] = encodedSpec(t, v, big, 300, 3)
		}
		files[fmt.Sprintf("small v%d", v)] = encode(t, smallSpec(v, v%2 == 0))
	}
	addSharedFiles(t, files)
	return files
}

// withoutValues returns a copy of f's frames and channels with nil Values.
func withoutValues(f *File) *File {
	g := *f
	g.Frames = nil
	for _, fr := range f.Frames {
		h := *fr
		h.Channels = nil
		for _, ch := range fr.Channels {
			c := *ch
			c.Values = nil
			h.Channels = append(h.Channels, &c)
		}
		g.Frames = append(g.Frames, &h)
	}
	return &g
}

// TestReadAgreesWithDecode checks that Read, however its reader splits
// the file, finds the metadata Decode gives, and that Load gives each
// series the samples Decode and Series give it.
func TestReadAgreesWithDecode(t *testing.T) {
	t.Parallel()
	for name, data := range streamFiles(t) {
		if !testsize.Full() && len(data) > 256<<10 {
			continue // at a reduced size, files of up to 256 KiB
		}
		f, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := withoutValues(f)
		readers := map[string]io.Reader{
			"bytes":    bytes.NewReader(data),
			"one byte": iotest.OneByteReader(bytes.NewReader(data)),
			"half":     iotest.HalfReader(bytes.NewReader(data)),
		}
		if !testsize.Full() && len(data) > 64<<10 {
			// At a reduced size, a large file through short reads only:
			// the small files go through every reader.
			delete(readers, "one byte")
			delete(readers, "bytes")
		}
		var x *Index
		for rname, r := range readers {
			got, err := Options{}.Read(r, int64(len(data)))
			if err != nil {
				t.Fatalf("%s through %s: %v", name, rname, err)
			}
			if !reflect.DeepEqual(got.File(), want) {
				t.Errorf("%s through %s: the Index's File differs from Decode's", name, rname)
			}
			x = got
		}
		decoded := f.Series()
		series := x.Series()
		if len(series) != len(decoded) {
			t.Fatalf("%s: %d series, Decode %d", name, len(series), len(decoded))
		}
		// Load them all at once, as a caller on several cores would.
		errs := make([]error, len(series))
		var wg sync.WaitGroup
		for i, s := range series {
			if s.Values != nil {
				t.Fatalf("%s: series %s has values before Load", name, s.Name)
			}
			wg.Go(func() { errs[i] = x.Load(bytes.NewReader(data), s) })
		}
		wg.Wait()
		for i, s := range series {
			d := decoded[i]
			if errs[i] != nil {
				t.Errorf("%s: Load %s: %v", name, s.Name, errs[i])
				continue
			}
			if !sameValues(s.Values, d.Values) {
				t.Errorf("%s: Load %s gives other samples than Decode", name, s.Name)
			}
			s.Values, d.Values = nil, nil
			if !reflect.DeepEqual(s, d) {
				t.Errorf("%s: series %s differs from Decode's:\n%+v\n%+v", name, s.Name, s, d)
			}
		}
	}
}

// TestReadErrorsAgree checks that Read rejects a corrupt file as Decode
// does, flipping each byte of small files in turn (one in three at a
// reduced size).
func TestReadErrorsAgree(t *testing.T) {
	t.Parallel()
	// At a reduced size, version 8 only, one flip in three and one cut in
	// five: TestBitFlips and TestTruncated check the other versions, bytes
	// and cuts through Decode.
	versions, flip, cut := []int{7, 8, 9}, 1, 1
	if !testsize.Full() {
		versions, flip, cut = versions[1:2], 3, 5
	}
	for _, v := range versions {
		data := encode(t, smallSpec(v, v == 9))
		bad := bytes.Clone(data)
		for i := 0; i < len(bad); i += flip {
			bad[i] ^= 0x01
			_, derr := Decode(bad)
			_, rerr := Options{}.Read(iotest.HalfReader(bytes.NewReader(bad)), int64(len(bad)))
			bad[i] ^= 0x01
			if rerr != nil && (derr == nil || rerr.Error() != derr.Error()) {
				t.Fatalf("v%d byte %d: Read says %v, Decode %v", v, i, rerr, derr)
			}
			if rerr == nil && derr != nil && errors.Is(derr, ErrChecksum) {
				t.Fatalf("v%d byte %d: Read accepts what Decode finds corrupt: %v", v, i, derr)
			}
		}
		for n := 0; n < len(data); n += cut {
			_, derr := Decode(data[:n])
			_, rerr := Options{}.Read(bytes.NewReader(data[:n]), int64(n))
			if rerr == nil || derr == nil || rerr.Error() != derr.Error() {
				t.Fatalf("v%d cut to %d bytes: Read says %v, Decode %v", v, n, rerr, derr)
			}
		}
	}
}

// TestReadShortReader checks that a reader that ends before the size
// given fails with an I/O error, not an *Error about the bytes.
func TestReadShortReader(t *testing.T) {
	t.Parallel()
	data := encode(t, smallSpec(8, false))
	for _, n := range []int{0, 20, len(data) / 2, len(data) - 1} {
		_, err := Options{}.Read(bytes.NewReader(data[:n]), int64(len(data)))
		var e *Error
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &e) {
			t.Errorf("reader of %d of %d bytes: got %v, want an unexpected EOF", n, len(data), err)
		}
	}
	fail := errors.New("disk on fire")
	_, err := Options{}.Read(io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(fail)), int64(len(data)))
	if !errors.Is(err, fail) {
		t.Errorf("failing reader: got %v", err)
	}
}

// seriesNamed returns the series of x of the given name.
func seriesNamed(t *testing.T, x *Index, name string) *Series {
	t.Helper()
	for _, s := range x.Series() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no series %s", name)
	return nil
}

// TestLoadCatchesChange checks that Load finds a vector changed since
// Read by its checksum.
func TestLoadCatchesChange(t *testing.T) {
	t.Parallel()
	data := encode(t, smallSpec(8, false))
	x, err := Options{}.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(data)
	bad[bytes.LastIndex(data, []byte("C1:float64"))+60] ^= 0x10
	if err := x.Load(bytes.NewReader(bad), seriesNamed(t, x, "C1:float64")); !errors.Is(err, ErrChecksum) {
		t.Errorf("changed vector: got %v, want a checksum error", err)
	}
	if err := x.Load(bytes.NewReader(bad), seriesNamed(t, x, "C1:int16")); err != nil {
		t.Errorf("unchanged vector: %v", err)
	}
	// A file no longer the one read.
	other := encode(t, specFile(8, false, 30, 2))
	if err := x.Load(bytes.NewReader(other), seriesNamed(t, x, "C1:int32")); !errors.Is(err, ErrMalformed) {
		t.Errorf("another file: got %v, want a malformed-file error", err)
	}
	if err := x.Load(bytes.NewReader(data), &Series{Meta: Meta{Name: "C1:int32"}}); err == nil {
		t.Error("a series not from the Index loaded")
	}
}

// TestLoadShortReader checks that Load through a ReaderAt shorter than the
// file fails with an I/O error for the vectors past its end.
func TestLoadShortReader(t *testing.T) {
	t.Parallel()
	data := encode(t, smallSpec(8, false))
	x, err := Options{}.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	short := bytes.NewReader(data[:len(data)/2])
	failed := 0
	for _, s := range x.Series() {
		err := x.Load(short, s)
		if err == nil {
			continue
		}
		failed++
		var e *Error
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &e) {
			t.Errorf("%s: got %v, want an unexpected EOF", s.Name, err)
		}
		if s.Values != nil {
			t.Errorf("%s: values set on error", s.Name)
		}
	}
	if failed == 0 {
		t.Error("every series loaded from half the file")
	}
}

// countingReaderAt counts the bytes read through it and where.
type countingReaderAt struct {
	r     io.ReaderAt
	n     atomic.Int64
	mu    sync.Mutex
	spans [][2]int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	c.mu.Lock()
	c.spans = append(c.spans, [2]int64{off, off + int64(n)})
	c.mu.Unlock()
	return n, err
}

// TestLoadReadsOneSeries checks that Load of one series of a file of many
// channels reads that series' vectors and nothing more.
func TestLoadReadsOneSeries(t *testing.T) {
	t.Parallel()
	data := encodedSpec(t, 8, false, 300, 3)
	x, err := Options{}.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	series := x.Series()
	if len(series) < 100 {
		t.Fatalf("only %d series", len(series))
	}
	s := series[len(series)/2]
	var want [][2]int64
	var wantBytes int64
	for _, fr := range s.Frames {
		p := x.byKey[pieceKey{s.Kind, s.Name, s.Dup, fr}]
		want = append(want, [2]int64{p.off, p.end})
		wantBytes += p.end - p.off
	}
	c := &countingReaderAt{r: bytes.NewReader(data)}
	if err := x.Load(c, s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.spans, want) || c.n.Load() != wantBytes {
		t.Errorf("Load read %d bytes at %v, want %d at %v, the series' vectors", c.n.Load(), c.spans, wantBytes, want)
	}
	if wantBytes*50 > int64(len(data)) {
		t.Errorf("the series' vectors are %d of the file's %d bytes: too many for the test to mean much", wantBytes, len(data))
	}
}

// TestReadMemory checks that Read of a large file allocates a small part
// of it: its metadata and fixed buffers, whatever the size of its vectors.
func TestReadMemory(t *testing.T) {
	if !testsize.Full() {
		t.Skip("writes a 64 MB file: at full size only")
	}
	// 8 frames of 4 raw channels of 256 Ki float64 samples: 64 MiB.
	const n = 256 << 10
	values := make([]float64, n)
	for i := range values {
		values[i] = float64(i)
	}
	spec := encFile{version: 8}
	for fi := range 8 {
		fr := encFrame{name: "big", number: uint32(fi), gps: Time{Sec: 1e9 + int64(fi)}, dt: 1}
		for c := range 4 {
			fr.chans = append(fr.chans, encChannel{kind: Adc, name: fmt.Sprintf("X1:RAW-%d", c), values: values, code: littleEndian, rate: n})
		}
		spec.frames = append(spec.frames, fr)
	}
	data := encode(t, spec)
	if len(data) < 64<<20 {
		t.Fatalf("file of %d bytes", len(data))
	}
	var x *Index
	var err error
	alloc := alloctest.Bytes(func() { x, err = Options{}.Read(bytes.NewReader(data), int64(len(data))) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Read of a %d-byte file allocated %d bytes", len(data), alloc)
	if alloc > 8<<20 {
		t.Errorf("Read of a %d-byte file allocated %d bytes", len(data), alloc)
	}
	if !x.File().FileChecksum {
		t.Error("file checksum not verified")
	}
	// Load of one series allocates its samples and one vector's bytes.
	s := x.Series()[1]
	alloc = alloctest.Bytes(func() { err = x.Load(bytes.NewReader(data), s) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Load of %d samples allocated %d bytes", 8*n, alloc)
	if samples := uint64(8 * n * 8); alloc > samples+2*n*8+1<<20 {
		t.Errorf("Load of %d bytes of samples allocated %d bytes", samples, alloc)
	}
	if !sameValues(s.Values.([]float64)[7*n:], values) {
		t.Error("the last frame's samples differ")
	}
}
