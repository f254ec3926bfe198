package archive

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestProductName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path, kind    string
		dataset, name string
		version       int
	}{
		{"/processed/K1:X/asd_values", ProductASD, "K1:X", "asd", 1},
		{"/processed/K1:X/asd_frequencies", ProductFrequencies, "K1:X", "asd", 1},
		{"/processed/K1:X/asd@2_values", ProductASD, "K1:X", "asd", 2},
		{"/processed/K1:X/asd@2_frequencies", ProductFrequencies, "K1:X", "asd", 2},
		{"/processed/K1:X/bp_asd_values", ProductASD, "K1:X", "bp_asd", 1},
		{"/processed/K1:X/spectrogram", ProductSpectrogram, "K1:X", "spectrogram", 1},
		{"/processed/K1:X/bp", ProductBandpass, "K1:X", "bp", 1},
		{"/processed/K1:X/bp@12", ProductBandpass, "K1:X", "bp", 12},
		{"/processed/K1:X/minute.mean", ProductTrend, "K1:X", "minute", 1},
		{"/processed/K1:X/minute@3.n", ProductTrend, "K1:X", "minute", 3},
		{"/processed/K1:X/odd@x", ProductBandpass, "K1:X", "odd@x", 1},
	} {
		d, n, v := productName(tc.path, tc.kind)
		if d != tc.dataset || n != tc.name || v != tc.version {
			t.Errorf("productName(%q, %q): got %q, %q, %d; want %q, %q, %d", tc.path, tc.kind, d, n, v, tc.dataset, tc.name, tc.version)
		}
		if v > 1 && VersionedName(n, v) == n {
			t.Errorf("VersionedName(%q, %d) is the name itself", n, v)
		}
	}
}

func TestLock(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "a.h5")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(p); !errors.Is(err, ErrBusy) {
		t.Errorf("Lock of a locked archive: got %v, want ErrBusy", err)
	}
	// Replaced while locked: the new file is free.
	tmp := p + ".new"
	if err := os.WriteFile(tmp, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(p)
	if err != nil {
		t.Errorf("Lock of the file that replaced a locked one: %v", err)
	} else {
		again()
	}
	unlock()
}
