package progress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// frames splits terminal output into the lines drawn, without the control
// sequences around them.
func frames(out string) []string {
	var fs []string
	for _, f := range strings.Split(out, "\r") {
		f = strings.TrimSuffix(strings.TrimSuffix(f, "\n"), "\x1b[K")
		if f != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

func TestTTY(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	b := newBar(&buf, 40, 400e6, true, clk.now)
	if got := frames(buf.String()); len(got) != 1 || !strings.Contains(got[0], " 0/40 files") || !strings.Contains(got[0], "ETA --:--") {
		t.Errorf("initial frames %q, want one showing 0/40 files and no ETA yet", got)
	}

	// 100 MB in 1 s: 100 MB/s, 300 MB to go: 3 s.
	clk.advance(time.Second)
	b.Done("a", 100e6, nil)
	fs := frames(buf.String())
	last := fs[len(fs)-1]
	for _, want := range []string{"[=====>              ]", " 1/40 files", "100 MB/s", "ETA 0:03"} {
		if !strings.Contains(last, want) {
			t.Errorf("frame %q lacks %q", last, want)
		}
	}

	clk.advance(time.Second)
	b.Done("b", 100e6, errors.New("bad"))
	if last := frames(buf.String()); !strings.Contains(last[len(last)-1], "1 failed") {
		t.Errorf("frame %q does not count the failure", last[len(last)-1])
	}

	clk.advance(2 * time.Second)
	b.Finish()
	out := buf.String()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output %q does not end the line after Finish", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("output %q has %d newlines, want 1", out, strings.Count(out, "\n"))
	}
	fs = frames(out)
	final := fs[len(fs)-1]
	for _, want := range []string{" 2/40 files", " 50 MB/s", "in 0:04", "1 failed"} {
		if !strings.Contains(final, want) {
			t.Errorf("final frame %q lacks %q", final, want)
		}
	}

	n := buf.Len()
	b.Finish()
	b.Done("c", 1, nil)
	if buf.Len() != n {
		t.Errorf("wrote %q after Finish", buf.String()[n:])
	}
}

func TestNotTTY(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	b := newBar(&buf, 3, 30, false, clk.now)
	for i := range 3 {
		clk.advance(time.Second)
		b.Done(fmt.Sprint(i), 10, nil)
	}
	b.Finish()
	if buf.Len() != 0 {
		t.Errorf("wrote %q without a terminal, want nothing", buf.String())
	}
	b.Println(&buf, "a -> b")
	if got := buf.String(); got != "a -> b\n" {
		t.Errorf("Println wrote %q, want %q", got, "a -> b\n")
	}
}

func TestThrottle(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	const n = 100
	b := newBar(&buf, n, n*1e6, true, clk.now)
	// 100 files in 1 s: at most one redraw per 100 ms, plus the first and
	// the last state.
	for i := range n {
		clk.advance(10 * time.Millisecond)
		b.Done(fmt.Sprint(i), 1e6, nil)
	}
	fs := frames(buf.String())
	if len(fs) > 12 {
		t.Errorf("drew %d frames in 1 s, want at most 12", len(fs))
	}
	if last := fs[len(fs)-1]; !strings.Contains(last, "100/100 files") {
		t.Errorf("last frame %q is not the final state", last)
	}
}

func TestZeroTotalBytes(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	b := newBar(&buf, 4, 0, true, clk.now)
	clk.advance(2 * time.Second)
	b.Done("a", 0, nil)
	fs := frames(buf.String())
	last := fs[len(fs)-1]
	// 1 file in 2 s, 3 to go: 6 s.
	for _, want := range []string{"[=====>              ]", "1/4 files", "0.0 MB/s", "ETA 0:06"} {
		if !strings.Contains(last, want) {
			t.Errorf("frame %q lacks %q", last, want)
		}
	}
	if strings.Contains(last, "NaN") || strings.Contains(last, "Inf") {
		t.Errorf("frame %q", last)
	}

	// No files at all.
	buf.Reset()
	b = newBar(&buf, 0, 0, true, clk.now)
	b.Finish()
	if fs := frames(buf.String()); len(fs) == 0 || !strings.Contains(fs[len(fs)-1], "0/0 files") {
		t.Errorf("frames %q, want a final 0/0 files", fs)
	}
}

func TestPrintln(t *testing.T) {
	var buf bytes.Buffer
	clk := newClock()
	b := newBar(&buf, 2, 2, true, clk.now)
	b.Println(&buf, "a.npy -> a.h5")
	out := buf.String()
	// The bar is cleared, the line written, the bar drawn again below it.
	i := strings.Index(out, "\r\x1b[Ka.npy -> a.h5\n\r[")
	if i < 0 {
		t.Fatalf("output %q does not clear the bar before the line and redraw it after", out)
	}
	if !strings.HasPrefix(out, "\r[") {
		t.Errorf("output %q does not start with the bar", out)
	}
}

func TestConcurrentDone(t *testing.T) {
	var buf bytes.Buffer
	const workers, each = 8, 200
	b := New(&buf, workers*each, workers*each*1000, true)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				b.Done(fmt.Sprint(w, i), 1000, nil)
				if i%50 == 0 {
					b.Println(&buf, "line")
				}
			}
		})
	}
	wg.Wait()
	b.Finish()
	fs := frames(buf.String())
	want := fmt.Sprintf("%d/%d files", workers*each, workers*each)
	if last := fs[len(fs)-1]; !strings.Contains(last, want) {
		t.Errorf("final frame %q lacks %q", last, want)
	}
}

func TestClock(t *testing.T) {
	for _, tc := range []struct {
		s    float64
		want string
	}{
		{0, "0:00"}, {6.2, "0:07"}, {7, "0:07"}, {65, "1:05"}, {3599.5, "1:00:00"}, {3661, "1:01:01"}, {1e9, ">99h"},
	} {
		if got := clock(tc.s); got != tc.want {
			t.Errorf("clock(%g) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("IsTerminal(regular file) = true")
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Errorf("IsTerminal(%s) = true", os.DevNull)
	}
}
