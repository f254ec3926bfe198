package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// BenchmarkDropToArchived drops 8 MB files (64 s at 16384 Hz, float64,
// each with a JSON sidecar) at 10 files a second into a running daemon
// with settle = 400 ms, and reports the drop-to-archived latency: from the
// drop to the time of the file's "archived" audit record. Each iteration
// drops 30 files.
//
//   - renamed: sidecar and data each written under a temp name and renamed
//     in, as the README asks of writers: ready at once.
//   - in-place: both written under their final names: ready once unchanged
//     for settle.
func BenchmarkDropToArchived(b *testing.B) {
	for _, mode := range []string{"renamed", "in-place"} {
		b.Run(mode, func(b *testing.B) { benchDrop(b, mode == "renamed") })
	}
}

func benchDrop(b *testing.B, rename bool) {
	const files, rate = 30, 10
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		e := newEnv(b, "keep", "")
		staging := filepath.Join(e.dir, "staging")
		os.MkdirAll(staging, 0o755)
		srcs := make([]string, files)
		data := make([][]byte, files)
		for k := range files {
			name := fmt.Sprintf("K-K1_BENCH-%d-64.npy", 1300000000+64*(k+files*i))
			srcs[k] = filepath.Join(e.incoming, name)
			staged := filepath.Join(staging, name)
			if err := synth.WriteNPY(staged, synth.Coloured(64*16384, 16384, 50, uint64(k))); err != nil {
				b.Fatal(err)
			}
			if !rename {
				data[k], _ = os.ReadFile(staged)
			}
		}
		side := []byte(`{"channel": "K1:BENCH", "unit": "ct"}`)
		d := e.start()
		dropped := make([]time.Time, files)
		tick := time.NewTicker(time.Second / rate)
		for k, src := range srcs {
			<-tick.C
			sidecar := strings.TrimSuffix(src, ".npy") + ".json"
			dropped[k] = time.Now()
			if rename {
				tmp := filepath.Join(e.incoming, "."+filepath.Base(sidecar)+".tmp")
				os.WriteFile(tmp, side, 0o644)
				os.Rename(tmp, sidecar)
				if err := os.Rename(filepath.Join(staging, filepath.Base(src)), src); err != nil {
					b.Fatal(err)
				}
			} else {
				os.WriteFile(sidecar, side, 0o644)
				if err := os.WriteFile(src, data[k], 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
		tick.Stop()
		e.waitFor("every file archived", func() bool { return e.count("archived", "", "") == files }, d)
		for _, r := range e.records() {
			if r["event"] != "archived" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, r["time"].(string))
			if err != nil {
				b.Fatal(err)
			}
			k := slices.Index(srcs, r["source_path"].(string))
			lat = append(lat, at.Sub(dropped[k]))
		}
		e.stop(d)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))].Seconds() * 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
