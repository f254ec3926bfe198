package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/synth"
)

// The daemon's pipelines draw quick-looks with Options.Quicklook when the
// configuration asks for them.
func TestQuicklookThroughOptions(t *testing.T) {
	t.Parallel()
	b := newTestBed(t, "keep")
	b.cfg.Archive.Quicklook = true
	drawn := 0
	b.d.opts.Quicklook = func(doc *archive.Doc) ([]byte, error) {
		drawn++
		return []byte("a quick-look"), nil
	}
	src := filepath.Join(b.in, "K-K1_TEST-1300000000-8.npy")
	synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 1))
	b.handle(src)
	a := logged[audit.Archived](b)
	if len(a) != 1 || drawn != 1 {
		t.Fatalf("%d archived records, %d quick-looks drawn; want 1 and 1", len(a), drawn)
	}
	if got, err := os.ReadFile(a[0].QuicklookPath); err != nil || string(got) != "a quick-look" {
		t.Errorf("quick-look at %q: %q, %v", a[0].QuicklookPath, got, err)
	}
}
