package archive

import (
	"encoding/json"

	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/processor"
)

// The params_json attribute of each raw series and product is one of the
// structs below, written by Content.Doc and read back by Open. Their
// fields are in the order of their JSON names: earlier versions wrote
// params_json as a map, which json.Marshal sorts, and this keeps it the
// same byte for byte.

// SeriesParams is the params_json of a raw series: its metadata as
// resolved when it was read, and where each value came from.
type SeriesParams struct {
	ByteOrder   string            `json:"byte_order,omitempty"` // of the samples in the source: "little", "big"
	Channel     string            `json:"channel"`
	Dataset     string            `json:"dataset"`
	Description string            `json:"description"`
	DType       string            `json:"dtype"`  // NumPy name of the sample type, as in the source
	Format      string            `json:"format"` // of the source: "npy", "raw", "text", "gwf" or "hdf5"
	Origin      map[string]string `json:"origin"` // metadata key -> "flag", "sidecar", "file", ...
	SampleRate  float64           `json:"sample_rate"`
	Samples     int               `json:"samples"`
	Shape       []int             `json:"shape,omitempty"`        // of a series of more than one dimension
	SourceAttrs map[string]any    `json:"source_attrs,omitempty"` // what the source says of it besides
	T0          float64           `json:"t0"`
	Unit        string            `json:"unit"`
	UnitSource  string            `json:"unit_source,omitempty"` // the source's spelling, when it is another
}

// seriesParams are the parameters of a series as archived with unit.
func seriesParams(s *ingest.Series, dataset, unit string) SeriesParams {
	p := SeriesParams{
		ByteOrder:   s.ByteOrder,
		Channel:     s.Channel,
		Dataset:     dataset,
		Description: s.Description,
		DType:       string(s.DType),
		Format:      s.Format,
		Origin:      s.Origin,
		SampleRate:  s.SampleRate,
		Samples:     s.Len(),
		Shape:       s.Shape,
		SourceAttrs: s.Extra,
		T0:          s.T0,
		Unit:        unit,
	}
	if s.Unit != unit {
		p.UnitSource = s.Unit
	}
	return p
}

// WelchParams is the params_json of a product made by Welch's method:
// every parameter needed to make it again from its parent.
type WelchParams struct {
	// Chunks is ChunksGWpy for a spectrogram of PSD rows of gwpy's
	// chunks; "" for an ASD, and for a spectrogram of ASD rows of whole
	// strides, as archives written before hold.
	Chunks     string  `json:"chunks,omitempty"`
	Detrend    string  `json:"detrend"`   // "constant"
	FFTLength  float64 `json:"fftlength"` // seconds
	Method     string  `json:"method"`    // processor.MethodMedian or MethodMean
	Segments   int     `json:"n_segments"`
	NFFT       int     `json:"nfft"`
	NOverlap   int     `json:"noverlap"`
	OneSided   bool    `json:"onesided"`
	Overlap    float64 `json:"overlap"`          // seconds
	SampleRate float64 `json:"sample_rate"`      // of the parent, Hz
	Scaling    string  `json:"scaling"`          // "density"
	Stride     float64 `json:"stride,omitempty"` // seconds per row of a spectrogram; 0 for an ASD
	Values     string  `json:"values,omitempty"` // "psd" with Chunks ChunksGWpy
	Window     string  `json:"window"`
}

// welchParams are the parameters of a Welch product of data sampled at fs.
// Segments is the number averaged, per stride for a spectrogram.
func welchParams(p processor.Params, fs float64, nfft, noverlap, segments int, stride float64) WelchParams {
	return WelchParams{
		Detrend:    "constant",
		FFTLength:  p.FFTLength,
		Method:     p.Method,
		Segments:   segments,
		NFFT:       nfft,
		NOverlap:   noverlap,
		OneSided:   true,
		Overlap:    p.Overlap,
		SampleRate: fs,
		Scaling:    "density",
		Stride:     stride,
		Window:     p.Window,
	}
}

// Processor returns the parameters to give the processor to make the
// product again.
func (w WelchParams) Processor() processor.Params {
	return processor.Params{FFTLength: w.FFTLength, Overlap: w.Overlap, Method: w.Method, Window: w.Window}
}

// FilterParams is the params_json of a highpass, lowpass or bandpass
// product: scipy.signal.butter(order, cutoff or [low, high], btype,
// fs=sample_rate, output="sos") applied by sosfiltfilt.
type FilterParams struct {
	Btype      string  `json:"btype"`            // ProductHighpass, ProductLowpass, ProductBandpass
	Cutoff     float64 `json:"cutoff,omitempty"` // Hz, highpass and lowpass
	Design     string  `json:"design"`           // "butter"
	Filtering  string  `json:"filtering"`        // "sosfiltfilt": forward and backward, odd padding
	High       float64 `json:"high,omitempty"`   // Hz, bandpass
	Low        float64 `json:"low,omitempty"`    // Hz, bandpass
	Order      int     `json:"order"`
	PadLen     int     `json:"padlen"`      // samples padded at each end
	SampleRate float64 `json:"sample_rate"` // of the parent, Hz
}

// ResampleParams is the params_json of a resample product:
// scipy.signal.resample_poly(x, up, down, window=(window, beta)).
type ResampleParams struct {
	Beta       float64 `json:"beta"` // of the Kaiser window: 5
	Down       int     `json:"down"`
	Rate       float64 `json:"rate"`        // of the product, Hz: sample_rate·up/down
	SampleRate float64 `json:"sample_rate"` // of the parent, Hz
	Up         int     `json:"up"`
	Window     string  `json:"window"` // "kaiser"
}

// TrendParams is the params_json of one statistic of a trend product.
type TrendParams struct {
	SampleRate float64 `json:"sample_rate"`    // of the parent, Hz
	Stat       string  `json:"stat,omitempty"` // one of TrendStats; none in the PROV activity that makes them all
	Stride     float64 `json:"stride"`         // seconds per trend sample
}

// ChunksGWpy is the "chunks" of a spectrogram's params_json whose rows
// come from gwpy's chunks (processor.GWpySpectrogram), and whose values are
// PSD ("values": "psd"). A spectrogram without it, as archives before it
// hold, is of ASD rows of whole strides (processor.Spectrogram).
const ChunksGWpy = "gwpy"

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
