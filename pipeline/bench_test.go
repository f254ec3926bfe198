package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// BenchmarkProcess64s16384 archives one file of 64 s at 16384 Hz float64
// (8 MB) with the default configuration: read, hash, ASD, spectrogram,
// HDF5 write, fsync. Each iteration writes a new archive.
func BenchmarkProcess64s16384(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "K-K1_LSC_DARM_OUT_DQ-1300000000-64.npy")
	if err := synth.WriteNPY(src, synth.Coloured(64*16384, 16384, 50, 1)); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(src)
	cfg := config.Default()
	ch := "K1:LSC-DARM_OUT_DQ"
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := New(Options{Config: cfg, CPUs: runtime.NumCPU(), Root: filepath.Join(dir, "archive", string(rune('a'+i%26)), filepath.Base(b.TempDir()))})
		if _, err := p.Process(context.Background(), src, ingest.Options{Flags: ingest.Meta{Channel: &ch}}); err != nil {
			b.Fatal(err)
		}
	}
}
