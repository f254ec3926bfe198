package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
	"github.com/gwwatchd/gwwatchd/processor"
)

// TestFrameFileArchive archives FrameL's test frame file: every channel
// in one archive, products for each real channel long enough, and for the
// channel with a non-finite sample the reason it has none. The archive
// then verifies, products recomputed from the integer and float raw data.
func TestFrameFileArchive(t *testing.T) {
	t.Parallel()
	src := filepath.Join("../../shared/testdata/gwf", "libframe-test.gwf")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("%s not present: %v", src, err)
	}
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(t.TempDir(), "archive")
	cfg.Processing.ASD.FFTLength = 1
	cfg.Processing.Spectrogram.FFTLength = 0.5
	cfg.Processing.Spectrogram.Stride = 1
	p := New(Options{Config: cfg, CPUs: 2})
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Record.Datasets) < 10 {
		t.Errorf("got datasets %v, want every ADC, proc and sim channel", res.Record.Datasets)
	}
	bad := "/processed/Bad_data_(data[0]=nan)/"
	for _, product := range []string{"asd_values", "spectrogram"} {
		if why := res.Record.Skipped[bad+product]; !strings.Contains(why, "samples are not finite") {
			t.Errorf("%s%s skipped for %q, want the non-finite samples named", bad, product, why)
		}
	}
	if len(res.Record.Skipped) != 2 {
		t.Errorf("skipped %v, want only the non-finite channel's products", res.Record.Skipped)
	}
	for _, want := range []string{"/processed/Adc0/asd_values", "/processed/fastProc/spectrogram", "/processed/sim1/asd_values"} {
		if !contains(res.Record.Products, want) {
			t.Errorf("no product %s in %v", want, res.Record.Products)
		}
	}
	r, err := Verify(res.Archive, processor.New(2))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("verify: %s", r.Summary())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestQuicklook checks that quicklook = true has Options.Quicklook draw
// from the archive's datasets, writes what it draws beside the archive,
// and records its path and sha256; and that without Options.Quicklook
// nothing is drawn. (gwwatchd's drawing is tested in cmd/gwwatchd.)
func TestQuicklook(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 3), 16)
	opts.Config.Archive.Quicklook = true
	var rec audit.Archived
	opts.Recorder = RecorderFunc(func(e audit.Event) error {
		if a, ok := e.(audit.Archived); ok {
			rec = a
		}
		return nil
	})
	var asd bool
	opts.Quicklook = func(doc *archive.Doc) ([]byte, error) {
		asd = doc.Dataset("/processed/"+channel+"/asd_values") != nil
		return []byte("drawn"), nil
	}
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !asd {
		t.Error("Quicklook was not given the ASD")
	}
	want := strings.TrimSuffix(res.Archive, ".h5") + ".png"
	if res.Record.QuicklookPath != want || rec.QuicklookPath != want {
		t.Fatalf("quick-look %q, recorded %v; want %s", res.Record.QuicklookPath, rec.QuicklookPath, want)
	}
	b, err := os.ReadFile(want)
	if err != nil || string(b) != "drawn" {
		t.Fatalf("quick-look %q, %v", b, err)
	}
	if sum := sha256.Sum256(b); rec.QuicklookSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("recorded sha256 %v, file's %x", rec.QuicklookSHA256, sum)
	}

	opts.Quicklook = nil
	opts.Root = filepath.Join(t.TempDir(), "archive")
	if res, err = New(opts).Process(context.Background(), src, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if res.Record.QuicklookPath != "" {
		t.Errorf("a quick-look at %s without Options.Quicklook", res.Record.QuicklookPath)
	}
}

// TestSelfMadeFrames archives a committed frame file holding every sample
// type: complex channels, and float channels with NaN and infinities, are
// kept raw with the reason they have no products, every integer channel
// gets them, and the archive verifies.
func TestSelfMadeFrames(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(t.TempDir(), "archive")
	// 32 samples at 256 Hz in each channel.
	cfg.Processing.ASD.FFTLength = 0.0625
	cfg.Processing.Spectrogram.FFTLength = 0.0625
	cfg.Processing.Spectrogram.Stride = 0.0625
	p := New(Options{Config: cfg, CPUs: 2})
	// At a reduced size, the channels of one compression code (6, which
	// every type has), in both byte orders: 24 of the 108.
	var opt ingest.Options
	if !testsize.Full() {
		opt.Channels = []string{"X1:*-6-*"}
	}
	res, err := p.Process(context.Background(), "../testdata/gwf/selfmade-v8-le.gwf", opt)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, d := range res.Record.Datasets {
		name := strings.TrimPrefix(d, "/raw/")
		typ, _, _ := strings.Cut(strings.TrimPrefix(name, "X1:"), "-")
		types[typ] = true
		asd := "/processed/" + name + "/asd_values"
		why, skipped := res.Record.Skipped[asd]
		switch {
		case strings.HasPrefix(typ, "complex"):
			if !strings.Contains(why, "complex samples") {
				t.Errorf("%s: skipped for %q, want complex samples", name, why)
			}
		case strings.HasPrefix(typ, "float"):
			// The encoder's float channels hold NaN and infinities.
			if !strings.Contains(why, "samples are not finite") {
				t.Errorf("%s: skipped for %q, want the non-finite samples named", name, why)
			}
		case skipped || !contains(res.Record.Products, asd):
			t.Errorf("%s: no ASD (%q)", name, why)
		}
	}
	for _, typ := range []string{"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "complex64", "complex128"} {
		if !types[typ] {
			t.Errorf("no %s channel archived (got %v)", typ, types)
		}
	}
	r, err := Verify(res.Archive, processor.New(2))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("verify: %s", r.Summary())
	}
}
