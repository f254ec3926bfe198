package processor

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gwwatchd/gwwatchd/processor/internal/fft"
	"github.com/gwwatchd/gwwatchd/processor/internal/pairwise"
)

// ASD is a one-sided amplitude spectral density.
type ASD struct {
	Values   []float64 // amplitude spectral density, input unit/√Hz
	F0, DF   float64   // bin k is at frequency F0 + k·DF
	NFFT     int       // samples per FFT segment
	NOverlap int       // samples shared by consecutive segments
	Segments int       // segments averaged
}

// Frequencies returns the frequency of every bin of a.
func (a *ASD) Frequencies() []float64 { return frequencies(len(a.Values), a.F0, a.DF) }

// Spectrogram is a sequence of amplitude spectral densities, one per stride.
type Spectrogram struct {
	Values            []float64 // row-major: Times rows × Freqs columns: ASD (unit/√Hz), or PSD (unit²/Hz) when PSD
	Times, Freqs      int
	DT                float64 // stride actually used (whole samples), s: row i stands for [i·DT, (i+1)·DT) after the series start
	F0, DF            float64 // column k is at frequency F0 + k·DF
	NFFT              int
	NOverlap          int
	SegmentsPerStride int

	// PSD is set for a spectrogram as gwpy makes it (GWpySpectrogram):
	// power spectral density of rows taken from chunks of a stride and
	// an overlap.
	PSD bool
}

// Row returns the ASD values of row i (a view into s.Values).
func (s *Spectrogram) Row(i int) []float64 { return s.Values[i*s.Freqs : (i+1)*s.Freqs] }

// Frequencies returns the frequency of every column of s.
func (s *Spectrogram) Frequencies() []float64 { return frequencies(s.Freqs, s.F0, s.DF) }

func frequencies(n int, f0, df float64) []float64 {
	f := make([]float64, n)
	for k := range f {
		f[k] = f0 + float64(k)*df
	}
	return f
}

// minParallelSamples is the least amount of work (segments × nfft) worth
// splitting across goroutines; below it the hand-off costs more than it saves.
const minParallelSamples = 1 << 16

// Processor computes Welch spectra. It caches FFT plans and windows for the
// last few segment lengths and keeps scratch buffers between calls, so one
// Processor should serve one pipeline worker. It is not safe for concurrent
// use; the parallelism it was created with is internal.
type Processor struct {
	workers []*worker
	plans   []*plan // most recently used first

	power []float64 // segments × bins periodogram matrix for median ASDs
	bias  []float64 // scratch for medianBias
}

// maxPlans is how many segment lengths a Processor keeps plans for. A
// pipeline typically alternates between a couple (an ASD and a
// spectrogram), and planning a 65536-point FFT costs a few milliseconds.
const maxPlans = 4

// maxRetainedPower is the largest median scratch matrix (bytes) kept
// between calls. Larger ones, needed only for unusually long series, are
// released so an idle Processor does not pin hundreds of megabytes.
const maxRetainedPower = 64 << 20

// plan holds everything that depends only on the segment length.
type plan struct {
	nfft     int
	window   []float64
	winSumSq float64    // Σ w², summed as numpy does
	ffts     []fft.Real // one per worker
}

// worker owns everything one goroutine needs to process segments.
type worker struct {
	fft    fft.Real  // from the current plan
	seg    []float64 // detrended, windowed segment (nfft)
	row    []float64 // one periodogram (nfft/2+1)
	acc    []float64 // running sum of periodograms, for mean averaging
	gather []float64 // bins × segments block, for median averaging
	power  []float64 // per-worker periodogram matrix for spectrogram rows
}

// New returns a Processor that splits each product across parallelism
// goroutines. parallelism ≤ 0 means runtime.GOMAXPROCS(0).
func New(parallelism int) *Processor {
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	p := &Processor{workers: make([]*worker, parallelism)}
	for i := range p.workers {
		p.workers[i] = &worker{}
	}
	return p
}

// use makes the plan for nfft current, building it if it is not cached,
// and sizes the workers' scratch for it.
func (p *Processor) use(nfft int) *plan {
	var pl *plan
	for i, c := range p.plans {
		if c.nfft == nfft {
			pl = c
			copy(p.plans[1:i+1], p.plans[:i])
			p.plans[0] = pl
			break
		}
	}
	if pl == nil {
		pl = newPlan(nfft, len(p.workers))
		if len(p.plans) < maxPlans {
			p.plans = append(p.plans, nil)
		}
		copy(p.plans[1:], p.plans)
		p.plans[0] = pl
	}
	nb := nfft/2 + 1
	for i, w := range p.workers {
		w.fft = pl.ffts[i]
		w.seg = grow(w.seg, nfft)
		w.row = grow(w.row, nb)
		w.acc = grow(w.acc, nb)
	}
	return pl
}

func newPlan(nfft, workers int) *plan {
	pl := &plan{nfft: nfft, window: make([]float64, nfft), ffts: make([]fft.Real, workers)}
	hann(pl.window)
	sq := make([]float64, nfft)
	for i, w := range pl.window {
		sq[i] = w * w
	}
	pl.winSumSq = pairwise.Sum(sq)
	for i := range pl.ffts {
		pl.ffts[i] = fft.New(nfft)
	}
	return pl
}

// hann fills w with a periodic Hann window. It is evaluated as scipy does,
// 0.5 + 0.5·cos(θ) with θ stepping from −π by 2π/N, so the tiny values near
// the ends round the same way.
func hann(w []float64) {
	n := len(w)
	step := (math.Pi - -math.Pi) / float64(n)
	for i := range w {
		w[i] = 0.5 + 0.5*math.Cos(float64(i)*step+-math.Pi)
	}
}

// grow returns a slice of length n, reusing buf's storage when it suffices.
func grow(buf []float64, n int) []float64 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float64, n)
}

// checkFinite reports the non-finite samples of x, if any.
func checkFinite[T float32 | float64](x []T) error {
	bad, first := 0, -1
	for i, v := range x {
		// v−v is NaN for both NaN and ±Inf, and 0 otherwise.
		if v-v != 0 {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad == 0 {
		return nil
	}
	return skip(ErrNonFinite, fmt.Sprintf("%d of %d samples are not finite (first at index %d)", bad, len(x), first))
}

// welch describes one Welch estimate over a series.
type welch struct {
	nfft, step, nseg int
	window           []float64
	median           bool
	scale            float64 // 1/(fs·Σw²)
	bias             float64 // median bias, 1 for mean
}

func (p *Processor) newWelch(pl *plan, fs float64, nover, n int, method string) welch {
	step := pl.nfft - nover
	wl := welch{
		nfft:   pl.nfft,
		step:   step,
		nseg:   (n-pl.nfft)/step + 1,
		window: pl.window,
		median: method == MethodMedian,
		scale:  1 / (fs * pl.winSumSq),
		bias:   1,
	}
	// scipy averages only when there is more than one segment.
	if wl.median && wl.nseg > 1 {
		wl.bias, p.bias = medianBias(wl.nseg, p.bias)
	}
	return wl
}

// ASD returns the amplitude spectral density of x, sampled at fs Hz, by
// Welch's method: the square root of scipy.signal.welch with
// detrend="constant", scaling="density" and a one-sided spectrum. Trailing
// samples that do not fill a segment are ignored, as in scipy, but every
// sample of x must be finite.
//
// Median averaging holds all periodograms at once: Segments × (NFFT/2+1)
// float64 values (8 MB for 64 s at 16384 Hz with fftlength 4 s), about
// one float64 copy of x with the default overlap of half a segment. Mean
// averaging holds one periodogram per goroutine. x is only read.
func (p *Processor) ASD(x []float64, fs float64, prm Params) (*ASD, error) {
	return p.asd(float64Series(x), fs, prm)
}

// ASDOf is ASD of values, a slice of real samples of any type (int8 …
// uint64, float32 or float64), with the same result to the bit as ASD of
// the samples converted to float64: each segment is converted as it is
// read, into a buffer of one segment per goroutine, so no float64 copy of
// the series is made. Only float32 and float64 samples are checked for
// being finite; complex samples are refused with ErrBadParams. Memory is
// as for ASD.
func (p *Processor) ASDOf(values any, fs float64, prm Params) (*ASD, error) {
	x, err := seriesOf(values)
	if err != nil {
		return nil, err
	}
	return p.asd(x, fs, prm)
}

// ASDFrequencies returns what ASDOf(values, fs, prm).Frequencies()
// does, or the error ASDOf does, without computing the ASD: the values
// are only checked, so nothing but the frequencies is allocated.
func (p *Processor) ASDFrequencies(values any, fs float64, prm Params) ([]float64, error) {
	x, err := seriesOf(values)
	if err != nil {
		return nil, err
	}
	nfft, _, err := checkASD(x, fs, prm)
	if err != nil {
		return nil, err
	}
	return frequencies(nfft/2+1, 0, fs/float64(nfft)), nil
}

// checkASD checks an ASD's parameters and input, returning its segment
// length and overlap in samples.
func checkASD(x series, fs float64, prm Params) (nfft, nover int, err error) {
	if nfft, nover, err = prm.resolve(fs); err != nil {
		return 0, 0, err
	}
	if x.len() < nfft {
		return 0, 0, skip(ErrTooShort, fmt.Sprintf("%d samples is shorter than one FFT segment of %d (fftlength %g s at %g Hz)", x.len(), nfft, prm.FFTLength, fs))
	}
	if err := x.checkFinite(); err != nil {
		return 0, 0, err
	}
	return nfft, nover, nil
}

func (p *Processor) asd(x series, fs float64, prm Params) (*ASD, error) {
	nfft, nover, err := checkASD(x, fs, prm)
	if err != nil {
		return nil, err
	}
	wl := p.newWelch(p.use(nfft), fs, nover, x.len(), prm.Method)
	out := &ASD{
		Values:   make([]float64, nfft/2+1),
		DF:       fs / float64(nfft),
		NFFT:     nfft,
		NOverlap: nover,
		Segments: wl.nseg,
	}
	ws := p.workers
	if wl.nseg*nfft < minParallelSamples {
		ws = ws[:1]
	}
	if wl.median {
		p.power = grow(p.power, wl.nseg*len(out.Values))
	}
	p.estimate(out.Values, x, wl, ws, p.power)
	if 8*cap(p.power) > maxRetainedPower {
		p.power = nil
		// The matrix is as large as the series. Have it collected now, so
		// that what is made next (a spectrogram, the archive) reuses its
		// memory instead of growing the heap past the samples and the
		// matrix: the peak the daemon's memory budget counts.
		runtime.GC()
	}
	return out, nil
}

// GWpySpectrogram returns the spectrogram gwpy's
// TimeSeries.spectrogram(stride, fftlength, overlap, method, window)
// returns: one power spectral density (Welch, as ASD computes it but not
// square-rooted) per stride, each from the chunk gwpy takes for it. With
// nstride and noverlap in samples, chunks are nstride+noverlap long; the
// first starts at 0, the second at nstride−⌊noverlap/2⌋, each next one a
// stride later, while a stride still fits; a chunk that would run past the
// end is moved back to end with the data. Row i stands for
// [i·stride, (i+1)·stride) after the series start.
//
// Besides the Times × Freqs values it returns, it holds one periodogram
// per goroutine for mean averaging, and for median averaging the
// periodograms of one chunk per goroutine: never those of the whole
// series. x is only read.
func (p *Processor) GWpySpectrogram(x []float64, fs, stride float64, prm Params) (*Spectrogram, error) {
	return p.gwpySpectrogram(float64Series(x), fs, stride, prm)
}

// GWpySpectrogramOf is GWpySpectrogram of values, a slice of real samples
// of any type, read as ASDOf reads them: the same result to the bit as
// of the samples converted to float64, without such a copy.
func (p *Processor) GWpySpectrogramOf(values any, fs, stride float64, prm Params) (*Spectrogram, error) {
	x, err := seriesOf(values)
	if err != nil {
		return nil, err
	}
	return p.gwpySpectrogram(x, fs, stride, prm)
}

func (p *Processor) gwpySpectrogram(x series, fs, stride float64, prm Params) (*Spectrogram, error) {
	nfft, nover, ns, err := prm.resolveStride(fs, stride)
	if err != nil {
		return nil, err
	}
	nstride := int(ns)
	if nstride+nover > x.len() {
		return nil, skip(ErrTooShort, fmt.Sprintf("%d samples is shorter than one stride and overlap of %d (stride %g s at %g Hz)", x.len(), nstride+nover, stride, fs))
	}
	if err := x.checkFinite(); err != nil {
		return nil, err
	}
	starts := gwpyChunks(x.len(), nstride, nover)
	sg, err := p.rows(x, fs, nfft, nover, nstride, nstride+nover, starts, prm.Method)
	if err != nil {
		return nil, err
	}
	for i, v := range sg.Values {
		sg.Values[i] = v * v
	}
	sg.PSD = true
	return sg, nil
}

// resolveStride resolves the Welch parameters of a spectrogram and its
// stride, in samples (not yet whole: callers round it down), which must be
// positive, finite and no shorter than one FFT.
func (prm Params) resolveStride(fs, stride float64) (nfft, nover int, ns float64, err error) {
	nfft, nover, err = prm.resolve(fs)
	if err != nil {
		return 0, 0, 0, err
	}
	if !(stride > 0) || math.IsInf(stride, 0) {
		return 0, 0, 0, skip(ErrBadParams, fmt.Sprintf("stride must be positive and finite, got %g s", stride))
	}
	ns = toSamples(stride, fs)
	if ns < float64(nfft) {
		return 0, 0, 0, skip(ErrBadParams, fmt.Sprintf("stride %g s (%g samples) is shorter than fftlength %g s (%d samples)", stride, ns, prm.FFTLength, nfft))
	}
	return nfft, nover, ns, nil
}

// gwpyChunks are the starts of gwpy's spectrogram chunks of a series of n
// samples (gwpy/signal/spectral/_ui.py, _chunk_timeseries).
func gwpyChunks(n, nstride, nover int) []int {
	var starts []int
	size := nstride + nover
	step := nstride - nover/2
	for x := 0; x+nstride <= n; {
		if x+size >= n {
			x = n - size
		}
		starts = append(starts, x)
		x += step
		step = nstride
	}
	return starts
}

// Spectrogram returns the ASD of each consecutive stride of x (stride in
// seconds, rounded to whole samples), computed with the same Welch
// parameters as ASD. A trailing partial stride is dropped, but every sample
// of x must be finite. Archives written before GWpySpectrogram hold this
// spectrogram, which verify recomputes as it was made. Memory is as for
// GWpySpectrogram.
func (p *Processor) Spectrogram(x []float64, fs, stride float64, prm Params) (*Spectrogram, error) {
	return p.spectrogram(float64Series(x), fs, stride, prm)
}

// SpectrogramOf is Spectrogram of values, a slice of real samples of any
// type, read as ASDOf reads them.
func (p *Processor) SpectrogramOf(values any, fs, stride float64, prm Params) (*Spectrogram, error) {
	x, err := seriesOf(values)
	if err != nil {
		return nil, err
	}
	return p.spectrogram(x, fs, stride, prm)
}

func (p *Processor) spectrogram(x series, fs, stride float64, prm Params) (*Spectrogram, error) {
	nfft, nover, ns, err := prm.resolveStride(fs, stride)
	if err != nil {
		return nil, err
	}
	if ns > float64(x.len()) {
		return nil, skip(ErrTooShort, fmt.Sprintf("%d samples is shorter than one stride of %g (stride %g s at %g Hz)", x.len(), ns, stride, fs))
	}
	nstride := int(ns)
	if err := x.checkFinite(); err != nil {
		return nil, err
	}
	starts := make([]int, x.len()/nstride)
	for i := range starts {
		starts[i] = i * nstride
	}
	return p.rows(x, fs, nfft, nover, nstride, nstride, starts, prm.Method)
}

// rows computes one Welch ASD per chunk x[start : start+size], for each
// start, into a spectrogram of rows a stride of nstride samples apart.
func (p *Processor) rows(x series, fs float64, nfft, nover, nstride, size int, starts []int, method string) (*Spectrogram, error) {
	wl := p.newWelch(p.use(nfft), fs, nover, size, method)
	nb := nfft/2 + 1
	sg := &Spectrogram{
		Times:             len(starts),
		Freqs:             nb,
		DT:                float64(nstride) / fs,
		DF:                fs / float64(nfft),
		NFFT:              nfft,
		NOverlap:          nover,
		SegmentsPerStride: wl.nseg,
	}
	sg.Values = make([]float64, sg.Times*nb)
	chunk := func(i int) series { return x.sub(starts[i], size) }

	ws := p.workers
	if sg.Times*wl.nseg*nfft < minParallelSamples {
		ws = ws[:1]
	}
	if sg.Times < len(ws) {
		// Too few rows to share out: split each row's segments instead.
		if wl.median {
			p.power = grow(p.power, wl.nseg*nb)
		}
		for i := range sg.Times {
			p.estimate(sg.Row(i), chunk(i), wl, ws, p.power)
		}
		if 8*cap(p.power) > maxRetainedPower {
			p.power = nil
		}
		return sg, nil
	}
	// One contiguous block of rows per worker, each single-threaded.
	for _, w := range ws {
		if wl.median {
			w.power = grow(w.power, wl.nseg*nb)
		}
	}
	parallel(len(ws), func(wi int) {
		r0, r1 := wi*sg.Times/len(ws), (wi+1)*sg.Times/len(ws)
		for i := r0; i < r1; i++ {
			p.estimate(sg.Row(i), chunk(i), wl, ws[wi:wi+1], ws[wi].power)
		}
	})
	for _, w := range ws {
		if 8*cap(w.power) > maxRetainedPower {
			w.power = nil
		}
	}
	return sg, nil
}

// estimate writes the Welch ASD of x into dst (nfft/2+1 bins), sharing the
// segments, and then the bins, among ws. For median averaging, power must
// hold wl.nseg × len(dst) values.
func (p *Processor) estimate(dst []float64, x series, wl welch, ws []*worker, power []float64) {
	nb := len(dst)
	if len(ws) == 1 {
		// Kept free of closures so per-row spectrogram calls do not allocate.
		ws[0].segments(x, wl, 0, wl.nseg, power, nb)
		if wl.median {
			ws[0].medianBins(dst, power, wl, 0, nb)
		} else {
			meanBins(dst, ws, wl)
		}
		return
	}
	parallel(len(ws), func(i int) {
		s0, s1 := i*wl.nseg/len(ws), (i+1)*wl.nseg/len(ws)
		ws[i].segments(x, wl, s0, s1, power, nb)
	})
	if !wl.median {
		meanBins(dst, ws, wl)
		return
	}
	parallel(len(ws), func(i int) {
		k0, k1 := i*nb/len(ws), (i+1)*nb/len(ws)
		ws[i].medianBins(dst, power, wl, k0, k1)
	})
}

// parallel runs fn(0..n−1) concurrently, the last on the calling goroutine.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Go(func() { fn(i) })
	}
	fn(n - 1)
	wg.Wait()
}

// segments computes the periodograms of segments [s0, s1) of x. For median
// averaging they are stored as rows of power (nb values each); for mean
// averaging they are summed into w.acc. Samples that are not float64 are
// converted a segment at a time into w.seg, which periodogram then
// windows in place.
func (w *worker) segments(x series, wl welch, s0, s1 int, power []float64, nb int) {
	if wl.median {
		for s := s0; s < s1; s++ {
			w.periodogram(power[s*nb:(s+1)*nb], x.segment(w.seg, s*wl.step, s*wl.step+wl.nfft), wl.window)
		}
		return
	}
	acc, row := w.acc[:nb], w.row[:nb]
	clear(acc)
	for s := s0; s < s1; s++ {
		w.periodogram(row, x.segment(w.seg, s*wl.step, s*wl.step+wl.nfft), wl.window)
		for k, v := range row {
			acc[k] += v
		}
	}
}

// doubled reports whether bin k of an nfft-point one-sided spectrum folds
// in the negative frequency: all bins but DC and, for even nfft, Nyquist.
func doubled(k, nfft int) bool { return k > 0 && 2*k != nfft }

// meanBins writes the mean-averaged ASD from the workers' sums into dst.
func meanBins(dst []float64, ws []*worker, wl welch) {
	acc := ws[0].acc[:len(dst)]
	for _, w := range ws[1:] {
		for k, v := range w.acc[:len(dst)] {
			acc[k] += v
		}
	}
	n := float64(wl.nseg)
	for k, v := range acc {
		v *= wl.scale
		if doubled(k, wl.nfft) {
			v *= 2
		}
		dst[k] = math.Sqrt(v / n)
	}
}

// periodogram writes the unscaled periodogram |FFT(w·(x − mean x))|² of
// one segment into dst. x may be w.seg itself: each sample is read before
// its windowed value is written over it.
func (w *worker) periodogram(dst, x, window []float64) {
	mean := pairwise.Sum(x) / float64(len(x))
	seg := w.seg[:len(x)]
	window = window[:len(x)]
	for i, v := range x {
		seg[i] = window[i] * (v - mean)
	}
	w.fft.Power(dst, seg)
}

// gatherBytes bounds the block of bins × segments transposed at once for
// median averaging, keeping it resident in L1/L2 cache.
const gatherBytes = 128 << 10

// medianBins writes bins [k0, k1) of the median-averaged ASD into dst.
// power holds one periodogram per segment; blocks of bins are transposed
// into w.gather so each bin's values are contiguous for selection.
func (w *worker) medianBins(dst, power []float64, wl welch, k0, k1 int) {
	nb, nseg := len(dst), wl.nseg
	block := max(gatherBytes/8/nseg, 8)
	w.gather = grow(w.gather, block*nseg)
	for b0 := k0; b0 < k1; b0 += block {
		b1 := min(b0+block, k1)
		g := w.gather[:(b1-b0)*nseg]
		for s := range nseg {
			row := power[s*nb+b0 : s*nb+b1]
			for j, v := range row {
				g[j*nseg+s] = v
			}
		}
		for j := range b1 - b0 {
			vals := g[j*nseg : (j+1)*nseg]
			// Scale before selecting, in scipy's order of operations,
			// so the two middle values are averaged after rounding.
			for s := range vals {
				vals[s] *= wl.scale
			}
			k := b0 + j
			v := median(vals)
			if doubled(k, wl.nfft) {
				v *= 2
			}
			dst[k] = math.Sqrt(v / wl.bias)
		}
	}
}
