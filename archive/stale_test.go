package archive

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A temp archive is removed only once it is proven that no writer holds
// it: a crashed writer's is removed, a live writer's is left alone,
// whatever process each lives in.
func TestOnlyStaleTempsAreRemoved(t *testing.T) {
	t.Parallel()
	if dir := os.Getenv("GWWATCHD_STALE_HELPER"); dir != "" {
		// A writer that dies with its temp archive written.
		if _, err := WriteTemp(dir, "crashed/x.h5", testDoc("dead"), Compression{}); err != nil {
			t.Fatal(err)
		}
		os.Exit(0)
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOnlyStaleTempsAreRemoved$")
	cmd.Env = append(os.Environ(), "GWWATCHD_STALE_HELPER="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	live, err := WriteTemp(root, "live/x.h5", testDoc("alive"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Discard()

	l, err := ScanRoot(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Stale) != 1 || !strings.Contains(l.Stale[0], "crashed") || l.Held != 1 {
		t.Fatalf("ScanRoot: got %+v, want the crashed writer's temp stale and the live one held", l)
	}
	if _, err := ScanRoot(root, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Stale[0]); !os.IsNotExist(err) {
		t.Errorf("stale temp not removed: %v", err)
	}
	if _, err := os.Stat(live.Path); err != nil {
		t.Errorf("a live writer's temp was removed: %v", err)
	}
	if w, err := live.Commit(); err != nil || filepath.Base(w.Path) != "x.h5" {
		t.Errorf("the live writer could not commit: %v, %v", w, err)
	}
}

// A symbolic link planted in the archive root must not send an archive
// outside it, and ScanRoot reports it.
func TestLinkInArchiveRootIsNotFollowed(t *testing.T) {
	t.Parallel()
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "K")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "L"), 0o755)
	if err := os.Symlink(filepath.Join(outside, "x.h5"), filepath.Join(root, "L", "x.h5")); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(root, "K/13000/x.h5", testDoc("a"), Compression{}); err == nil {
		t.Error("an archive was written through a linked directory")
	}
	// A link at the final name is a name taken, never a way through.
	w, err := WriteFile(root, "L/x.h5", testDoc("b"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(w.Path) != "x_2.h5" {
		t.Errorf("got %s, want x_2.h5 beside the link", w.Path)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("%d files written outside the archive root", len(entries))
	}
	l, err := ScanRoot(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Links) != 2 {
		t.Errorf("ScanRoot links: got %v, want the 2 planted", l.Links)
	}
}

// A tidier sweeping the root while writers work never takes a live
// writer's temp archive for a crash's, not even in the instant after it
// is made.
func TestTidyingNeverTakesALiveTemp(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				ScanRoot(root, true)
			}
		}
	}()
	writes := 100
	if testing.Short() {
		writes = 20
	}
	for i := range writes {
		w, err := WriteFile(root, "d/x.h5", testDoc(strconv.Itoa(i)), Compression{})
		if err != nil {
			close(stop)
			<-done
			t.Fatalf("write %d beside a tidier: %v", i, err)
		}
		if w.Size == 0 {
			t.Errorf("write %d: an empty archive", i)
		}
	}
	close(stop)
	<-done
}
