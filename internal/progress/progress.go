// Package progress shows how far a batch of files has got: files done of
// the total, throughput and the time left, redrawn in place on a terminal.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// redrawEvery bounds how often the line is redrawn; the final state is
// always drawn.
const redrawEvery = 100 * time.Millisecond

// barWidth is the number of cells between the brackets.
const barWidth = 20

// Bar is a one-line progress display for a batch of files, such as
//
//	[=========>          ]  12/40 files   310 MB/s  ETA 0:07
//
// It draws only on a terminal (tty set in New): the line is rewritten in
// place with a carriage return, at most every 100 ms. Without a terminal
// the Bar writes nothing at all, so that logs and pipes see only the
// caller's own lines; Println still writes those.
//
// A Bar is safe for concurrent use. Write errors are ignored: the display
// is a courtesy and must not fail the work it reports on.
type Bar struct {
	w          io.Writer
	tty        bool
	totalFiles int
	totalBytes int64
	now        func() time.Time
	start      time.Time

	mu       sync.Mutex
	files    int   // files finished, ok or failed
	failed   int   // of which failed
	bytes    int64 // bytes of the finished files
	drawn    bool  // the bar is on screen (and the cursor at its end)
	last     time.Time
	finished bool
}

// New returns a Bar for totalFiles files of totalBytes bytes in all, writing
// to w, and starts its clock. When tty is set it draws the empty bar at once.
// totalBytes may be zero (sizes unknown): progress and the time left then
// go by files.
func New(w io.Writer, totalFiles int, totalBytes int64, tty bool) *Bar {
	return newBar(w, totalFiles, totalBytes, tty, time.Now)
}

func newBar(w io.Writer, totalFiles int, totalBytes int64, tty bool, now func() time.Time) *Bar {
	b := &Bar{w: w, tty: tty, totalFiles: totalFiles, totalBytes: max(totalBytes, 0), now: now}
	b.start = now()
	if tty {
		b.mu.Lock()
		b.draw(b.start, false)
		b.mu.Unlock()
	}
	return b
}

// IsTerminal reports whether w is a terminal: what decides between lines
// for people and lines for programs, for the bar as for the log.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Done records that one file finished, successfully or (err != nil) not;
// bytes is its size as counted in the total. path is not shown: the caller
// reports files itself. Done after Finish only updates the counts.
func (b *Bar) Done(path string, bytes int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files++
	b.bytes += max(bytes, 0)
	if err != nil {
		b.failed++
	}
	if !b.tty || b.finished {
		return
	}
	now := b.now()
	if b.files >= b.totalFiles || now.Sub(b.last) >= redrawEvery {
		b.draw(now, false)
	}
}

// Println writes line and a newline to out, which may be the Bar's own
// writer or another stream on the same terminal. On a terminal the bar is
// cleared first and redrawn below the line, so the two do not mix.
func (b *Bar) Println(out io.Writer, line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty && b.drawn && !b.finished {
		io.WriteString(b.w, "\r\x1b[K")
		b.drawn = false
	}
	io.WriteString(out, line+"\n")
	if b.tty && !b.finished {
		b.draw(b.now(), false)
	}
}

// Finish draws the final state, with the elapsed time in place of the time
// left, and ends the line. Later calls do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.tty {
		b.draw(b.now(), true)
		io.WriteString(b.w, "\n")
		b.drawn = false
	}
}

// draw rewrites the line; b.mu is held.
func (b *Bar) draw(now time.Time, final bool) {
	io.WriteString(b.w, "\r"+b.line(now, final)+"\x1b[K")
	b.drawn = true
	b.last = now
}

// line formats the state at now; b.mu is held.
func (b *Bar) line(now time.Time, final bool) string {
	elapsed := now.Sub(b.start).Seconds()

	frac := 0.0
	switch {
	case b.totalBytes > 0:
		frac = float64(b.bytes) / float64(b.totalBytes)
	case b.totalFiles > 0:
		frac = float64(b.files) / float64(b.totalFiles)
	}
	frac = min(max(frac, 0), 1)
	if b.files >= b.totalFiles {
		frac = 1
	}
	cells := int(frac * barWidth)
	bar := strings.Repeat("=", cells)
	if cells < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-cells-1)
	}

	var sb strings.Builder
	digits := len(fmt.Sprint(b.totalFiles))
	fmt.Fprintf(&sb, "[%s]  %*d/%d files  %s MB/s", bar, digits, b.files, b.totalFiles, rate(b.bytes, elapsed))
	if final {
		sb.WriteString("  in " + clock(elapsed))
	} else {
		sb.WriteString("  ETA " + b.eta(elapsed))
	}
	if b.failed > 0 {
		fmt.Fprintf(&sb, "  %d failed", b.failed)
	}
	return sb.String()
}

// eta estimates the time left from the rate so far: in bytes when the total
// is known, else in files.
func (b *Bar) eta(elapsed float64) string {
	if b.files >= b.totalFiles {
		return clock(0)
	}
	done, total := float64(b.bytes), float64(b.totalBytes)
	if b.totalBytes == 0 {
		done, total = float64(b.files), float64(b.totalFiles)
	}
	if done <= 0 || elapsed <= 0 {
		return "--:--"
	}
	return clock(max(total-done, 0) / (done / elapsed))
}

// rate formats bytes per second in MB/s (10^6 bytes), in a fixed width.
func rate(bytes int64, seconds float64) string {
	r := 0.0
	if seconds > 0 {
		r = float64(bytes) / seconds / 1e6
	}
	if r < 10 {
		return fmt.Sprintf("%5.1f", r)
	}
	return fmt.Sprintf("%5.0f", r)
}

// clock formats seconds, rounded up, as m:ss or h:mm:ss.
func clock(seconds float64) string {
	if seconds > 99*3600 {
		return ">99h"
	}
	s := int64(seconds)
	if float64(s) < seconds {
		s++
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
