package gwf

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the frame files under testdata/gwf from the test encoder")

// committedFiles are frame files made by the test encoder and kept in the
// repository, so that the reader is checked on every machine against bytes
// that do not change with the encoder's libraries.
var committedFiles = []struct {
	name    string
	version int
	big     bool
}{
	{"selfmade-v7-be.gwf", 7, true},
	{"selfmade-v8-le.gwf", 8, false},
	{"selfmade-v8-be.gwf", 8, true},
	{"selfmade-v9-be.gwf", 9, true},
}

const committedDir = "../../testdata/gwf"

func committedSpec(version int, big bool) encFile {
	return specFile(version, big, 16, 2)
}

func TestCommittedFiles(t *testing.T) {
	t.Parallel()
	for _, c := range committedFiles {
		t.Run(c.name, func(t *testing.T) {
			spec := committedSpec(c.version, c.big)
			path := filepath.Join(committedDir, c.name)
			if *update {
				if err := os.WriteFile(path, encode(t, spec), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, f, spec)
			checkJoined(t, f, spec)
		})
	}
}
