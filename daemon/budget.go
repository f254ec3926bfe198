package daemon

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/processor"
)

// The memory budget (daemon.memory_limit) bounds what all workers and the
// work ahead hold at once. Before a file is read, ingest.Measure tells
// from its headers what its samples take; a file whose need does not fit
// in what is left waits its turn (in arrival order), work ahead that does
// not fit is not started, and a file whose need exceeds the whole budget
// could never be archived here and is quarantined with a reason naming
// both sizes.

// baseNeed is what archiving any file takes beside its samples and the
// copies needOf counts: scratch of one FFT segment, FFT plans, the HDF5
// library's caches.
const baseNeed = 16 << 20

// needOf estimates the peak memory of archiving a file: its samples,
// held once as stored (spectra read them a segment at a time, converting
// each as they go), and in float64 values, counted in copies of the
// samples:
//
//   - the periodograms of every segment of a median-averaged ASD, which
//     the median needs all at once: Segments × (NFFT/2+1) values, one
//     copy of its input at the default overlap of half a segment
//     (fftlength/(2·(fftlength−overlap)) in general). One ASD is made at
//     a time, so the largest counts; mean averaging holds one periodogram
//     per goroutine, which baseNeed covers.
//   - the values of a spectrogram, held until the archive is written:
//     fftlength/(2·stride) of its input. Its median holds the
//     periodograms of one chunk per goroutine only, which baseNeed covers.
//   - each time series product (a filter or a resampling), also held
//     until the archive is written: one copy of its input, or for a
//     resampling rate/(input's rate) of it.
//   - the float64 conversion of the raw samples, made once when a filter,
//     a resampling or a trend of them needs it and they are not float64
//     (taken to be those of 8 bytes a sample: an int64 series counts as
//     float64).
//
// The raw series' sample rate is not known here, so a resampling of it
// counts as one copy; one of a resampling, whose rate is known, as its
// ratio. needAt takes the rate when it is known.
//
// A file whose series are read, processed and written a few at a time
// (a frame file, pipeline.MaxLanes series at once) holds those series and
// their products: its need is that of its largest series
// (Footprint.Largest, which counts the largest number of samples and the
// largest bytes of any) for each, and one more baseNeed for the index of
// the rest.
func needOf(fp ingest.Footprint, chain []config.Product) int64 {
	if fp.Largest != nil {
		return baseNeed + pipeline.MaxLanes*needAt(*fp.Largest, 0, chain)
	}
	return needAt(fp, 0, chain)
}

// needAt is needOf for series sampled at fs Hz, or at a rate not known
// when fs is 0.
func needAt(fp ingest.Footprint, fs float64, chain []config.Product) int64 {
	// The size of each series made, in copies of the raw one, and its
	// rate (0: not known), by product name.
	size := map[string]float64{config.InputRaw: 1}
	rate := map[string]float64{config.InputRaw: fs}
	var held, periodograms float64
	convert := false
	for _, p := range chain {
		in, made := size[p.Input]
		if !made {
			continue // Chain lists inputs first; a cycle is refused
		}
		switch {
		case p.Kind == config.KindASD:
			if w := p.Welch(); w.Method == processor.MethodMedian && w.FFTLength > w.Overlap {
				periodograms = max(periodograms, in*w.FFTLength/(2*(w.FFTLength-w.Overlap)))
			}
		case p.Kind == config.KindSpectrogram:
			if p.Stride != nil && *p.Stride > 0 {
				held += in * p.Welch().FFTLength / (2 * *p.Stride)
			}
		case p.Series():
			out, r := in, rate[p.Input]
			if p.Kind == config.KindResample {
				if r > 0 {
					out = in * p.Rate / r
				}
				r = p.Rate
			}
			size[p.Name], rate[p.Name] = out, r
			held += out
		}
		if p.Input == config.InputRaw && p.Kind != config.KindASD && p.Kind != config.KindSpectrogram {
			convert = true
		}
	}
	if convert && fp.Bytes != 8*fp.Samples {
		held++
	}
	return baseNeed + fp.Bytes + int64(math.Ceil((held+periodograms)*8*float64(fp.Samples)))
}

// budget is the memory budget; a nil budget has no limit.
type budget struct {
	limit int64
	sem   *semaphore.Weighted
	used  atomic.Int64
	m     Metrics
}

func newBudget(limit int64, m Metrics) *budget {
	if m == nil {
		m = noMetrics{}
	}
	b := &budget{limit: limit, sem: semaphore.NewWeighted(limit), m: m}
	m.SetMemory(limit, 0)
	return b
}

// acquire waits until n bytes of the budget are free and takes them.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if b == nil {
		return nil
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return err
	}
	b.m.SetMemory(b.limit, b.used.Add(n))
	return nil
}

// tryAcquire takes n bytes if they are free now.
func (b *budget) tryAcquire(n int64) bool {
	if b == nil {
		return true
	}
	if n > b.limit || !b.sem.TryAcquire(n) {
		return false
	}
	b.m.SetMemory(b.limit, b.used.Add(n))
	return true
}

func (b *budget) release(n int64) {
	if b == nil {
		return
	}
	b.sem.Release(n)
	b.m.SetMemory(b.limit, b.used.Add(-n))
}

// tooBig is the reason a file that could never fit is quarantined with.
func tooBig(fp ingest.Footprint, need, limit int64) string {
	return fmt.Sprintf("archiving it needs about %s of memory (%d samples in %d series, %s as stored), more than daemon.memory_limit of %s",
		mib(need), fp.Samples, fp.Series, mib(fp.Bytes), mib(limit))
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// availableMemory is the memory the daemon may use: its cgroup's limit
// (the smallest memory.max on the way up its cgroup v2 path), else the
// machine's RAM; and where that figure came from.
func availableMemory() (int64, string) {
	ram := memTotal()
	if cg, ok := cgroupLimit(); ok && (ram == 0 || cg < ram) {
		return cg, "the cgroup's memory.max"
	}
	if ram == 0 {
		return 4 << 30, "a guess of 4 GiB, as neither the cgroup nor /proc/meminfo says"
	}
	return ram, "the machine's RAM"
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func cgroupLimit() (int64, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	var rel string
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	if rel == "" {
		return 0, false
	}
	best, found := int64(0), false
	for dir := filepath.Join("/sys/fs/cgroup", rel); strings.HasPrefix(dir, "/sys/fs/cgroup"); dir = filepath.Dir(dir) {
		v, err := os.ReadFile(filepath.Join(dir, "memory.max"))
		if err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err == nil && (!found || n < best) {
				best, found = n, true
			}
		}
		if dir == "/sys/fs/cgroup" {
			break
		}
	}
	return best, found
}
