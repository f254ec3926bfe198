package gwf

import (
	"errors"
	"fmt"
	"testing"
)

// scanned sums what Scan says the series of a file hold: their number and
// their samples.
func scanned(f *File) (series, samples int) {
	for _, s := range f.Series() {
		series++
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		samples += n
	}
	return series, samples
}

// TestScanAgreesWithDecode checks that Scan finds the series and sample
// counts Decode gives, for written files of every version and for the
// shared real files, and expands no vector.
func TestScanAgreesWithDecode(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{}
	for _, v := range []int{6, 8, 9} {
		files[fmt.Sprintf("spec v%d", v)] = encodedSpec(t, v, v == 6, 300, 3)
	}
	addSharedFiles(t, files)
	for name, data := range files {
		f, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantSeries, wantSamples := 0, 0
		for _, s := range f.Series() {
			wantSeries++
			wantSamples += s.Len()
		}
		sf, err := Options{}.Scan(data)
		if err != nil {
			t.Fatalf("%s: Scan: %v", name, err)
		}
		if gotSeries, gotSamples := scanned(sf); gotSeries != wantSeries || gotSamples != wantSamples {
			t.Errorf("%s: Scan finds %d series of %d samples, Decode %d of %d", name, gotSeries, gotSamples, wantSeries, wantSamples)
		}
		for _, fr := range sf.Frames {
			for _, ch := range fr.Channels {
				if ch.Values != nil {
					t.Fatalf("%s: Scan expanded %s", name, ch.Name)
				}
			}
		}
	}
}

// TestScanRejectsBombs checks that Scan refuses, as Decode does, sizes a
// file cannot hold or over the decode limit.
func TestScanRejectsBombs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		data []byte
		opts Options
		kind error
	}{
		{"gzip", encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2}, code: 1, override: &vectOverride{nData: u64p(1 << 27)}})), Options{}, ErrMalformed},
		{"zero suppression", encode(t, oneChannel(encChannel{kind: Adc, values: make([]int16, 1<<20), code: 5, zsBlock: 65535})), Options{}, ErrMalformed},
		{"raw", encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2, 3}, override: &vectOverride{nData: u64p(4)}})), Options{}, ErrMalformed},
		{"limit", encode(t, oneChannel(encChannel{kind: Adc, values: make([]float64, 1000)})), Options{MaxBytes: 4000}, ErrTooLarge},
	} {
		_, derr := c.opts.Decode(c.data)
		_, serr := c.opts.Scan(c.data)
		if !errors.Is(serr, c.kind) || derr == nil || serr.Error() != derr.Error() {
			t.Errorf("%s: Scan says %v, Decode %v; want the same %v", c.name, serr, derr, c.kind)
		}
	}
}
