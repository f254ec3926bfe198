package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestPreexistingFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.dat")
	fresh := filepath.Join(dir, "fresh.npy")
	side := filepath.Join(dir, "old.json")
	write(t, old, "0123456789")
	write(t, side, `{"channel": "K1:X"}`)
	write(t, fresh, "abc")
	write(t, filepath.Join(dir, "notes.txt"), "not a pattern")
	age(t, old)
	age(t, side)

	w := startWithID(t, dir, 7)
	got := want(t, w, old, fresh)
	if ev := got[old]; ev.Size != 10 || ev.Rel != "old.dat" || ev.Renamed || ev.Watch != 7 {
		t.Errorf("got %+v, want size 10, rel old.dat, not renamed, watch 7", ev)
	}
	if ev := got[fresh]; ev.Size != 3 || ev.Seen.IsZero() || ev.ModTime.IsZero() {
		t.Errorf("got %+v, want size 3 and times set", ev)
	}
	if w.LastActive().IsZero() {
		t.Error("LastActive is zero while running")
	}

	// The consumer is done but left the file in place: not emitted again.
	w.Done(old)
	w.Rescan()
	none(t, w)
}

// startWithID starts a watcher on dir with the given Watch.ID.
func startWithID(t *testing.T, dir string, id int) *Watcher {
	wt := watch(dir)
	wt.ID = id
	return start(t, []Watch{wt})
}

func TestRenamedIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		elsewhere bool // the temporary file is outside the watched dir
		sidecar   bool
	}{
		{name: "same dir"},
		{name: "other dir", elsewhere: true},
		{name: "with sidecar", sidecar: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w := start(t, []Watch{watch(dir)})
			tmpDir := dir
			if tc.elsewhere {
				tmpDir = t.TempDir()
			}
			if tc.sidecar {
				drop(t, tmpDir, filepath.Join(dir, "x.json"), `{"t0": 1}`)
			}
			content := strings.Repeat("x", 100_000)
			path := filepath.Join(dir, "x.dat")
			drop(t, tmpDir, path, content)
			ev := want(t, w, path)[path]
			if !ev.Renamed || ev.Size != int64(len(content)) {
				t.Errorf("got renamed %v, size %d; want renamed, size %d", ev.Renamed, ev.Size, len(content))
			}
			none(t, w)
		})
	}
}

func TestHardLinkedIn(t *testing.T) {
	t.Parallel()
	dir, src := t.TempDir(), t.TempDir()
	w := start(t, []Watch{watch(dir)})
	write(t, filepath.Join(src, "l.dat"), "linked")
	path := filepath.Join(dir, "l.dat")
	if err := os.Link(filepath.Join(src, "l.dat"), path); err != nil {
		t.Skip("no hard links here:", err)
	}
	if ev := want(t, w, path)[path]; !ev.Renamed || ev.Size != 6 {
		t.Errorf("got renamed %v, size %d; want renamed, size 6", ev.Renamed, ev.Size)
	}
}

func TestSlowWriter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := start(t, []Watch{watch(dir)})
	path := filepath.Join(dir, "slow.dat")

	var finished atomic.Bool
	const chunks, chunk = 8, 1000
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			for range chunks {
				if _, err := f.Write([]byte(strings.Repeat("s", chunk))); err != nil {
					return err
				}
				time.Sleep(settle / 6)
			}
			finished.Store(true)
			return f.Close()
		}()
	}()

	ev := want(t, w, path)[path]
	if !finished.Load() {
		t.Errorf("emitted at size %d before the writer finished", ev.Size)
	}
	if ev.Size != chunks*chunk || ev.Renamed {
		t.Errorf("got size %d, renamed %v; want size %d, not renamed", ev.Size, ev.Renamed, chunks*chunk)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	none(t, w)
}

func TestIgnored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wt := watch(dir, "*.dat")
	wt.Recursive = true
	w := start(t, []Watch{wt})
	for _, name := range []string{
		"a.npy", ".hidden.dat", "b.dat.tmp", "c.dat.part", "d.dat~", ".#e.dat",
		".cache/f.dat", "g.json", "h.toml",
	} {
		write(t, filepath.Join(dir, name), "ignored")
	}
	ok := filepath.Join(dir, "ok.dat")
	write(t, ok, "kept")
	want(t, w, ok)
	none(t, w)
}

func TestSidecarArrivesLater(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := start(t, []Watch{watch(dir)})
	data := filepath.Join(dir, "d.dat")
	side := filepath.Join(dir, "d.toml")
	drop(t, dir, data, "payload")
	time.Sleep(settle / 4)
	drop(t, dir, side, "t0 = 1.0\n")

	want(t, w, data)
	if _, err := os.Stat(side); err != nil {
		t.Errorf("data emitted, but its sidecar: %v", err)
	}
	none(t, w)
}

func TestSidecarBeingWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := start(t, []Watch{watch(dir)})
	data := filepath.Join(dir, "e.dat")
	side := filepath.Join(dir, "e.json")

	f, err := os.Create(side)
	if err != nil {
		t.Fatal(err)
	}
	var finished atomic.Bool
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			defer f.Close()
			for _, piece := range []string{`{`, `"t0"`, `:`, ` 1`, `, "unit"`, `: "m"`, `}`} {
				if _, err := f.WriteString(piece); err != nil {
					return err
				}
				time.Sleep(settle / 5)
			}
			finished.Store(true)
			return nil
		}()
	}()
	drop(t, dir, data, "payload")
	want(t, w, data)
	if !finished.Load() {
		t.Error("data emitted while its sidecar was still being written")
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	none(t, w)
}

func TestRecursive(t *testing.T) {
	t.Parallel()
	for _, recursive := range []bool{true, false} {
		t.Run(fmt.Sprint("recursive=", recursive), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wt := watch(dir)
			wt.Recursive = recursive
			w := start(t, []Watch{wt})
			sub := filepath.Join(dir, "sub", "deeper")
			path := filepath.Join(sub, "a.dat")
			write(t, path, "nested")
			top := filepath.Join(dir, "top.dat")
			write(t, top, "top")
			if !recursive {
				want(t, w, top)
				none(t, w)
				return
			}
			got := want(t, w, path, top)
			if rel := got[path].Rel; rel != filepath.Join("sub", "deeper", "a.dat") {
				t.Errorf("got rel %q, want sub/deeper/a.dat", rel)
			}
			// The new directories are watched, not just scanned once.
			later := filepath.Join(sub, "b.dat")
			drop(t, sub, later, "later")
			want(t, w, later)
		})
	}
}

func TestSetWatches(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	w := start(t, []Watch{watch(a)})

	wa, wb := watch(a), watch(b)
	wa.ID, wb.ID = 0, 1
	if err := w.SetWatches([]Watch{wa, wb}); err != nil {
		t.Fatal(err)
	}
	inB := filepath.Join(b, "b.dat")
	write(t, inB, "bee")
	if ev := want(t, w, inB)[inB]; ev.Watch != 1 || ev.Rel != "b.dat" {
		t.Errorf("got watch %d, rel %q; want 1, b.dat", ev.Watch, ev.Rel)
	}

	wb.ID = 0
	if err := w.SetWatches([]Watch{wb}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(a, "gone.dat"), "not watched any more")
	inB2 := filepath.Join(b, "b2.dat")
	write(t, inB2, "bee two")
	if ev := want(t, w, inB2)[inB2]; ev.Watch != 0 {
		t.Errorf("got watch %d, want 0", ev.Watch)
	}
	none(t, w)

	if err := w.SetWatches([]Watch{watch(filepath.Join(a, "nope"))}); err == nil {
		t.Error("SetWatches accepted a missing directory")
	}
}

// TestNewVersion checks that a file reported once is reported again when
// it changes, and when it is removed and dropped again with the same
// content; the two run side by side.
func TestNewVersion(t *testing.T) {
	t.Parallel()
	// reported starts a watcher of a new directory, writes v.dat there
	// and waits for its event.
	reported := func(t *testing.T, content string) (w *Watcher, dir, path string) {
		t.Helper()
		dir = t.TempDir()
		w = start(t, []Watch{watch(dir)})
		path = filepath.Join(dir, "v.dat")
		write(t, path, content)
		wantSize(t, w, path, len(content))
		return w, dir, path
	}
	t.Run("appended", func(t *testing.T) {
		t.Parallel()
		w, _, path := reported(t, "one")
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(" two")
		f.Close()
		wantSize(t, w, path, 7)
	})
	t.Run("dropped again", func(t *testing.T) {
		t.Parallel()
		w, dir, path := reported(t, "one two")
		// Removed and added again with the same content: a new file.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		drop(t, dir, path, "one two")
		wantSize(t, w, path, 7)
		w.Rescan()
		none(t, w)
	})
}

// wantSize waits for the event of path and checks the size it reports.
func wantSize(t *testing.T, w *Watcher, path string, size int) {
	t.Helper()
	if ev := want(t, w, path)[path]; ev.Size != int64(size) {
		t.Fatalf("got size %d, want %d", ev.Size, size)
	}
}

func TestMissedEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		nudge func(*Watcher)
	}{
		{"Rescan", (*Watcher).Rescan},
		{"overflow", func(w *Watcher) { w.fsw.Errors <- fsnotify.ErrEventOverflow }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			deaf := func(ev fsnotify.Event) bool { return strings.Contains(ev.Name, "missed") }
			w := start(t, []Watch{watch(dir)}, func(w *Watcher) { w.dropEvent = deaf })
			path := filepath.Join(dir, "missed.dat")
			write(t, path, "no event for me")
			none(t, w)
			tc.nudge(w)
			want(t, w, path)
		})
	}
}

func TestWatchDirComesBack(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "drop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := start(t, []Watch{watch(dir)})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "back.dat")
	write(t, path, "back")
	// Rescan until it is found: the events of the removal may still be
	// on their way when the first rescans run.
	deadline := time.After(wait)
	for found := false; !found; {
		w.Rescan()
		select {
		case ev := <-w.Events():
			if ev.Path != path {
				t.Fatalf("got an event for %s, want %s", ev.Path, path)
			}
			found = true
		case <-time.After(settle):
		case <-deadline:
			t.Fatalf("%s not found by rescans within %s", path, wait)
		}
	}
	// Watched again, not only scanned.
	again := filepath.Join(dir, "again.dat")
	drop(t, dir, again, "again")
	want(t, w, again)
}

func TestRunMissingDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "drop")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New([]Watch{watch(dir)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dir)
	err = w.Run(context.Background())
	if want := "watch dir " + dir + ": no such directory"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an fs.ErrNotExist", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	write(t, file, "")
	for _, tc := range []struct {
		name string
		w    []Watch
		want string
	}{
		{"missing", []Watch{watch(filepath.Join(dir, "x"))}, "watch dir " + filepath.Join(dir, "x") + ": no such directory"},
		{"file", []Watch{watch(file)}, "watch dir " + file + ": not a directory"},
		{"settle", []Watch{{Dir: dir, Patterns: []string{"*"}}}, "settle must be positive"},
		{"no patterns", []Watch{{Dir: dir, Settle: time.Second}}, "no patterns"},
		{"bad pattern", []Watch{watch(dir, "[")}, `pattern "["`},
		{"twice", []Watch{watch(dir), watch(dir + "/")}, "listed twice"},
		{"empty", []Watch{{}}, "no directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.w, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := New([]Watch{watch(dir)}, Options{}); err != nil {
		t.Errorf("got %v for a valid watch", err)
	}
}

func TestLimitErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		err   error
		want  string
		errno syscall.Errno
	}{
		{
			"watches",
			addError("/data/drop/sub", fmt.Errorf("inotify_add_watch: %w", syscall.ENOSPC)),
			"watch /data/drop/sub: out of inotify watches: raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288)",
			syscall.ENOSPC,
		},
		{
			"instances",
			startError(fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)),
			"start inotify: out of inotify instances: raise fs.inotify.max_user_instances (sysctl -w fs.inotify.max_user_instances=1024)",
			syscall.EMFILE,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, tc.errno) {
				t.Errorf("got %v, want it to wrap %v", tc.err, tc.errno)
			}
			if !isLimit(tc.err) {
				t.Error("isLimit is false")
			}
		})
	}
	err := addError("/x", syscall.EACCES)
	if isLimit(err) || !errors.Is(err, syscall.EACCES) || err.Error() != "watch /x: permission denied" {
		t.Errorf("got %v, want a plain wrapped EACCES", err)
	}
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	w := start(t, []Watch{watch(t.TempDir())})
	if err := w.Run(context.Background()); err == nil {
		t.Error("a second Run did not fail")
	}
}

func TestQuietHint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := start(t, []Watch{watch(dir)})
	path := filepath.Join(dir, "inplace.dat")
	write(t, path, "first")

	var hint Event
	select {
	case hint = <-w.Quiet():
	case ev := <-w.Events():
		t.Fatalf("ready (size %d) before any Quiet hint", ev.Size)
	case <-time.After(wait):
		t.Fatal("no Quiet hint")
	}
	if hint.Path != path || hint.Size != 5 || hint.Changed.IsZero() {
		t.Fatalf("hint %+v: want %s, size 5, a change time", hint, path)
	}
	if waited := time.Since(hint.Changed); waited >= settle {
		t.Errorf("hint came %s after the change, not within settle %s", waited, settle)
	}
	ev := want(t, w, path)[path]
	if !ev.Changed.Equal(hint.Changed) || ev.Size != hint.Size {
		t.Errorf("event changed %s size %d; hint changed %s size %d: want the same version", ev.Changed, ev.Size, hint.Changed, hint.Size)
	}

	// Written again after its hint: the next event says so by its Changed.
	write(t, path, "second version")
	var hint2 Event
	select {
	case hint2 = <-w.Quiet():
	case <-time.After(wait):
		t.Fatal("no Quiet hint for the second version")
	}
	if err := os.WriteFile(path, []byte("third version, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	ev = want(t, w, path)[path]
	if ev.Changed.Equal(hint2.Changed) || ev.Size != int64(len("third version, longer")) {
		t.Errorf("event changed %s size %d after a write that followed the hint at %s", ev.Changed, ev.Size, hint2.Changed)
	}

	// Renamed in: ready at once, with no hint.
	drop(t, dir, filepath.Join(dir, "renamed.dat"), "whole")
	want(t, w, filepath.Join(dir, "renamed.dat"))
	select {
	case h := <-w.Quiet():
		if h.Path == filepath.Join(dir, "renamed.dat") {
			t.Errorf("a Quiet hint for a file renamed in")
		}
	default:
	}
}
