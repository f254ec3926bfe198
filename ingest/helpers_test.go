package ingest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// npyFile builds a .npy file the way NumPy lays one out: the header dict
// padded with spaces and a newline to a multiple of 64 bytes.
func npyFile(major byte, dict string, body []byte) []byte {
	prefix := 10
	if major >= 2 {
		prefix = 12
	}
	pad := 64 - (prefix+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	header := dict + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{major, 0})
	if major >= 2 {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	}
	b.WriteString(header)
	b.Write(body)
	return b.Bytes()
}

// float64Bytes encodes values as little-endian float64.
func float64Bytes(values ...float64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, values)
	return b.Bytes()
}

// fixedTime is the modification time given to test inputs, so that any
// change to them shows.
var fixedTime = time.Date(2015, 9, 14, 9, 50, 45, 0, time.UTC)

// writeDir writes files (name to content) into a new temporary directory
// and returns it. Every file gets fixedTime as its modification time.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type fileState struct {
	data    []byte
	modTime time.Time
}

// snapshot records the content and modification time of every file in dir.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]fileState{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		var data []byte
		if fi.Mode().IsRegular() {
			if data, err = os.ReadFile(p); err != nil {
				t.Fatal(err)
			}
		}
		m[e.Name()] = fileState{data, fi.ModTime()}
	}
	return m
}

// checkUnchanged fails the test unless dir holds exactly the files of
// before, with the same content and modification times.
func checkUnchanged(t *testing.T, dir string, before map[string]fileState) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("directory holds %d files after Read, want %d", len(after), len(before))
	}
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s: removed by Read", name)
		case !bytes.Equal(a.data, b.data):
			t.Errorf("%s: content changed by Read", name)
		case !a.modTime.Equal(b.modTime):
			t.Errorf("%s: mtime changed by Read: got %v, want %v", name, a.modTime, b.modTime)
		}
	}
}
