package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/internal/durable"
	"github.com/gwwatchd/gwwatchd/plot"
	"github.com/gwwatchd/gwwatchd/processor"
)

// PlotTitle is the title of a plot of a channel's products.
func PlotTitle(channel string, t0 float64) string {
	return channel + "  GPS " + strconv.FormatFloat(t0, 'f', -1, 64)
}

// ASDPlot gathers what a plot of a raw series' stored ASD needs, with the
// ASD recomputed from the raw samples (when proc is not nil) to draw over
// it.
func ASDPlot(s *archive.Series, proc *processor.Processor) (plot.ASD, error) {
	vals, freqs := s.Product(archive.ProductASD), s.Product(archive.ProductFrequencies)
	if vals == nil || freqs == nil {
		return plot.ASD{}, fmt.Errorf("dataset %q has no ASD", s.Name)
	}
	a := plot.ASD{Title: PlotTitle(s.Channel, s.T0), Unit: vals.Unit}
	var err error
	if a.Stored, err = loadFloat64s(vals.Object); err != nil {
		return plot.ASD{}, err
	}
	if a.Freqs, err = loadFloat64s(freqs.Object); err != nil {
		return plot.ASD{}, err
	}
	if proc != nil {
		raw, err := s.Load()
		if err != nil {
			return plot.ASD{}, err
		}
		if a.Recomputed, err = Recompute(vals, raw, proc); err != nil {
			return plot.ASD{}, fmt.Errorf("%s: %w", vals.Path, err)
		}
	}
	return a, nil
}

// SpectrogramPlot gathers what a plot of a raw series' stored
// spectrogram needs.
func SpectrogramPlot(s *archive.Series) (plot.Spectrogram, error) {
	sg := s.Product(archive.ProductSpectrogram)
	if sg == nil {
		return plot.Spectrogram{}, fmt.Errorf("dataset %q has no spectrogram", s.Name)
	}
	p := plot.Spectrogram{Title: PlotTitle(s.Channel, sg.Axes.T0), T0: sg.Axes.T0, Unit: sg.Unit,
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

// loadFloat64s reads the values of a dataset stored as float64.
func loadFloat64s(o *archive.Object) ([]float64, error) {
	v, err := o.Load()
	if err != nil {
		return nil, err
	}
	x, ok := v.([]float64)
	if !ok {
		return nil, fmt.Errorf("%s holds %T, not float64", o.Path, v)
	}
	return x, nil
}

// quicklook renders the stored ASD of the first series of an archive
// document that has one, or returns nil if none has.
func quicklook(doc *archive.Doc) ([]byte, error) {
	for _, s := range archive.FromDoc(doc).Series {
		if s.Product(archive.ProductASD) == nil {
			continue
		}
		a, err := ASDPlot(s, nil)
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

// writeQuicklook writes the quick-look PNG beside the archive, and notes
// it, or why it could not be written, in the archive's audit record. The
// archive is what matters: a quick-look that fails does not fail it.
func (x *Prepared) writeQuicklook(rec *audit.Archived) {
	path := strings.TrimSuffix(x.res.Archive, ".h5") + ".png"
	// Through the archive's directory walked from the root without
	// following links, as the archive itself was written.
	err := errors.New("the archive is not below the archive root")
	root, _ := filepath.Abs(x.root)
	if rel, rerr := filepath.Rel(root, filepath.Dir(path)); rerr == nil && filepath.IsLocal(rel) {
		var dir *os.File
		if dir, err = durable.OpenDir(root, rel, 0); err == nil {
			err = durable.WriteFileAt(dir, filepath.Base(path), x.quicklook, 0o644)
			dir.Close()
		}
	}
	if err != nil {
		rec.QuicklookError = err.Error()
		return
	}
	sum := sha256.Sum256(x.quicklook)
	rec.QuicklookPath, rec.QuicklookSHA256 = path, hex.EncodeToString(sum[:])
}
