package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/watcher"
)

// testBed is a daemon without a watcher over one watch directory, its
// done and quarantine directories and an audit log.
type testBed struct {
	t                           *testing.T
	dir, in, done, quar, logPth string
	cfg                         *config.Config
	d                           *Daemon
	alog                        *audit.Log
}

func newTestBed(t *testing.T, after string) *testBed {
	t.Helper()
	dir := t.TempDir()
	b := &testBed{t: t, dir: dir, in: filepath.Join(dir, "in"), done: filepath.Join(dir, "done"),
		quar: filepath.Join(dir, "quarantine"), logPth: filepath.Join(dir, "audit.log")}
	os.MkdirAll(b.in, 0o755)
	b.cfg = bedConfig(dir)
	b.cfg.Watch[0].After = after
	b.open()
	return b
}

func bedConfig(dir string) *config.Config {
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(dir, "archive")
	cfg.Processing.Spectrogram.Enabled = false
	cfg.Processing.ASD.FFTLength = 1
	cfg.Watch = []config.Watch{{Dir: filepath.Join(dir, "in"), After: "keep", DoneDir: filepath.Join(dir, "done"), QuarantineDir: filepath.Join(dir, "quarantine")}}
	return cfg
}

// open (re)opens the log and makes a daemon from its replayed index, as a
// start does.
func (b *testBed) open() {
	b.t.Helper()
	if b.alog != nil {
		b.alog.Close()
	}
	alog, err := audit.Open(audit.Options{Path: b.logPth, StateDir: b.dir})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { alog.Close() })
	ix, err := audit.Replay(b.logPth)
	if err != nil {
		b.t.Fatal(err)
	}
	b.alog = alog
	b.d = &Daemon{opts: Options{Audit: alog}, log: zap.NewNop(), logx: audit.NewIndexed(alog, ix), retry: map[string]int{}}
	b.d.cfg.Store(b.cfg)
}

// handle runs one ready file through the worker's path.
func (b *testBed) handle(path string) {
	b.t.Helper()
	rel, _ := filepath.Rel(b.in, path)
	b.d.handle(context.Background(), b.d.pipeline(b.cfg), job{ev: watcher.Event{Path: path, Rel: rel}})
}

// logged returns the records of type T in the log, decoded.
func logged[T audit.Event](b *testBed) []T {
	b.t.Helper()
	var out []T
	for _, r := range b.records() {
		if x, ok := audit.As[T](r); ok {
			out = append(out, x)
		}
	}
	return out
}

func (b *testBed) records() []audit.Record {
	b.t.Helper()
	var out []audit.Record
	if err := audit.Scan(b.logPth, func(r audit.Record, _ []byte) error {
		out = append(out, r)
		return nil
	}); err != nil {
		b.t.Fatal(err)
	}
	return out
}

func zeros(t *testing.T, path string, n int) {
	t.Helper()
	if err := synth.WriteNPY(path, make([]float64, n)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Dead channels and zero-filled gaps give identical bytes for different
// channels and times; with after = "delete" the second file must not be
// taken for the first and deleted with no archive holding it.
func TestSameBytesOtherMetadataAreNotMerged(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "delete")
	x := filepath.Join(b.in, "K-K1_PEM_SEIS_X-1300001000-16.npy")
	y := filepath.Join(b.in, "K-K1_PEM_SEIS_Y-1300002000-16.npy")
	zeros(t, x, 16*64)
	zeros(t, y, 16*64)
	// The same bytes again under one name, with two different sidecars.
	s1 := filepath.Join(b.in, "K-K1_PEM_MAG-1300003000-16.npy")
	zeros(t, s1, 16*64)
	write(t, strings.TrimSuffix(s1, ".npy")+".json", `{"channel": "K1:PEM-MAG_X", "unit": "T"}`)
	for _, f := range []string{x, y, s1} {
		b.handle(f)
	}
	write(t, strings.TrimSuffix(s1, ".npy")+".json", `{"channel": "K1:PEM-MAG_Y", "unit": "T"}`)
	zeros(t, s1, 16*64)
	b.handle(s1)

	arch := logged[audit.Archived](b)
	if n := len(logged[audit.Duplicate](b)); n != 0 || len(arch) != 4 {
		t.Fatalf("got %d archived and %d duplicate records, want 4 archives and no duplicate", len(arch), n)
	}
	want := map[string]bool{"K-K1_PEM_SEIS_X-1300001000-16@1300001000": true, "K-K1_PEM_SEIS_Y-1300002000-16@1300002000": true,
		"K1:PEM-MAG_X@1300003000": true, "K1:PEM-MAG_Y@1300003000": true}
	for _, r := range arch {
		doc, err := archive.Read(r.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range doc.Datasets {
			if strings.HasPrefix(ds.Path, "/raw/") {
				t0, _ := ds.Attr("t0").(float64)
				key := ds.Attr("channel").(string) + "@" + strconv.FormatFloat(t0, 'f', -1, 64)
				if !want[key] {
					t.Errorf("archive %s holds %s, not one of the expected series", r.ArchivePath, key)
				}
				delete(want, key)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("no archive holds %v", want)
	}
	if n := len(logged[audit.SourceDeleted](b)); n != 6 {
		t.Errorf("got %d source_deleted records, want 6 (4 data files, 2 sidecars)", n)
	}
}

// A move never replaces what is at its destination, and a data file and
// its sidecar take the same free name there.
func TestMoveNeverReplaces(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "move")
	src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 1))
	write(t, strings.TrimSuffix(src, ".npy")+".json", `{"channel": "K1:TEST"}`)
	os.MkdirAll(b.done, 0o755)
	// Only the sidecar's name is taken in done_dir.
	write(t, filepath.Join(b.done, "K-K1_TEST-1300000000-8.json"), "someone else's")
	b.handle(src)
	if got, _ := os.ReadFile(filepath.Join(b.done, "K-K1_TEST-1300000000-8.json")); string(got) != "someone else's" {
		t.Errorf("a file in done_dir was replaced: now %q", got)
	}
	for _, name := range []string{"K-K1_TEST_2-1300000000-8.npy", "K-K1_TEST_2-1300000000-8.json"} {
		if _, err := os.Stat(filepath.Join(b.done, name)); err != nil {
			t.Errorf("data file and sidecar must move together under one free stem: %v", err)
		}
	}

	// The primitive itself, with a file appearing at the destination
	// after the name was chosen.
	from, _ := os.Open(b.in)
	to, _ := os.Open(b.done)
	defer from.Close()
	defer to.Close()
	write(t, filepath.Join(b.in, "a"), "mine")
	write(t, filepath.Join(b.done, "a"), "theirs")
	if err := durable.MoveNoReplace(from, "a", to, "a"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("MoveNoReplace onto a file: got %v, want ErrExist", err)
	}
	if got, _ := os.ReadFile(filepath.Join(b.done, "a")); string(got) != "theirs" {
		t.Errorf("destination replaced: %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(b.in, "a")); string(got) != "mine" {
		t.Errorf("source lost: %q", got)
	}
}

// crashStates are the states a kill -9 can leave a move of a data file
// and its sidecar in, once its plan is recorded.
var crashStates = []struct {
	name  string
	moved int // files moved before the crash
	recs  int // of those, recorded
}{
	{"planned only", 0, 0},
	{"data moved", 1, 0},
	{"data moved and recorded", 1, 1},
	{"both moved, none recorded", 2, 0},
	{"both moved, data recorded", 2, 1},
}

// Kill -9 at the moment of a move or delete must leave every removal in
// the log and the data file and its sidecar together: the next start
// finishes what the plan names.
func TestInterruptedRemovalIsFinishedAtStart(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"move", "delete", "quarantine"} {
		for _, cs := range crashStates {
			t.Run(action+"/"+cs.name, func(t *testing.T) {
				b := newTestBed(t, action)
				data := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
				side := strings.TrimSuffix(data, ".npy") + ".json"
				synth.WriteNPY(data, synth.Coloured(8*64, 64, 5, 2))
				write(t, side, `{"channel": "K1:TEST"}`)
				files := []string{data, side}
				shas := make([]string, 2)
				for i, f := range files {
					shas[i], _ = pipeline.FileSHA256(f)
				}
				root, plannedAction := b.done, action
				if action == "quarantine" {
					root = b.quar
				}
				if action == "delete" {
					root = ""
				}
				r, err := b.d.plan(b.in, root, audit.RemovalPlanned{Action: plannedAction, Files: toRemove(files, shas), Reason: "test: bad", ArchivePath: "/a.h5"})
				if err != nil {
					t.Fatal(err)
				}
				// Do part of the work by hand, as a crash leaves it.
				srcDir, _ := os.Open(b.in)
				for i := 0; i < cs.moved; i++ {
					if action == "delete" {
						durable.RemoveAt(srcDir, filepath.Base(files[i]))
					} else {
						dst, err := openParent(root, r.Files[i].To, 0o750)
						if err != nil {
							t.Fatal(err)
						}
						if err := durable.MoveNoReplace(srcDir, filepath.Base(files[i]), dst, filepath.Base(r.Files[i].To)); err != nil {
							t.Fatal(err)
						}
						dst.Close()
					}
					if i < cs.recs {
						var rec audit.Event = audit.SourceMoved{Planned: r.seq, SourcePath: files[i]}
						if action == "delete" {
							rec = audit.SourceDeleted{Planned: r.seq, SourcePath: files[i]}
						}
						b.d.appendRecord(rec)
					}
				}
				srcDir.Close()

				b.open() // the next start
				if n := len(b.d.logx.Pending()); n != 1 {
					t.Fatalf("pending after the crash: got %d plans, want 1", n)
				}
				b.d.recoverRemovals()
				if p := b.d.logx.Pending(); len(p) != 0 {
					t.Errorf("still pending after recovery: %+v", p)
				}
				for i, f := range files {
					if _, err := os.Lstat(f); err == nil {
						t.Errorf("%s is still in the watch directory", f)
					}
					if action != "delete" {
						if sum, err := pipeline.FileSHA256(r.Files[i].To); err != nil || sum != shas[i] {
							t.Errorf("%s: not at %s whole: %v", f, r.Files[i].To, err)
						}
					}
					var paths []string
					for _, rec := range logged[audit.SourceMoved](b) {
						paths = append(paths, rec.SourcePath)
					}
					for _, rec := range logged[audit.SourceDeleted](b) {
						paths = append(paths, rec.SourcePath)
					}
					if n := len(slices.DeleteFunc(paths, func(p string) bool { return p != f })); n != 1 {
						t.Errorf("%s: %d source_moved and source_deleted records, want exactly 1", f, n)
					}
				}
				if action == "quarantine" {
					q := logged[audit.Quarantined](b)
					if len(q) != 1 || q[0].QuarantinePath != r.Files[0].To {
						t.Fatalf("quarantined records: got %+v, want one naming %s", q, r.Files[0].To)
					}
					if _, err := os.Stat(q[0].ReasonFile); err != nil {
						t.Errorf("no reason file: %v", err)
					}
				}
			})
		}
	}
}

// A link planted in done_dir or quarantine_dir must not redirect a move
// outside it.
func TestLinkInDoneDirIsNotFollowed(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"move", "quarantine"} {
		t.Run(action, func(t *testing.T) {
			b := newTestBed(t, action)
			b.cfg.Watch[0].Recursive = true
			outside := filepath.Join(b.dir, "outside")
			os.MkdirAll(outside, 0o755)
			root := b.done
			if action == "quarantine" {
				root = b.quar
			}
			os.MkdirAll(root, 0o755)
			os.MkdirAll(filepath.Join(b.in, "sub"), 0o755)
			if err := os.Symlink(outside, filepath.Join(root, "sub")); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(b.in, "sub", "K-K1_TEST-1300000000-8.npy")
			if action == "move" {
				synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 3))
			} else {
				write(t, src, "not a numpy file")
			}
			write(t, strings.TrimSuffix(src, ".npy")+".json", `{"channel": "K1:TEST"}`)
			b.handle(src)
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("%d files written outside %s through a link", len(entries), root)
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("the source is gone: %v", err)
			}
			if action == "quarantine" {
				q := logged[audit.Quarantined](b)
				if len(q) != 1 || q[0].NotMoved == "" || !strings.Contains(q[0].NotMoved, "symbolic link") {
					t.Errorf("quarantined records: got %+v, want one saying the file was not moved, and why", q)
				}
			}
		})
	}
}

// A 250-character name still gets its reason file, and a sidecar that
// cannot be moved still leaves the quarantined data file its reason file
// and a record.
func TestQuarantineNeverFailsSilently(t *testing.T) {
	t.Parallel()
	t.Run("long name", func(t *testing.T) {
		b := newTestBed(t, "keep")
		src := filepath.Join(b.in, strings.Repeat("x", 246)+".npy")
		write(t, src, "not a numpy file")
		b.handle(src)
		q := logged[audit.Quarantined](b)
		if len(q) != 1 {
			t.Fatalf("got %d quarantined records, want 1", len(q))
		}
		rf := q[0].ReasonFile
		if rf == "" || len(filepath.Base(rf)) > 255 {
			t.Fatalf("reason file %q: want one with a name of at most 255 bytes", rf)
		}
		if b, err := os.ReadFile(rf); err != nil || !strings.Contains(string(b), "not a NumPy file") {
			t.Errorf("reason file: %v %s", err, b)
		}
	})
	t.Run("sidecar gone before its move", func(t *testing.T) {
		b := newTestBed(t, "keep")
		src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
		side := strings.TrimSuffix(src, ".npy") + ".json"
		write(t, src, "not a numpy file")
		write(t, side, `{"channel": "K1:TEST"}`)
		files, shas, err := b.d.quarantineFiles(&b.cfg.Watch[0], watcher.Event{Path: src, Rel: filepath.Base(src)})
		if err != nil || len(files) != 2 {
			t.Fatalf("quarantineFiles: %v, %v", files, err)
		}
		r, err := b.d.plan(b.in, b.quar, audit.RemovalPlanned{Action: "quarantine", Files: toRemove(files, shas), Reason: "bad"})
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(side)
		moveErr := b.d.carryOut(r, b.in, r.Files)
		if moveErr == nil {
			t.Fatal("carryOut: got nil, want the sidecar's error")
		}
		to, err := b.d.finishQuarantine(r, moveErr)
		if err != nil || to != r.Files[0].To {
			t.Fatalf("finishQuarantine: %q, %v", to, err)
		}
		q := logged[audit.Quarantined](b)
		if len(q) != 1 || q[0].NotMoved == "" {
			t.Errorf("quarantined record: %+v, want one saying what was not moved", q)
		}
		if _, err := os.Stat(q[0].ReasonFile); err != nil {
			t.Errorf("reason file: %v", err)
		}
		if n := len(logged[audit.RemovalAbandoned](b)); n != 1 {
			t.Errorf("got %d removal_abandoned records, want 1 for the sidecar", n)
		}
		if p := b.d.logx.Pending(); len(p) != 0 {
			t.Errorf("plan left pending: %+v", p)
		}
	})
}

// A move whose record the log did not take is not "abandoned": the file
// did go. The plan stays pending and is finished, with its record, once
// the log works.
func TestMoveWhoseRecordFailedIsFinishedLater(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "move")
	data := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(data, synth.Coloured(8*64, 64, 5, 7))
	sum, _ := pipeline.FileSHA256(data)
	r, err := b.d.plan(b.in, b.done, audit.RemovalPlanned{Action: "move", Files: toRemove([]string{data}, []string{sum}), ArchivePath: "/a.h5"})
	if err != nil {
		t.Fatal(err)
	}
	b.alog.Close() // appends fail from here on
	err = b.d.carryOut(r, b.in, r.Files)
	var re *recordError
	if !errors.As(err, &re) {
		t.Fatalf("carryOut with the log down: got %v, want a recordError", err)
	}
	if _, err := os.Stat(r.Files[0].To); err != nil {
		t.Fatalf("the move itself did not happen: %v", err)
	}
	b.open()
	if n := len(logged[audit.RemovalAbandoned](b)); n != 0 {
		t.Errorf("got %d removal_abandoned records for a file that was moved", n)
	}
	b.d.recoverRemovals()
	moved := logged[audit.SourceMoved](b)
	if len(moved) != 1 || moved[0].MovedTo != r.Files[0].To {
		t.Errorf("source_moved records: got %+v, want one naming %s", moved, r.Files[0].To)
	}
	if p := b.d.logx.Pending(); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
}

// Recovery records a move only when the bytes planned are at the
// destination: a source gone by other hands, with an unrelated file where
// it was to go, is abandoned with the reason.
func TestRecoveryChecksTheDestination(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "move")
	data := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(data, synth.Coloured(8*64, 64, 5, 8))
	sum, _ := pipeline.FileSHA256(data)
	r, err := b.d.plan(b.in, b.done, audit.RemovalPlanned{Action: "move", Files: toRemove([]string{data}, []string{sum})})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(data)
	os.MkdirAll(filepath.Dir(r.Files[0].To), 0o755)
	write(t, r.Files[0].To, "unrelated")
	b.open()
	b.d.recoverRemovals()
	if n := len(logged[audit.SourceMoved](b)); n != 0 {
		t.Errorf("got %d source_moved records, want none", n)
	}
	if a := logged[audit.RemovalAbandoned](b); len(a) != 1 || !strings.Contains(a[0].Reason, "holds other bytes") {
		t.Errorf("removal_abandoned records: got %+v, want one saying the destination holds other bytes", a)
	}
}

// A copy across file systems, or a reason file, that a crash cut short is
// removed at the next start, before any move could be under way.
func TestPartialCopiesAreRemovedAtStart(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "move")
	os.MkdirAll(filepath.Join(b.done, "sub"), 0o755)
	os.MkdirAll(b.quar, 0o755)
	partial := []string{filepath.Join(b.done, "sub", durable.TempPrefix+"00aa.tmp"), filepath.Join(b.quar, durable.TempPrefix+"11bb.tmp")}
	for _, p := range partial {
		write(t, p, "half")
	}
	kept := filepath.Join(b.done, "K-K1_TEST-1300000000-8.npy")
	write(t, kept, "a moved file")
	got, err := TidyMoves(b.cfg, true)
	if err != nil || len(got) != 2 {
		t.Fatalf("TidyMoves: %v, %v; want the 2 partial copies", got, err)
	}
	for _, p := range partial {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a moved file was removed: %v", err)
	}
}
