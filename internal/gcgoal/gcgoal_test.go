package gcgoal

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},       // counted as 4 MiB
		{4 * mib, 400}, // 16 MiB of headroom on 4
		{8 * mib, 200},
		{64 * mib, 25},   // 16 MiB is 25%
		{1024 * mib, 25}, // the percentage wins
	} {
		if got := Percent(25, 16*mib, tc.live); got != tc.want {
			t.Errorf("live %d MiB: got GOGC %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

// TestSetFollowsTheLiveHeap: after cycles with a small live heap GOGC is
// the headroom's, and after cycles with a large one it is the percentage.
func TestSetFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	Set(25, 16<<20)
	if p := afterCycles(func(p int) bool { return p > 25 }); p <= 25 {
		t.Errorf("small heap: GOGC %d, want above 25", p)
	}
	big := make([]byte, 96<<20) // never touched: live, but not resident
	if p := afterCycles(func(p int) bool { return p == 25 }); p != 25 {
		t.Errorf("heap of 96 MiB: GOGC %d, want 25", p)
	}
	runtime.KeepAlive(big)
}

// afterCycles runs collections until GOGC is as ok wants, for up to a
// minute: the finalizer that sets it runs on a goroutine of its own after
// a cycle. It returns the last GOGC.
func afterCycles(ok func(int) bool) int {
	var p int
	for range 60000 {
		runtime.GC()
		time.Sleep(time.Millisecond)
		// Read back by setting it to itself: GOGC cannot be read.
		p = debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if ok(p) {
			break
		}
	}
	return p
}
