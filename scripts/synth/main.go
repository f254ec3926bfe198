// Command synth writes seed-like synthetic .npy files (float64, or int16
// counts) with T010150 names and JSON sidecars, for the demo and the
// benchmarks.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/synth"
)

func main() {
	dir := flag.String("dir", ".", "output directory")
	n := flag.Int("n", 1, "number of files, one after another in time")
	dur := flag.Int("duration", 64, "seconds per file")
	fs := flag.Int("fs", 4096, "sample rate, Hz")
	gps := flag.Int64("gps", 1300000000, "GPS start of the first file")
	channel := flag.String("channel", "K1:LSC-DARM_OUT_DQ", "channel name")
	dtype := flag.String("dtype", "float64", "sample type: float64, or int16 counts (1000 per unit)")
	flag.Parse()
	if *dtype != "float64" && *dtype != "int16" {
		fmt.Fprintf(os.Stderr, "synth: -dtype %q: want float64 or int16\n", *dtype)
		os.Exit(2)
	}
	if err := run(*dir, *n, *dur, *fs, *gps, *channel, *dtype); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(dir string, n, dur, fs int, gps int64, channel, dtype string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	obs := channel[:1]
	desc := strings.NewReplacer(":", "_", "-", "_").Replace(channel)
	for i := 0; i < n; i++ {
		t0 := gps + int64(i*dur)
		stem := fmt.Sprintf("%s-%s-%d-%d", obs, desc, t0, dur)
		// The sidecar first, then the data written under a temp name and
		// renamed in: what a writer to a watched directory should do.
		side, _ := json.MarshalIndent(map[string]any{
			"channel":     channel,
			"unit":        "ct",
			"description": "synthetic coloured noise with a 50 Hz line",
		}, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, stem+".json"), append(side, '\n'), 0o644); err != nil {
			return err
		}
		x := synth.Coloured(dur*fs, float64(fs), 50, uint64(t0))
		tmp := filepath.Join(dir, "."+stem+".npy.tmp")
		write := func() error { return synth.WriteNPY(tmp, x) }
		if dtype == "int16" {
			write = func() error { return synth.WriteNPYInt16(tmp, synth.Counts(x, 1000)) }
		}
		if err := write(); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, stem+".npy")); err != nil {
			return err
		}
		fmt.Println(filepath.Join(dir, stem+".npy"))
	}
	return nil
}
