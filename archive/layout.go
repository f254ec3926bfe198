package archive

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/processor"
)

// Format and FormatVersion identify the archive layout written here.
const (
	Format        = "gwwatchd-archive"
	FormatVersion = int64(1)
)

// Product names, as stored in each product's "product" attribute.
const (
	ProductASD         = "asd"
	ProductFrequencies = "asd_frequencies"
	ProductSpectrogram = "spectrogram"
)

// Content is everything that goes into one archive: the series read from
// one source and the products derived from them.
type Content struct {
	ID       string // archive_id: names this archive in the audit log
	Key      string // content_key (see ContentKey); "" stores none
	Source   ingest.Source
	Entries  []Entry
	Created  time.Time // when the archive was made, UTC
	Host     string
	Software buildinfo.Info
	HDF5     string // libhdf5 version

	// Program is the program that writes the archive through gwwatchd's
	// writer when that is not gwwatchd (see package provenance): it is
	// named in the provenance set of every dataset, beside gwwatchd's
	// version as the writer's, and in the PROV agent.
	Program *Program

	IngestStart, IngestEnd time.Time
}

// Entry is one series and its products. A product that could not be made
// is nil, with the reason in its Skipped field.
type Entry struct {
	Series    *ingest.Series
	RawSHA256 string // data_sha256 of Series.Values, when already computed

	ASD        *processor.ASD
	ASDParams  processor.Params
	ASDSkipped string

	Spectrogram        *processor.Spectrogram
	SpectrogramParams  processor.Params
	SpectrogramStride  float64
	SpectrogramSkipped string

	// Derived are the other products of the processing chain, each
	// after the one it is made of.
	Derived []Derived

	ProcessStart, ProcessEnd time.Time
}

// Drop lets go of the values of the entry's products, once a Writer
// added the entry: what Paths, the PROV document and the views take of
// them stays. The series' own samples are the caller's to let go of.
func (e *Entry) Drop() {
	if e.ASD != nil {
		e.ASD.Values = nil
	}
	if e.Spectrogram != nil {
		e.Spectrogram.Values = nil
	}
	for i := range e.Derived {
		d := &e.Derived[i]
		if d.Values != nil {
			d.Values, d.dropped = nil, true
		}
		if d.ASD != nil {
			d.ASD.Values = nil
		}
		if d.Spectrogram != nil {
			d.Spectrogram.Values = nil
		}
	}
}

// NewID returns a new random archive_id: 32 hex digits.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// DatasetName makes a dataset name safe as one HDF5 path element.
func DatasetName(s string) string {
	s = strings.ReplaceAll(s, "/", "_")
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

// RelPath renders an archive layout (see package layout) for this
// content: the path of the archive below the archive root.
func (c *Content) RelPath(tmpl string) (string, error) {
	if len(c.Entries) == 0 {
		return "", fmt.Errorf("no series to archive")
	}
	s := c.Entries[0].Series
	gps := int64(math.Floor(s.T0))
	gpsStr := strconv.FormatInt(gps, 10)
	gps5 := gpsStr
	if len(gps5) > 5 {
		gps5 = gps5[:5]
	}
	values := map[string]string{
		"obs":     s.Obs,
		"desc":    s.Desc,
		"gps":     gpsStr,
		"gps5":    gps5,
		"dur":     strconv.FormatInt(int64(math.Ceil(s.T0+s.Duration()-float64(gps)-1e-9)), 10),
		"channel": s.Channel,
		"dataset": s.Dataset,
		"sha8":    c.Source.SHA256[:min(8, len(c.Source.SHA256))],
	}
	return layout.Render(tmpl, values)
}

// Paths lists what the content is archived as, series by series: the raw
// datasets, the products made, and for each product not made, why.
func (c *Content) Paths() (raw, products []string, skipped map[string]string) {
	skipped = map[string]string{}
	for i := range c.Entries {
		e := &c.Entries[i]
		name := DatasetName(e.Series.Dataset)
		raw = append(raw, RawPath(name))
		if e.ASD != nil {
			products = append(products, productPath(name, ProductASD), productPath(name, ProductFrequencies))
		} else if e.ASDSkipped != "" {
			skipped[productPath(name, ProductASD)] = e.ASDSkipped
		}
		if e.Spectrogram != nil {
			products = append(products, productPath(name, ProductSpectrogram))
		} else if e.SpectrogramSkipped != "" {
			skipped[productPath(name, ProductSpectrogram)] = e.SpectrogramSkipped
		}
		products = derivedPaths(e, name, products, skipped)
	}
	return raw, products, skipped
}

// reserved are the attribute names of a raw dataset that what a source
// says of a series (ingest.Series.Extra) may not take.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{attrT0, attrDT, attrSampleRate, attrUnit, attrName, attrChannel, attrUnitSource,
		attrX0, attrDX, attrXUnit, attrDescription, attrDataSHA256, attrParamsJSON} {
		m[n] = true
	}
	for _, kind := range skippedKinds {
		m[skippedAttr(kind)] = true
	}
	for _, n := range slices.Concat(provenanceNames, []string{attrProgram, attrProgramVersion}) {
		m[n] = true
	}
	return m
}()

// Doc lays the content out as an archive document, values and all: what
// a Writer writes of it.
func (c *Content) Doc() (*Doc, error) {
	doc := &Doc{}
	seen := map[string]bool{}
	for i := range c.Entries {
		ds, err := c.datasetsOf(&c.Entries[i], seen)
		if err != nil {
			return nil, err
		}
		doc.Datasets = append(doc.Datasets, ds...)
	}
	doc.Datasets = append(doc.Datasets, c.views(doc, seen)...)
	var err error
	if doc.Attrs, err = c.rootAttrs(); err != nil {
		return nil, err
	}
	return doc, nil
}

// datasetsOf lays out the datasets of one entry, whose dataset name must
// not be in seen, the names of the entries laid out before it; it adds it
// there. The raw hash goes into both the datasets and the PROV document,
// and hashing a long series is not free: it is kept in e.RawSHA256.
func (c *Content) datasetsOf(e *Entry, seen map[string]bool) ([]Dataset, error) {
	name := DatasetName(e.Series.Dataset)
	if seen[name] {
		return nil, fmt.Errorf("two series with dataset name %q", name)
	}
	seen[name] = true
	if e.RawSHA256 == "" {
		e.RawSHA256 = DataSHA256(e.Series.Values)
	}
	return c.entryDatasets(e, name, e.RawSHA256)
}

// views are the views for gwpy of the series named in names, whose
// datasets doc holds: they come last, as each maps a dataset written
// before it.
func (c *Content) views(doc *Doc, names map[string]bool) []Dataset {
	var vs []Dataset
	for name := range names {
		vs = append(vs, views(doc, name)...)
	}
	slices.SortFunc(vs, func(a, b Dataset) int { return strings.Compare(a.Path, b.Path) })
	return vs
}

// rootAttrs are the root attributes of the archive, once every entry's
// RawSHA256 is known.
func (c *Content) rootAttrs() ([]Attr, error) {
	rawSHA := make([]string, len(c.Entries))
	for i := range c.Entries {
		rawSHA[i] = c.Entries[i].RawSHA256
	}
	prov, err := c.provJSON(rawSHA)
	if err != nil {
		return nil, err
	}
	attrs := []Attr{
		{Name: attrFormat, Value: Format},
		{Name: attrFormatVersion, Value: FormatVersion},
		{Name: attrArchiveID, Value: c.ID},
		{Name: attrSourcePath, Value: c.Source.Path},
		{Name: attrSourceSHA256, Value: c.Source.SHA256},
		{Name: attrSourceSize, Value: c.Source.Size},
		{Name: attrSourceMtime, Value: c.Source.ModTime.UTC().Format(time.RFC3339Nano)},
		{Name: attrProvJSON, Value: prov},
	}
	if c.Key != "" {
		attrs = append(attrs, Attr{Name: attrContentKey, Value: c.Key})
	}
	if sc := c.Source.Sidecar; sc != nil {
		attrs = append(attrs, Attr{Name: attrSidecarPath, Value: sc.Path}, Attr{Name: attrSidecarSHA256, Value: sc.SHA256})
	}
	return append(attrs, c.provenance().attrs()...), nil
}

// Program names a program, not gwwatchd, that writes archives.
type Program struct {
	Name, Version string
}

// provenance is the provenance set carried by the archive and every
// dataset: which software, where and when.
func (c *Content) provenance() Provenance {
	p := madeBy(c.Software, c.HDF5, c.Host, c.Created)
	if c.Program != nil {
		p.Program, p.ProgramVersion = c.Program.Name, c.Program.Version
	}
	return p
}

// madeBy is the provenance set of what this software, with this libhdf5,
// made on host at created.
func madeBy(sw buildinfo.Info, hdf5, host string, created time.Time) Provenance {
	return Provenance{
		Version:         sw.Version,
		PipelineVersion: sw.PipelineVersion(),
		GoVersion:       sw.GoVersion,
		HDF5Version:     hdf5,
		GonumVersion:    sw.Gonum,
		Host:            host,
		Created:         created,
	}
}

func (c *Content) entryDatasets(e *Entry, name, rawSHA string) ([]Dataset, error) {
	s := e.Series
	raw := RawPath(name)
	dt := 1 / s.SampleRate
	unit := ArchiveUnit(s.Unit)
	pj, err := marshal(seriesParams(s, name, unit))
	if err != nil {
		return nil, err
	}
	prov := c.provenance().attrs()
	rawAttrs := []Attr{
		{Name: attrT0, Value: s.T0},
		{Name: attrDT, Value: dt},
		{Name: attrSampleRate, Value: s.SampleRate},
		{Name: attrUnit, Value: unit},
		{Name: attrName, Value: name},
		{Name: attrChannel, Value: s.Channel},
		{Name: attrX0, Value: s.T0},
		{Name: attrDX, Value: dt},
		{Name: attrXUnit, Value: "s"},
		{Name: attrDescription, Value: s.Description},
		{Name: attrDataSHA256, Value: rawSHA},
		{Name: attrParamsJSON, Value: pj},
	}
	if s.Unit != unit {
		rawAttrs = append(rawAttrs, Attr{Name: attrUnitSource, Value: s.Unit})
	}
	why := map[string]string{ProductASD: e.ASDSkipped, ProductSpectrogram: e.SpectrogramSkipped}
	for _, kind := range skippedKinds {
		if why[kind] != "" {
			rawAttrs = append(rawAttrs, Attr{Name: skippedAttr(kind), Value: why[kind]})
		}
	}
	rawAttrs = append(rawAttrs, derivedSkips(e)...)
	for _, k := range slices.Sorted(maps.Keys(s.Extra)) {
		if reserved[k] || isDerivedSkip(e, k) {
			continue // never shadow the archive's own attributes
		}
		rawAttrs = append(rawAttrs, Attr{Name: k, Value: s.Extra[k]})
	}
	rawAttrs = append(rawAttrs, prov...)
	var dims []uint
	for _, n := range s.Shape {
		dims = append(dims, uint(n))
	}
	out := []Dataset{{Path: raw, Data: s.Values, Dims: dims, Attrs: rawAttrs}}

	// product is the dataset of a product of the raw series.
	product := func(kind, step string, params WelchParams, values []float64, dims []uint, attrs ...Attr) (Dataset, error) {
		pj, err := marshal(params)
		if err != nil {
			return Dataset{}, err
		}
		a := []Attr{
			{Name: attrProduct, Value: kind},
			{Name: attrParent, Value: raw},
			{Name: attrStep, Value: step},
			{Name: attrParamsJSON, Value: pj},
		}
		a = append(append(append(a, attrs...), Attr{Name: attrDataSHA256, Value: DataSHA256(values)}), prov...)
		return Dataset{Path: productPath(name, kind), Data: values, Dims: dims, Attrs: a}, nil
	}
	asdUnit := DensityUnit(unit)
	if a := e.ASD; a != nil {
		params := welchParams(e.ASDParams, s.SampleRate, a.NFFT, a.NOverlap, a.Segments, 0)
		step := "ASD via Welch/" + e.ASDParams.Method
		axis := []Attr{{Name: attrF0, Value: a.F0}, {Name: attrDF, Value: a.DF}}
		vals, err := product(ProductASD, step, params, a.Values, nil, append(axis, Attr{Name: attrUnit, Value: asdUnit})...)
		if err != nil {
			return nil, err
		}
		freqs, err := product(ProductFrequencies, step, params, a.Frequencies(), nil, append(axis, Attr{Name: attrUnit, Value: "Hz"})...)
		if err != nil {
			return nil, err
		}
		out = append(out, vals, freqs)
	}
	if sg := e.Spectrogram; sg != nil {
		params := welchParams(e.SpectrogramParams, s.SampleRate, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, e.SpectrogramStride)
		step, values, sgUnit := "Spectrogram of ASD via Welch/"+e.SpectrogramParams.Method, "asd", asdUnit
		if sg.PSD {
			params.Chunks, params.Values = ChunksGWpy, "psd"
			step, values, sgUnit = "Spectrogram of PSD via Welch/"+e.SpectrogramParams.Method+", in gwpy's chunks", "psd", PowerDensityUnit(unit)
		}
		d, err := product(ProductSpectrogram, step, params, sg.Values, []uint{uint(sg.Times), uint(sg.Freqs)},
			Attr{Name: attrValues, Value: values},
			Attr{Name: attrUnit, Value: sgUnit},
			Attr{Name: attrT0, Value: s.T0},
			Attr{Name: attrDT, Value: sg.DT},
			Attr{Name: attrF0, Value: sg.F0},
			Attr{Name: attrDF, Value: sg.DF})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	chain, err := derivedDatasets(e, name, s.T0, unit, prov)
	if err != nil {
		return nil, err
	}
	return append(out, chain...), nil
}

// PowerDensityUnit is the unit of a power spectral density of data in
// unit (an archive unit): every factor squared, over Hz, as astropy
// parses it ("ct" gives "ct2 / Hz", "m / s" gives "m2 / s2 / Hz").
func PowerDensityUnit(unit string) string {
	if unit == "" || unit == "dimensionless" {
		return "1 / Hz"
	}
	var out []string
	for _, tok := range strings.Fields(unit) {
		if tok == "/" {
			out = append(out, tok)
			continue
		}
		m := factorRe.FindStringSubmatch(tok)
		if m == nil {
			return "(" + unit + ")2 / Hz" // not a unit ArchiveUnit makes
		}
		num, den := 1, 1
		if m[2] != "" {
			num, _ = strconv.Atoi(m[2])
		}
		if m[3] != "" {
			num, _ = strconv.Atoi(m[3])
			den, _ = strconv.Atoi(m[4])
		}
		num *= 2
		if g := gcd(abs(num), den); g > 1 {
			num, den = num/g, den/g
		}
		switch {
		case den != 1:
			out = append(out, fmt.Sprintf("%s(%d/%d)", m[1], num, den))
		case num == 1:
			out = append(out, m[1])
		default:
			out = append(out, m[1]+strconv.Itoa(num))
		}
	}
	if out[0] == "1" {
		return "1 / (" + strings.Join(out[2:], " ") + " Hz)"
	}
	return strings.Join(out, " ") + " / Hz"
}

// factorRe is one factor of an astropy unit: a name and an exponent, as
// in "m", "s-1", "Hz(1/2)".
var factorRe = regexp.MustCompile(`^([A-Za-zµΩ_]+|1)(?:(-?\d+)|\((-?\d+)/(\d+)\))?$`)

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// DensityUnit is the unit of an amplitude spectral density of data in unit.
// unit is an archive unit (see ArchiveUnit); "dimensionless" is taken as
// "", as archives written before ArchiveUnit stored it.
func DensityUnit(unit string) string {
	switch unit {
	case "", "dimensionless":
		return "1 / Hz(1/2)"
	}
	// astropy reads "/" from the left, so "m / s / Hz(1/2)" is
	// m / (s Hz(1/2)) as wanted; it refuses parentheses around a quotient
	// and "1 / a / b", but takes "1 / (a b)".
	if rest, ok := strings.CutPrefix(unit, "1 / "); ok && !strings.Contains(strings.ReplaceAll(rest, "(1/2)", ""), "/") {
		return "1 / (" + rest + " Hz(1/2))"
	}
	return unit + " / Hz(1/2)"
}

// provActivity is the PROV type (after "gw:") of the activity that makes
// a product of a kind.
var provActivity = map[string]string{
	ProductASD: "Welch", ProductSpectrogram: "Welch",
	ProductHighpass: "Butterworth", ProductLowpass: "Butterworth", ProductBandpass: "Butterworth",
	ProductResample: "ResamplePoly", ProductTrend: "Trend",
}

// provGraph holds the statements of a PROV-JSON document by kind.
type provGraph struct {
	entity, activity, used, generated, derived, associated map[string]any
}

// provKinds are the members of a PROV-JSON document that provGraph holds,
// in its order.
var provKinds = []string{"entity", "activity", "used", "wasGeneratedBy", "wasDerivedFrom", "wasAssociatedWith"}

// addDerived adds the product d of a chain of the raw dataset name, if
// made: one activity that agent carried out from start to end, generating
// each of its datasets (an ASD's values, a trend's statistics) from its
// input.
func (g provGraph) addDerived(name string, d *Derived, start, end, agent string) {
	if !d.made() {
		return
	}
	paths := DerivedPaths(name, d.Name, d.Kind)
	if d.Kind == ProductASD {
		paths = paths[:1] // the frequencies are an axis, as for the ASD of the raw series
	}
	actID := "gw:process" + paths[0]
	usedID := "gw:" + derivedParent(name, d.Input)
	params, _ := marshal(d.params(""))
	act, ok := provActivity[d.Kind]
	if !ok {
		act = "Process" // a program's own
	}
	g.activity[actID] = map[string]any{"prov:type": "gw:" + act, "prov:startTime": start, "prov:endTime": end, "gw:params_json": params}
	g.used["_:u_gw:"+paths[0]] = map[string]any{"prov:activity": actID, "prov:entity": usedID}
	g.associated["_:a_gw:"+paths[0]] = map[string]any{"prov:activity": actID, "prov:agent": agent}
	for _, path := range paths {
		id := "gw:" + path
		g.entity[id] = map[string]any{"prov:type": "gw:" + d.Kind}
		g.generated["_:g_"+id] = map[string]any{"prov:entity": id, "prov:activity": actID}
		g.derived["_:d_"+id] = map[string]any{"prov:generatedEntity": id, "prov:usedEntity": usedID, "prov:activity": actID}
	}
}

// provAgent is the PROV agent of a gwwatchd: which software, on which host.
func provAgent(sw buildinfo.Info, hdf5, host string) map[string]any {
	return map[string]any{
		"prov:type": "prov:SoftwareAgent", "gw:version": sw.Version,
		"gw:revision": sw.PipelineVersion(), "gw:go_version": sw.GoVersion,
		"gw:hdf5_version": hdf5, "gw:gonum_version": sw.Gonum, "gw:host": host,
	}
}

// provAgent is the PROV agent of the content's writer: gwwatchd, and
// the program that called it, if any.
func (c *Content) provAgent() map[string]any {
	a := provAgent(c.Software, c.HDF5, c.Host)
	if c.Program != nil {
		a["gw:program"], a["gw:program_version"] = c.Program.Name, c.Program.Version
	}
	return a
}

// provJSON is a W3C PROV-JSON document of the whole lineage: the source
// file, each raw and product entity, the activities that made them with
// their times and parameters, and gwwatchd as the agent.
func (c *Content) provJSON(rawSHA []string) (string, error) {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	agent := "gw:gwwatchd"
	srcID := "gw:source"
	entity := map[string]any{
		srcID: map[string]any{
			"prov:type":    "gw:SourceFile",
			"prov:label":   filepath.Base(c.Source.Path),
			"gw:path":      c.Source.Path,
			"gw:sha256":    c.Source.SHA256,
			"gw:size":      c.Source.Size,
			"gw:mtime_utc": ts(c.Source.ModTime),
		},
	}
	activity := map[string]any{
		"gw:ingest": map[string]any{
			"prov:type":      "gw:Ingest",
			"prov:startTime": ts(c.IngestStart),
			"prov:endTime":   ts(c.IngestEnd),
		},
	}
	used := map[string]any{"_:u_ingest_source": map[string]any{"prov:activity": "gw:ingest", "prov:entity": srcID}}
	generated := map[string]any{}
	derived := map[string]any{}
	associated := map[string]any{"_:a_ingest": map[string]any{"prov:activity": "gw:ingest", "prov:agent": agent}}
	if sc := c.Source.Sidecar; sc != nil {
		entity["gw:sidecar"] = map[string]any{"prov:type": "gw:SidecarFile", "gw:path": sc.Path, "gw:sha256": sc.SHA256, "gw:size": sc.Size}
		used["_:u_ingest_sidecar"] = map[string]any{"prov:activity": "gw:ingest", "prov:entity": "gw:sidecar"}
	}
	for i := range c.Entries {
		e := &c.Entries[i]
		name := DatasetName(e.Series.Dataset)
		rawID := "gw:" + RawPath(name)
		entity[rawID] = map[string]any{"prov:type": "gw:RawSeries", "gw:channel": e.Series.Channel, "gw:samples": e.Series.Len(), "gw:data_sha256": rawSHA[i]}
		generated["_:g_"+rawID] = map[string]any{"prov:entity": rawID, "prov:activity": "gw:ingest"}
		derived["_:d_"+rawID] = map[string]any{"prov:generatedEntity": rawID, "prov:usedEntity": srcID}
		add := func(product, path string, p processor.Params, nfft, nover, segs int, stride float64) {
			actID := "gw:process" + path
			id := "gw:" + path
			params, _ := marshal(welchParams(p, e.Series.SampleRate, nfft, nover, segs, stride))
			activity[actID] = map[string]any{"prov:type": "gw:Welch", "prov:startTime": ts(e.ProcessStart), "prov:endTime": ts(e.ProcessEnd), "gw:params_json": params}
			entity[id] = map[string]any{"prov:type": "gw:" + product}
			used["_:u_"+id] = map[string]any{"prov:activity": actID, "prov:entity": rawID}
			generated["_:g_"+id] = map[string]any{"prov:entity": id, "prov:activity": actID}
			derived["_:d_"+id] = map[string]any{"prov:generatedEntity": id, "prov:usedEntity": rawID, "prov:activity": actID}
			associated["_:a_"+id] = map[string]any{"prov:activity": actID, "prov:agent": agent}
		}
		if a := e.ASD; a != nil {
			add(ProductASD, productPath(name, ProductASD), e.ASDParams, a.NFFT, a.NOverlap, a.Segments, 0)
		}
		if sg := e.Spectrogram; sg != nil {
			add(ProductSpectrogram, productPath(name, ProductSpectrogram), e.SpectrogramParams, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, e.SpectrogramStride)
		}
		g := provGraph{entity: entity, activity: activity, used: used, generated: generated, derived: derived, associated: associated}
		for j := range e.Derived {
			g.addDerived(name, &e.Derived[j], ts(e.ProcessStart), ts(e.ProcessEnd), agent)
		}
	}
	doc := map[string]any{
		"prefix": map[string]any{"gw": "https://github.com/gwwatchd/gwwatchd#"},
		"entity": entity, "activity": activity,
		"agent": map[string]any{agent: c.provAgent()},
		"used":  used, "wasGeneratedBy": generated, "wasDerivedFrom": derived, "wasAssociatedWith": associated,
	}
	return marshal(doc)
}
