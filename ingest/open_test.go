package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secretKey stands for the daemon's signing key: what a symbolic link
// swapped into a watch directory would have it read and quote.
const secretKey = "PRIVATE+KEY+gwwatchd+0123456789abcdef"

// A file renamed into a watch directory and then swapped, while its event
// waits, for a link to a secret must not be read through the link; nor
// may a reason ever quote the secret.
func TestSymlinkSwappedInIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(secret, []byte(secretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"K-K1_TEST-1300000000-8.txt", "K-K1_TEST-1300000000-8.npy", "x.hdf5", "x.gwf", "x.bin"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte("1\n2\n3\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Lstat(p)
			id, _ := idOf(fi)
			os.Remove(p)
			if err := os.Symlink(secret, p); err != nil {
				t.Fatal(err)
			}
			for _, opt := range []Options{timing, {Defaults: timing.Defaults, Expect: &id}} {
				_, err := ReadAll(p, opt)
				if err == nil {
					t.Fatal("read through a symbolic link")
				}
				if strings.Contains(err.Error(), secretKey[:8]) {
					t.Fatalf("the reason quotes the secret: %v", err)
				}
				if !IsInputError(err) || !strings.Contains(err.Error(), "symbolic link") {
					t.Errorf("got %v, want an input error saying it is a symbolic link", err)
				}
				if _, err := Measure(p, opt); err == nil {
					t.Error("Measure read through a symbolic link")
				}
			}
		})
	}
}

// A sidecar that is a link is refused too: it is metadata read from
// wherever the link points.
func TestSidecarLinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "audit.key")
	os.WriteFile(secret, []byte(`{"channel": "`+secretKey+`"}`), 0o600)
	data := filepath.Join(dir, "K-K1_TEST-1300000000-8.txt")
	os.WriteFile(data, []byte("1\n2\n3\n4\n"), 0o644)
	if err := os.Symlink(secret, filepath.Join(dir, "K-K1_TEST-1300000000-8.json")); err != nil {
		t.Fatal(err)
	}
	_, err := Read(data, Options{})
	if err == nil || strings.Contains(err.Error(), secretKey[:8]) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("sidecar behind a link: got %v, want it refused as a symbolic link, unquoted", err)
	}
}

// A FIFO, a device node or a directory at a data file's name is refused
// with its kind, and opening a FIFO never waits for a writer.
func TestNonRegularFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.npy")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{fifo: "a FIFO"}
	dev := filepath.Join(dir, "null.bin")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o644, 0x0103); err == nil {
		cases[dev] = "a character device"
	} else {
		t.Logf("no device node: %v", err)
	}
	sub := filepath.Join(dir, "d.hdf5")
	os.Mkdir(sub, 0o755)
	cases[sub] = "a directory"
	for p, kind := range cases {
		done := make(chan error, 1)
		go func() { _, err := ReadAll(p, timing); done <- err }()
		select {
		case err := <-done:
			if !IsInputError(err) || !strings.Contains(err.Error(), "not a regular file: it is "+kind) {
				t.Errorf("%s: got %v, want an input error saying it is %s", p, err, kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the read blocked", p)
		}
	}
}

// The file opened must be the one the watcher saw: another file put at
// the name since is a change, to be looked at again, not read in its
// place.
func TestExpectMismatchIsAChange(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "K-K1_TEST-1300000000-8.txt")
	os.WriteFile(p, []byte("1\n2\n3\n4\n"), 0o644)
	fi, _ := os.Lstat(p)
	id, _ := idOf(fi)
	if _, err := ReadAll(p, Options{Defaults: timing.Defaults, Expect: &id}); err != nil {
		t.Fatalf("the file the watcher saw: %v", err)
	}
	// Replaced by another file of the same size.
	tmp := filepath.Join(dir, ".swap")
	os.WriteFile(tmp, []byte("5\n6\n7\n8\n"), 0o644)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	_, err := ReadAll(p, Options{Defaults: timing.Defaults, Expect: &id})
	if !errors.Is(err, ErrChanged) || IsInputError(err) {
		t.Errorf("another file at the name: got %v, want an error wrapping ErrChanged", err)
	}
}
