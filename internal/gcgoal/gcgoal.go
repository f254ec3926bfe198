// Package gcgoal sets the garbage collector's goal for a heap that is at
// times a few large buffers of samples and at times only small objects.
//
// A low GOGC keeps the footprint of large buffers close to what is live,
// but for a small heap it makes the collector run after every megabyte
// or so of allocation: most of the time of many small files would go to
// collecting. Set keeps the goal of the next cycle, after each cycle, at
// least a fixed headroom above the live heap.
package gcgoal

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Set makes the collector let the heap grow to the larger of percent
// percent above the live heap and headroom bytes above it, from the end
// of each collection on, for the rest of the process. Only the first
// call counts.
func Set(percent int, headroom uint64) {
	once.Do(func() {
		t := &tuner{percent: percent, headroom: headroom, sample: []metrics.Sample{{Name: liveHeap}}}
		t.adjust()
		t.arm()
	})
}

var once sync.Once

// liveHeap is the metric of the heap marked live by the last cycle.
const liveHeap = "/gc/heap/live:bytes"

type tuner struct {
	percent  int
	headroom uint64
	sample   []metrics.Sample
	set      int // the GOGC last set
}

// sentinel is allocated for the collector to find dead: its finalizer
// runs once per completed cycle. It holds a pointer so that it is never
// one of the tiny allocations that share a block, and so a cycle.
type sentinel struct{ _ *byte }

// arm leaves a new sentinel for the next cycle.
func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// adjust sets GOGC for the live heap of the last cycle.
func (t *tuner) adjust() {
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	pct := Percent(t.percent, t.headroom, live)
	if pct != t.set {
		debug.SetGCPercent(pct)
		t.set = pct
	}
}

// Percent is the GOGC that lets a live heap of live bytes grow by the
// larger of percent percent and headroom bytes.
func Percent(percent int, headroom, live uint64) int {
	// Live heaps below 4 MiB count as 4 MiB, the smallest the runtime
	// takes a goal for, so that the result stays in bounds.
	live = max(live, 4<<20)
	if p := headroom * 100 / live; p > uint64(percent) {
		return int(p)
	}
	return percent
}
