package archive

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

	ProcessStart, ProcessEnd time.Time
}

// NewID returns a new random archive_id: 32 hex digits.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// RawPath returns the path of a series' raw dataset.
func RawPath(dataset string) string { return "/raw/" + dataset }

// ProcessedPath returns the path of a product of a series.
func ProcessedPath(dataset, product string) string {
	return "/processed/" + dataset + "/" + product
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

// reserved are the attribute names of a raw dataset that what a source
// says of a series (ingest.Series.Extra) may not take.
var reserved = map[string]bool{
	"t0": true, "dt": true, "sample_rate": true, "unit": true, "name": true, "channel": true,
	"unit_source": true, "x0": true, "dx": true, "xunit": true, "description": true, "data_sha256": true, "params_json": true,
	"asd_skipped": true, "spectrogram_skipped": true, "gwwatchd_version": true, "pipeline_version": true,
	"go_version": true, "hdf5_version": true, "gonum_version": true, "hostname": true, "created_utc": true,
}

// Doc lays the content out as an archive document.
func (c *Content) Doc() (*Doc, error) {
	// The raw hashes go into both the datasets and the PROV document;
	// hashing a long series is not free, so do it once.
	rawSHA := make([]string, len(c.Entries))
	for i := range c.Entries {
		rawSHA[i] = c.Entries[i].RawSHA256
		if rawSHA[i] == "" {
			rawSHA[i] = DataSHA256(c.Entries[i].Series.Values)
		}
	}
	prov, err := c.provJSON(rawSHA)
	if err != nil {
		return nil, err
	}
	doc := &Doc{Attrs: []Attr{
		{Name: "format", Value: Format},
		{Name: "format_version", Value: FormatVersion},
		{Name: "archive_id", Value: c.ID},
		{Name: "source_path", Value: c.Source.Path},
		{Name: "source_sha256", Value: c.Source.SHA256},
		{Name: "source_size", Value: c.Source.Size},
		{Name: "source_mtime_utc", Value: c.Source.ModTime.UTC().Format(time.RFC3339Nano)},
		{Name: "prov_json", Value: prov},
	}}
	if c.Key != "" {
		doc.Attrs = append(doc.Attrs, Attr{Name: "content_key", Value: c.Key})
	}
	if sc := c.Source.Sidecar; sc != nil {
		doc.Attrs = append(doc.Attrs, Attr{Name: "sidecar_path", Value: sc.Path}, Attr{Name: "sidecar_sha256", Value: sc.SHA256})
	}
	doc.Attrs = append(doc.Attrs, c.provenanceAttrs()...)
	seen := map[string]bool{}
	for i := range c.Entries {
		e := &c.Entries[i]
		name := DatasetName(e.Series.Dataset)
		if seen[name] {
			return nil, fmt.Errorf("two series with dataset name %q", name)
		}
		seen[name] = true
		ds, err := c.entryDatasets(e, name, rawSHA[i])
		if err != nil {
			return nil, err
		}
		doc.Datasets = append(doc.Datasets, ds...)
	}
	// The views for gwpy come last: each maps a dataset written before it.
	var vs []Dataset
	for name := range seen {
		vs = append(vs, views(doc, name)...)
	}
	slices.SortFunc(vs, func(a, b Dataset) int { return strings.Compare(a.Path, b.Path) })
	doc.Datasets = append(doc.Datasets, vs...)
	return doc, nil
}

// provenanceAttrs is the provenance set carried by every dataset: which
// software, where and when.
func (c *Content) provenanceAttrs() []Attr {
	return []Attr{
		{Name: "gwwatchd_version", Value: c.Software.Version},
		{Name: "pipeline_version", Value: c.Software.PipelineVersion()},
		{Name: "go_version", Value: c.Software.GoVersion},
		{Name: "hdf5_version", Value: c.HDF5},
		{Name: "gonum_version", Value: c.Software.Gonum},
		{Name: "hostname", Value: c.Host},
		{Name: "created_utc", Value: c.Created.UTC().Format(time.RFC3339Nano)},
	}
}

func (c *Content) entryDatasets(e *Entry, name, rawSHA string) ([]Dataset, error) {
	s := e.Series
	raw := RawPath(name)
	dt := 1 / s.SampleRate
	unit := ArchiveUnit(s.Unit)
	params := map[string]any{
		"channel":     s.Channel,
		"dataset":     name,
		"t0":          s.T0,
		"sample_rate": s.SampleRate,
		"unit":        unit,
		"dtype":       string(s.DType),
		"description": s.Description,
		"format":      s.Format,
		"samples":     s.Len(),
		"origin":      s.Origin,
	}
	if s.ByteOrder != "" {
		params["byte_order"] = s.ByteOrder
	}
	if s.Unit != unit {
		params["unit_source"] = s.Unit
	}
	if len(s.Extra) > 0 {
		params["source_attrs"] = s.Extra
	}
	if s.Shape != nil {
		params["shape"] = s.Shape
	}
	pj, err := marshal(params)
	if err != nil {
		return nil, err
	}
	rawAttrs := []Attr{
		{Name: "t0", Value: s.T0},
		{Name: "dt", Value: dt},
		{Name: "sample_rate", Value: s.SampleRate},
		{Name: "unit", Value: unit},
		{Name: "name", Value: name},
		{Name: "channel", Value: s.Channel},
		{Name: "x0", Value: s.T0},
		{Name: "dx", Value: dt},
		{Name: "xunit", Value: "s"},
		{Name: "description", Value: s.Description},
		{Name: "data_sha256", Value: rawSHA},
		{Name: "params_json", Value: pj},
	}
	if s.Unit != unit {
		rawAttrs = append(rawAttrs, Attr{Name: "unit_source", Value: s.Unit})
	}
	if e.ASDSkipped != "" {
		rawAttrs = append(rawAttrs, Attr{Name: "asd_skipped", Value: e.ASDSkipped})
	}
	if e.SpectrogramSkipped != "" {
		rawAttrs = append(rawAttrs, Attr{Name: "spectrogram_skipped", Value: e.SpectrogramSkipped})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Extra)) {
		if reserved[k] {
			continue // never shadow the archive's own attributes
		}
		rawAttrs = append(rawAttrs, Attr{Name: k, Value: s.Extra[k]})
	}
	rawAttrs = append(rawAttrs, c.provenanceAttrs()...)
	var dims []uint
	for _, n := range s.Shape {
		dims = append(dims, uint(n))
	}
	out := []Dataset{{Path: raw, Data: s.Values, Dims: dims, Attrs: rawAttrs}}

	asdUnit := DensityUnit(unit)
	if a := e.ASD; a != nil {
		pj, err := marshal(WelchParamsJSON(e.ASDParams, s.SampleRate, a.NFFT, a.NOverlap, a.Segments, 0))
		if err != nil {
			return nil, err
		}
		step := "ASD via Welch/" + e.ASDParams.Method
		common := func(product string) []Attr {
			return append([]Attr{
				{Name: "product", Value: product},
				{Name: "parent_dataset", Value: raw},
				{Name: "processing_step", Value: step},
				{Name: "params_json", Value: pj},
				{Name: "f0", Value: a.F0},
				{Name: "df", Value: a.DF},
			}, c.provenanceAttrs()...)
		}
		freqs := a.Frequencies()
		out = append(out,
			Dataset{Path: ProcessedPath(name, "asd_values"), Data: a.Values,
				Attrs: append(common(ProductASD), Attr{Name: "unit", Value: asdUnit}, Attr{Name: "data_sha256", Value: DataSHA256(a.Values)})},
			Dataset{Path: ProcessedPath(name, "asd_frequencies"), Data: freqs,
				Attrs: append(common(ProductFrequencies), Attr{Name: "unit", Value: "Hz"}, Attr{Name: "data_sha256", Value: DataSHA256(freqs)})},
		)
	}
	if sg := e.Spectrogram; sg != nil {
		params := WelchParamsJSON(e.SpectrogramParams, s.SampleRate, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, e.SpectrogramStride)
		step, values, sgUnit := "Spectrogram of ASD via Welch/"+e.SpectrogramParams.Method, "asd", asdUnit
		if sg.PSD {
			params["chunks"], params["values"] = ChunksGWpy, "psd"
			step, values, sgUnit = "Spectrogram of PSD via Welch/"+e.SpectrogramParams.Method+", in gwpy's chunks", "psd", PowerDensityUnit(unit)
		}
		pj, err := marshal(params)
		if err != nil {
			return nil, err
		}
		attrs := append([]Attr{
			{Name: "product", Value: ProductSpectrogram},
			{Name: "parent_dataset", Value: raw},
			{Name: "processing_step", Value: step},
			{Name: "params_json", Value: pj},
			{Name: "values", Value: values},
			{Name: "unit", Value: sgUnit},
			{Name: "t0", Value: s.T0},
			{Name: "dt", Value: sg.DT},
			{Name: "f0", Value: sg.F0},
			{Name: "df", Value: sg.DF},
			{Name: "data_sha256", Value: DataSHA256(sg.Values)},
		}, c.provenanceAttrs()...)
		out = append(out, Dataset{Path: ProcessedPath(name, "spectrogram"), Data: sg.Values,
			Dims: []uint{uint(sg.Times), uint(sg.Freqs)}, Attrs: attrs})
	}
	return out, nil
}

// WelchParamsJSON is the params_json object of a Welch product: every
// parameter needed to recompute it from its parent.
func WelchParamsJSON(p processor.Params, fs float64, nfft, noverlap, segments int, stride float64) map[string]any {
	m := map[string]any{
		"fftlength":   p.FFTLength,
		"overlap":     p.Overlap,
		"method":      p.Method,
		"window":      p.Window,
		"sample_rate": fs,
		"nfft":        nfft,
		"noverlap":    noverlap,
		"n_segments":  segments,
		"detrend":     "constant",
		"scaling":     "density",
		"onesided":    true,
	}
	if stride > 0 {
		m["stride"] = stride
	}
	return m
}

// ChunksGWpy is the "chunks" of a spectrogram's params_json whose rows
// come from gwpy's chunks (processor.GWpySpectrogram), and whose values are
// PSD ("values": "psd"). A spectrogram without it, as archives before it
// hold, is of ASD rows of whole strides (processor.Spectrogram).
const ChunksGWpy = "gwpy"

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

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
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
			params, _ := marshal(WelchParamsJSON(p, e.Series.SampleRate, nfft, nover, segs, stride))
			activity[actID] = map[string]any{"prov:type": "gw:Welch", "prov:startTime": ts(e.ProcessStart), "prov:endTime": ts(e.ProcessEnd), "gw:params_json": params}
			entity[id] = map[string]any{"prov:type": "gw:" + product}
			used["_:u_"+id] = map[string]any{"prov:activity": actID, "prov:entity": rawID}
			generated["_:g_"+id] = map[string]any{"prov:entity": id, "prov:activity": actID}
			derived["_:d_"+id] = map[string]any{"prov:generatedEntity": id, "prov:usedEntity": rawID, "prov:activity": actID}
			associated["_:a_"+id] = map[string]any{"prov:activity": actID, "prov:agent": agent}
		}
		if a := e.ASD; a != nil {
			add(ProductASD, ProcessedPath(name, "asd_values"), e.ASDParams, a.NFFT, a.NOverlap, a.Segments, 0)
		}
		if sg := e.Spectrogram; sg != nil {
			add(ProductSpectrogram, ProcessedPath(name, "spectrogram"), e.SpectrogramParams, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, e.SpectrogramStride)
		}
	}
	doc := map[string]any{
		"prefix": map[string]any{"gw": "https://github.com/gwwatchd/gwwatchd#"},
		"entity": entity, "activity": activity,
		"agent": map[string]any{agent: map[string]any{
			"prov:type": "prov:SoftwareAgent", "gw:version": c.Software.Version,
			"gw:revision": c.Software.PipelineVersion(), "gw:go_version": c.Software.GoVersion,
			"gw:hdf5_version": c.HDF5, "gw:gonum_version": c.Software.Gonum, "gw:host": c.Host,
		}},
		"used": used, "wasGeneratedBy": generated, "wasDerivedFrom": derived, "wasAssociatedWith": associated,
	}
	return marshal(doc)
}
