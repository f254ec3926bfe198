package durable

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, name := range []string{"state.json", strings.Repeat("n", 250)} {
		path := filepath.Join(dir, name)
		for _, content := range []string{"first", "second, longer than the first"} {
			if err := WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != content {
				t.Fatalf("%.20s: read %q, %v; want %q", name, got, err, content)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
				t.Errorf("%.20s: mode %v, want 0644 whatever the umask", name, fi.Mode().Perm())
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d entries, want the 2 files and no temp file", len(entries))
	}
}

func TestWriteFileAtDoesNotFollowLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := OpenDir(dir, ".", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := OpenDir(dir, "link", 0); err == nil {
		t.Error("OpenDir followed a link")
	}
	// A link in place of the file is replaced, not written through.
	if err := os.Symlink(target, filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAt(root, "f", []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "f")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("f is not a regular file now: %v", err)
	}
}
