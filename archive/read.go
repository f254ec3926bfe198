package archive

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/h5"
)

// Archive is an archive read back: what its root says of it, its raw
// series, the products made of them, its views for gwpy, and any other
// dataset it holds. It is the one reader of the archive layout: verify,
// inspect, plot and the pipeline read archives through it and never look
// a dataset or attribute up by name.
//
// Open reads the attributes of every dataset but the values of none; each
// dataset's values are read when asked for (Object.Load), so that a long
// series is in memory only while it is used. An Archive is not safe for
// concurrent use.
type Archive struct {
	Path string // the file Open read; "" for FromDoc

	Format        string // Format for one of gwwatchd's archives
	FormatVersion int64
	ID            string // archive_id: names the archive in the audit log
	ContentKey    string // see ContentKey; "" in archives made before content keys
	Source        File   // the source file archived
	Sidecar       *File  // its sidecar, if it had one
	Provenance    Provenance
	ProvJSON      string // the W3C PROV-JSON document of the whole lineage

	Series   []*Series  // the raw series, in the order stored
	Products []*Product // every product, in dependency order (see Open)
	Views    []*View    // the views for gwpy
	Others   []*Object  // datasets that are none of the above

	attrs   []Attr
	objects []*Object // every dataset, in the order stored
	byPath  map[string]*Object
	file    os.FileInfo // what Open found at Path, for Load
}

// File is a file an archive was made of, as the archive records it.
type File struct {
	Path    string
	Size    int64     // bytes; 0 where the archive does not say
	ModTime time.Time // zero where the archive does not say (sidecars)
	SHA256  string    // hex
}

// Provenance says which software made an archive or one of its datasets,
// on which host and when: the provenance set of attributes.
type Provenance struct {
	Version         string // of gwwatchd
	PipelineVersion string // the VCS revision, "-dirty" when built from a modified tree
	GoVersion       string
	HDF5Version     string
	GonumVersion    string
	Host            string
	Created         time.Time

	// Program and ProgramVersion name the program that wrote the
	// archive with gwwatchd's writer (Content.Program); "" for gwwatchd.
	Program, ProgramVersion string
}

// attrs are the provenance set as written.
func (p Provenance) attrs() []Attr {
	a := []Attr{
		{Name: attrVersion, Value: p.Version},
		{Name: attrPipelineVersion, Value: p.PipelineVersion},
		{Name: attrGoVersion, Value: p.GoVersion},
		{Name: attrHDF5Version, Value: p.HDF5Version},
		{Name: attrGonumVersion, Value: p.GonumVersion},
		{Name: attrHostname, Value: p.Host},
		{Name: attrCreated, Value: p.Created.UTC().Format(time.RFC3339Nano)},
	}
	if p.Program != "" {
		a = append(a, Attr{Name: attrProgram, Value: p.Program}, Attr{Name: attrProgramVersion, Value: p.ProgramVersion})
	}
	return a
}

func provenanceOf(attrs []Attr) Provenance {
	return Provenance{
		Version:         str(attrs, attrVersion),
		PipelineVersion: str(attrs, attrPipelineVersion),
		GoVersion:       str(attrs, attrGoVersion),
		HDF5Version:     str(attrs, attrHDF5Version),
		GonumVersion:    str(attrs, attrGonumVersion),
		Host:            str(attrs, attrHostname),
		Created:         timeAttr(attrs, attrCreated),
		Program:         str(attrs, attrProgram),
		ProgramVersion:  str(attrs, attrProgramVersion),
	}
}

// Object is what every dataset of an archive has: its path, shape and
// stored type, the SHA-256 of its values and the provenance it records.
// Series, Product and View add what their kind records.
type Object struct {
	Path       string
	Shape      []uint
	DType      string // of the values as stored: "float64", "int16", "complex128", ...
	DataSHA256 string // as recorded (see DataSHA256); "" where none is
	Provenance Provenance

	archive  *Archive
	attrs    []Attr
	virtual  string // the dataset a view maps
	data     any    // the values, for an archive held in memory
	inMemory bool
}

// Load reads the dataset's values: a slice of its stored type ([]int16,
// []float64, ...), row-major for more than one dimension, read afresh on
// each call; nil for a view, whose values are those of the dataset it
// maps. It fails when the file at the archive's path is no longer the one
// Open read.
func (o *Object) Load() (any, error) {
	if o.virtual != "" {
		return nil, nil
	}
	if o.inMemory {
		return o.data, nil
	}
	return o.archive.load(o.Path)
}

// Float64s reads the values of a dataset stored as float64, as Load does.
func (o *Object) Float64s() ([]float64, error) {
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

// Series is a raw series: the samples of one channel as read from the
// source, at /raw/<Name>.
type Series struct {
	*Object
	Name        string // the dataset name
	Channel     string
	T0          float64 // GPS seconds of the first sample
	DT          float64 // seconds from one sample to the next
	SampleRate  float64 // Hz
	Unit        string  // as astropy parses it (see ArchiveUnit)
	UnitSource  string  // the source's own spelling of the unit, when it is another
	Description string
	Params      SeriesParams
	ParamsErr   error // why params_json could not be read; Params is then zero

	// Skipped says, for each product the archive explains the absence
	// of, by name ("asd", "spectrogram", or a chain product's), why it
	// was not made.
	Skipped map[string]string

	// Products are the products made of the series directly, in
	// dependency order.
	Products []*Product
}

// Product returns the product of a kind (ProductASD, ...) made of the
// series directly, or nil: of those, the latest version of the one named
// as the ASD and the spectrogram of the raw series are ("asd" for
// ProductASD and ProductFrequencies, "spectrogram"), else the first.
func (s *Series) Product(kind string) *Product {
	name := kind
	if kind == ProductFrequencies {
		name = ProductASD
	}
	var first, named *Product
	for _, p := range s.Products {
		switch {
		case p.Kind != kind:
		case p.Name == name && (named == nil || p.Version > named.Version):
			named = p
		case first == nil:
			first = p
		}
	}
	if named != nil {
		return named
	}
	return first
}

// Product is a dataset derived from another dataset of the archive, its
// parent: the ASD values and frequencies and the spectrogram of a raw
// series, and the products of a processing chain (filters, resamplings,
// trends, ASDs and spectrograms of those), which may be made of another
// product, so that lineage can be of any depth; Archive.Products lists
// each after its parent.
type Product struct {
	*Object
	Kind   string // ProductASD, ProductFrequencies, ProductSpectrogram, ProductBandpass, ..., as recorded
	Parent string // path of the dataset it was made of: a raw series or a product
	Step   string // the processing step, for people

	// Dataset is the raw dataset whose products it is among (the
	// <dataset> of /processed/<dataset>), Name the product's name as
	// configured ("asd" for the ASD of the raw series as archives before
	// chains store it, "bp" for a chain's), and Version which product of
	// that name it is: 1 for the first, 2 for the one stored as bp@2, and
	// so on (see VersionSep).
	Dataset string
	Name    string
	Version int

	// The params_json, typed by Kind: Params for an ASD, its frequencies
	// and a spectrogram, Filter for a highpass, lowpass or bandpass,
	// Resample for a resampling and Trend for a trend statistic; the
	// others are zero or nil.
	Params    WelchParams
	Filter    *FilterParams
	Resample  *ResampleParams
	Trend     *TrendParams
	OwnParams any   // of a kind gwwatchd does not make (KnownKind), as encoding/json decodes it
	ParamsErr error // why params_json could not be read

	Unit string // of the values
	// Quantity is what the values are: of a spectrogram "asd" or "psd",
	// of a trend the statistic (one of TrendStats).
	Quantity   string
	SampleRate float64 // of a filtered or resampled series, Hz
	Axes       Axes
}

// Axes place a product's values: its frequencies, for a spectrogram the
// times of its rows, for a time series or trend the times of its samples;
// Object.Shape gives their number.
type Axes struct {
	T0, DT float64 // start of the first row or sample and the step from one to the next, seconds
	F0, DF float64 // the first frequency and the step, Hz
}

// View is a view for gwpy (see ViewPath): a virtual dataset below
// GWpyGroup that maps one whole dataset of the archive, with only the
// attributes gwpy's classes take.
type View struct {
	*Object
	Kind string // ViewTimeSeries, ViewASD or ViewSpectrogram; "" when the path is no view's
	Name string // the dataset name of the series it is a view of
	Leaf string // for ViewProducts, the dataset below /processed/<Name> it is a view of
	Of   string // the path of the dataset it maps
}

// Open reads an archive: the attributes of the file and of each dataset,
// none of the values. Any HDF5 file Read can read opens; only one whose
// Format is Format is one of gwwatchd's archives, and callers that need
// one check it. A virtual dataset is a view, one with a string "product"
// attribute a product, another below /raw a raw series, and the rest are
// Others.
func Open(path string) (*Archive, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	doc, err := h5.Select(path, h5.ReadOptions{})
	if err != nil {
		return nil, err
	}
	a := build(doc, false)
	a.Path, a.file = path, fi
	return a, nil
}

// FromDoc gives the read model of an archive document in memory, such as
// Content.Doc makes: what Open would give of the file it is written to,
// with the values at hand.
func FromDoc(doc *Doc) *Archive { return build(doc, true) }

// Objects returns every dataset of the archive, in the order stored:
// name order, for a file read by Open.
func (a *Archive) Objects() []*Object { return a.objects }

// Object returns the dataset at path, or nil.
func (a *Archive) Object(path string) *Object { return a.byPath[path] }

func build(doc *Doc, inMemory bool) *Archive {
	attrs := doc.Attrs
	a := &Archive{
		Format:        str(attrs, attrFormat),
		FormatVersion: integer(attrs, attrFormatVersion),
		ID:            str(attrs, attrArchiveID),
		ContentKey:    str(attrs, attrContentKey),
		Source: File{
			Path:    str(attrs, attrSourcePath),
			Size:    integer(attrs, attrSourceSize),
			ModTime: timeAttr(attrs, attrSourceMtime),
			SHA256:  str(attrs, attrSourceSHA256),
		},
		Provenance: provenanceOf(attrs),
		ProvJSON:   str(attrs, attrProvJSON),
		attrs:      attrs,
		byPath:     make(map[string]*Object, len(doc.Datasets)),
	}
	if p := str(attrs, attrSidecarPath); p != "" {
		a.Sidecar = &File{Path: p, SHA256: str(attrs, attrSidecarSHA256), Size: sidecarSize(a.ProvJSON)}
	}
	var products []*Product
	for i := range doc.Datasets {
		d := &doc.Datasets[i]
		o := &Object{Path: d.Path, Shape: d.Dims, DType: dtypeOf(d), DataSHA256: str(d.Attrs, attrDataSHA256),
			Provenance: provenanceOf(d.Attrs), archive: a, attrs: d.Attrs, virtual: d.Virtual, data: d.Data, inMemory: inMemory}
		a.objects = append(a.objects, o)
		if _, dup := a.byPath[o.Path]; !dup {
			a.byPath[o.Path] = o
		}
		_, isProduct := d.Attr(attrProduct).(string)
		name, isRaw := rawName(d.Path)
		switch {
		case d.Virtual != "":
			a.Views = append(a.Views, newView(o))
		case isProduct:
			products = append(products, newProduct(o))
		case isRaw:
			a.Series = append(a.Series, newSeries(o, name))
		default:
			a.Others = append(a.Others, o)
		}
	}
	a.Products = dependencyOrder(products)
	series := make(map[string]*Series, len(a.Series))
	for _, s := range a.Series {
		series[s.Path] = s
	}
	for _, p := range a.Products {
		if s := series[p.Parent]; s != nil {
			s.Products = append(s.Products, p)
		}
	}
	return a
}

func newSeries(o *Object, name string) *Series {
	s := &Series{
		Object:      o,
		Name:        name,
		Channel:     str(o.attrs, attrChannel),
		T0:          number(o.attrs, attrT0),
		DT:          number(o.attrs, attrDT),
		SampleRate:  number(o.attrs, attrSampleRate),
		Unit:        str(o.attrs, attrUnit),
		UnitSource:  str(o.attrs, attrUnitSource),
		Description: str(o.attrs, attrDescription),
		Skipped:     map[string]string{},
	}
	s.ParamsErr = json.Unmarshal([]byte(str(o.attrs, attrParamsJSON)), &s.Params)
	for _, at := range o.attrs {
		why, isStr := at.Value.(string)
		if name, ok := strings.CutSuffix(at.Name, SkippedSuffix); ok && isStr && why != "" {
			s.Skipped[name] = why
		}
	}
	return s
}

func newProduct(o *Object) *Product {
	p := &Product{
		Object:     o,
		Kind:       str(o.attrs, attrProduct),
		Parent:     str(o.attrs, attrParent),
		Step:       str(o.attrs, attrStep),
		Unit:       str(o.attrs, attrUnit),
		Quantity:   str(o.attrs, attrValues),
		SampleRate: number(o.attrs, attrSampleRate),
		Axes: Axes{
			T0: number(o.attrs, attrT0), DT: number(o.attrs, attrDT),
			F0: number(o.attrs, attrF0), DF: number(o.attrs, attrDF),
		},
	}
	p.Dataset, p.Name, p.Version = productName(p.Path, p.Kind)
	var into any = &p.Params
	switch p.Kind {
	case ProductHighpass, ProductLowpass, ProductBandpass:
		p.Filter = &FilterParams{}
		into = p.Filter
	case ProductResample:
		p.Resample = &ResampleParams{}
		into = p.Resample
	case ProductTrend:
		p.Trend = &TrendParams{}
		into = p.Trend
	default:
		if !KnownKind(p.Kind) {
			into = &p.OwnParams
		}
	}
	p.ParamsErr = json.Unmarshal([]byte(str(o.attrs, attrParamsJSON)), into)
	return p
}

func newView(o *Object) *View {
	v := &View{Object: o, Of: o.virtual}
	rest, ok := strings.CutPrefix(o.Path, GWpyGroup+"/")
	if kind, name, ok2 := strings.Cut(rest, "/"); ok && ok2 {
		v.Kind, v.Name = kind, name
		if kind == ViewProducts {
			v.Name, v.Leaf, _ = strings.Cut(name, "/")
		}
	}
	return v
}

// dependencyOrder orders products so that each comes after the product
// it was made of, and otherwise as given. A cycle of parent links, which
// no writer makes, leaves its products as given.
func dependencyOrder(ps []*Product) []*Product {
	byPath := make(map[string]*Product, len(ps))
	for _, p := range ps {
		if _, dup := byPath[p.Path]; !dup {
			byPath[p.Path] = p
		}
	}
	out := make([]*Product, 0, len(ps))
	placed := make(map[*Product]bool, len(ps))
	for _, p := range ps {
		// p and its ancestors not yet placed, the oldest last.
		var chain []*Product
		for q := p; q != nil && !placed[q]; q = byPath[q.Parent] {
			placed[q] = true
			chain = append(chain, q)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			out = append(out, chain[i])
		}
	}
	return out
}

// load reads the values of the dataset at path from the archive's file.
func (a *Archive) load(path string) (any, error) {
	fi, err := os.Stat(a.Path)
	if err != nil {
		return nil, err
	}
	if !os.SameFile(fi, a.file) || fi.Size() != a.file.Size() || !fi.ModTime().Equal(a.file.ModTime()) {
		return nil, fmt.Errorf("%s: changed since it was opened", a.Path)
	}
	d, err := h5.ReadDataset(a.Path, path)
	if err != nil {
		return nil, err
	}
	return d.Data, nil
}

// dtypeOf names the stored type of a dataset as Go names its values'
// slice element: from the values when at hand, else from the stored type.
func dtypeOf(d *Dataset) string {
	if d.Data != nil || d.Info == nil {
		return strings.TrimPrefix(fmt.Sprintf("%T", d.Data), "[]")
	}
	switch in := d.Info; in.Class {
	case "integer":
		if in.Signed {
			return fmt.Sprintf("int%d", 8*in.Size)
		}
		return fmt.Sprintf("uint%d", 8*in.Size)
	case "float", "complex":
		return fmt.Sprintf("%s%d", in.Class, 8*in.Size)
	default:
		return in.Class
	}
}

// sidecarSize is the size of the sidecar the PROV-JSON document of an
// archive records, or 0.
func sidecarSize(provJSON string) int64 {
	var doc struct {
		Entity struct {
			Sidecar struct {
				Size int64 `json:"gw:size"`
			} `json:"gw:sidecar"`
		} `json:"entity"`
	}
	if json.Unmarshal([]byte(provJSON), &doc) != nil {
		return 0
	}
	return doc.Entity.Sidecar.Size
}

func str(attrs []Attr, name string) string {
	s, _ := h5.FindAttr(attrs, name).(string)
	return s
}

func number(attrs []Attr, name string) float64 {
	f, _ := h5.FindAttr(attrs, name).(float64)
	return f
}

func integer(attrs []Attr, name string) int64 {
	n, _ := h5.FindAttr(attrs, name).(int64)
	return n
}

func timeAttr(attrs []Attr, name string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(attrs, name))
	return t
}

// InputRefusal says why an HDF5 file with these root attributes is not
// taken as input, or "" when it may be: one of gwwatchd's own archives is
// not archived again. The pipeline gives it to ingest
// (ingest.Options.RefuseHDF5), which asks it before it reads anything
// else of a file.
func InputRefusal(root map[string]any) string {
	if f, _ := root[attrFormat].(string); f != Format {
		return ""
	}
	// The archive_id is of gwwatchd's own making; anything else in its
	// place is not quoted.
	id, _ := root[attrArchiveID].(string)
	if !archiveIDRe.MatchString(id) {
		id = ingest.Describe(id)
	}
	return fmt.Sprintf("already a gwwatchd archive (archive_id %s): archives are not archived again", id)
}

var archiveIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
