package archive

import (
	"fmt"
	"slices"

	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/processor"
)

// Kinds of the products of a processing chain besides the ASD and the
// spectrogram, as stored in their "product" attribute.
const (
	ProductHighpass = "highpass"
	ProductLowpass  = "lowpass"
	ProductBandpass = "bandpass"
	ProductResample = "resample"
	ProductTrend    = "trend"
)

// TrendStats are the statistics of a trend, each stored as a dataset
// <name>.<stat>, in the order written.
var TrendStats = []string{"mean", "min", "max", "rms", "n"}

// Derived is a product of a processing chain: made of its series' raw
// samples or of another Derived of the same Entry that is a time series
// (a filter or a resampling), so that lineage can be of any depth. The
// ASD named "asd" and the spectrogram named "spectrogram" of the raw
// series are Entry's own fields instead, as archives before chains hold
// them. Exactly one of the results is set, unless Skipped says why none
// could be made.
type Derived struct {
	Name      string  // the product's name, which names its datasets (see DerivedPaths)
	Kind      string  // ProductASD, ProductSpectrogram, ProductHighpass, ...
	Input     string  // "" for the raw series, else the Name of the Derived it is made of
	InputRate float64 // sample rate of the input, Hz

	// The parameters of its kind.
	Welch    processor.Params // ProductASD, ProductSpectrogram
	Stride   float64          // seconds per row of a spectrogram, per sample of a trend
	Filter   processor.FilterParams
	Band     processor.BandParams
	Resample processor.ResampleParams
	PadLen   int // samples a filter pads each end with

	Values      []float64 // a filter or a resampling, at Rate
	Rate        float64
	ASD         *processor.ASD
	Spectrogram *processor.Spectrogram
	Trend       *processor.Trend
	Own         *Own // a product of a kind gwwatchd does not make

	Skipped string

	dropped bool // made, and its Values let go of (Entry.Drop)
}

// Own is a product that a program's own code made, of a kind gwwatchd
// does not make (KnownKind is false for it): gwwatchd stores it with its
// parent link, parameters and provenance like its own products, and
// verify checks its data_sha256 but cannot recompute it.
type Own struct {
	Step   string // processing_step, for people
	Params any    // params_json: anything encoding/json encodes
	Values any    // the samples: []float64, []float32, []int64, ..., as the HDF5 writer takes
	Dims   []uint // the shape, for more than one dimension
	Unit   string
	// Axes place the values: t0, dt and sample_rate are written when DT
	// is set (a time series, a spectrogram's rows), f0 and df when DF is.
	Axes Axes
}

// KnownKind reports whether gwwatchd makes products of a kind, and so
// can recompute them.
func KnownKind(kind string) bool {
	switch kind {
	case ProductASD, ProductFrequencies, ProductSpectrogram,
		ProductHighpass, ProductLowpass, ProductBandpass, ProductResample, ProductTrend:
		return true
	}
	return false
}

// attrs are the attributes that place and measure the values of o.
func (o *Own) attrs() []Attr {
	a := []Attr{{Name: attrUnit, Value: o.Unit}}
	if o.Axes.DT != 0 {
		a = append(a, Attr{Name: attrT0, Value: o.Axes.T0}, Attr{Name: attrDT, Value: o.Axes.DT}, Attr{Name: attrSampleRate, Value: 1 / o.Axes.DT})
	}
	if o.Axes.DF != 0 {
		a = append(a, Attr{Name: attrF0, Value: o.Axes.F0}, Attr{Name: attrDF, Value: o.Axes.DF})
	}
	return a
}

// DerivedPaths returns the datasets a product named name of a kind is
// stored as, below /processed/<dataset>: a time series or spectrogram as
// <name>, an ASD as <name>_values and <name>_frequencies, a trend as
// <name>.mean, .min, .max, .rms and .n.
func DerivedPaths(dataset, name, kind string) []string {
	switch kind {
	case ProductASD:
		return []string{ProcessedPath(dataset, name+layout.ValuesSuffix), ProcessedPath(dataset, name+layout.FrequenciesSuffix)}
	case ProductTrend:
		out := make([]string, len(TrendStats))
		for i, st := range TrendStats {
			out[i] = ProcessedPath(dataset, name+"."+st)
		}
		return out
	}
	return []string{ProcessedPath(dataset, name)}
}

// derivedParent is the path of the dataset a product of e is made of.
func derivedParent(dataset, input string) string {
	if input == "" {
		return RawPath(dataset)
	}
	return ProcessedPath(dataset, input)
}

// made reports whether the product was made.
func (d *Derived) made() bool {
	return d.dropped || d.Values != nil || d.ASD != nil || d.Spectrogram != nil || d.Trend != nil || d.Own != nil
}

// step is the processing_step of the product, for people.
func (d *Derived) step() string {
	switch d.Kind {
	case ProductASD:
		return "ASD via Welch/" + d.Welch.Method
	case ProductSpectrogram:
		return "Spectrogram of PSD via Welch/" + d.Welch.Method + ", in gwpy's chunks"
	case ProductHighpass, ProductLowpass, ProductBandpass:
		return fmt.Sprintf("Butterworth %s of order %d, forward and backward", d.Kind, d.order())
	case ProductResample:
		return fmt.Sprintf("Resampled by %d/%d, polyphase", d.Resample.Up, d.Resample.Down)
	case ProductTrend:
		return fmt.Sprintf("Trend of %g s strides", d.Stride)
	}
	if d.Own != nil && d.Own.Step != "" {
		return d.Own.Step
	}
	return d.Kind
}

func (d *Derived) order() int {
	if d.Kind == ProductBandpass {
		return d.Band.Order
	}
	return d.Filter.Order
}

// params is the params_json value of the product (of one trend statistic).
func (d *Derived) params(stat string) any {
	switch d.Kind {
	case ProductASD:
		a := d.ASD
		return welchParams(d.Welch, d.InputRate, a.NFFT, a.NOverlap, a.Segments, 0)
	case ProductSpectrogram:
		sg := d.Spectrogram
		p := welchParams(d.Welch, d.InputRate, sg.NFFT, sg.NOverlap, sg.SegmentsPerStride, d.Stride)
		p.Chunks, p.Values = ChunksGWpy, "psd"
		return p
	case ProductHighpass, ProductLowpass:
		return FilterParams{Btype: d.Kind, Cutoff: d.Filter.Cutoff, Design: "butter", Filtering: "sosfiltfilt", Order: d.Filter.Order, PadLen: d.PadLen, SampleRate: d.InputRate}
	case ProductBandpass:
		return FilterParams{Btype: d.Kind, Design: "butter", Filtering: "sosfiltfilt", High: d.Band.High, Low: d.Band.Low, Order: d.Band.Order, PadLen: d.PadLen, SampleRate: d.InputRate}
	case ProductResample:
		return ResampleParams{Down: d.Resample.Down, Rate: d.Rate, SampleRate: d.InputRate, Up: d.Resample.Up, Window: "kaiser", Beta: 5}
	case ProductTrend:
		return TrendParams{SampleRate: d.InputRate, Stat: stat, Stride: d.Trend.DT}
	}
	if d.Own != nil {
		return d.Own.Params
	}
	return nil
}

// derivedDatasets are the datasets of the chain products of a series:
// name is its dataset name, t0 its start, unit its archive unit.
func derivedDatasets(e *Entry, name string, t0 float64, unit string, prov []Attr) ([]Dataset, error) {
	var out []Dataset
	for i := range e.Derived {
		d := &e.Derived[i]
		if !d.made() {
			continue
		}
		paths := DerivedPaths(name, d.Name, d.Kind)
		add := func(path string, params any, values any, dims []uint, attrs ...Attr) error {
			kind := d.Kind
			if path == paths[len(paths)-1] && kind == ProductASD {
				kind = ProductFrequencies
			}
			pj, err := marshal(params)
			if err != nil {
				return err
			}
			a := []Attr{
				{Name: attrProduct, Value: kind},
				{Name: attrParent, Value: derivedParent(name, d.Input)},
				{Name: attrStep, Value: d.step()},
				{Name: attrParamsJSON, Value: pj},
			}
			a = append(append(append(a, attrs...), Attr{Name: attrDataSHA256, Value: DataSHA256(values)}), prov...)
			out = append(out, Dataset{Path: path, Data: values, Dims: dims, Attrs: a})
			return nil
		}
		var err error
		switch {
		case d.Values != nil:
			err = add(paths[0], d.params(""), d.Values, nil, Attr{Name: attrUnit, Value: unit},
				Attr{Name: attrT0, Value: t0}, Attr{Name: attrDT, Value: 1 / d.Rate}, Attr{Name: attrSampleRate, Value: d.Rate})
		case d.ASD != nil:
			a := d.ASD
			axis := []Attr{{Name: attrF0, Value: a.F0}, {Name: attrDF, Value: a.DF}}
			if err = add(paths[0], d.params(""), a.Values, nil, append(axis, Attr{Name: attrUnit, Value: DensityUnit(unit)})...); err == nil {
				err = add(paths[1], d.params(""), a.Frequencies(), nil, append(axis, Attr{Name: attrUnit, Value: "Hz"})...)
			}
		case d.Spectrogram != nil:
			sg := d.Spectrogram
			err = add(paths[0], d.params(""), sg.Values, []uint{uint(sg.Times), uint(sg.Freqs)},
				Attr{Name: attrValues, Value: "psd"}, Attr{Name: attrUnit, Value: PowerDensityUnit(unit)},
				Attr{Name: attrT0, Value: t0}, Attr{Name: attrDT, Value: sg.DT}, Attr{Name: attrF0, Value: sg.F0}, Attr{Name: attrDF, Value: sg.DF})
		case d.Own != nil:
			err = add(paths[0], d.params(""), d.Own.Values, d.Own.Dims, d.Own.attrs()...)
		case d.Trend != nil:
			tr := d.Trend
			for j, st := range TrendStats {
				values, u := TrendValues(tr, st), unit
				if st == "n" {
					u = ""
				}
				if err = add(paths[j], d.params(st), values, nil, Attr{Name: attrValues, Value: st}, Attr{Name: attrUnit, Value: u},
					Attr{Name: attrT0, Value: t0}, Attr{Name: attrDT, Value: tr.DT}); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TrendValues returns the values of one statistic of a trend, as
// stored: []float64, but []int64 for "n".
func TrendValues(tr *processor.Trend, stat string) any {
	switch stat {
	case "mean":
		return tr.Mean
	case "min":
		return tr.Min
	case "max":
		return tr.Max
	case "rms":
		return tr.RMS
	case "n":
		n := make([]int64, len(tr.N))
		for i, v := range tr.N {
			n[i] = int64(v)
		}
		return n
	}
	return nil
}

// derivedSkips are the attributes of a raw series that say why products
// of its chain were not made: <name>_skipped.
func derivedSkips(e *Entry) []Attr {
	var out []Attr
	for _, d := range e.Derived {
		if d.Skipped != "" && !d.made() {
			out = append(out, Attr{Name: skippedAttr(d.Name), Value: d.Skipped})
		}
	}
	return out
}

// derivedPaths adds the paths of e's chain products to products, and the
// reasons of those skipped to skipped.
func derivedPaths(e *Entry, name string, products []string, skipped map[string]string) []string {
	for _, d := range e.Derived {
		paths := DerivedPaths(name, d.Name, d.Kind)
		switch {
		case d.made():
			products = append(products, paths...)
		case d.Skipped != "" && d.Kind == ProductTrend:
			skipped[ProcessedPath(name, d.Name)] = d.Skipped // of no one statistic
		case d.Skipped != "":
			skipped[paths[0]] = d.Skipped
		}
	}
	return products
}

// isDerivedSkip reports whether an attribute name is one derivedSkips
// may write for e, which what a source says of a series may not take.
func isDerivedSkip(e *Entry, attr string) bool {
	return slices.ContainsFunc(e.Derived, func(d Derived) bool { return skippedAttr(d.Name) == attr })
}
