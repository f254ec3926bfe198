package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// TestAfterNeedsAVerifiedArchive checks that after = "move" and "delete"
// leave the source alone when its archive does not re-read as recorded,
// or when the source changed since it was archived.
func TestAfterNeedsAVerifiedArchive(t *testing.T) {
	t.Parallel()
	for _, after := range []string{"move", "delete"} {
		for _, spoil := range []string{"archive", "source"} {
			t.Run(after+"/"+spoil, func(t *testing.T) {
				dir := t.TempDir()
				in := filepath.Join(dir, "in")
				os.MkdirAll(in, 0o755)
				src := filepath.Join(in, "K-K1_TEST-1300000000-8.npy")
				x := synth.Coloured(8*512, 512, 50, 1)
				if err := synth.WriteNPY(src, x); err != nil {
					t.Fatal(err)
				}
				cfg := config.Default()
				cfg.Archive.Root = filepath.Join(dir, "archive")
				cfg.Watch = []config.Watch{{Dir: in, After: after, DoneDir: filepath.Join(dir, "done")}}
				alog, err := audit.Open(audit.Options{Path: filepath.Join(dir, "audit.log"), StateDir: dir})
				if err != nil {
					t.Fatal(err)
				}
				defer alog.Close()
				d := &Daemon{opts: Options{Audit: alog}, log: zap.NewNop(), logx: audit.NewIndexed(alog, nil), retry: map[string]int{}}
				p := pipeline.New(pipeline.Options{Config: cfg, CPUs: 1, Recorder: pipeline.RecorderFunc(d.appendRecord)})
				ch := "K1:TEST"
				res, err := p.Process(context.Background(), src, ingest.Options{Flags: ingest.Meta{Channel: &ch}})
				if err != nil {
					t.Fatal(err)
				}
				switch spoil {
				case "archive":
					spoilArchive(t, res.Archive, x)
				case "source":
					f, _ := os.OpenFile(src, os.O_WRONLY|os.O_APPEND, 0)
					f.Write([]byte{0})
					f.Close()
				}
				err = d.after(&cfg.Watch[0], watcher.Event{Path: src, Rel: filepath.Base(src)}, res)
				if err == nil {
					t.Fatal("after: got nil, want an error")
				}
				if _, serr := os.Stat(src); serr != nil {
					t.Errorf("the source is gone after %v", err)
				}
				if spoil == "archive" && !strings.Contains(err.Error(), "not verified") {
					t.Errorf("got %v, want it to say the archive is not verified", err)
				}
			})
		}
	}
}

// spoilArchive flips one byte inside the raw samples of an archive, where
// the HDF5 structure stays readable but data_sha256 no longer matches.
func spoilArchive(t *testing.T, path string, samples []float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A byte of the stored samples, found by their bytes: the raw dataset
	// is stored as it is, little-endian float64.
	var run []byte
	for _, v := range samples[len(samples)/2 : len(samples)/2+8] {
		run = binary.LittleEndian.AppendUint64(run, math.Float64bits(v))
	}
	at := bytes.Index(b, run)
	if at < 0 {
		t.Fatal("the samples are not in the archive as stored")
	}
	b[at+3] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
