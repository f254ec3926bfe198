package daemon

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/metrics"
)

// The memory budget (daemon.memory_limit) bounds what all workers and the
// work ahead hold at once. Before a file is read, ingest.Measure tells
// from its headers what its samples take; a file whose need does not fit
// in what is left waits its turn (in arrival order), work ahead that does
// not fit is not started, and a file whose need exceeds the whole budget
// could never be archived here and is quarantined with a reason naming
// both sizes.

// baseNeed is what archiving any file takes beside its samples: buffers,
// FFT plans, the HDF5 library's caches.
const baseNeed = 16 << 20

// needOf estimates the peak memory of archiving a file: its samples as
// stored, and twice their size as float64: the copy processing works on
// (none is made of float64 samples, but the garbage collector's headroom
// takes its place) and the periodograms of every Welch segment, which the
// median needs all at once. For float64 input that is the peak of about
// three times the file's size that `make bench` measures. Each time
// series product of the chain (a filter or a resampling) adds one float64
// copy of the samples, all held until the archive is written; a resampling
// to a higher rate than the file's takes more than that estimate.
func needOf(fp ingest.Footprint, chain []config.Product) int64 {
	copies := int64(2)
	for _, p := range chain {
		if p.Series() {
			copies++
		}
	}
	return baseNeed + fp.Bytes + copies*8*fp.Samples
}

// budget is the memory budget; a nil budget has no limit.
type budget struct {
	limit int64
	sem   *semaphore.Weighted
	used  atomic.Int64
	m     *metrics.Metrics
}

func newBudget(limit int64, m *metrics.Metrics) *budget {
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
