package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/plot"
)

// TestPlot draws an archive's ASD and spectrogram and decodes the PNGs:
// the size asked for, the stored curve and the recomputed one over it,
// a spectrogram of many colours.
func TestPlot(t *testing.T) {
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	archivePath := ingestNPY(t, cfg, filepath.Join(dir, "K-K1_TEST-1300000000-32.npy"), synth.Coloured(32*1024, 1024, 50, 1),
		"--channel", "K1:TEST", "--unit", "m")

	asdPNG := filepath.Join(dir, "asd.png")
	code, stdout, stderr := runMain(t, "plot", "-o", asdPNG, "-width", "800", "-height", "500", archivePath)
	if code != exitOK || !strings.Contains(stdout, "K1:TEST: stored and recomputed ASD differ by at most 0 ") {
		t.Fatalf("plot: exit %d\n%s%s", code, stdout, stderr)
	}
	img := decodePNG(t, asdPNG, 800, 500)
	if n := count(img, plot.StoredColor); n < 300 {
		t.Errorf("%d pixels of the stored curve, want a curve", n)
	}
	if n := count(img, plot.RecomputedColor); n < 300 {
		t.Errorf("%d pixels of the recomputed curve, want a curve", n)
	}

	specPNG := filepath.Join(dir, "spec.png")
	if code, stdout, stderr = runMain(t, "plot", "--spectrogram", "-o", specPNG, archivePath); code != exitOK {
		t.Fatalf("plot --spectrogram: exit %d\n%s%s", code, stdout, stderr)
	}
	img = decodePNG(t, specPNG, plot.DefaultWidth, plot.DefaultHeight)
	px := img.(image.RGBA64Image)
	colours := map[color.RGBA64]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[px.RGBA64At(x, y)] = true
		}
	}
	if len(colours) < 100 {
		t.Errorf("spectrogram has %d colours, want an image", len(colours))
	}

	// The default name, in the current directory (drawn at the smallest
	// size, which does not change the name).
	t.Chdir(dir)
	code, stdout, _ = runMain(t, "plot", "-width", "200", "-height", "200", archivePath)
	if want := "K-K1_TEST-1300000000-32-K1_TEST-asd.png"; code != exitOK || !strings.HasSuffix(strings.TrimSpace(stdout), want) {
		t.Errorf("plot: exit %d, %q, want it to write %s", code, stdout, want)
	}

	code, _, stderr = runMain(t, "plot", "--dataset", "K1:NONE", archivePath)
	if code != exitError || !strings.Contains(stderr, `no raw dataset "K1:NONE" (the archive holds K1:TEST)`) {
		t.Errorf("unknown dataset: exit %d, %q", code, stderr)
	}
}

func decodePNG(t *testing.T, path string, w, h int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	return img
}

// count counts the pixels of exactly colour c, an opaque one. It reads
// each pixel through RGBA64At, which every image png.Decode returns has,
// and which unlike At allocates nothing.
func count(img image.Image, c color.NRGBA) int {
	px := img.(image.RGBA64Image)
	want := color.RGBA64Model.Convert(c).(color.RGBA64)
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if px.RGBA64At(x, y) == want {
				n++
			}
		}
	}
	return n
}

// With archive.quicklook set, ingest draws the stored ASD of the archive
// beside it, as package plot draws it.
func TestIngestQuicklook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text = bytes.Replace(text, []byte("[archive]\n"), []byte("[archive]\nquicklook = true\n"), 1)
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}
	archivePath := ingestNPY(t, cfg, filepath.Join(dir, "K-K1_TEST-1300000000-16.npy"), synth.Coloured(16*1024, 1024, 50, 3), "--channel", "K1:TEST")
	img := decodePNG(t, strings.TrimSuffix(archivePath, ".h5")+".png", plot.DefaultWidth, plot.DefaultHeight)
	if n := count(img, plot.StoredColor); n < 300 {
		t.Errorf("%d pixels of the stored curve, want a curve", n)
	}
}
