package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/alloctest"
	"github.com/gwwatchd/gwwatchd/internal/framegen"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
	"github.com/gwwatchd/gwwatchd/processor"
)

// writeInt16NPY writes a 1-D int16 array as a NumPy .npy file (format
// 1.0), as synth.WriteNPY writes float64 ones.
func writeInt16NPY(path string, x []int16) error {
	header := fmt.Sprintf("{'descr': '<i2', 'fortran_order': False, 'shape': (%d,), }", len(x))
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += fmt.Sprintf("%*s\n", pad, "")
	buf := make([]byte, 0, 10+len(header)+2*len(x))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range x {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
	}
	return os.WriteFile(path, buf, 0o644)
}

// int16Fixture is fixture for int16 samples: a T010150-named .npy of
// seconds at 16384 Hz with a sidecar, and the Options of a pipeline with
// the default configuration.
func int16Fixture(t *testing.T, seconds int) (string, []int16, Options) {
	t.Helper()
	const fs = 16384
	x := synth.Coloured(seconds*fs, fs, 50, 5)
	v := make([]int16, len(x))
	for i, f := range x {
		v[i] = int16(math.Max(-32768, math.Min(32767, math.Round(f*3000))))
	}
	src, opts := fixture(t, nil, seconds)
	if err := writeInt16NPY(src, v); err != nil {
		t.Fatal(err)
	}
	return src, v, opts
}

// The ASD and spectrogram of integer samples are made of them as they
// are: archiving an int16 file allocates what ingest reads and decodes,
// the periodograms the median needs and the spectrogram, but no float64
// copy of the samples. It measures the process's allocations, so it does
// not run in parallel.
func TestInt16FileMakesNoFloat64Copy(t *testing.T) {
	testsize.Large(t)
	const fs = 16384
	// At a reduced size, 128 s: a float64 copy (16 MiB) still exceeds the
	// slack.
	seconds := 512
	if !testsize.Full() {
		seconds = 128
	}
	src, v, opts := int16Fixture(t, seconds)
	n := len(v)
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	p := New(opts)
	// Plans and scratch are made once per Processor: make them first.
	warm, _, _ := int16Fixture(t, 16)
	if x, err := p.Prepare(context.Background(), warm, ingest.Options{}); err != nil {
		t.Fatal(err)
	} else {
		x.Discard()
	}

	var x *Prepared
	got := alloctest.Bytes(func() { x, err = p.Prepare(context.Background(), src, ingest.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	defer x.Discard()

	c := opts.Config.Processing
	nfft := int(c.ASD.FFTLength * fs)
	step := nfft / 2
	periodograms := 8 * ((n-nfft)/step + 1) * (nfft/2 + 1)
	sgRows := n / int(c.Spectrogram.Stride*fs)
	spectrogram := 8 * sgRows * (int(c.Spectrogram.FFTLength*fs)/2 + 1)
	// What ingest holds: the file as read and its decoded samples; reading
	// the archive is allowed as much.
	read := 2 * int(st.Size())
	const slack = 8 << 20
	bound := uint64(read + periodograms + spectrogram + slack)
	t.Logf("Prepare of %d int16 samples (%d bytes): %d bytes allocated; file and samples %d, periodograms %d, spectrogram %d, a float64 copy %d",
		n, st.Size(), got, read, periodograms, spectrogram, 8*n)
	if got > bound {
		t.Errorf("Prepare allocated %d bytes, more than the %d of the file and its samples, the periodograms, the spectrogram and %d more (a float64 copy is %d)",
			got, bound, slack, 8*n)
	}

	res, err := x.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Record.Products) != 3 || len(res.Record.Skipped) != 0 {
		t.Errorf("got products %v, skipped %v; want ASD, frequencies and spectrogram", res.Record.Products, res.Record.Skipped)
	}
	// Verify recomputes the spectra of the raw samples as they are stored
	// too: it reads them and the products, and makes the ASD and the
	// spectrogram again (the frequencies need no ASD).
	var r *Report
	got = alloctest.Bytes(func() { r, err = Verify(res.Archive, processor.New(2)) })
	if err != nil {
		t.Fatal(err)
	}
	bound = uint64(read + periodograms + 2*spectrogram + slack)
	t.Logf("Verify: %d bytes allocated", got)
	if got > bound {
		t.Errorf("Verify allocated %d bytes, more than the %d of the samples and their read, the ASD's periodograms, the spectrogram read and made again and %d more (a float64 copy is %d)",
			got, bound, slack, 8*n)
	}
	if !r.OK() {
		t.Errorf("verify: %s", r.Summary())
	}
	if !strings.Contains(strings.Join(r.Checked, "\n"), "recomputed from") {
		t.Errorf("verify recomputed nothing: %s", r.Summary())
	}

	// The spectra are those of the samples as float64, to the bit.
	a, err := archive.Open(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	f := ingest.Float64s(v)
	ref := processor.New(1)
	compared := 0
	for _, prod := range a.Products {
		var want []float64
		switch prod.Kind {
		case archive.ProductASD:
			asd, err := ref.ASD(f, fs, prod.Params.Processor())
			if err != nil {
				t.Fatal(err)
			}
			want = asd.Values
		case archive.ProductSpectrogram:
			sg, err := ref.GWpySpectrogram(f, fs, prod.Params.Stride, prod.Params.Processor())
			if err != nil {
				t.Fatal(err)
			}
			want = sg.Values
		default:
			continue
		}
		stored, err := prod.Load()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := stored.([]float64)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", prod.Path, len(got), len(want))
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%s: value %d is %v, that of the float64 samples %v", prod.Path, i, got[i], want[i])
			}
		}
		compared++
	}
	if compared != 2 {
		t.Errorf("compared %d spectra, want the ASD and the spectrogram", compared)
	}
}

// The channels of a frame file are read, processed and written one at a
// time on each lane: after each, what stays in memory is far less than
// the file's samples, with one lane or two. The live heap is read after a
// collection at the end of each channel, so it does not depend on when
// collections happen to run. It measures the process's heap, so it does
// not run in parallel.
func TestFrameChannelsAreNotHeldTogether(t *testing.T) {
	testsize.Large(t)
	// Under -race, 24 channels, still far more than a lane may hold, on the
	// two lanes that run together.
	channels, cpus := 80, []int{1, 2}
	if testsize.Race() {
		channels, cpus = 24, cpus[1:]
	}
	spec := framegen.Spec{Frames: 4, FrameLength: 1, GPS: 1300000000, Seed: 1}
	for i := range channels {
		spec.Channels = append(spec.Channels, framegen.Channel{Name: fmt.Sprintf("X1:MEM-CH%02d", i), Rate: 16384, Type: framegen.Float64})
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "X-MEM-1300000000-4.gwf")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := framegen.Write(f, spec); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	samples := uint64(8 * spec.Samples())
	channel := samples / uint64(channels)
	for _, cpus := range cpus {
		cfg := config.Default()
		cfg.Archive.Root = filepath.Join(dir, fmt.Sprintf("archive%d", cpus))
		cfg.Processing.ASD.FFTLength = 1
		cfg.Processing.Spectrogram.FFTLength = 1
		cfg.Processing.Spectrogram.Stride = 2
		p := New(Options{Config: cfg, CPUs: cpus})
		lanes := uint64(len(p.lanes(channels)))
		var most uint64
		afterEntry = func() {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			most = max(most, m.HeapAlloc)
		}
		var base runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		res, err := p.Process(context.Background(), src, ingest.Options{})
		afterEntry = nil
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Record.Datasets) != channels {
			t.Fatalf("archived %d datasets, want %d", len(res.Record.Datasets), channels)
		}
		// Between channels: the index of the file and, on each lane, a
		// channel being made and what its Processor keeps (plans and
		// scratch, of about a channel's size); not all the channels.
		held := most - min(most, base.HeapAlloc)
		t.Logf("%d lanes, %d channels, %d bytes of samples as float64: at most %d bytes held between channels", lanes, channels, samples, held)
		if bound := lanes * (2*channel + 4<<20); held > bound {
			t.Errorf("%d lanes: %d bytes held between channels, more than the %d of two channels and 4 MiB a lane (all the samples: %d)", lanes, held, bound, samples)
		}
	}
}
