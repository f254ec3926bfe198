package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/processor"
)

// A file that could never fit in the memory budget is quarantined with a
// reason naming both sizes, not read until the daemon runs out of memory.
func TestFileOverTheBudgetIsQuarantined(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "keep")
	b.d.budget = newBudget(8<<20, nil)
	src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 1))
	b.handle(src)
	q := logged[audit.Quarantined](b)
	if len(q) != 1 {
		t.Fatalf("got %d quarantined records, want 1", len(q))
	}
	for _, want := range []string{"needs about 16 MiB of memory", "512 samples in 1 series", "more than daemon.memory_limit of 8 MiB"} {
		if !strings.Contains(q[0].Reason, want) {
			t.Errorf("reason %q lacks %q", q[0].Reason, want)
		}
	}
	if n := b.d.budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still taken", n)
	}
	// With room, the same file is archived and its share given back.
	b.d.budget = newBudget(64<<20, nil)
	other := filepath.Join(b.in, "K-K1_TEST-1300000100-8.npy")
	synth.WriteNPY(other, synth.Coloured(8*64, 64, 5, 2))
	b.handle(other)
	if n := len(logged[audit.Archived](b)); n != 1 {
		t.Errorf("got %d archived records, want 1", n)
	}
	if n := b.d.budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still taken", n)
	}
}

// A file that does not fit now waits for the files before it, and work
// ahead that does not fit is not started.
func TestBudgetWaitsItsTurn(t *testing.T) {
	t.Parallel()
	bud := newBudget(100, nil)
	if err := bud.acquire(context.Background(), 80); err != nil {
		t.Fatal(err)
	}
	if bud.tryAcquire(30) {
		t.Fatal("tryAcquire took more than is left")
	}
	got := make(chan struct{})
	go func() { bud.acquire(context.Background(), 30); close(got) }()
	select {
	case <-got:
		t.Fatal("acquire did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	bud.release(80)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("acquire did not get the budget once it was free")
	}
	if n := bud.used.Load(); n != 30 {
		t.Errorf("in use: got %d, want 30", n)
	}
}

func TestMemoryLimitDefaultsToAShare(t *testing.T) {
	t.Parallel()
	avail, from := availableMemory()
	if avail <= 0 || from == "" {
		t.Fatalf("availableMemory: %d, %q", avail, from)
	}
	for _, tt := range []struct {
		in   config.MemoryLimit
		want int64
	}{
		{"", avail / 2},
		{"25%", avail / 4},
		{"1536MiB", 1536 << 20},
		{"2GB", 2e9},
	} {
		got, err := tt.in.Resolve(avail)
		if err != nil || (got != tt.want && got != tt.want+1 && got != tt.want-1) {
			t.Errorf("Resolve(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []config.MemoryLimit{"0", "-1GB", "150%", "lots", "1MiB"} {
		if _, err := bad.Resolve(avail); err == nil {
			t.Errorf("Resolve(%q): got no error", bad)
		}
	}
}

// Each time series product of a chain holds one more float64 copy of the
// samples until the archive is written, and the first made of the raw
// int16 samples their float64 conversion; the estimate counts them.
func TestNeedCountsTheChain(t *testing.T) {
	t.Parallel()
	fp := ingest.Footprint{Series: 1, Samples: 1 << 20, Bytes: 2 << 20} // int16
	def := config.Default()
	// The samples as stored, the ASD's periodograms (one float64 copy)
	// and the spectrogram's values (fftlength 2 s / (2 · stride 8 s)).
	defNeed := int64(baseNeed + 2<<20 + 8<<20 + 1<<20)
	if got := needOf(fp, def.Processing.Chain()); got != defNeed {
		t.Errorf("default chain: need %d, want %d", got, defNeed)
	}
	b, err := os.ReadFile("../testdata/config/chain.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, p := range cfg.Processing.Chain() {
		if p.Series() {
			series++
		}
	}
	if series == 0 {
		t.Fatal("testdata/config/chain.toml has no time series product")
	}
	// Beside the default's: a copy per time series product (the rate of
	// the raw series, and so the size of its resampling, is not known),
	// the conversion of the raw samples, and the spectrogram bp_sg
	// (fftlength 1 s, stride 4 s). bp_asd's periodograms are no more
	// than the raw ASD's.
	if got, want := needOf(fp, cfg.Processing.Chain()), defNeed+int64(series+1)*8<<20+1<<20; got != want {
		t.Errorf("chain of %d time series products: need %d, want %d", series, got, want)
	}
}

// A frame file's series are read, processed and written a few at a time:
// the estimate is of its largest series on each lane, not of all of them.
func TestNeedOfAFileReadAFewSeriesAtATime(t *testing.T) {
	t.Parallel()
	chain := config.Default().Processing.Chain()
	largest := ingest.Footprint{Series: 1, Samples: 1 << 20, Bytes: 2 << 20}
	fp := ingest.Footprint{Series: 1000, Samples: 500 << 20, Bytes: 1000 << 20, Largest: &largest}
	if got, want := needOf(fp, chain), baseNeed+pipeline.MaxLanes*needOf(largest, chain); got != want {
		t.Errorf("need %d, want %d: that of the largest series on each lane and the index of the rest", got, want)
	}
	whole := fp
	whole.Largest = nil
	if needOf(fp, chain) >= needOf(whole, chain)/50 {
		t.Errorf("need %d of a file read a few series at a time, not far below the %d of it read whole", needOf(fp, chain), needOf(whole, chain))
	}
}

// What each product holds, in float64 copies of the samples: see needOf.
func TestNeedOfEachProduct(t *testing.T) {
	t.Parallel()
	const n = 1 << 20
	i16 := ingest.Footprint{Series: 1, Samples: n, Bytes: 2 * n}
	f64 := ingest.Footprint{Series: 1, Samples: n, Bytes: 8 * n}
	f := func(v float64) *float64 { return &v }
	asd := func(name, input, method string, overlap float64) config.Product {
		return config.Product{Name: name, Kind: config.KindASD, Input: input, FFTLength: f(4), Overlap: f(overlap), Method: method, Window: processor.WindowHann}
	}
	sg := config.Product{Name: "sg", Kind: config.KindSpectrogram, Input: config.InputRaw, FFTLength: f(2), Stride: f(8),
		Method: processor.MethodMedian, Window: processor.WindowHann}
	hp := config.Product{Name: "hp", Kind: config.KindHighpass, Input: config.InputRaw, Order: 2, Cutoff: 10}
	trend := config.Product{Name: "tr", Kind: config.KindTrend, Input: config.InputRaw, Stride: f(1)}
	resample := func(name, input string, rate float64) config.Product {
		return config.Product{Name: name, Kind: config.KindResample, Input: input, Rate: rate}
	}
	copies := func(fp ingest.Footprint, c float64) int64 { return baseNeed + fp.Bytes + int64(c*8*n) }
	for _, c := range []struct {
		name  string
		fp    ingest.Footprint
		fs    float64 // 0: not known
		chain []config.Product
		want  int64
	}{
		{"nothing", i16, 0, nil, copies(i16, 0)},
		{"median ASD", i16, 0, []config.Product{asd("asd", "raw", processor.MethodMedian, 2)}, copies(i16, 1)},
		{"median ASD of float64", f64, 0, []config.Product{asd("asd", "raw", processor.MethodMedian, 2)}, copies(f64, 1)},
		// Segments 1 s apart: three times as many, each of 2 s of bins.
		{"median ASD, overlap 3 s of 4", i16, 0, []config.Product{asd("asd", "raw", processor.MethodMedian, 3)}, copies(i16, 2)},
		{"mean ASD", i16, 0, []config.Product{asd("asd", "raw", processor.MethodMean, 2)}, copies(i16, 0)},
		{"two median ASDs, made one at a time", i16, 0,
			[]config.Product{asd("asd", "raw", processor.MethodMedian, 2), asd("asd2", "raw", processor.MethodMedian, 2)}, copies(i16, 1)},
		{"spectrogram", i16, 0, []config.Product{sg}, copies(i16, 0.125)},
		{"highpass of int16", i16, 0, []config.Product{hp}, copies(i16, 2)},
		{"highpass of float64", f64, 0, []config.Product{hp}, copies(f64, 1)},
		{"trend of int16", i16, 0, []config.Product{trend}, copies(i16, 1)},
		{"trend of float64", f64, 0, []config.Product{trend}, copies(f64, 0)},
		{"highpass and trend of int16, one conversion", i16, 0, []config.Product{hp, trend}, copies(i16, 2)},
		{"resample to twice the rate", f64, 16384, []config.Product{resample("up", "raw", 32768)}, copies(f64, 2)},
		{"resample to a quarter of the rate", f64, 16384, []config.Product{resample("down", "raw", 4096)}, copies(f64, 0.25)},
		{"resample, rate not known", f64, 0, []config.Product{resample("r", "raw", 4096)}, copies(f64, 1)},
		{"resample of a resample", f64, 0, []config.Product{resample("r", "raw", 4096), resample("up", "r", 16384)}, copies(f64, 1+4)},
		{"median ASD of a resampling to twice the rate", f64, 16384,
			[]config.Product{asd("asd", "raw", processor.MethodMedian, 2), resample("up", "raw", 32768), asd("up_asd", "up", processor.MethodMedian, 2)},
			copies(f64, 2+2)},
		{"product of a product not made", f64, 0, []config.Product{{Name: "hp2", Kind: config.KindHighpass, Input: "none", Order: 2, Cutoff: 10}}, copies(f64, 0)},
	} {
		if got := needAt(c.fp, c.fs, c.chain); got != c.want {
			t.Errorf("%s: need %d, want %d (%.3g float64 copies beside the samples)", c.name, got, c.want, float64(got-baseNeed-c.fp.Bytes)/(8*n))
		}
	}
	// A file of several series is counted by all its samples.
	two := ingest.Footprint{Series: 2, Samples: n, Bytes: 2 * n}
	if got, want := needOf(two, []config.Product{hp}), copies(two, 2); got != want {
		t.Errorf("two series: need %d, want %d", got, want)
	}
}
