package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzHDF5 reads arbitrary bytes as an HDF5 file, seeded with the
// corpus's HDF5 files, good ones and bombs: ReadAll and Measure either
// succeed or give an InputError, within bounded memory, and agree on
// what they accept.
func FuzzHDF5(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(hostileDir, "*.h5"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.h5")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		all, err := ReadAll(p, Options{})
		if err != nil && !IsInputError(err) {
			t.Fatalf("ReadAll: %v is not an InputError", err)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("ReadAll: reason on more than one line: %q", err)
		}
		fp, merr := Measure(p, Options{})
		if merr != nil && !IsInputError(merr) {
			t.Fatalf("Measure: %v is not an InputError", merr)
		}
		if err == nil && merr == nil {
			checkFootprint(t, fp, all)
		}
		if err == nil && merr != nil {
			t.Fatalf("Measure refuses what ReadAll reads: %v", merr)
		}
	})
}
