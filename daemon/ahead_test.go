package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// TestWorkAhead checks that work done ahead on a file becomes its archive
// only when the ready file is the version that was read, under the same
// configuration, and that otherwise it leaves nothing behind: no archive,
// no temp file, no audit record.
func TestWorkAhead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(t *testing.T, d *Daemon, src string, ev *watcher.Event)
		used   bool
	}{
		{"same version", nil, true},
		{"written since", func(t *testing.T, d *Daemon, src string, ev *watcher.Event) {
			ev.Changed = ev.Changed.Add(time.Millisecond)
		}, false},
		{"rewritten unnoticed", func(t *testing.T, d *Daemon, src string, ev *watcher.Event) {
			if err := synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, 2)); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Second)
			os.Chtimes(src, later, later)
		}, false},
		{"sidecar changed", func(t *testing.T, d *Daemon, src string, ev *watcher.Event) {
			writeSidecar(t, src, `{"channel": "K1:TEST", "unit": "V"}`)
		}, false},
		{"sidecar gone", func(t *testing.T, d *Daemon, src string, ev *watcher.Event) {
			os.Remove(strings.TrimSuffix(src, ".npy") + ".json")
		}, false},
		{"reloaded", func(t *testing.T, d *Daemon, src string, ev *watcher.Event) {
			cfg := *d.cfg.Load()
			d.cfg.Store(&cfg)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, src, root, alog := aheadDaemon(t)
			ev := readyEvent(t, src)
			workAhead(t, d, ev)
			if temps(t, root) != 1 {
				t.Fatalf("%d temp files after the work ahead, want 1", temps(t, root))
			}
			if n := records(t, alog); n != 0 {
				t.Fatalf("%d audit records after the work ahead, want none", n)
			}
			if c.change != nil {
				c.change(t, d, src, &ev)
				ev = refresh(t, src, ev)
			}
			res, err := d.fromAhead(ev, d.cfg.Load(), zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			if n := temps(t, root); n != 0 {
				t.Errorf("%d temp files left", n)
			}
			if !c.used {
				if res != nil {
					t.Fatalf("work ahead used: archived as %s", res.Archive)
				}
				if n := records(t, alog); n != 0 {
					t.Errorf("%d audit records, want none", n)
				}
				return
			}
			if res == nil {
				t.Fatal("work ahead not used")
			}
			sum, err := pipeline.FileSHA256(src)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := sourceSHA256(res.Archive); err != nil || got != sum {
				t.Errorf("archive source_sha256 %s (%v), want %s", got, err, sum)
			}
			if err := pipeline.CheckData(res.Archive); err != nil {
				t.Error(err)
			}
			if n := records(t, alog); n != 1 {
				t.Errorf("%d audit records, want one", n)
			}
		})
	}
}

// TestWorkAheadAuditsNothing checks that a bad file met ahead of time is
// neither rejected nor recorded: that is for when it is ready.
func TestWorkAheadAuditsNothing(t *testing.T) {
	t.Parallel()
	d, src, root, alog := aheadDaemon(t)
	if err := os.WriteFile(src, []byte("not numpy"), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := readyEvent(t, src)
	a := workAhead(t, d, ev)
	if a.err == nil {
		t.Fatal("no error preparing a bad file")
	}
	if res, err := d.fromAhead(ev, d.cfg.Load(), zap.NewNop()); res != nil || err != nil {
		t.Fatalf("fromAhead: %v, %v; want nothing, so the file is processed in full", res, err)
	}
	if n := records(t, alog); n != 0 || temps(t, root) != 0 {
		t.Errorf("%d audit records and %d temp files, want none", n, temps(t, root))
	}
	if _, err := os.Stat(src); err != nil {
		t.Error(err)
	}
}

// aheadDaemon returns a daemon with one goroutine working ahead, and a
// source file with its sidecar in its watch directory.
func aheadDaemon(t *testing.T) (d *Daemon, src, root, logPath string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	src = filepath.Join(in, "K-K1_TEST-1300000000-8.npy")
	if err := synth.WriteNPY(src, synth.Coloured(8*512, 512, 50, 1)); err != nil {
		t.Fatal(err)
	}
	writeSidecar(t, src, `{"channel": "K1:TEST", "unit": "ct"}`)
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(dir, "archive")
	cfg.Watch = []config.Watch{{Dir: in, After: "keep"}}
	logPath = filepath.Join(dir, "audit.log")
	alog, err := audit.Open(audit.Options{Path: logPath, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	d = &Daemon{opts: Options{Audit: alog}, log: zap.NewNop(), logx: audit.NewIndexed(alog, nil), retry: map[string]int{},
		aheads: map[string]*ahead{}, ahead: make(chan *ahead)}
	d.cfg.Store(cfg)
	done := make(chan struct{})
	go func() { d.workAhead(context.Background(), d.pipeline(cfg), d.ahead); close(done) }()
	t.Cleanup(func() { close(d.ahead); <-done; d.discardAheads() })
	return d, src, cfg.Archive.Root, logPath
}

func writeSidecar(t *testing.T, src, content string) {
	t.Helper()
	if err := os.WriteFile(strings.TrimSuffix(src, ".npy")+".json", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readyEvent is the watcher's event for the file as it is now.
func readyEvent(t *testing.T, path string) watcher.Event {
	t.Helper()
	return refresh(t, path, watcher.Event{Path: path, Rel: filepath.Base(path), Changed: time.Now()})
}

func refresh(t *testing.T, path string, ev watcher.Event) watcher.Event {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ev.Size, ev.ModTime = fi.Size(), fi.ModTime()
	return ev
}

// workAhead hints ev until work ahead on it starts, as the goroutine that
// takes it may not be waiting yet, and waits until that work is finished.
func workAhead(t *testing.T, d *Daemon, ev watcher.Event) *ahead {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d.hint(ev, 1)
		d.mu.Lock()
		a := d.aheads[ev.Path]
		d.mu.Unlock()
		if a != nil {
			<-a.done
			return a
		}
		if time.Now().After(deadline) {
			t.Fatal("no work ahead started")
		}
		time.Sleep(time.Millisecond)
	}
}

// temps counts the temp files of archives being written under root.
func temps(t *testing.T, root string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), archive.TempPrefix) {
			n++
		}
		return nil
	})
	return n
}

// records counts the records of files archived, duplicated or rejected.
func records(t *testing.T, logPath string) int {
	t.Helper()
	n := 0
	err := audit.Scan(logPath, func(r audit.Record, _ []byte) error {
		e, _ := r.Decode()
		switch e.(type) {
		case audit.Archived, audit.Duplicate, audit.Rejected:
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWorkAheadNotStarted checks that a hint no goroutine is free to take
// leaves nothing a worker could wait on.
func TestWorkAheadNotStarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "a.npy")
	d := &Daemon{log: zap.NewNop(), aheads: map[string]*ahead{}, ahead: make(chan *ahead)}
	d.cfg.Store(config.Default())
	d.hint(watcher.Event{Path: src, Changed: time.Now()}, 1)
	if len(d.aheads) != 0 {
		t.Fatalf("work ahead left waiting for a goroutine: %v", d.aheads)
	}
	done := make(chan struct{})
	go func() {
		res, err := d.fromAhead(watcher.Event{Path: src}, d.cfg.Load(), zap.NewNop())
		if res != nil || err != nil {
			t.Errorf("fromAhead: %v, %v", res, err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("fromAhead blocked")
	}
}

// TestSweepAheads checks that work ahead on a file that never became
// ready is thrown away, temporary archive and all, once long overdue.
func TestSweepAheads(t *testing.T) {
	t.Parallel()
	d, src, root, logPath := aheadDaemon(t)
	ev := readyEvent(t, src)
	workAhead(t, d, ev)
	d.sweepAheads(ev.Changed.Add(time.Second))
	if len(d.aheads) != 1 || temps(t, root) != 1 {
		t.Fatalf("recent work ahead swept: %d left, %d temp files", len(d.aheads), temps(t, root))
	}
	d.sweepAheads(ev.Changed.Add(time.Hour))
	if len(d.aheads) != 0 || temps(t, root) != 0 {
		t.Errorf("overdue work ahead kept: %d left, %d temp files", len(d.aheads), temps(t, root))
	}
	if n := records(t, logPath); n != 0 {
		t.Errorf("%d audit records", n)
	}
	workAhead(t, d, ev)
	d.dropAhead(src)
	if len(d.aheads) != 0 || temps(t, root) != 0 {
		t.Errorf("dropped work ahead kept: %d left, %d temp files", len(d.aheads), temps(t, root))
	}
}

// sourceSHA256 is the sha256 of the source an archive says it holds.
func sourceSHA256(path string) (string, error) {
	a, err := archive.Open(path)
	if err != nil {
		return "", err
	}
	return a.Source.SHA256, nil
}
