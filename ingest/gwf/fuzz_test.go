package gwf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for v := 6; v <= 9; v++ {
		f.Add(encode(f, smallSpec(v, v%2 == 1)))
		// Without checksums mutations reach the parsers behind them.
		spec := smallSpec(v, v%2 == 0)
		spec.noChkType = v >= 8
		spec.noChecksums = v < 8
		f.Add(encode(f, spec))
	}
	for _, c := range committedFiles {
		if b, err := os.ReadFile(filepath.Join(committedDir, c.name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Options{MaxBytes: 64 << 20}.Decode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no kind: %v", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		for _, fr := range file.Frames {
			for _, ch := range fr.Channels {
				n := 1
				for _, x := range ch.Shape {
					n *= x
				}
				if n != ch.Len() {
					t.Fatalf("%s: shape %v but %d values", ch.Name, ch.Shape, ch.Len())
				}
			}
		}
		for _, s := range file.Series() {
			if s.Len() == 0 && s.Values == nil {
				t.Fatalf("series %s has no values", s.Name)
			}
		}
	})
}
