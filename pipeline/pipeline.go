// Package pipeline turns one source file into one archive: read, process,
// write. The one-shot CLI and the daemon both call Pipeline.Process.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/processor"
)

// Pipeline archives source files with one configuration. It owns a
// processor with FFT plans, so one Pipeline serves one worker: it is not
// safe for concurrent use.
type Pipeline struct {
	cfg      *config.Config
	rootOpt  string // Options.Root
	recorder Recorder
	known    Known
	// quicklook draws the quick-look PNG (Options.Quicklook).
	quicklook func(*archive.Doc) ([]byte, error)
	host      string
	now       func() time.Time
	proc      *processor.Processor
	cpus      int                    // goroutines proc spreads each product over
	spare     []*processor.Processor // of the lanes beside p (see lanes)
}

// Recorder records every outcome in the audit log: the record is on disk
// when Append returns. It must be safe for concurrent use when several
// pipelines share it, or Commits run on other goroutines (Begin).
type Recorder interface {
	Append(audit.Event) error
}

// RecorderFunc is a function as a Recorder.
type RecorderFunc func(audit.Event) error

// Append calls f(e).
func (f RecorderFunc) Append(e audit.Event) error { return f(e) }

// Known says whether the audit log already holds an archive of the
// content with this key (archive.ContentKey: the source and sidecar bytes
// with the effective metadata of every series), and where.
type Known interface {
	ArchiveOf(contentKey string) (archivePath string, ok bool)
}

// Options configures New.
type Options struct {
	Config *config.Config
	Root   string // archive root; "" is Config.Archive.Root
	CPUs   int    // goroutines the processor spreads each product over; at least one

	// Recorder, when not nil, records every outcome in the audit log.
	Recorder Recorder

	// Known, when not nil, is asked of every file. The daemon answers it
	// from the replayed log: known content gives a duplicate without a
	// second archive, and an archive on disk that the log does not name
	// (left by a crash between the write and its record) is adopted with
	// an "archived" record instead of being reported as a duplicate.
	Known Known

	// Quicklook draws the PNG written beside an archive when the
	// configuration asks for one (archive.quicklook), from the document of
	// its datasets as they are written, or returns nil when none of them
	// has anything to draw; an error fails the archive. Without it no
	// quick-look is drawn, whatever the configuration says: drawing is
	// the caller's (gwwatchd's commands draw with package plot).
	Quicklook func(*archive.Doc) ([]byte, error)
}

// New returns a Pipeline for one worker.
func New(opts Options) *Pipeline {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return &Pipeline{cfg: opts.Config, rootOpt: opts.Root, recorder: opts.Recorder, known: opts.Known,
		quicklook: opts.Quicklook, host: host, now: time.Now, proc: processor.New(max(1, opts.CPUs)), cpus: max(1, opts.CPUs)}
}

// SetConfig makes cfg the configuration of the files processed from now
// on, as a reload does: its processing, layout and, unless Options.Root
// was given, its archive root.
func (p *Pipeline) SetConfig(cfg *config.Config) { p.cfg = cfg }

// root is the archive root.
func (p *Pipeline) root() string {
	if p.rootOpt != "" {
		return p.rootOpt
	}
	return p.cfg.Archive.Root
}

// Result says what became of one source file.
type Result struct {
	Source     ingest.Source
	ContentKey string // archive.ContentKey of what was read
	Archive    string // the archive written, or the existing one for a duplicate
	Duplicate  bool   // the same content was already archived at Archive
	Duration   time.Duration

	// Record is the archived record of an archive written or adopted:
	// its sha256, size and id, datasets and products, what was skipped
	// and why, the quick-look. It is nil for a duplicate.
	Record *audit.Archived
}

// Process reads path with the metadata in opt, computes the configured
// products, writes one archive and records the outcome in the audit log.
// The source file is never altered. Bad input gives an error for which
// ingest.IsInputError is true, after a "rejected" record.
func (p *Pipeline) Process(ctx context.Context, path string, opt ingest.Options) (*Result, error) {
	x, err := p.Begin(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	defer x.Discard()
	return x.Commit()
}

// Begin is Process up to its commit: Prepare, and for bad input the
// "rejected" record and the error Process gives. The caller Commits (and
// Discards) the Prepared, perhaps on another goroutine while this
// Pipeline goes on to the next file, so that the commits of several files
// are under way at once and share their fsyncs.
func (p *Pipeline) Begin(ctx context.Context, path string, opt ingest.Options) (*Prepared, error) {
	x, err := p.Prepare(ctx, path, opt)
	if err != nil {
		if ingest.IsInputError(err) {
			abs, _ := filepath.Abs(path)
			if aerr := p.audit(audit.Rejected{SourcePath: abs, Reason: err.Error()}); aerr != nil {
				// Not an input error: a rejection the log does not hold
				// is to be tried again, not quarantined unrecorded.
				return nil, fmt.Errorf("%s: rejected, but: %w", path, aerr)
			}
		}
		return nil, err
	}
	return x, nil
}

// Prepared is a source file read and processed, its archive written in
// full under a temporary name: all of Process but the final link and the
// audit record, which Commit adds. Until then nothing is visible in the
// archive root or the log, so a Prepared may be discarded freely, e.g. when
// its source turns out to have changed since. A Prepared holds no samples,
// only the temporary file and what its record needs, and its Commit uses
// nothing of its Pipeline that the Pipeline's next Prepare or SetConfig
// changes, so it may run on another goroutine meanwhile.
type Prepared struct {
	p    *Pipeline
	root string // the archive root the archive was written below
	path string
	res  *Result
	temp *archive.Temp // nil when the content is known to be archived
	id   string        // the archive_id inside temp
	// rec is the archived record as far as Prepare knows it: the
	// datasets, products and what was skipped, the parameters.
	rec audit.Archived
	// quicklook is the PNG to write beside the archive, if any.
	quicklook []byte
	took      time.Duration // spent in Prepare
	taken     bool
}

// Source describes the source file as it was read.
func (x *Prepared) Source() ingest.Source { return x.res.Source }

// Discard removes the temporary archive, unless Commit made it the
// archive. It is safe to call more than once.
func (x *Prepared) Discard() {
	if x.temp != nil {
		x.temp.Discard()
	}
}

// Commit makes the archive visible under its final name (or finds the
// content already archived) and records the outcome in the audit log.
// It may be called once.
func (x *Prepared) Commit() (*Result, error) {
	if x.taken {
		return nil, errors.New("pipeline: Commit called twice")
	}
	x.taken = true
	p, res, start := x.p, x.res, x.p.now()
	if x.temp != nil && p.known != nil {
		defer commitLocks.lock(res.ContentKey)()
	}
	if x.temp != nil && p.known != nil {
		// The content may have been archived since Prepare looked.
		if prev, ok := p.known.ArchiveOf(res.ContentKey); ok {
			x.temp.Discard()
			x.temp = nil
			res.Archive, res.Duplicate = prev, true
		}
	}
	rec := &x.rec
	if x.temp != nil {
		w, err := x.temp.Commit()
		var dup *archive.DuplicateError
		switch {
		case errors.As(err, &dup) && p.known != nil:
			if err := adopt(rec, dup.Path); err != nil {
				return nil, fmt.Errorf("%s: adopt %s: %w", x.path, dup.Path, err)
			}
			res.Archive = dup.Path
		case errors.As(err, &dup):
			res.Archive, res.Duplicate = dup.Path, true
		case err != nil:
			return nil, fmt.Errorf("%s: write archive: %w", x.path, err)
		default:
			res.Archive, rec.ArchiveSHA256, rec.ArchiveSize, rec.ArchiveID = w.Path, w.SHA256, w.Size, x.id
		}
	}
	if abs, err := filepath.Abs(res.Archive); err == nil {
		res.Archive = abs
	}
	res.Duration = x.took + p.now().Sub(start)
	var err error
	if res.Duplicate {
		err = p.audit(audit.Duplicate{Source: source(res.Source), ArchivePath: res.Archive, ContentKey: res.ContentKey})
	} else {
		rec.Source, rec.ArchivePath, rec.ContentKey, rec.Duration = source(res.Source), res.Archive, res.ContentKey, res.Duration
		rec.Version, rec.Revision = buildinfo.Get().Version, buildinfo.Get().PipelineVersion()
		if !rec.Adopted && x.quicklook != nil {
			x.writeQuicklook(rec)
		}
		if err = p.audit(*rec); err == nil {
			res.Record = rec
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: archived as %s, but: %w", x.path, res.Archive, err)
	}
	return res, nil
}

// commitLocks serialises the commits of one content in this process.
// Between asking Known and its record being on disk, a commit must not
// meet the archive of another commit of the same content linked but not
// yet recorded: it would take that archive for one a crash left, adopt it
// and record the content twice. Commits of the same content are rare, so
// waiting costs nothing otherwise.
var commitLocks = keyLocks{m: map[string]*keyLock{}}

type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	users int // guarded by keyLocks.mu
	mu    sync.Mutex
}

// lock locks key and returns the function that unlocks it.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

func (p *Pipeline) audit(e audit.Event) error {
	if p.recorder == nil {
		return nil
	}
	if err := p.recorder.Append(e); err != nil {
		return fmt.Errorf("audit %s: %w", e.EventName(), err)
	}
	return nil
}

// source identifies a source in an audit record.
func source(src ingest.Source) audit.Source {
	s := audit.Source{SourcePath: src.Path, SourceSize: src.Size, SourceMtime: src.ModTime, SourceSHA256: src.SHA256}
	if sc := src.Sidecar; sc != nil {
		s.SidecarPath, s.SidecarSHA256 = sc.Path, sc.SHA256
	}
	return s
}

// params are the processing parameters in effect, as recorded in the log.
func (p *Pipeline) params() audit.Params {
	c := p.cfg.Processing
	return audit.Params{
		ASD: audit.WelchParams{Enabled: c.ASD.Enabled, FFTLength: c.ASD.FFTLength,
			Overlap: config.EffectiveOverlap(c.ASD.FFTLength, c.ASD.Overlap), Method: c.ASD.Method, Window: c.ASD.Window},
		Spectrogram: audit.SpectrogramParams{Stride: c.Spectrogram.Stride, WelchParams: audit.WelchParams{Enabled: c.Spectrogram.Enabled,
			FFTLength: c.Spectrogram.FFTLength, Overlap: config.EffectiveOverlap(c.Spectrogram.FFTLength, c.Spectrogram.Overlap),
			Method: c.Spectrogram.Method, Window: c.Spectrogram.Window}},
		Layout: p.cfg.Archive.Layout, Compression: p.cfg.Archive.Compression,
		Products: productParams(c.Products),
	}
}

// productParams are the [[processing.product]] tables as the log records
// them, defaults resolved; nil for none, so that a configuration without
// them gives the records it gave before chains.
func productParams(ps []config.Product) []audit.ProductParams {
	var out []audit.ProductParams
	for _, prod := range ps {
		ap := audit.ProductParams{Name: prod.Name, Kind: prod.Kind, Input: prod.Input, Channels: prod.Channels,
			Order: prod.Order, Cutoff: prod.Cutoff, Low: prod.Low, High: prod.High, Rate: prod.Rate}
		if prod.Kind == config.KindASD || prod.Kind == config.KindSpectrogram {
			w := prod.Welch()
			ap.Welch = &audit.WelchParams{Enabled: true, FFTLength: w.FFTLength, Overlap: w.Overlap, Method: w.Method, Window: w.Window}
		}
		if prod.Stride != nil {
			ap.Stride = *prod.Stride
		}
		out = append(out, ap)
	}
	return out
}

// Prepare reads path with the metadata in opt, computes the configured
// products and writes the archive under a temporary name. Content the log
// already holds is neither processed nor written: Commit then records a
// duplicate. Errors are as for Process, but nothing is audited.
func (p *Pipeline) Prepare(ctx context.Context, path string, opt ingest.Options) (*Prepared, error) {
	start := p.now()
	opt.RefuseHDF5 = archive.InputRefusal // our own archives are no input, whatever opt says
	b, err := ingest.Open(path, opt)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	readEnd := p.now()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := b.Series
	src := all[0].Source
	key := archive.ContentKey(src, all)
	params := p.params()
	x := &Prepared{p: p, root: p.root(), path: path, res: &Result{Source: src, ContentKey: key}, rec: audit.Archived{Params: &params, Skipped: map[string]string{}}}
	res, rec := x.res, &x.rec
	if p.known != nil {
		if prev, ok := p.known.ArchiveOf(key); ok {
			res.Archive, res.Duplicate = prev, true
			x.took = p.now().Sub(start)
			return x, nil
		}
	}
	content := &archive.Content{
		ID:          archive.NewID(),
		Key:         key,
		Source:      src,
		Created:     start.UTC(),
		Host:        p.host,
		Software:    buildinfo.Get(),
		HDF5:        archive.LibVersion(),
		IngestStart: start,
		IngestEnd:   readEnd,
		Entries:     make([]archive.Entry, len(all)),
	}
	for i, series := range all {
		content.Entries[i].Series = series
	}
	rel, err := content.RelPath(p.cfg.Archive.Layout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if why := archive.CheckName(rel); why != "" {
		// The name comes from the file: its stem, its channel. No retry
		// makes it shorter.
		return nil, &ingest.InputError{Path: src.Path, Reason: why}
	}
	comp := archive.Compression{Gzip: p.cfg.Archive.Compression == "gzip", Level: p.cfg.Archive.GzipLevel}
	w, err := content.NewWriter(p.root(), rel, comp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A series at a time on each lane: its samples read, its products
	// made and written, then both let go of, so that a file of many
	// channels needs the memory of its largest series on each lane, not
	// of all of them.
	err = processAll(ctx, b, p.lanes(len(all)), func(i int, m made) error {
		if !m.loaded.IsZero() && m.loaded.After(content.IngestEnd) {
			content.IngestEnd = m.loaded // the ingest ends with the last series read
		}
		content.Entries[i] = m.e
		ds, err := w.Add()
		if err == nil && p.cfg.Archive.Quicklook && p.quicklook != nil && x.quicklook == nil {
			if x.quicklook, err = p.quicklook(&archive.Doc{Datasets: ds}); err != nil {
				err = fmt.Errorf("quick-look: %w", err)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		content.Entries[i].Drop()
		b.Drop(i)
		if afterEntry != nil {
			afterEntry()
		}
		return nil
	})
	if err != nil {
		w.Discard()
		return nil, err
	}
	rec.Datasets, rec.Products, rec.Skipped = content.Paths()
	if x.temp, err = w.Finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The samples and products are on disk: a Prepared waiting for its
	// commit need not keep them in memory.
	x.temp.Doc = nil
	x.id = content.ID
	x.took = p.now().Sub(start)
	return x, nil
}

// afterEntry, when set by a test, is called once each series was written
// and let go of.
var afterEntry func()

// MaxLanes is how many series of one file are read and processed at
// once, at most: the series of a frame file are often short, and one
// Processor cannot keep two processors busy with one of them.
const MaxLanes = 2

// lanes are the Pipelines that read and process n series of one file: p
// itself, and with two processors or more for p and more than one series,
// a copy of p with a Processor of its own, kept for the next file.
func (p *Pipeline) lanes(n int) []*Pipeline {
	k := min(n, MaxLanes)
	if p.cpus < 2 {
		k = 1 // the pipelines of other workers use the other processors
	}
	lanes := []*Pipeline{p}
	for len(lanes) < k {
		if len(p.spare) < len(lanes) {
			p.spare = append(p.spare, processor.New(p.cpus))
		}
		l := *p
		l.proc, l.spare = p.spare[len(lanes)-1], nil
		lanes = append(lanes, &l)
	}
	return lanes
}

// made is a series a lane read and processed, to be written.
type made struct {
	e      archive.Entry
	loaded time.Time // when its samples were read; zero when they were in memory
	lane   *Pipeline
	err    error
}

// processAll reads and processes the series of b on the lanes, and hands
// each to write, in order. A lane takes the next series once write
// returned for the one it made, so that no more series than lanes are in
// memory at once. It returns the first error, of a series or of write;
// the series after it are not written, and none is being read or
// processed any more when it returns.
func processAll(ctx context.Context, b *ingest.Batch, lanes []*Pipeline, write func(i int, m made) error) error {
	all := b.Series
	out := make([]chan made, len(all))
	for i := range out {
		out[i] = make(chan made, 1)
	}
	free := make(chan *Pipeline, len(lanes))
	for _, l := range lanes {
		free <- l
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, s := range all {
			var l *Pipeline
			select {
			case l = <-free:
			case <-stop:
				return
			}
			wg.Go(func() {
				m := made{lane: l, err: ctx.Err()}
				if m.err == nil && s.Values == nil {
					m.err = b.Load(i)
					m.loaded = l.now()
				}
				if m.err == nil {
					m.e = l.process(s)
				}
				out[i] <- m
			})
		}
	})
	var err error
	for i := range all {
		m := <-out[i]
		if err = m.err; err == nil {
			err = write(i, m)
		}
		if err != nil {
			break
		}
		free <- m.lane
	}
	close(stop)
	wg.Wait()
	return err
}

// adopt takes over an archive of this source that is on disk but not in
// the log: its content is checked before it is recorded as archived.
func adopt(rec *audit.Archived, path string) error {
	a, err := archive.Open(path)
	if err != nil {
		return err
	}
	if err := checkData(a); err != nil {
		return err
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	rec.ArchiveSHA256, rec.ArchiveSize, rec.ArchiveID, rec.Adopted = sum, st.Size(), a.ID, true
	return nil
}

// process computes the configured products of one series. A product that
// cannot be made is skipped with its reason; the raw data is archived
// regardless.
func (p *Pipeline) process(s *ingest.Series) (e archive.Entry) {
	e = archive.Entry{Series: s, ProcessStart: p.now()}
	// Hashing the samples needs no result of the processing: do it
	// meanwhile, on another core.
	rawSHA := make(chan string, 1)
	go func() { rawSHA <- archive.DataSHA256(s.Values) }()
	defer func() { e.RawSHA256 = <-rawSHA }()
	chain := p.cfg.Processing.Chain()
	if len(chain) == 0 {
		e.ProcessEnd = e.ProcessStart
		return e
	}
	var skip string
	switch {
	case s.NoProducts != "":
		skip = s.NoProducts
	case ingest.IsComplex(s.Values):
		skip = "complex samples: products are made of real-valued series only; the samples are archived as they are"
	case s.Shape != nil:
		skip = fmt.Sprintf("samples of shape %v: products are made of one-dimensional series only", s.Shape)
	}
	if skip != "" {
		for _, prod := range chain {
			if prod.Matches(s.Channel) {
				setSkipped(&e, prod, skip)
			}
		}
		e.ProcessEnd = p.now()
		return e
	}
	// The time series made so far, by product name, and why the others
	// were not made. The raw samples are used as they are: the spectra
	// read them a segment at a time, and only a filter, a resampling or
	// a trend of them converts them to float64, once.
	made := map[string]*input{config.InputRaw: {values: s.Values, fs: s.SampleRate}}
	skipped := map[string]string{}
	for _, prod := range chain {
		if !prod.Matches(s.Channel) {
			continue
		}
		in, ok := made[prod.Input]
		if !ok {
			if why, was := skipped[prod.Input]; was {
				skipped[prod.Name] = fmt.Sprintf("its input %q was not made: %s", prod.Input, why)
				setSkipped(&e, prod, skipped[prod.Name])
			}
			continue // its input is not made for this channel
		}
		if legacy(prod) {
			p.legacyProduct(&e, prod, in.values, in.fs)
			continue
		}
		d := p.deriveOf(prod, in)
		if d.Skipped != "" {
			skipped[prod.Name] = d.Skipped
		} else if d.Values != nil {
			made[prod.Name] = &input{values: d.Values, fs: d.Rate}
		}
		e.Derived = append(e.Derived, d)
	}
	e.ProcessEnd = p.now()
	return e
}

// input is a series products are made of: the raw samples, of any real
// type, or a time series product.
type input struct {
	values any // real samples; []float64 for a product
	fs     float64
	// f64 is values as float64, made the first time a product needs it
	// and then kept for the others: values itself when float64.
	f64 []float64
}

// float64s returns the samples of in as float64, converting them at
// most once.
func (in *input) float64s() []float64 {
	if in.f64 == nil {
		var isFloat bool
		// The processor only reads its input, so float64 samples are
		// used as they are instead of being copied.
		if in.f64, isFloat = in.values.([]float64); !isFloat {
			in.f64 = ingest.Float64s(in.values)
		}
	}
	return in.f64
}

// legacy reports whether a product is stored as archives before chains
// store the ASD and spectrogram: "asd" and "spectrogram" of the raw series.
func legacy(prod config.Product) bool {
	return prod.Input == config.InputRaw && prod.Name == prod.Kind && (prod.Kind == config.KindASD || prod.Kind == config.KindSpectrogram)
}

// setSkipped records why a product of e is not made.
func setSkipped(e *archive.Entry, prod config.Product, why string) {
	switch {
	case legacy(prod) && prod.Kind == config.KindASD:
		e.ASDSkipped = why
	case legacy(prod):
		e.SpectrogramSkipped = why
	default:
		e.Derived = append(e.Derived, archive.Derived{Name: prod.Name, Kind: prod.Kind, Input: derivedInput(prod), Skipped: why})
	}
}

func derivedInput(prod config.Product) string {
	if prod.Input == config.InputRaw {
		return ""
	}
	return prod.Input
}

// legacyProduct makes the ASD "asd" or the spectrogram "spectrogram" of
// the raw samples x, of any real type, at fs Hz.
func (p *Pipeline) legacyProduct(e *archive.Entry, prod config.Product, x any, fs float64) {
	if prod.Kind == config.KindASD {
		e.ASDParams = prod.Welch()
		a, err := p.proc.ASDOf(x, fs, e.ASDParams)
		if err != nil {
			e.ASDSkipped = err.Error()
		} else {
			e.ASD = a
		}
		return
	}
	e.SpectrogramParams = prod.Welch()
	e.SpectrogramStride = *prod.Stride
	sg, err := p.proc.GWpySpectrogramOf(x, fs, e.SpectrogramStride, e.SpectrogramParams)
	if err != nil {
		e.SpectrogramSkipped = err.Error()
	} else {
		e.Spectrogram = sg
	}
}

// deriveOf makes a product of a chain of in, its input. Spectra read the
// input's samples as they are; the other kinds take them as float64.
func (p *Pipeline) deriveOf(prod config.Product, in *input) archive.Derived {
	fs := in.fs
	d := archive.Derived{Name: prod.Name, Kind: prod.Kind, Input: derivedInput(prod), InputRate: fs}
	var err error
	switch prod.Kind {
	case config.KindASD:
		d.Welch = prod.Welch()
		d.ASD, err = p.proc.ASDOf(in.values, fs, d.Welch)
	case config.KindSpectrogram:
		d.Welch, d.Stride = prod.Welch(), *prod.Stride
		d.Spectrogram, err = p.proc.GWpySpectrogramOf(in.values, fs, d.Stride, d.Welch)
	case config.KindHighpass, config.KindLowpass, config.KindBandpass:
		var sos processor.SOS
		switch prod.Kind {
		case config.KindHighpass:
			d.Filter = processor.FilterParams{Order: prod.Order, Cutoff: prod.Cutoff}
			sos, err = processor.HighpassSOS(fs, d.Filter)
		case config.KindLowpass:
			d.Filter = processor.FilterParams{Order: prod.Order, Cutoff: prod.Cutoff}
			sos, err = processor.LowpassSOS(fs, d.Filter)
		default:
			d.Band = processor.BandParams{Order: prod.Order, Low: prod.Low, High: prod.High}
			sos, err = processor.BandpassSOS(fs, d.Band)
		}
		if err == nil {
			d.PadLen, d.Rate = sos.PadLen(), fs
			d.Values, err = sos.FiltFilt(in.float64s())
		}
	case config.KindResample:
		if d.Resample, err = processor.ResampleTo(fs, prod.Rate); err == nil {
			d.Rate = d.Resample.Rate(fs)
			d.Values, err = processor.Resample(in.float64s(), fs, d.Resample)
		}
	case config.KindTrend:
		d.Stride = *prod.Stride
		d.Trend, err = processor.Trends(in.float64s(), fs, processor.TrendParams{Stride: d.Stride})
	default:
		err = fmt.Errorf("unknown kind %q", prod.Kind)
	}
	if err != nil {
		d.ASD, d.Spectrogram, d.Trend, d.Values = nil, nil, nil, nil
		d.Skipped = err.Error()
	}
	return d
}
