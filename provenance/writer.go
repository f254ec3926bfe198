// Package provenance writes gwwatchd archives from a program of one's
// own: raw time series, the products the program derives from them with
// its own code, each linked to its parent with its parameters, and the
// provenance set on every dataset, as gwwatchd writes its own archives,
// so that gwwatchd inspect, verify, trace and gwpy read them alike.
//
// It is a package of its own rather than archive's Content made public
// because Content is shaped by gwwatchd's pipeline (an Entry per series
// read from one source file, with fields for the ASD and spectrogram of
// the default configuration, ingest's types); a program needs a few
// calls instead. It is not a second writer: a Writer builds an
// archive.Content and writes it through Content.WriteTemp and
// Temp.Commit, the very calls gwwatchd's pipeline writes every archive
// with, so the layout, the PROV-JSON document, the views for gwpy and
// the atomic commit (temp file, fsync, link that never replaces a file,
// directory fsync) are the same code.
//
// A Writer holds one archive: New, then AddSeries for each raw series,
// Derive for each product (of a series or of another product), and
// Write. Record appends the archive's "archived" record to a gwwatchd
// audit log. The products are of the program's own kinds (any name but
// the kinds gwwatchd makes, see archive.KnownKind): gwwatchd verify
// checks their data_sha256 and parent links and says it did not
// recompute them. A Writer is not safe for concurrent use.
package provenance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// Options say who writes an archive, where and when.
type Options struct {
	// Program and Version name the calling program; every dataset's
	// provenance set carries them (program, program_version) beside
	// gwwatchd's version as the writer's, unless Program is "".
	Program, Version string

	Host    string    // "" is os.Hostname
	Created time.Time // when the archive was made; zero is now

	// Source, when the series were read from a file, describes it.
	Source *Source

	// Compression of the datasets; the zero value is none.
	Compression archive.Compression
}

// Source describes the file the series were read from.
type Source struct {
	Path    string
	Size    int64
	ModTime time.Time
	SHA256  string // hex, of the whole file
}

// Series is a raw time series.
type Series struct {
	Channel     string
	Dataset     string  // the name of its /raw dataset; "" is Channel
	T0          float64 // GPS seconds of the first sample
	SampleRate  float64 // Hz
	Unit        string  // as astropy spells it ("ct", "m", "strain")
	Description string
	// Values are the samples: []float64, []float32, []int8, []int16,
	// []int32, []int64, []uint8, []uint16, []uint32, []uint64,
	// []complex64 or []complex128, stored as they are.
	Values any
}

// Product is a dataset a program derived from a series or from another
// product with its own code.
type Product struct {
	Name   string // names its dataset, /processed/<dataset>/<Name>
	Kind   string // what it is ("welch_asd", "whitened"): not one of gwwatchd's kinds
	Step   string // the processing step, for people ("" is Kind)
	Params any    // its parameters, stored as params_json: anything encoding/json encodes
	Values any    // as Series.Values
	Dims   []uint // its shape, for more than one dimension (a spectrogram's times by frequencies)
	Unit   string
	// Axes place the values: T0 and DT for a time series (written with
	// sample_rate 1/DT), F0 and DF for a frequency series, all four for
	// a spectrogram. gwpy reads it as a TimeSeries, FrequencySeries or
	// Spectrogram by which are set.
	Axes archive.Axes
}

// Node is a series or a product added to a Writer, to derive products of.
type Node struct {
	w       *Writer
	entry   int    // index of its series in the content
	name    string // "" for the raw series, else the product's name
	dataset string
}

// Path is the dataset's path in the archive.
func (n *Node) Path() string {
	if n.name == "" {
		return archive.RawPath(n.dataset)
	}
	return archive.ProcessedPath(n.dataset, n.name)
}

// Writer builds one archive.
type Writer struct {
	c      archive.Content
	comp   archive.Compression
	series []*ingest.Series
	names  []map[string]bool // product names of each series
}

// New returns a Writer of an archive made by opts.Program.
func New(opts Options) *Writer {
	host := opts.Host
	if host == "" {
		var err error
		if host, err = os.Hostname(); err != nil {
			host = "unknown"
		}
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC()
	w := &Writer{comp: opts.Compression, c: archive.Content{
		ID:          archive.NewID(),
		Created:     created,
		Host:        host,
		Software:    buildinfo.Get(),
		HDF5:        archive.LibVersion(),
		IngestStart: created,
		IngestEnd:   created,
	}}
	if opts.Program != "" {
		w.c.Program = &archive.Program{Name: opts.Program, Version: opts.Version}
	}
	if s := opts.Source; s != nil {
		w.c.Source = ingest.Source{Path: s.Path, Size: s.Size, ModTime: s.ModTime, SHA256: s.SHA256}
	}
	return w
}

// AddSeries adds a raw series, stored at /raw/<dataset>.
func (w *Writer) AddSeries(s Series) (*Node, error) {
	dt := samples.Of(s.Values)
	switch {
	case !dt.Valid():
		return nil, fmt.Errorf("series %s: values of type %T, not a slice of a supported type", s.Channel, s.Values)
	case samples.Len(s.Values) == 0:
		return nil, fmt.Errorf("series %s: no samples", s.Channel)
	case !(s.SampleRate > 0):
		return nil, fmt.Errorf("series %s: sample rate %g is not positive", s.Channel, s.SampleRate)
	}
	if s.Dataset == "" {
		s.Dataset = s.Channel
	}
	name := archive.DatasetName(s.Dataset)
	for _, o := range w.series {
		if archive.DatasetName(o.Dataset) == name {
			return nil, fmt.Errorf("series %s: a series is stored as /raw/%s already", s.Channel, name)
		}
	}
	obs, desc := ingest.ChannelNameParts(s.Channel)
	is := &ingest.Series{Channel: s.Channel, Dataset: s.Dataset, Unit: s.Unit, Description: s.Description,
		T0: s.T0, SampleRate: s.SampleRate, DType: dt, Values: s.Values, Format: "program", Obs: obs, Desc: desc}
	w.series = append(w.series, is)
	w.names = append(w.names, map[string]bool{})
	w.c.Entries = append(w.c.Entries, archive.Entry{Series: is, ProcessStart: w.c.Created, ProcessEnd: w.c.Created})
	return &Node{w: w, entry: len(w.c.Entries) - 1, dataset: name}, nil
}

// Derive adds a product made of parent, a series or product of w, and
// returns it, to derive further products of.
func (w *Writer) Derive(parent *Node, p Product) (*Node, error) {
	if parent == nil || parent.w != w {
		return nil, fmt.Errorf("product %s: its parent is not of this archive", p.Name)
	}
	if err := checkName(p.Name); err != nil {
		return nil, fmt.Errorf("product %q: %w", p.Name, err)
	}
	names := w.names[parent.entry]
	switch {
	case names[p.Name]:
		return nil, fmt.Errorf("product %q: a product of %s has that name already", p.Name, parent.dataset)
	case p.Kind == "":
		return nil, fmt.Errorf("product %q: no kind", p.Name)
	case archive.KnownKind(p.Kind):
		return nil, fmt.Errorf("product %q: kind %q is one gwwatchd makes, and would recompute its own way; name the kind of your own", p.Name, p.Kind)
	case !samples.Of(p.Values).Valid():
		return nil, fmt.Errorf("product %q: values of type %T, not a slice of a supported type", p.Name, p.Values)
	case samples.Len(p.Values) == 0:
		return nil, fmt.Errorf("product %q: no values", p.Name)
	}
	if len(p.Dims) > 0 {
		n := 1
		for _, d := range p.Dims {
			n *= int(d)
		}
		if n != samples.Len(p.Values) {
			return nil, fmt.Errorf("product %q: shape %v holds %d values, not the %d given", p.Name, p.Dims, n, samples.Len(p.Values))
		}
	}
	names[p.Name] = true
	e := &w.c.Entries[parent.entry]
	e.Derived = append(e.Derived, archive.Derived{Name: p.Name, Kind: p.Kind, Input: parent.name,
		Own: &archive.Own{Step: p.Step, Params: p.Params, Values: p.Values, Dims: p.Dims, Unit: p.Unit, Axes: p.Axes}})
	return &Node{w: w, entry: parent.entry, name: p.Name, dataset: parent.dataset}, nil
}

// checkName says why a product name cannot name a dataset that reads
// back as that one product (see archive's package doc on versions).
func checkName(name string) error {
	switch {
	case name == "" || archive.DatasetName(name) != name:
		return errors.New("not a dataset name")
	case strings.ContainsAny(name, archive.VersionSep+"."):
		return fmt.Errorf("holds %q or %q", archive.VersionSep, ".")
	case layout.ASDSuffix(name) != "" || strings.HasSuffix(name, archive.SkippedSuffix):
		return fmt.Errorf("ends in %s, %s or %s", layout.ValuesSuffix, layout.FrequenciesSuffix, archive.SkippedSuffix)
	case name == archive.ProductASD || name == archive.ProductSpectrogram:
		return errors.New("the name of gwwatchd's own product")
	}
	return nil
}

// RelPath renders a gwwatchd archive layout (archive.layout in the
// configuration, see package archive/layout) for the archive: its path
// below an archive root, the first series giving the channel and times.
func (w *Writer) RelPath(layout string) (string, error) { return w.c.RelPath(layout) }

// Written is an archive written, as Write returns it.
type Written = archive.Written

// Write writes the archive atomically at path: it is visible there whole
// or not at all, and never replaces a file. When a file is at path, the
// archive takes the next free name as gwwatchd's do (a LIGO-T010150 name
// K-DESC-START-DUR.h5 becomes K-DESC_2-START-DUR.h5, any other x_2.h5);
// when that file holds the same content, nothing is written and the
// error is an *archive.DuplicateError. Written.Path is where it went.
func (w *Writer) Write(path string) (*Written, error) {
	return w.WriteBelow(filepath.Dir(path), filepath.Base(path))
}

// WriteBelow writes the archive as Write does at rel below root, which
// it creates if need be; rel is a path RelPath gives, or any local path.
func (w *Writer) WriteBelow(root, rel string) (*Written, error) {
	if len(w.c.Entries) == 0 {
		return nil, errors.New("no series to archive")
	}
	if why := archive.CheckName(rel); why != "" {
		return nil, errors.New(why)
	}
	w.c.Key = archive.ContentKey(w.c.Source, w.series)
	t, err := w.c.WriteTemp(root, rel, w.comp)
	if err != nil {
		return nil, err
	}
	defer t.Discard()
	return t.Commit()
}

// Appender is where Record appends: an *audit.Log.
type Appender interface {
	Append(audit.Event) (audit.Record, error)
}

// Record appends the "archived" record of the archive w wrote as written
// to log, so that gwwatchd trace and audit verify --archives know it.
func (w *Writer) Record(log Appender, written *Written) (audit.Record, error) {
	abs, err := filepath.Abs(written.Path)
	if err != nil {
		return audit.Record{}, err
	}
	src := w.c.Source
	rec := audit.Archived{
		Source:      audit.Source{SourcePath: src.Path, SourceSize: src.Size, SourceMtime: src.ModTime, SourceSHA256: src.SHA256},
		ArchivePath: abs, ContentKey: w.c.Key, ArchiveSHA256: written.SHA256, ArchiveSize: written.Size,
		ArchiveID: w.c.ID, Version: w.c.Software.Version, Revision: w.c.Software.PipelineVersion(),
	}
	var skipped map[string]string
	rec.Datasets, rec.Products, skipped = w.c.Paths()
	if len(skipped) > 0 {
		rec.Skipped = skipped
	}
	return log.Append(rec)
}
