package audit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// writeBulkLog writes n realistic "archived" records to a log in dir, with
// a checkpoint record after every DefaultCheckpointEvery of them and after
// the last, and returns its options and size in bytes.
func writeBulkLog(b *testing.B, dir string, n int) (Options, int64) {
	b.Helper()
	opts := Options{
		Path:     filepath.Join(dir, "audit.log"),
		StateDir: filepath.Join(dir, "state"),
		KeyFile:  filepath.Join(dir, "state", "audit.key"),
		Host:     "bench-host",
	}
	skey, err := createKey(opts.KeyFile, keyName(opts.Host))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	w, err := newBulkWriter(opts.Path)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		t := t0.Add(time.Duration(i) * time.Second)
		if err := w.add(eventArchived, t, archivedRecord(i)); err != nil {
			b.Fatal(err)
		}
		if (i+1)%DefaultCheckpointEvery == 0 || i == n-1 {
			if err := w.checkpoint(signer, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.close(); err != nil {
		b.Fatal(err)
	}
	return opts, w.size
}

// BenchmarkReplay1M replays, verifies and opens a log of one million
// archived records (about 1 GB), written once for all sub-benchmarks.
func BenchmarkReplay1M(b *testing.B) {
	const n = 1_000_000
	opts, size := writeBulkLog(b, b.TempDir(), n)
	b.Logf("log: %d records, %d bytes", n, size)

	b.Run("Replay", func(b *testing.B) {
		b.SetBytes(size)
		var ix *Index
		for b.Loop() {
			var err error
			if ix, err = Replay(opts.Path); err != nil {
				b.Fatal(err)
			}
		}
		if ix.Len() != n {
			b.Fatalf("Replay: got %d archives, want %d", ix.Len(), n)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/n, "heapB/archive")
		runtime.KeepAlive(ix)
	})
	b.Run("Verify", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			rep, err := Verify(VerifyOptions{Path: opts.Path, StateDir: opts.StateDir})
			if err != nil {
				b.Fatal(err)
			}
			if !rep.OK() || rep.Events[eventArchived] != n || rep.Unsigned != 0 {
				b.Fatalf("Verify: got %d archived records, %d unsigned, %v", rep.Events[eventArchived], rep.Unsigned, rep.Issues)
			}
		}
	})
	b.Run("OpenScan", func(b *testing.B) {
		// Open without a saved state reads every record once.
		b.SetBytes(size)
		for b.Loop() {
			l, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			removeState(b, opts)
			b.StartTimer()
		}
	})
	b.Run("OpenSaved", func(b *testing.B) {
		l, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
		for b.Loop() {
			l, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			l.Close()
		}
	})
}

func removeState(b *testing.B, opts Options) {
	b.Helper()
	if err := removeIfExists(filepath.Join(opts.StateDir, stateFile)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppend measures one durable append: encode, write, fsync.
func BenchmarkAppend(b *testing.B) {
	opts := testOptions(b)
	l, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	f := archivedRecord(1)
	for b.Loop() {
		if _, err := l.appendFields(eventArchived, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRecord measures the canonical encoding and hash of one
// realistic record.
func BenchmarkEncodeRecord(b *testing.B) {
	f := archivedRecord(1)
	h := header{seq: 1, time: "2024-03-01T12:00:00.000000000Z", event: eventArchived, host: "h"}
	for b.Loop() {
		if _, _, err := encodeFields(&h, f); err != nil {
			b.Fatal(err)
		}
	}
}

func removeIfExists(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
