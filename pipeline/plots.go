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

// ASDPlot gathers what a plot of a raw dataset's stored ASD needs from
// an archive, with the ASD recomputed from the raw samples (when proc is
// not nil) to draw over it.
func ASDPlot(doc *archive.Doc, name string, proc *processor.Processor) (plot.ASD, error) {
	raw := doc.Dataset(archive.RawPath(name))
	vals := doc.Dataset(archive.ProcessedPath(name, "asd_values"))
	freqs := doc.Dataset(archive.ProcessedPath(name, "asd_frequencies"))
	if raw == nil || vals == nil || freqs == nil {
		return plot.ASD{}, fmt.Errorf("dataset %q has no ASD", name)
	}
	channel, _ := raw.Attr("channel").(string)
	t0, _ := raw.Attr("t0").(float64)
	unit, _ := vals.Attr("unit").(string)
	a := plot.ASD{Title: PlotTitle(channel, t0), Unit: unit}
	var ok bool
	if a.Stored, ok = vals.Data.([]float64); !ok {
		return plot.ASD{}, fmt.Errorf("%s holds %T, not float64", vals.Path, vals.Data)
	}
	if a.Freqs, ok = freqs.Data.([]float64); !ok {
		return plot.ASD{}, fmt.Errorf("%s holds %T, not float64", freqs.Path, freqs.Data)
	}
	if proc != nil {
		again, err := Recompute(vals, raw, proc)
		if err != nil {
			return plot.ASD{}, fmt.Errorf("%s: %w", vals.Path, err)
		}
		a.Recomputed = again
	}
	return a, nil
}

// SpectrogramPlot gathers what a plot of a raw dataset's stored
// spectrogram needs from an archive; the dataset must have one.
func SpectrogramPlot(doc *archive.Doc, name string) plot.Spectrogram {
	raw := doc.Dataset(archive.RawPath(name))
	sg := doc.Dataset(archive.ProcessedPath(name, "spectrogram"))
	channel, _ := raw.Attr("channel").(string)
	t0, _ := sg.Attr("t0").(float64)
	s := plot.Spectrogram{Title: PlotTitle(channel, t0), T0: t0}
	s.Unit, _ = sg.Attr("unit").(string)
	if v, _ := sg.Attr("values").(string); v == "psd" {
		s.Quantity = "PSD"
	}
	s.DT, _ = sg.Attr("dt").(float64)
	s.F0, _ = sg.Attr("f0").(float64)
	s.DF, _ = sg.Attr("df").(float64)
	s.Values, _ = sg.Data.([]float64)
	if len(sg.Dims) == 2 {
		s.Times, s.Freqs = int(sg.Dims[0]), int(sg.Dims[1])
	}
	return s
}

// quicklook renders the stored ASD of the first series that has one, or
// returns nil if none has.
func quicklook(doc *archive.Doc, c *archive.Content) ([]byte, error) {
	for _, e := range c.Entries {
		if e.ASD == nil {
			continue
		}
		a, err := ASDPlot(doc, archive.DatasetName(e.Series.Dataset), nil)
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
	root, _ := filepath.Abs(x.p.root())
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
