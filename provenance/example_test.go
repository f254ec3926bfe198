package provenance_test

import (
	"fmt"
	"log"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/provenance"
)

// tone is 4 s of a 50 Hz sine at 256 Hz.
func tone() []float64 {
	x := make([]float64, 1024)
	for i := range x {
		x[i] = math.Sin(2 * math.Pi * 50 * float64(i) / 256)
	}
	return x
}

// periodogram is the program's own ASD: a one-sided periodogram of the
// first n samples of x, at fs Hz.
func periodogram(x []float64, n int, fs float64) []float64 {
	asd := make([]float64, n/2+1)
	for k := range asd {
		var s complex128
		for j := range n {
			s += complex(x[j], 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*j)/float64(n)))
		}
		asd[k] = cmplx.Abs(s) * math.Sqrt(2/(fs*float64(n)))
	}
	return asd
}

// An archive of a raw series and the ASD the program computed of it,
// linked to the series with the parameters it was computed with.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	w := provenance.New(provenance.Options{Program: "myasd", Version: "1.2.0",
		Created: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)})
	x := tone()
	raw, err := w.AddSeries(provenance.Series{Channel: "K1:PEM-MIC_A", T0: 1300000000, SampleRate: 256, Unit: "Pa", Values: x})
	if err != nil {
		log.Fatal(err)
	}
	_, err = w.Derive(raw, provenance.Product{
		Name: "asd256", Kind: "periodogram", Step: "ASD by periodogram of the first second",
		Params: map[string]any{"nfft": 256, "window": "boxcar"},
		Values: periodogram(x, 256, 256), Unit: "Pa / Hz(1/2)", Axes: archive.Axes{DF: 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	written, err := w.Write(filepath.Join(dir, "mic.h5"))
	if err != nil {
		log.Fatal(err)
	}

	a, err := archive.Open(written.Path)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range a.Products {
		fmt.Printf("%s (%s) of %s, params %v, made by %s %s\n", p.Path, p.Kind, p.Parent, p.OwnParams, p.Provenance.Program, p.Provenance.ProgramVersion)
	}
	// Output:
	// /processed/K1:PEM-MIC_A/asd256 (periodogram) of /raw/K1:PEM-MIC_A, params map[nfft:256 window:boxcar], made by myasd 1.2.0
}

// A series the program filtered, and a product of the filtered series:
// lineage of any depth, each product naming its parent.
func ExampleWriter_Derive() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	w := provenance.New(provenance.Options{Program: "mychain", Version: "0.3"})
	x := tone()
	raw, _ := w.AddSeries(provenance.Series{Channel: "K1:PEM-MIC_A", T0: 1300000000, SampleRate: 256, Unit: "Pa", Values: x})

	// A three-tap moving average, and its square.
	smooth := make([]float64, len(x))
	for i := range x {
		smooth[i] = (x[max(i-1, 0)] + x[i] + x[min(i+1, len(x)-1)]) / 3
	}
	filtered, err := w.Derive(raw, provenance.Product{Name: "smooth", Kind: "moving_average", Params: struct {
		Taps int `json:"taps"`
	}{3}, Values: smooth, Unit: "Pa", Axes: archive.Axes{T0: 1300000000, DT: 1.0 / 256}})
	if err != nil {
		log.Fatal(err)
	}
	power := make([]float64, len(smooth))
	for i, v := range smooth {
		power[i] = v * v
	}
	if _, err := w.Derive(filtered, provenance.Product{Name: "power", Kind: "square", Values: power,
		Unit: "Pa2", Axes: archive.Axes{T0: 1300000000, DT: 1.0 / 256}}); err != nil {
		log.Fatal(err)
	}
	rel, _ := w.RelPath("{obs}/{obs}-{desc}-{gps}-{dur}.h5")
	written, err := w.WriteBelow(dir, rel)
	if err != nil {
		log.Fatal(err)
	}
	a, _ := archive.Open(written.Path)
	fmt.Println(rel)
	for _, p := range a.Products {
		fmt.Println(p.Path, "of", p.Parent)
	}
	// Output:
	// K/K-K1_PEM_MIC_A-1300000000-4.h5
	// /processed/K1:PEM-MIC_A/smooth of /raw/K1:PEM-MIC_A
	// /processed/K1:PEM-MIC_A/power of /processed/K1:PEM-MIC_A/smooth
}

// The archive recorded in a gwwatchd audit log, as gwwatchd records its
// own, so that gwwatchd trace finds it.
func ExampleWriter_Record() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	w := provenance.New(provenance.Options{Program: "myasd", Version: "1.2.0"})
	if _, err := w.AddSeries(provenance.Series{Channel: "K1:PEM-MIC_A", T0: 1300000000, SampleRate: 256, Unit: "Pa", Values: tone()}); err != nil {
		log.Fatal(err)
	}
	written, err := w.Write(filepath.Join(dir, "mic.h5"))
	if err != nil {
		log.Fatal(err)
	}
	alog, err := audit.Open(audit.Options{Path: filepath.Join(dir, "audit.log")})
	if err != nil {
		log.Fatal(err)
	}
	defer alog.Close()
	rec, err := w.Record(alog, written)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Event, rec.Fields["datasets"])
	// Output:
	// archived [/raw/K1:PEM-MIC_A]
}
