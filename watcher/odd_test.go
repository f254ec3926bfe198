package watcher

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// FIFOs, device nodes and symbolic links dropped into a watch directory
// are never read, and each is logged once, so that an operator learns why
// the file stays where it is.
func TestOddFilesAreLoggedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	write(t, secret, "key")
	if err := os.Symlink(secret, filepath.Join(dir, "before.npy")); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	w, err := New([]Watch{watch(dir)}, Options{Logger: zap.New(core), Rescan: calm / 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-w.Ready()

	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.npy"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(dir, "null.dat"), syscall.S_IFCHR|0o644, 0x0103); err != nil {
		t.Logf("no device node: %v", err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "after.npy")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(secret, filepath.Join(dir, "notes.txt")) // no pattern names it: not worth a word
	calmly(t, w)

	count := map[string]int{}
	for _, e := range logs.FilterMessageSnippet("ignored:").All() {
		for _, f := range e.Context {
			if f.Key == "path" {
				count[filepath.Base(f.String)]++
			}
		}
	}
	for name, what := range map[string]string{"before.npy": "symbolic link", "after.npy": "symbolic link", "pipe.npy": "FIFO"} {
		if count[name] != 1 {
			t.Errorf("%s: logged %d times, want once", name, count[name])
		}
		found := false
		for _, e := range logs.FilterMessageSnippet(what).All() {
			for _, f := range e.Context {
				found = found || (f.Key == "path" && strings.HasSuffix(f.String, name))
			}
		}
		if !found {
			t.Errorf("%s: no log saying it is a %s", name, what)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "null.dat")); err == nil && count["null.dat"] != 1 {
		t.Errorf("null.dat: logged %d times, want once", count["null.dat"])
	}
	if count["notes.txt"] != 0 {
		t.Errorf("notes.txt, which no pattern names, was logged")
	}
}

// calmly lets several rescans pass and fails on any event.
func calmly(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case ev := <-w.Events():
		t.Fatalf("got an event for %s, want none", ev.Path)
	case <-time.After(calm):
	}
}
