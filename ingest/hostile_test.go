package ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/alloctest"
)

const hostileDir = "../testdata/hostile"

type hostileEntry struct {
	File    string `json:"file"`
	What    string `json:"what"`
	Outcome string `json:"outcome"` // "archived" or "rejected"
	Reason  string `json:"reason"`  // a substring of the reason, for "rejected"
	Measure string `json:"measure"` // "same": Measure refuses it as ReadAll does; "measured": it measures it
}

func readManifest(t *testing.T) (marker string, files []hostileEntry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hostileDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Marker string         `json:"marker"`
		Files  []hostileEntry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) < 30 || m.Marker == "" {
		t.Fatalf("manifest lists %d files with marker %q", len(m.Files), m.Marker)
	}
	return m.Marker, m.Files
}

// TestHostileCorpus reads every file of the hostile-input corpus through
// ReadAll and Measure: each is archived or refused as its manifest says,
// with the reason it gives, a reason that never holds the corpus's secret
// marker, and at a cost in memory bounded whatever the file declares.
func TestHostileCorpus(t *testing.T) {
	marker, files := readManifest(t)
	const readBound = 32 << 20   // the largest good series is 1.6 MB
	const measureBound = 4 << 20 // headers and metadata only
	for _, e := range files {
		t.Run(e.File, func(t *testing.T) {
			path := filepath.Join(hostileDir, e.File)
			var all []*Series
			var err error
			alloc := alloctest.Bytes(func() { all, err = ReadAll(path, Options{}) })
			if alloc > readBound {
				t.Errorf("ReadAll allocated %d bytes, more than %d", alloc, readBound)
			}
			switch e.Outcome {
			case "archived":
				if err != nil {
					t.Fatalf("ReadAll: %v, want series", err)
				}
			case "rejected":
				if !IsInputError(err) {
					t.Fatalf("ReadAll: got %v (%d series), want an InputError", err, len(all))
				}
				if !strings.Contains(err.Error(), e.Reason) {
					t.Errorf("ReadAll: got %q, want it to contain %q", err, e.Reason)
				}
				if strings.Contains(err.Error(), marker) {
					t.Errorf("ReadAll: reason quotes the file: %q", err)
				}
			default:
				t.Fatalf("outcome %q", e.Outcome)
			}

			var fp Footprint
			var merr error
			alloc = alloctest.Bytes(func() { fp, merr = Measure(path, Options{}) })
			if alloc > measureBound {
				t.Errorf("Measure allocated %d bytes, more than %d", alloc, measureBound)
			}
			if merr != nil && strings.Contains(merr.Error(), marker) {
				t.Errorf("Measure: reason quotes the file: %q", merr)
			}
			switch {
			case e.Measure == "same":
				if merr == nil || err == nil || merr.Error() != err.Error() {
					t.Errorf("Measure: got %v, want ReadAll's %v", merr, err)
				}
			case merr != nil:
				t.Errorf("Measure: %v, want a footprint", merr)
			case err == nil:
				checkFootprint(t, fp, all)
			}
		})
	}
}

// checkFootprint compares what Measure said with what ReadAll gave: as
// many series, and at least as many samples and bytes, exactly as many
// for every format but text.
func checkFootprint(t *testing.T, fp Footprint, all []*Series) {
	t.Helper()
	var samples, bytes int64
	for _, s := range all {
		samples += int64(s.Len())
		bytes += int64(s.Len() * s.DType.Size())
	}
	exact := all[0].Format != "text"
	if fp.Series != len(all) || fp.Samples < samples || fp.Bytes < bytes || exact && (fp.Samples != samples || fp.Bytes != bytes) {
		t.Errorf("Measure: %+v; ReadAll gave %d series of %d samples in %d bytes", fp, len(all), samples, bytes)
	}
	// A frame file is read a series at a time: its largest series is what
	// is in memory at once.
	switch {
	case all[0].Format != "gwf" && fp.Largest != nil:
		t.Errorf("Measure: largest series %+v of a %s file, which is read whole", *fp.Largest, all[0].Format)
	case all[0].Format == "gwf":
		var most Footprint
		for _, s := range all {
			most.Samples = max(most.Samples, int64(s.Len()))
			most.Bytes = max(most.Bytes, int64(s.Len()*s.DType.Size()))
		}
		if fp.Largest == nil || fp.Largest.Samples != most.Samples || fp.Largest.Bytes != most.Bytes {
			t.Errorf("Measure: largest series %v; ReadAll's largest has %d samples in %d bytes", fp.Largest, most.Samples, most.Bytes)
		}
	}
}
