// Command framegen writes a large synthetic frame file for the memory and
// decoding benchmarks: by default 1000 channels over 16 frames of 1 s,
// two thirds of them at 16384 Hz and the rest at 256 to 4096 Hz; int16
// samples stored raw, and every tenth channel float32 compressed with
// gzip. It prints the file's path, size and sample count.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gwwatchd/gwwatchd/internal/framegen"
)

func main() {
	out := flag.String("out", "X-SYNTH-1300000000-16.gwf", "file to write")
	channels := flag.Int("channels", 1000, "number of channels")
	frames := flag.Int("frames", 16, "number of 1 s frames")
	gps := flag.Int64("gps", 1300000000, "GPS start of the first frame")
	flag.Parse()
	if err := run(*out, *channels, *frames, *gps); err != nil {
		fmt.Fprintln(os.Stderr, "framegen:", err)
		os.Exit(1)
	}
}

func run(out string, channels, frames int, gps int64) error {
	spec := framegen.Spec{Frames: frames, FrameLength: 1, GPS: gps, Seed: uint64(gps)}
	for i := range channels {
		c := framegen.Channel{Name: fmt.Sprintf("X1:SYN-CH%04d", i), Rate: 16384, Type: framegen.Int16}
		if i%3 == 0 {
			c.Rate = []float64{256, 1024, 4096}[i/3%3]
		}
		if i%10 == 0 {
			c.Type, c.Gzip = framegen.Float32, true
		}
		spec.Channels = append(spec.Channels, c)
	}
	// Written under a temp name and renamed in, as a writer to a watched
	// directory should.
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := framegen.Write(f, spec); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Println(out, st.Size(), spec.Samples())
	return nil
}
