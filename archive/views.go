package archive

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/h5"
)

// gwpy's HDF5 reader passes every attribute of a dataset to the
// constructor of the class it reads (gwpy/types/io/hdf5.py), so it cannot
// read a dataset that carries the provenance set. Each raw series and
// product therefore has a view below /gwpy: an HDF5 virtual dataset that
// maps the whole of it, stored once, with only the attributes gwpy's
// classes take:
//
//	/gwpy/timeseries/<dataset>   of /raw/<dataset>:                    name, channel, unit, x0 (t0), dx (dt), xunit "s"
//	/gwpy/asd/<dataset>          of /processed/<dataset>/asd_values:   name, channel, unit, x0 (f0), dx (df)
//	/gwpy/spectrogram/<dataset>  of /processed/<dataset>/spectrogram:  name, channel, unit, x0 (t0), dx (dt), y0 (f0), dy (df)
//
// so that TimeSeries.read(f, path="gwpy/timeseries/K1:X"),
// TimeSeriesDict.read(f, group="gwpy/timeseries"),
// FrequencySeries.read(f, path="gwpy/asd/K1:X") and
// Spectrogram.read(f, path="gwpy/spectrogram/K1:X") read them untouched.
//
// The products of a processing chain (Derived) have their views below
// /gwpy/products/<dataset>, named as their datasets below
// /processed/<dataset> (DerivedPaths): a filter, resampling or trend
// statistic as a TimeSeries (x0 t0, dx dt, xunit "s"), an ASD's values
// as a FrequencySeries, a spectrogram as a Spectrogram, with the
// attributes above; so TimeSeries.read(f, path="gwpy/products/K1:X/bp")
// reads the band-passed series.

// GWpyGroup holds the views gwpy reads.
const GWpyGroup = "/gwpy"

// View kinds: the group below GWpyGroup of each.
const (
	ViewTimeSeries  = "timeseries"
	ViewASD         = "asd"
	ViewSpectrogram = "spectrogram"
	ViewProducts    = "products" // the products of a chain, <dataset>/<leaf>
)

// ViewPath returns the path of a dataset's view of a kind.
func ViewPath(kind, dataset string) string { return GWpyGroup + "/" + kind + "/" + dataset }

// viewOf is the path of the dataset that the view of a kind of the raw
// series name maps, the dataset leaf below /processed/<name> for
// ViewProducts; "" for an unknown kind.
func viewOf(kind, name, leaf string) string {
	switch kind {
	case ViewProducts:
		return ProcessedPath(name, leaf)
	case ViewTimeSeries:
		return RawPath(name)
	case ViewASD:
		return productPath(name, ProductASD)
	case ViewSpectrogram:
		return productPath(name, ProductSpectrogram)
	}
	return ""
}

// viewAttrs are the attributes of a view of kind of a dataset with the
// attributes src, of the raw series with the attributes raw.
func viewAttrs(kind string, raw, src []Attr) []Attr {
	f := func(n string) any { return number(src, n) }
	attrs := []Attr{{Name: attrName, Value: str(raw, attrName)}, {Name: attrChannel, Value: str(raw, attrChannel)}, {Name: attrUnit, Value: str(src, attrUnit)}}
	if kind == ViewProducts {
		// The class gwpy reads a chain's product as goes by its kind.
		switch str(src, attrProduct) {
		case ProductASD:
			kind = ViewASD
		case ProductSpectrogram:
			kind = ViewSpectrogram
		default:
			kind = ViewTimeSeries
			if k := str(src, attrProduct); !KnownKind(k) {
				kind = ownView(src)
			}
		}
	}
	switch kind {
	case ViewTimeSeries:
		// xunit marks a time series for TimeSeriesDict.read of the group.
		attrs = append(attrs, Attr{Name: attrX0, Value: f(attrT0)}, Attr{Name: attrDX, Value: f(attrDT)}, Attr{Name: attrXUnit, Value: "s"})
	case ViewASD:
		attrs = append(attrs, Attr{Name: attrX0, Value: f(attrF0)}, Attr{Name: attrDX, Value: f(attrDF)})
	case ViewSpectrogram:
		attrs = append(attrs, Attr{Name: attrX0, Value: f(attrT0)}, Attr{Name: attrDX, Value: f(attrDT)},
			Attr{Name: attrY0, Value: f(attrF0)}, Attr{Name: attrDY, Value: f(attrDF)})
	}
	return attrs
}

// ownView is the class gwpy reads a program's own product as, by the
// axes it has: frequencies and times make a spectrogram, frequencies
// alone a frequency series, else a time series.
func ownView(src []Attr) string {
	f, t := h5.FindAttr(src, attrDF) != nil, h5.FindAttr(src, attrDT) != nil
	switch {
	case f && t:
		return ViewSpectrogram
	case f:
		return ViewASD
	}
	return ViewTimeSeries
}

// views returns the views of the datasets of one series in doc: the raw
// series, when one-dimensional, and its ASD and spectrogram, when made.
func views(doc *Doc, name string) []Dataset {
	raw := doc.Dataset(RawPath(name))
	if raw == nil {
		return nil
	}
	var out []Dataset
	for _, kind := range []string{ViewTimeSeries, ViewASD, ViewSpectrogram} {
		if kind == ViewTimeSeries && raw.Dims != nil {
			continue
		}
		if s := doc.Dataset(viewOf(kind, name, "")); s != nil {
			out = append(out, Dataset{Path: ViewPath(kind, name), Virtual: s.Path, Attrs: viewAttrs(kind, raw.Attrs, s.Attrs)})
		}
	}
	legacy := map[string]bool{}
	for _, kind := range []string{ProductASD, ProductFrequencies, ProductSpectrogram} {
		legacy[productPath(name, kind)] = true
	}
	prefix := ProcessedPath(name, "")
	for i := range doc.Datasets {
		d := &doc.Datasets[i]
		leaf, ok := strings.CutPrefix(d.Path, prefix)
		kind, _ := d.Attr(attrProduct).(string)
		if !ok || legacy[d.Path] || kind == "" || kind == ProductFrequencies {
			continue
		}
		out = append(out, Dataset{Path: ViewPath(ViewProducts, name+"/"+leaf), Virtual: d.Path, Attrs: viewAttrs(ViewProducts, raw.Attrs, d.Attrs)})
	}
	return out
}

// CheckView checks a view read back from an archive: it maps the very
// dataset its path names, whole (the same shape), with the attributes
// gwpy needs taken from that dataset. Values need no check: a view has
// none of its own.
func (a *Archive) CheckView(v *View) error {
	if v.Kind == "" {
		return fmt.Errorf("not a view path")
	}
	raw := a.Object(RawPath(v.Name))
	if raw == nil {
		return fmt.Errorf("no raw dataset %s", RawPath(v.Name))
	}
	want := viewOf(v.Kind, v.Name, v.Leaf)
	if want == "" {
		return fmt.Errorf("unknown kind of view %q", v.Kind)
	}
	src := a.Object(want)
	if src == nil {
		return fmt.Errorf("its source %s is not in the archive", want)
	}
	if v.Of != want {
		return fmt.Errorf("maps %q, want %s", v.Of, want)
	}
	if !slices.Equal(v.Shape, src.Shape) {
		return fmt.Errorf("shape %v, its source's %v", v.Shape, src.Shape)
	}
	attrs := viewAttrs(v.Kind, raw.attrs, src.attrs)
	if len(v.attrs) != len(attrs) {
		return fmt.Errorf("%d attributes, want the %d gwpy takes", len(v.attrs), len(attrs))
	}
	for _, at := range attrs {
		got := h5.FindAttr(v.attrs, at.Name)
		gf, gok := got.(float64)
		wf, wok := at.Value.(float64)
		switch {
		case gok && wok && (gf == wf || math.IsNaN(gf) && math.IsNaN(wf)):
		case !gok && got == at.Value:
		default:
			return fmt.Errorf("attribute %s is %v, its source says %v", at.Name, got, at.Value)
		}
	}
	return nil
}
