package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/plot"
	"github.com/gwwatchd/gwwatchd/processor"
)

var plotHelp = help{
	Synopsis: "plot [-o FILE.png] [--dataset D] [--spectrogram] [-width W] [-height H] FILE.h5",
	Text: `Draws a raw dataset's stored ASD on log-log axes with the ASD recomputed
from the raw samples dashed over it, and prints their largest relative
difference; with --spectrogram, draws its spectrogram. Prints the PNG's path.`,
	Example: `gwwatchd plot -o asd.png var/archive/K/13000/K-K1_DARM-1300000000-64.h5
gwwatchd plot --spectrogram --dataset K1:LSC-DARM_OUT_DQ var/archive/K/13000/K-K1_DARM-1300000000-64.h5`,
}

func (m *Main) plot(args []string) error {
	fs := m.newFlagSet("plot", plotHelp)
	out := fs.String("o", "", "PNG `file` to write (default: ARCHIVE-DATASET-asd.png or -spectrogram.png in the current directory)")
	dataset := fs.String("dataset", "", "raw `dataset` to draw (default: the first that has the product)")
	spec := fs.Bool("spectrogram", false, "draw the spectrogram instead of the ASD")
	width := fs.Int("width", plot.DefaultWidth, "image width in `pixels`")
	height := fs.Int("height", plot.DefaultHeight, "image height in `pixels`")
	file, err := fs.parseOne(args, "archive")
	if err != nil {
		return err
	}
	a, err := archive.Open(file)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	kind := archive.ProductASD
	if *spec {
		kind = archive.ProductSpectrogram
	}
	series, err := pickSeries(a, *dataset, kind)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	name := series.Name
	var buf bytes.Buffer
	if *spec {
		var s plot.Spectrogram
		if s, err = spectrogramPlot(series); err == nil {
			err = plot.WriteSpectrogram(&buf, s, *width, *height)
		}
	} else {
		var a plot.ASD
		if a, err = asdPlot(series, processor.New(runtime.NumCPU())); err == nil {
			err = plot.WriteASD(&buf, a, *width, *height)
			if err == nil {
				fmt.Fprintf(m.Stdout, "%s: stored and recomputed ASD differ by at most %.3g (relative)\n", name, plot.MaxRelDiff(a.Stored, a.Recomputed))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	path := *out
	if path == "" {
		kind := "asd"
		if *spec {
			kind = "spectrogram"
		}
		stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		path = fmt.Sprintf("%s-%s-%s.png", stem, fileSafe(name), kind)
	}
	if err := durable.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, path)
	return nil
}

// pickSeries returns the named raw series, which must have a product of
// the kind, or the first raw series that has one. Without one, the error
// gives the reason each raw series records for the product's absence.
func pickSeries(a *archive.Archive, want, kind string) (*archive.Series, error) {
	label, article := "ASD", "an"
	if kind == archive.ProductSpectrogram {
		label, article = "spectrogram", "a"
	}
	why := func(s *archive.Series) string {
		if r := s.Skipped[kind]; r != "" {
			return r
		}
		return "the archive records no reason (was it disabled in the configuration?)"
	}
	var names []string
	for _, s := range a.Series {
		names = append(names, s.Name)
	}
	for _, s := range a.Series {
		if want != "" && s.Name != want {
			continue
		}
		if s.Product(kind) != nil {
			return s, nil
		}
		if want != "" {
			return nil, fmt.Errorf("dataset %q has no %s: %s", want, label, why(s))
		}
	}
	if want != "" {
		return nil, fmt.Errorf("no raw dataset %q (the archive holds %s)", want, strings.Join(names, ", "))
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no raw dataset: not a gwwatchd archive?")
	}
	reasons := make([]string, len(a.Series))
	for i, s := range a.Series {
		reasons[i] = s.Name + ": " + why(s)
	}
	return nil, fmt.Errorf("no dataset has %s %s: %s", article, label, strings.Join(reasons, "; "))
}

// fileSafe makes a dataset name usable in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ':', '\\', ' ', '#', '@':
			return '_'
		}
		return r
	}, s)
}

// plotTitle is the title of a plot of a channel's products.
func plotTitle(channel string, t0 float64) string {
	return channel + "  GPS " + strconv.FormatFloat(t0, 'f', -1, 64)
}

// asdPlot gathers what a plot of a raw series' stored ASD needs, with the
// ASD recomputed from the raw samples (when proc is not nil) to draw over
// it.
func asdPlot(s *archive.Series, proc *processor.Processor) (plot.ASD, error) {
	vals, freqs := s.Product(archive.ProductASD), s.Product(archive.ProductFrequencies)
	if vals == nil || freqs == nil {
		return plot.ASD{}, fmt.Errorf("dataset %q has no ASD", s.Name)
	}
	a := plot.ASD{Title: plotTitle(s.Channel, s.T0), Unit: vals.Unit}
	var err error
	if a.Stored, err = vals.Float64s(); err != nil {
		return plot.ASD{}, err
	}
	if a.Freqs, err = freqs.Float64s(); err != nil {
		return plot.ASD{}, err
	}
	if proc != nil {
		raw, err := s.Load()
		if err != nil {
			return plot.ASD{}, err
		}
		if a.Recomputed, err = pipeline.Recompute(vals, raw, proc); err != nil {
			return plot.ASD{}, fmt.Errorf("%s: %w", vals.Path, err)
		}
	}
	return a, nil
}

// spectrogramPlot gathers what a plot of a raw series' stored
// spectrogram needs.
func spectrogramPlot(s *archive.Series) (plot.Spectrogram, error) {
	sg := s.Product(archive.ProductSpectrogram)
	if sg == nil {
		return plot.Spectrogram{}, fmt.Errorf("dataset %q has no spectrogram", s.Name)
	}
	p := plot.Spectrogram{Title: plotTitle(s.Channel, sg.Axes.T0), T0: sg.Axes.T0, Unit: sg.Unit,
		DT: sg.Axes.DT, F0: sg.Axes.F0, DF: sg.Axes.DF}
	if sg.Quantity == "psd" {
		p.Quantity = "PSD"
	}
	values, err := sg.Load()
	if err != nil {
		return plot.Spectrogram{}, err
	}
	p.Values, _ = values.([]float64)
	if len(sg.Shape) == 2 {
		p.Times, p.Freqs = int(sg.Shape[0]), int(sg.Shape[1])
	}
	return p, nil
}

// drawQuicklook renders the stored ASD of the first series of an
// archive document that has one, or returns nil if none has: the
// pipeline's Options.Quicklook.
func drawQuicklook(doc *archive.Doc) ([]byte, error) {
	for _, s := range archive.FromDoc(doc).Series {
		if s.Product(archive.ProductASD) == nil {
			continue
		}
		a, err := asdPlot(s, nil)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := plot.WriteASD(&buf, a, 0, 0); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, nil
}
