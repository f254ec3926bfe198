package gwf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Frame files written by FrameL, kept beside the repository (see
// ../shared/testdata/gwf/README.md); the tests that use them skip when
// they are absent.
const sharedDir = "../../../shared/testdata/gwf"

func readShared(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present: %v", name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "gwf", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestHLV checks the three strain channels against the HDF5 copy of the
// same data (facts in testdata/gwf/hlv_golden.json, from hlv_golden.py).
func TestHLV(t *testing.T) {
	t.Parallel()
	data := readShared(t, "HLV-HW100916-968654552-1.gwf")
	var golden map[string]struct {
		N       int               `json:"n"`
		SHA256  string            `json:"sha256"`
		Samples map[string]string `json:"samples"`
		X0, Dx  float64
		Unit    string
	}
	readGolden(t, "hlv_golden.json", &golden)

	f, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 8 || f.Library != 1 || f.ByteOrder != "little" || !f.FileChecksum || len(f.Frames) != 1 {
		t.Fatalf("file: version %d library %d order %s checksum %v, %d frames", f.Version, f.Library, f.ByteOrder, f.FileChecksum, len(f.Frames))
	}
	fr := f.Frames[0]
	if fr.GPS != (Time{Sec: 968654552}) || fr.Duration != 1 {
		t.Errorf("frame at %v for %v s, want 968654552 for 1 s", fr.GPS, fr.Duration)
	}
	series := f.Series()
	if len(series) != 3 || len(fr.Channels) != 3 {
		t.Fatalf("%d series from %d channels, want 3", len(series), len(fr.Channels))
	}
	for _, s := range series {
		g, ok := golden[s.Name]
		if !ok {
			t.Errorf("unexpected channel %q", s.Name)
			continue
		}
		if s.Kind != Proc || s.DType != "float64" || s.Len() != g.N || s.Unit != g.Unit {
			t.Errorf("%s: %s %s, %d samples in %q; want proc float64, %d in %q", s.Name, s.Kind, s.DType, s.Len(), s.Unit, g.N, g.Unit)
		}
		if s.T0 != (Time{Sec: 968654552}) || s.T0.GPS() != g.X0 {
			t.Errorf("%s: T0 %v, want %v", s.Name, s.T0, g.X0)
		}
		if s.Dx != g.Dx || s.SampleRate != 16384 {
			t.Errorf("%s: dx %v rate %v, want %v and 16384", s.Name, s.Dx, s.SampleRate, g.Dx)
		}
		if got := sha256Hex(leBytes(s.Values)); got != g.SHA256 {
			t.Errorf("%s: samples hash to %s, want %s", s.Name, got, g.SHA256)
		}
		v := s.Values.([]float64)
		for idx, hexBits := range g.Samples {
			i, _ := strconv.Atoi(idx)
			want, _ := strconv.ParseUint(hexBits, 16, 64)
			if math.Float64bits(v[i]) != want {
				t.Errorf("%s[%d] = %v (%016x), want %016x", s.Name, i, v[i], math.Float64bits(v[i]), want)
			}
		}
		if fr.Channels[0].Compression != 257 {
			t.Errorf("compression %d, want 257", fr.Channels[0].Compression)
		}
	}
}

// TestLibframe reads FrameL's own test file and compares its channels,
// joined over the ten frames, with the samples its generating program
// computes (facts in testdata/gwf/libframe_golden.json, from
// libframe_golden.py). The int16 channels are zero-suppressed.
func TestLibframe(t *testing.T) {
	t.Parallel()
	data := readShared(t, "libframe-test.gwf")
	var golden map[string]struct {
		N         int      `json:"n"`
		SHA256    string   `json:"sha256"`
		FirstBits []string `json:"first_bits"`
	}
	readGolden(t, "libframe_golden.json", &golden)

	f, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Frames) != 10 {
		t.Fatalf("%d frames, want 10", len(f.Frames))
	}
	for i, fr := range f.Frames {
		if fr.Name != "demo" || fr.GPS != (Time{Sec: 925484675 + int64(i)}) || fr.Duration != 1 {
			t.Errorf("frame %d: %q at %v for %v s", i, fr.Name, fr.GPS, fr.Duration)
		}
	}
	series := f.Series()
	want := map[string]struct {
		kind  Kind
		dtype string
		rate  float64
	}{
		"Adc0": {Adc, "int16", 200}, "Adc1": {Adc, "int16", 200}, "Adc2": {Adc, "int16", 200}, "Adc3": {Adc, "int16", 200},
		"fastAdc0": {Adc, "int16", 2000}, "fastAdc1": {Adc, "int16", 2000},
		"D1": {Adc, "float32", 200}, "Bad_data_(data[0]=nan)": {Adc, "float32", 200},
		"fastProc": {Proc, "float32", 2000}, "sim1#0": {Sim, "int32", 200}, "sim1#1": {Sim, "int32", 200},
	}
	byName := map[string]*Series{}
	for _, s := range series {
		name := s.Name
		if s.Kind == Sim {
			name = fmt.Sprintf("%s#%d", s.Name, s.Dup)
		}
		if _, dup := byName[name]; dup {
			t.Errorf("%s split into more than one series", name)
		}
		byName[name] = s
	}
	if len(series) != len(want) {
		t.Errorf("%d series, want %d", len(series), len(want))
	}
	for name, w := range want {
		s := byName[name]
		if s == nil {
			t.Errorf("no series %s", name)
			continue
		}
		g := golden[name]
		if s.Kind != w.kind || s.DType != w.dtype || s.SampleRate != w.rate || s.Len() != g.N || len(s.Frames) != 10 {
			t.Errorf("%s: %s %s at %v Hz, %d samples from %d frames; want %s %s at %v Hz, %d from 10",
				name, s.Kind, s.DType, s.SampleRate, s.Len(), len(s.Frames), w.kind, w.dtype, w.rate, g.N)
		}
		if s.T0 != (Time{Sec: 925484675}) {
			t.Errorf("%s: T0 %v, want 925484675", name, s.T0)
		}
		if got := sha256Hex(leBytes(s.Values)); got != g.SHA256 {
			t.Errorf("%s: samples hash to %s, want %s", name, got, g.SHA256)
		}
	}

	// The program's own relation: fastProc = 2 * fastAdc1, frame by frame.
	adc, proc := byName["fastAdc1"].Values.([]int16), byName["fastProc"].Values.([]float32)
	for i := range adc {
		if proc[i] != 2*float32(adc[i]) {
			t.Fatalf("fastProc[%d] = %v, want 2*fastAdc1 = %v", i, proc[i], 2*float32(adc[i]))
		}
	}
	// The bad-data channel: +inf first, then NaN, and marked not valid.
	bad := byName["Bad_data_(data[0]=nan)"]
	v := bad.Values.([]float32)
	if !math.IsInf(float64(v[0]), 1) || !math.IsNaN(float64(v[1])) || bad.Adc.DataValid != 1 {
		t.Errorf("bad data: %v %v dataValid %d, want +Inf NaN 1", v[0], v[1], bad.Adc.DataValid)
	}
	for i, bits := range golden["Bad_data_(data[0]=nan)"].FirstBits {
		if got := fmt.Sprintf("%08x", math.Float32bits(v[i])); got != bits {
			t.Errorf("bad data[%d] bits %s, want %s", i, got, bits)
		}
	}
	fast := byName["fastAdc0"].Adc
	if fast.Slope != 20./65536 || fast.Units != "Volts" || fast.NBits != 16 || fast.SampleRate != 2000 {
		t.Errorf("fastAdc0: %+v", *fast)
	}
	for _, ch := range f.Frames[0].Channels {
		if ch.DType == "int16" && ch.Compression != 261 {
			t.Errorf("%s: compression %d, want 261", ch.Name, ch.Compression)
		}
	}
}

// TestFrameCPPEndOfFrame reads the files frameCPP wrote, whose
// FrEndOfFrame carries 0 for the frame's start time: the run and frame
// numbers tie it to its FrameH, as in FrameL's reader.
func TestFrameCPPEndOfFrame(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file     string
		gps      int64
		channels int
		dur      float64
	}{
		{"frameCPP-bilby_pipe-test_data.gwf", 1126259356, 1, 1},
		{"H-H1_llhoft-1214714160-4.gwf", 1214714160, 20, 4},
	} {
		data := readShared(t, c.file)
		f, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if len(f.Frames) != 1 || f.Frames[0].GPS != (Time{Sec: c.gps}) || f.Library != 2 {
			t.Errorf("%s: %d frames, library %d", c.file, len(f.Frames), f.Library)
			continue
		}
		series := f.Series()
		if len(series) != c.channels {
			t.Errorf("%s: %d series, want %d", c.file, len(series), c.channels)
		}
		for _, s := range series {
			if s.T0 != (Time{Sec: c.gps}) || math.Abs(float64(s.Len())/s.SampleRate-c.dur) > 1e-9 {
				t.Errorf("%s: %s starts at %v with %d samples at %v Hz", c.file, s.Name, s.T0, s.Len(), s.SampleRate)
			}
		}
	}
}
