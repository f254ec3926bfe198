package watcher

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gwwatchd/gwwatchd/internal/testparallel"
)

// TestMain runs up to 32 tests at a time: they spend nearly all their
// time waiting out settle times and calm periods.
func TestMain(m *testing.M) {
	testparallel.Set(32)
	if testing.Short() {
		calm = 2 * settle
	}
	os.Exit(m.Run())
}

const (
	settle = 100 * time.Millisecond
	// wait bounds how long a test waits for an event that must come.
	wait = 5 * time.Second
)

// calm is how long a test listens for events that must not come: four
// settle times, or two with -short (set by TestMain).
var calm = 4 * settle

func watch(dir string, patterns ...string) Watch {
	if len(patterns) == 0 {
		patterns = []string{"*.dat", "*.npy"}
	}
	return Watch{Dir: dir, Patterns: patterns, Settle: settle}
}

// start runs a watcher until the test ends and waits until it is ready.
// setup runs before Run.
func start(t *testing.T, watches []Watch, setup ...func(*Watcher)) *Watcher {
	t.Helper()
	w, err := New(watches, Options{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case err := <-errc:
		errc <- err
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		t.Fatal("not ready")
	}
	return w
}

// want receives one event for each of paths, in any order, and fails on
// any other event.
func want(t *testing.T, w *Watcher, paths ...string) map[string]Event {
	t.Helper()
	got := make(map[string]Event)
	left := make(map[string]bool)
	for _, p := range paths {
		left[p] = true
	}
	deadline := time.After(wait)
	for len(left) > 0 {
		select {
		case ev := <-w.Events():
			if !left[ev.Path] {
				t.Fatalf("got an event for %s, want one of %s", ev.Path, keys(left))
			}
			delete(left, ev.Path)
			got[ev.Path] = ev
		case <-deadline:
			t.Fatalf("no event for %s within %s", keys(left), wait)
		}
	}
	return got
}

// none fails if an event arrives within calm.
func none(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case ev := <-w.Events():
		t.Fatalf("got an unexpected event for %s (size %d)", ev.Path, ev.Size)
	case <-time.After(calm):
	}
}

func keys(m map[string]bool) string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	sort.Strings(k)
	return strings.Join(k, ", ")
}

// write writes a file in place: created, then written.
func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// drop writes a file under a temporary name in dir and renames it to path.
func drop(t *testing.T, tmpDir, path, content string) {
	t.Helper()
	tmp := filepath.Join(tmpDir, "."+filepath.Base(path)+".tmp")
	write(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// age sets the mtime of path to an hour ago.
func age(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}
