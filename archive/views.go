package archive

import (
	"fmt"
	"math"
	"slices"
	"strings"
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

// GWpyGroup holds the views gwpy reads.
const GWpyGroup = "/gwpy"

// View kinds: the group below GWpyGroup of each.
const (
	ViewTimeSeries  = "timeseries"
	ViewASD         = "asd"
	ViewSpectrogram = "spectrogram"
)

// ViewPath returns the path of a dataset's view of a kind.
func ViewPath(kind, dataset string) string { return GWpyGroup + "/" + kind + "/" + dataset }

// viewSource is the dataset a view at this path must map, and the
// attributes it must carry, as computed from its source and the source's
// raw series.
func viewSource(doc *Doc, path string) (src string, want []Attr, err error) {
	rest, ok := strings.CutPrefix(path, GWpyGroup+"/")
	kind, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return "", nil, fmt.Errorf("not a view path")
	}
	raw := doc.Dataset(RawPath(name))
	if raw == nil {
		return "", nil, fmt.Errorf("no raw dataset %s", RawPath(name))
	}
	switch kind {
	case ViewTimeSeries:
		src = RawPath(name)
	case ViewASD:
		src = ProcessedPath(name, "asd_values")
	case ViewSpectrogram:
		src = ProcessedPath(name, "spectrogram")
	default:
		return "", nil, fmt.Errorf("unknown kind of view %q", kind)
	}
	s := doc.Dataset(src)
	if s == nil {
		return "", nil, fmt.Errorf("its source %s is not in the archive", src)
	}
	want = viewAttrs(kind, raw, s)
	return src, want, nil
}

// viewAttrs are the attributes of a view of kind of src, a dataset of the
// series raw.
func viewAttrs(kind string, raw, src *Dataset) []Attr {
	name, _ := raw.Attr("name").(string)
	channel, _ := raw.Attr("channel").(string)
	unit, _ := src.Attr("unit").(string)
	f := func(n string) any { v, _ := src.Attr(n).(float64); return v }
	attrs := []Attr{{Name: "name", Value: name}, {Name: "channel", Value: channel}, {Name: "unit", Value: unit}}
	switch kind {
	case ViewTimeSeries:
		// xunit marks a time series for TimeSeriesDict.read of the group.
		attrs = append(attrs, Attr{Name: "x0", Value: f("t0")}, Attr{Name: "dx", Value: f("dt")}, Attr{Name: "xunit", Value: "s"})
	case ViewASD:
		attrs = append(attrs, Attr{Name: "x0", Value: f("f0")}, Attr{Name: "dx", Value: f("df")})
	case ViewSpectrogram:
		attrs = append(attrs, Attr{Name: "x0", Value: f("t0")}, Attr{Name: "dx", Value: f("dt")},
			Attr{Name: "y0", Value: f("f0")}, Attr{Name: "dy", Value: f("df")})
	}
	return attrs
}

// views returns the views of the datasets of one series in doc: the raw
// series, when one-dimensional, and its ASD and spectrogram, when made.
func views(doc *Doc, name string) []Dataset {
	raw := doc.Dataset(RawPath(name))
	if raw == nil {
		return nil
	}
	var out []Dataset
	add := func(kind, src string) {
		if s := doc.Dataset(src); s != nil {
			out = append(out, Dataset{Path: ViewPath(kind, name), Virtual: src, Attrs: viewAttrs(kind, raw, s)})
		}
	}
	if raw.Dims == nil {
		add(ViewTimeSeries, RawPath(name))
	}
	add(ViewASD, ProcessedPath(name, "asd_values"))
	add(ViewSpectrogram, ProcessedPath(name, "spectrogram"))
	return out
}

// CheckView checks a view read back from an archive: it maps the very
// dataset its path names, whole (the same shape), with the attributes
// gwpy needs taken from that dataset. Values need no check: a view has
// none of its own.
func CheckView(doc *Doc, d *Dataset) error {
	src, want, err := viewSource(doc, d.Path)
	if err != nil {
		return err
	}
	if d.Virtual != src {
		return fmt.Errorf("maps %q, want %s", d.Virtual, src)
	}
	if s := doc.Dataset(src); !slices.Equal(d.Dims, s.Dims) {
		return fmt.Errorf("shape %v, its source's %v", d.Dims, s.Dims)
	}
	if len(d.Attrs) != len(want) {
		return fmt.Errorf("%d attributes, want the %d gwpy takes", len(d.Attrs), len(want))
	}
	for _, a := range want {
		got := d.Attr(a.Name)
		gf, gok := got.(float64)
		wf, wok := a.Value.(float64)
		switch {
		case gok && wok && (gf == wf || math.IsNaN(gf) && math.IsNaN(wf)):
		case !gok && got == a.Value:
		default:
			return fmt.Errorf("attribute %s is %v, its source says %v", a.Name, got, a.Value)
		}
	}
	return nil
}
