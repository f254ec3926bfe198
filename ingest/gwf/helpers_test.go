package gwf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

var allDTypes = []string{"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "complex64", "complex128"}

func isInteger(dtype string) bool {
	switch dtype {
	case "float32", "float64", "complex64", "complex128":
		return false
	}
	return true
}

// wordSize is the size of one component word of dtype.
func wordSize(dtype string) int {
	switch dtype {
	case "int8", "uint8":
		return 1
	case "int16", "uint16":
		return 2
	case "int32", "uint32", "float32", "complex64":
		return 4
	}
	return 8
}

// codesFor lists the compression codes (without the little-endian flag)
// a version defines for dtype.
func codesFor(version int, dtype string) []uint16 {
	if version >= 9 {
		c := []uint16{0, v9Gzip, v9Zstd}
		if isInteger(dtype) {
			c = append(c, v9Diff, v9Diff|v9Gzip, v9Diff|v9Zstd)
		}
		if wordSize(dtype) > 1 {
			c = append(c, v9ZeroSuppress)
		}
		return c
	}
	c := []uint16{0, 1, 6}
	if isInteger(dtype) {
		c = append(c, 3)
	}
	switch wordSize(dtype) {
	case 2:
		c = append(c, 5)
	case 4:
		c = append(c, 8)
	case 8:
		c = append(c, 10)
	}
	return c
}

// sampleValues makes n samples of dtype that exercise the codecs: runs of
// small steps, constant runs (zero differences), extremes, and for floating
// point NaN, infinities, negative zero and subnormals.
func sampleValues(dtype string, n int, seed uint64) any {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	ints := make([]int64, n)
	var x int64
	for i := range ints {
		switch m := i % 40; {
		case m < 15:
			x += int64(r.IntN(21)) - 10 // small steps
		case m < 22:
			// constant run
		case m < 25:
			x = r.Int64() // anything
		default:
			x += int64(r.IntN(2001)) - 1000
		}
		ints[i] = x
	}
	if n > 3 {
		ints[1] = math.MinInt64
		ints[2] = math.MaxInt64
	}
	floats := make([]float64, n)
	f := 0.0
	for i := range floats {
		f += r.NormFloat64() * 1e-3
		floats[i] = f
		if i%50 == 45 {
			floats[i] = math.Float64frombits(r.Uint64()) // any bit pattern, NaNs included
		}
	}
	if n > 8 {
		floats[3] = math.Inf(1)
		floats[4] = math.Inf(-1)
		floats[5] = math.Copysign(0, -1)
		floats[6] = math.Float64frombits(0x7ff8000000000123) // NaN with a payload
		floats[7] = 5e-324
	}
	switch dtype {
	case "int8":
		return mapSlice(ints, func(v int64) int8 { return int8(v) })
	case "uint8":
		return mapSlice(ints, func(v int64) uint8 { return uint8(v) })
	case "int16":
		return mapSlice(ints, func(v int64) int16 { return int16(v) })
	case "uint16":
		return mapSlice(ints, func(v int64) uint16 { return uint16(v) })
	case "int32":
		return mapSlice(ints, func(v int64) int32 { return int32(v) })
	case "uint32":
		return mapSlice(ints, func(v int64) uint32 { return uint32(v) })
	case "int64":
		return ints
	case "uint64":
		return mapSlice(ints, func(v int64) uint64 { return uint64(v) })
	case "float32":
		out := mapSlice(floats, func(v float64) float32 { return float32(v) })
		if n > 8 {
			out[6] = math.Float32frombits(0x7fc00123)
			out[7] = math.Float32frombits(1)
		}
		return out
	case "float64":
		return floats
	case "complex64":
		return mapSlice(floats, func(v float64) complex64 { return complex(float32(v), float32(-2*v)) })
	case "complex128":
		return mapSlice(floats, func(v float64) complex128 { return complex(v, v*3+1) })
	}
	panic(dtype)
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// sameValues reports whether two typed sample slices hold the same type and
// the same bits.
func sameValues(a, b any) bool {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return false
	}
	wa, _ := words(a, false)
	wb, _ := words(b, false)
	return slices.Equal(wa, wb)
}

// leBytes returns samples as little-endian bytes.
func leBytes(v any) []byte {
	w, size := words(v, false)
	return putWords(w, size, true)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func concatValues(parts []any) any { return concat(parts) }

// specFiles holds the bytes encodedSpec made, by its arguments: the tests
// that read the same specFile encode it once.
var specFiles sync.Map // specKey → func() ([]byte, error)

type specKey struct {
	version, n, frames int
	big                bool
}

// encodedSpec returns the bytes of specFile(version, big, n, frames), a
// copy of its own for the caller to change.
func encodedSpec(tb testing.TB, version int, big bool, n, frames int) []byte {
	tb.Helper()
	once, _ := specFiles.LoadOrStore(specKey{version, n, frames, big}, sync.OnceValues(func() ([]byte, error) {
		return encodeFile(specFile(version, big, n, frames))
	}))
	b, err := once.(func() ([]byte, error))()
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Clone(b)
}

// specFile makes a file with one channel per data type, compression code
// and data byte order the version defines, in frames of n samples each
// that follow on from each other.
func specFile(version int, big bool, n, frames int) encFile {
	f := encFile{version: version, big: big, extras: true}
	const rate = 256.0
	dt := float64(n) / rate
	for fi := range frames {
		fr := encFrame{name: "test", run: -3, number: uint32(100 + fi), dt: dt}
		fr.gps = Time{Sec: 1400000000}.Add(float64(fi) * dt)
		seed := uint64(fi) * 7919
		for di, dtype := range allDTypes {
			for _, code := range codesFor(version, dtype) {
				for _, le := range []uint16{0, littleEndian} {
					seed++
					kind := Kind(1 + (di+int(code))%3)
					ch := encChannel{
						kind:   kind,
						name:   fmt.Sprintf("X1:%s-%d-%d", dtype, code, le>>8),
						values: sampleValues(dtype, n, seed),
						code:   code | le,
						rate:   rate,
						unit:   "counts",
					}
					switch kind {
					case Adc:
						ch.adc = AdcInfo{ChannelGroup: 2, ChannelNumber: uint32(di), NBits: 16, Bias: 0.25, Slope: 1.5, Units: "V", SampleRate: rate}
					case Proc:
						ch.proc = ProcInfo{Type: 1, TRange: dt, AuxParams: []AuxParam{{"gain", 2}, {"delay", -1e-3}}}
					}
					fr.chans = append(fr.chans, ch)
				}
			}
		}
		f.frames = append(f.frames, fr)
	}
	return f
}

// checkDecoded compares a decoded file with the spec it was written from.
func checkDecoded(t *testing.T, f *File, spec encFile) {
	t.Helper()
	if f.Version != spec.version {
		t.Errorf("Version = %d, want %d", f.Version, spec.version)
	}
	wantOrder := "little"
	if spec.big {
		wantOrder = "big"
	}
	if f.ByteOrder != wantOrder {
		t.Errorf("ByteOrder = %q, want %q", f.ByteOrder, wantOrder)
	}
	if len(f.Frames) != len(spec.frames) {
		t.Fatalf("%d frames, want %d", len(f.Frames), len(spec.frames))
	}
	for i, sf := range spec.frames {
		fr := f.Frames[i]
		if fr.Name != sf.name || fr.Run != sf.run || fr.Number != sf.number || fr.GPS != (Time{Sec: sf.gps.Sec, Nsec: sf.gps.Nsec}) || fr.Duration != sf.dt {
			t.Errorf("frame %d: got %s run %d number %d at %v for %v, want %s run %d number %d at %v for %v",
				i, fr.Name, fr.Run, fr.Number, fr.GPS, fr.Duration, sf.name, sf.run, sf.number, sf.gps, sf.dt)
		}
		if len(fr.Channels) != len(sf.chans) {
			t.Fatalf("frame %d: %d channels, want %d", i, len(fr.Channels), len(sf.chans))
		}
		for j, sc := range sf.chans {
			ch := fr.Channels[j]
			if ch.Name != sc.name || ch.Kind != sc.kind {
				t.Errorf("frame %d channel %d: %s %q, want %s %q", i, j, ch.Kind, ch.Name, sc.kind, sc.name)
				continue
			}
			if !sameValues(ch.Values, sc.values) {
				t.Errorf("frame %d %s (code %d): values differ", i, ch.Name, sc.code)
			}
			if ch.Compression != sc.code || ch.SampleRate != sc.rate || ch.Unit != sc.unit || ch.Frame != i {
				t.Errorf("frame %d %s: compression %d rate %v unit %q frame %d, want %d %v %q %d",
					i, ch.Name, ch.Compression, ch.SampleRate, ch.Unit, ch.Frame, sc.code, sc.rate, sc.unit, i)
			}
			wantT0 := fr.GPS.Add(sc.timeOffset).Add(sc.startX)
			if ch.T0 != wantT0 {
				t.Errorf("frame %d %s: T0 %v, want %v", i, ch.Name, ch.T0, wantT0)
			}
			switch sc.kind {
			case Adc:
				want := sc.adc
				want.SampleRate = sc.rate
				if ch.Adc == nil || *ch.Adc != want {
					t.Errorf("frame %d %s: AdcInfo %+v, want %+v", i, ch.Name, ch.Adc, want)
				}
			case Proc:
				if ch.Proc == nil || ch.Proc.Type != sc.proc.Type || !slices.Equal(ch.Proc.AuxParams, sc.proc.AuxParams) {
					t.Errorf("frame %d %s: ProcInfo %+v, want %+v", i, ch.Name, ch.Proc, sc.proc)
				}
			case Sim:
				if ch.Sim == nil || ch.Sim.SampleRate != sc.rate {
					t.Errorf("frame %d %s: SimInfo %+v", i, ch.Name, ch.Sim)
				}
			}
		}
	}
}

// checkJoined checks that Series joins every channel of a spec whose
// frames follow on from each other into one series.
func checkJoined(t *testing.T, f *File, spec encFile) {
	t.Helper()
	series := f.Series()
	if len(spec.frames) == 0 {
		return
	}
	if len(series) != len(spec.frames[0].chans) {
		t.Fatalf("%d series, want %d", len(series), len(spec.frames[0].chans))
	}
	for j, s := range series {
		var parts []any
		for _, fr := range spec.frames {
			parts = append(parts, fr.chans[j].values)
		}
		if s.Name != spec.frames[0].chans[j].name || len(s.Frames) != len(spec.frames) {
			t.Errorf("series %d: %q from frames %v", j, s.Name, s.Frames)
			continue
		}
		if !sameValues(s.Values, concatValues(parts)) {
			t.Errorf("series %q: values differ from the frames'", s.Name)
		}
		if s.T0 != f.Frames[0].GPS || s.Shape[0] != s.Len() {
			t.Errorf("series %q: T0 %v shape %v len %d", s.Name, s.T0, s.Shape, s.Len())
		}
	}
}

// addSharedFiles adds the real frame files of ../shared, when they are
// there, to files by name.
func addSharedFiles(t *testing.T, files map[string][]byte) {
	t.Helper()
	real, _ := filepath.Glob(filepath.Join(sharedDir, "*.gwf"))
	for _, p := range real {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
}
