// Package pipeline turns one source file into one archive: read, process,
// write. The one-shot CLI and the daemon both call Pipeline.Process.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/processor"
)

// Pipeline archives source files with one configuration. It owns a
// processor with FFT plans, so one Pipeline serves one worker: it is not
// safe for concurrent use.
type Pipeline struct {
	Config *config.Config
	Root   string // archive root; defaults to Config.Archive.Root
	Host   string
	Now    func() time.Time

	proc *processor.Processor
}

// New returns a Pipeline for one worker, whose processor spreads each
// product over cpus goroutines (at least one).
func New(cfg *config.Config, cpus int) *Pipeline {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return &Pipeline{Config: cfg, Root: cfg.Archive.Root, Host: host, Now: time.Now, proc: processor.New(max(1, cpus))}
}

// Result says what became of one source file.
type Result struct {
	Source    ingest.Source
	Archive   string // the archive written, or the existing one for a duplicate
	Duplicate bool   // the same content was already archived at Archive
	Datasets  []string
	Products  []string
	Skipped   map[string]string // product path -> why it was not made
	Duration  time.Duration
}

// Process reads path with the metadata in opt, computes the configured
// products and writes one archive. The source file is never altered. Bad
// input gives an error for which ingest.IsInputError is true.
func (p *Pipeline) Process(ctx context.Context, path string, opt ingest.Options) (*Result, error) {
	start := p.Now()
	series, err := ingest.Read(path, opt)
	if err != nil {
		return nil, err
	}
	readEnd := p.Now()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	content := &archive.Content{
		Source:      series.Source,
		Created:     start.UTC(),
		Host:        p.Host,
		Software:    buildinfo.Get(),
		HDF5:        archive.LibVersion(),
		IngestStart: start,
		IngestEnd:   readEnd,
	}
	res := &Result{Source: series.Source, Skipped: map[string]string{}}
	entry := p.process(series)
	content.Entries = append(content.Entries, entry)
	name := archive.DatasetName(series.Dataset)
	res.Datasets = append(res.Datasets, archive.RawPath(name))
	if entry.ASD != nil {
		res.Products = append(res.Products, archive.ProcessedPath(name, "asd_values"), archive.ProcessedPath(name, "asd_frequencies"))
	} else if entry.ASDSkipped != "" {
		res.Skipped[archive.ProcessedPath(name, "asd_values")] = entry.ASDSkipped
	}
	if entry.Spectrogram != nil {
		res.Products = append(res.Products, archive.ProcessedPath(name, "spectrogram"))
	} else if entry.SpectrogramSkipped != "" {
		res.Skipped[archive.ProcessedPath(name, "spectrogram")] = entry.SpectrogramSkipped
	}
	doc, err := content.Doc()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rel, err := content.RelPath(p.Config.Archive.Layout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	comp := archive.Compression{Gzip: p.Config.Archive.Compression == "gzip", Level: p.Config.Archive.GzipLevel}
	out, err := archive.WriteFile(p.Root, rel, doc, comp)
	var dup *archive.DuplicateError
	switch {
	case errors.As(err, &dup):
		res.Archive, res.Duplicate = dup.Path, true
	case err != nil:
		return nil, fmt.Errorf("%s: write archive: %w", path, err)
	default:
		res.Archive = out
	}
	if abs, err := filepath.Abs(res.Archive); err == nil {
		res.Archive = abs
	}
	res.Duration = p.Now().Sub(start)
	return res, nil
}

// process computes the configured products of one series. A product that
// cannot be made is skipped with its reason; the raw data is archived
// regardless.
func (p *Pipeline) process(s *ingest.Series) archive.Entry {
	e := archive.Entry{Series: s, ProcessStart: p.Now()}
	cfg := p.Config.Processing
	if !cfg.ASD.Enabled && !cfg.Spectrogram.Enabled {
		e.ProcessEnd = e.ProcessStart
		return e
	}
	// The processor only reads its input, so float64 samples are used as
	// they are instead of being copied: one series in memory, not two.
	x, isFloat := s.Values.([]float64)
	if !isFloat {
		x = ingest.Float64s(s.Values)
	}
	if cfg.ASD.Enabled {
		e.ASDParams = ASDParams(cfg.ASD)
		a, err := p.proc.ASD(x, s.SampleRate, e.ASDParams)
		if err != nil {
			e.ASDSkipped = err.Error()
		} else {
			e.ASD = a
		}
	}
	if cfg.Spectrogram.Enabled {
		sc := cfg.Spectrogram
		e.SpectrogramParams = processor.Params{FFTLength: sc.FFTLength, Overlap: config.EffectiveOverlap(sc.FFTLength, sc.Overlap), Method: sc.Method, Window: sc.Window}
		e.SpectrogramStride = sc.Stride
		sg, err := p.proc.Spectrogram(x, s.SampleRate, sc.Stride, e.SpectrogramParams)
		if err != nil {
			e.SpectrogramSkipped = err.Error()
		} else {
			e.Spectrogram = sg
		}
	}
	e.ProcessEnd = p.Now()
	return e
}

// ASDParams resolves the configured ASD parameters.
func ASDParams(c config.ASD) processor.Params {
	return processor.Params{FFTLength: c.FFTLength, Overlap: config.EffectiveOverlap(c.FFTLength, c.Overlap), Method: c.Method, Window: c.Window}
}
