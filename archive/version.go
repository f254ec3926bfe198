package archive

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/internal/h5"
)

// VersionSep joins a product's name and its version in the name its
// datasets are stored by: the second "bp" made with other parameters is
// "bp@2" (/processed/<dataset>/bp@2, an ASD's bp@2_values, a trend's
// bp@2.mean). A configured name never holds it, nor "." (see config), so
// a stored name reads back as one name and one version.
const VersionSep = "@"

// VersionedName is the name the version-th product named name is stored
// by: name itself for the first.
func VersionedName(name string, version int) string {
	if version <= 1 {
		return name
	}
	return name + VersionSep + strconv.Itoa(version)
}

// productName reads a product's dataset path of a kind back as the raw
// dataset it belongs to, its product name and its version.
func productName(path, kind string) (dataset, name string, version int) {
	rest, ok := strings.CutPrefix(path, processedGroup+"/")
	if !ok {
		return "", "", 0
	}
	dataset, leaf, _ := strings.Cut(rest, "/")
	switch kind {
	case ProductASD, ProductFrequencies:
		for _, legacy := range []string{productLeaf[ProductASD], productLeaf[ProductFrequencies]} {
			if leaf == legacy {
				return dataset, ProductASD, 1
			}
		}
		if n, ok := strings.CutSuffix(leaf, layout.ValuesSuffix); ok {
			leaf = n
		} else {
			leaf = strings.TrimSuffix(leaf, layout.FrequenciesSuffix)
		}
	case ProductTrend:
		if i := strings.LastIndex(leaf, "."); i >= 0 {
			leaf = leaf[:i]
		}
	}
	name, v, ok := strings.Cut(leaf, VersionSep)
	if !ok {
		return dataset, name, 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		return dataset, leaf, 1 // not of gwwatchd's naming
	}
	return dataset, name, n
}

// Present looks among the products of the raw dataset for the product d,
// made of the dataset its Input stores (the name it is stored by, "" for
// the raw series): one of d's name and kind, of the same parent and the
// same params_json. It returns the name that product is stored by and
// true, or the name a new version of d is to be stored by and false. d
// must be made.
func (a *Archive) Present(dataset string, d *Derived) (stored string, present bool) {
	parent := derivedParent(dataset, d.Input)
	latest := 0
	for _, p := range a.Products {
		if p.Dataset != dataset || p.Name != d.Name || p.Kind == ProductFrequencies {
			continue
		}
		latest = max(latest, p.Version)
		stat := ""
		if p.Trend != nil {
			stat = p.Trend.Stat
		}
		pj, err := marshal(d.params(stat))
		if err == nil && p.Kind == d.Kind && p.Parent == parent && str(p.attrs, attrParamsJSON) == pj {
			return VersionedName(d.Name, p.Version), true
		}
	}
	return VersionedName(d.Name, latest+1), false
}

// Addition is what is added to an archive: products of its raw series,
// each Derived named as it is to be stored (see Present and
// VersionedName) and after the one it is made of, with the software,
// host and time that made them.
type Addition struct {
	Derived  map[string][]Derived // by raw dataset name
	Created  time.Time            // when the products were begun
	Done     time.Time            // and when the last was made
	Host     string
	Software buildinfo.Info
	HDF5     string // libhdf5 version
}

// Paths are the dataset paths of the products an Addition adds.
func (ad *Addition) Paths() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(ad.Derived)) {
		for _, d := range ad.Derived[name] {
			if d.made() {
				out = append(out, DerivedPaths(name, d.Name, d.Kind)...)
			}
		}
	}
	return out
}

// WithAdded returns the document of the archive at path with the
// products of ad added: every dataset it holds, with its attributes and
// values as they are, then the new products, and the views for gwpy made
// afresh for all of them. The root attributes stay as they are but for
// the PROV-JSON document, which gains the new products. A name ad would
// store a dataset by that the archive already holds is an error: nothing
// is ever replaced.
func WithAdded(path string, ad *Addition) (*Doc, error) {
	old, err := Read(path)
	if err != nil {
		return nil, err
	}
	copyable := func(where string, attrs []Attr) error {
		for _, at := range attrs {
			if h5.Unsupported(at.Value) {
				return fmt.Errorf("%s: %s: attribute %s is of a type gwwatchd neither writes nor copies", path, where, at.Name)
			}
		}
		return nil
	}
	if err := copyable("/", old.Attrs); err != nil {
		return nil, err
	}
	doc := &Doc{Attrs: slices.Clone(old.Attrs)}
	have := map[string]bool{}
	for _, d := range old.Datasets {
		if d.Virtual != "" {
			continue // made again below, with those of the new products
		}
		if err := copyable(d.Path, d.Attrs); err != nil {
			return nil, err
		}
		if d.Info != nil && d.Info.Rank == 1 {
			d.Dims = nil // as written: a series of one dimension has no shape of its own
		}
		d.Info = nil
		have[d.Path] = true
		doc.Datasets = append(doc.Datasets, d)
	}
	prov := madeBy(ad.Software, ad.HDF5, ad.Host, ad.Created).attrs()
	var names []string
	for _, d := range old.Datasets {
		if name, ok := rawName(d.Path); ok && d.Virtual == "" {
			names = append(names, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ad.Derived)) {
		raw := doc.Dataset(RawPath(name))
		if raw == nil {
			return nil, fmt.Errorf("%s: no raw dataset %s", path, RawPath(name))
		}
		t0, _ := h5.FindAttr(raw.Attrs, attrT0).(float64)
		unit, _ := h5.FindAttr(raw.Attrs, attrUnit).(string)
		ds, err := derivedDatasets(&Entry{Derived: ad.Derived[name]}, name, t0, unit, prov)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if have[d.Path] {
				return nil, fmt.Errorf("%s: already holds %s", path, d.Path)
			}
			have[d.Path] = true
		}
		doc.Datasets = append(doc.Datasets, ds...)
	}
	if err := ad.addProv(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var vs []Dataset
	for _, name := range names {
		vs = append(vs, views(doc, name)...)
	}
	slices.SortFunc(vs, func(a, b Dataset) int { return strings.Compare(a.Path, b.Path) })
	doc.Datasets = append(doc.Datasets, vs...)
	return doc, nil
}

// addProv adds the products of ad to the PROV-JSON document of doc, made
// by an agent of their own: the gwwatchd that added them. A document that
// does not parse, as no gwwatchd writes, is left as it is.
func (ad *Addition) addProv(doc *Doc) error {
	at := slices.IndexFunc(doc.Attrs, func(a Attr) bool { return a.Name == attrProvJSON })
	if at < 0 {
		return nil
	}
	var prov map[string]any
	if s, _ := doc.Attrs[at].Value.(string); json.Unmarshal([]byte(s), &prov) != nil || prov == nil {
		return nil
	}
	part := func(kind string) map[string]any {
		m, ok := prov[kind].(map[string]any)
		if !ok {
			m = map[string]any{}
			prov[kind] = m
		}
		return m
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	agent := "gw:gwwatchd-" + ad.Created.UTC().Format("20060102T150405.000000000Z")
	part("agent")[agent] = provAgent(ad.Software, ad.HDF5, ad.Host)
	var m [6]map[string]any
	for i, kind := range provKinds {
		m[i] = part(kind)
	}
	g := provGraph{entity: m[0], activity: m[1], used: m[2], generated: m[3], derived: m[4], associated: m[5]}
	for _, name := range slices.Sorted(maps.Keys(ad.Derived)) {
		for i := range ad.Derived[name] {
			g.addDerived(name, &ad.Derived[name][i], ts(ad.Created), ts(ad.Done), agent)
		}
	}
	s, err := marshal(prov)
	if err != nil {
		return err
	}
	doc.Attrs[at].Value = s
	return nil
}

// CheckWritten reads back the archive at path, written from doc, and
// checks that it holds each dataset of doc with the same attributes (in
// whatever order) and values (by their data_sha256), and that each of its
// views for gwpy holds (CheckView): an archive is never replaced by one
// that does not hold what the old one held as it held it.
func CheckWritten(path string, doc *Doc) error {
	got, err := Read(path)
	if err != nil {
		return err
	}
	for i := range doc.Datasets {
		want := &doc.Datasets[i]
		if want.Virtual != "" {
			continue // its values are its source's; CheckView checks the rest
		}
		d := got.Dataset(want.Path)
		switch {
		case d == nil:
			return fmt.Errorf("%s: not written", want.Path)
		case !reflect.DeepEqual(attrMap(d.Attrs), attrMap(want.Attrs)):
			return fmt.Errorf("%s: attributes read back are not those written", want.Path)
		case DataSHA256(d.Data) != DataSHA256(want.Data):
			return fmt.Errorf("%s: values read back are not those written", want.Path)
		}
	}
	a, err := Open(path)
	if err != nil {
		return err
	}
	for _, v := range a.Views {
		if err := a.CheckView(v); err != nil {
			return fmt.Errorf("%s: view for gwpy: %w", v.Path, err)
		}
	}
	return nil
}
