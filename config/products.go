package config

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive/layout"
	"github.com/gwwatchd/gwwatchd/processor"
)

// Product kinds, as [[processing.product]] tables name them.
const (
	KindASD         = "asd"
	KindSpectrogram = "spectrogram"
	KindHighpass    = "highpass"
	KindLowpass     = "lowpass"
	KindBandpass    = "bandpass"
	KindResample    = "resample"
	KindTrend       = "trend"
)

// Kinds are the product kinds, in the order the documentation lists them.
var Kinds = []string{KindASD, KindSpectrogram, KindHighpass, KindLowpass, KindBandpass, KindResample, KindTrend}

// InputRaw is the input that names a product's raw series.
const InputRaw = "raw"

// Product configures one product of a processing chain: what it is made
// of (Input: the raw series or another product), for which channels, and
// its kind's parameters. Keys that do not apply to the kind are refused.
type Product struct {
	Name     string   `toml:"name"`
	Kind     string   `toml:"kind"`
	Input    string   `toml:"input"` // InputRaw, the default, or another product's name
	Channels []string `toml:"channels,omitempty"`

	// asd and spectrogram: as in [processing.asd] and [processing.spectrogram].
	FFTLength *float64 `toml:"fftlength,omitempty"`
	Overlap   *float64 `toml:"overlap,omitempty"` // nil: half of fftlength
	Method    string   `toml:"method,omitempty"`
	Window    string   `toml:"window,omitempty"`
	// Stride is the seconds per row of a spectrogram, and per sample of
	// a trend.
	Stride *float64 `toml:"stride,omitempty"`

	// highpass, lowpass and bandpass: Butterworth filters, applied
	// forward and backward.
	Order  int     `toml:"order,omitempty"`
	Cutoff float64 `toml:"cutoff,omitempty"` // Hz, highpass and lowpass
	Low    float64 `toml:"low,omitempty"`    // Hz, bandpass
	High   float64 `toml:"high,omitempty"`   // Hz, bandpass

	// Rate is the sample rate a resample product is made at, Hz.
	Rate float64 `toml:"rate,omitempty"`
}

// Series reports whether the product is a time series (a filter or a
// resampling), which other products may be made of.
func (p Product) Series() bool {
	switch p.Kind {
	case KindHighpass, KindLowpass, KindBandpass, KindResample:
		return true
	}
	return false
}

// Welch returns the Welch parameters of an asd or spectrogram product,
// the overlap resolved.
func (p Product) Welch() processor.Params {
	fl := deref(p.FFTLength)
	return processor.Params{FFTLength: fl, Overlap: EffectiveOverlap(fl, p.Overlap), Method: p.Method, Window: p.Window}
}

// Matches reports whether the product is made of the channel: its
// channels globs select it, or it has none.
func (p Product) Matches(channel string) bool {
	if len(p.Channels) == 0 {
		return true
	}
	for _, g := range p.Channels {
		if ok, _ := path.Match(g, channel); ok {
			return true
		}
	}
	return false
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// Chain returns every product to make of each series, in dependency
// order (each after its input): the shorthands first, [processing.asd]
// as the product "asd" and [processing.spectrogram] as "spectrogram" of
// the raw series when they are enabled, then the [[processing.product]]
// tables, in the order given where their inputs allow.
func (c *Processing) Chain() []Product {
	var out []Product
	if a := c.ASD; a.Enabled {
		out = append(out, Product{Name: KindASD, Kind: KindASD, Input: InputRaw, FFTLength: &a.FFTLength, Overlap: a.Overlap, Method: a.Method, Window: a.Window})
	}
	if s := c.Spectrogram; s.Enabled {
		out = append(out, Product{Name: KindSpectrogram, Kind: KindSpectrogram, Input: InputRaw, FFTLength: &s.FFTLength, Overlap: s.Overlap, Method: s.Method, Window: s.Window, Stride: &s.Stride})
	}
	placed := map[string]bool{InputRaw: true}
	rest := slices.Clone(c.Products)
	for len(rest) > 0 {
		n := len(rest)
		rest = slices.DeleteFunc(rest, func(p Product) bool {
			if !placed[p.Input] {
				return false
			}
			out = append(out, p)
			placed[p.Name] = true
			return true
		})
		if len(rest) == n {
			break // a cycle, which validation refuses
		}
	}
	return out
}

// applyProductDefaults fills what a [[processing.product]] table did not
// set: its input, and the Welch and trend parameters' defaults.
func (c *Processing) applyProductDefaults() {
	for i := range c.Products {
		p := &c.Products[i]
		if p.Input == "" {
			p.Input = InputRaw
		}
		if len(p.Channels) == 0 {
			p.Channels = nil
		}
		orDefault := func(f **float64, v float64) {
			if *f == nil {
				*f = &v
			}
		}
		switch p.Kind {
		case KindASD, KindSpectrogram:
			if p.Kind == KindASD {
				orDefault(&p.FFTLength, 4)
			} else {
				orDefault(&p.FFTLength, 2)
				orDefault(&p.Stride, 8)
			}
			if p.Method == "" {
				p.Method = processor.MethodMedian
			}
			if p.Window == "" {
				p.Window = processor.WindowHann
			}
		case KindTrend:
			orDefault(&p.Stride, processor.SecondTrend)
		}
	}
}

// productNameRe is a product name: one HDF5 path element with room for
// the suffixes of the datasets it is stored as.
var productNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// validateProducts checks the [[processing.product]] tables and the chain
// they make with the shorthands.
func (c *Processing) validateProducts() error {
	names := map[string]int{}
	if c.ASD.Enabled {
		names[KindASD] = -1
	}
	if c.Spectrogram.Enabled {
		names[KindSpectrogram] = -1
	}
	for i := range c.Products {
		p := &c.Products[i]
		bad := func(key, format string, args ...any) error {
			k := fmt.Sprintf("processing.product[%d]", i)
			if key != "" {
				k += "." + key
			}
			return &ValidationError{Key: k, Product: p.Name, Msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case p.Name == "":
			return bad("name", "must be set")
		case p.Name == InputRaw:
			return bad("name", "%q names the raw series; choose another name", p.Name)
		case !productNameRe.MatchString(p.Name):
			return bad("name", "%q is not a product name (letters, digits, _ and -, starting with a letter or digit)", p.Name)
		case layout.ASDSuffix(p.Name) != "":
			return bad("name", "%q ends like the datasets of an ASD (%s, %s); choose another name", p.Name, layout.ValuesSuffix, layout.FrequenciesSuffix)
		}
		if j, dup := names[p.Name]; dup {
			if j < 0 {
				return bad("name", "%q is already the product of [processing.%s]; disable it (enabled = false) or choose another name", p.Name, p.Name)
			}
			return bad("name", "%q is already the name of processing.product[%d]", p.Name, j)
		}
		names[p.Name] = i
		if !slices.Contains(Kinds, p.Kind) {
			return bad("kind", "unknown kind %q (want one of %s)", p.Kind, strings.Join(Kinds, ", "))
		}
		if (p.Name == KindASD || p.Name == KindSpectrogram) && p.Kind != p.Name {
			// Their datasets and views are the shorthands'.
			return bad("name", "%q is the name of the %s product; a %s product needs another name", p.Name, p.Name, p.Kind)
		}
		for _, g := range p.Channels {
			if _, err := path.Match(g, "x"); err != nil || g == "" {
				return bad("channels", "%q is not a channel name pattern", g)
			}
		}
		if err := p.checkKeys(bad); err != nil {
			return err
		}
		if err := p.checkParams(bad); err != nil {
			return err
		}
	}
	byName := map[string]*Product{}
	for i := range c.Products {
		byName[c.Products[i].Name] = &c.Products[i]
	}
	for i := range c.Products {
		p := &c.Products[i]
		bad := func(format string, args ...any) error {
			return &ValidationError{Key: fmt.Sprintf("processing.product[%d].input", i), Product: p.Name, Msg: fmt.Sprintf(format, args...)}
		}
		if p.Input == InputRaw {
			continue
		}
		in := byName[p.Input]
		if in == nil {
			if _, ok := names[p.Input]; ok {
				in = &Product{Kind: p.Input} // a shorthand: an asd or spectrogram
			} else {
				return bad("no product is named %q (want %q or a product's name)", p.Input, InputRaw)
			}
		}
		if !in.Series() {
			return bad("%q is a product of kind %s; a %s is made of a time series: %q, a filter or a resample", p.Input, in.Kind, p.Kind, InputRaw)
		}
		// Follow the inputs back to the raw series; coming back to p is a cycle.
		seen := []string{p.Name}
		for q := in; q != nil && q.Input != InputRaw; q = byName[q.Input] {
			seen = append(seen, q.Name)
			if q.Input == p.Name {
				return bad("%q is made of %s: a cycle", p.Input, strings.Join(append(seen[1:], p.Name), " of "))
			}
			if len(seen) > len(c.Products) {
				break // a cycle not through p, reported for its own members
			}
		}
	}
	return nil
}

// checkKeys refuses the parameters that do not apply to the product's kind.
func (p *Product) checkKeys(bad func(key, format string, args ...any) error) error {
	set := []struct {
		key string
		is  bool
	}{
		{"fftlength", p.FFTLength != nil}, {"overlap", p.Overlap != nil}, {"method", p.Method != ""},
		{"window", p.Window != ""}, {"stride", p.Stride != nil}, {"order", p.Order != 0},
		{"cutoff", p.Cutoff != 0}, {"low", p.Low != 0}, {"high", p.High != 0}, {"rate", p.Rate != 0},
	}
	applies := map[string][]string{
		KindASD:         {"fftlength", "overlap", "method", "window"},
		KindSpectrogram: {"fftlength", "overlap", "method", "window", "stride"},
		KindHighpass:    {"order", "cutoff"},
		KindLowpass:     {"order", "cutoff"},
		KindBandpass:    {"order", "low", "high"},
		KindResample:    {"rate"},
		KindTrend:       {"stride"},
	}[p.Kind]
	for _, s := range set {
		if s.is && !slices.Contains(applies, s.key) {
			return bad(s.key, "does not apply to a product of kind %s (its keys: %s)", p.Kind, strings.Join(applies, ", "))
		}
	}
	return nil
}

// checkParams checks what can be checked of the parameters without a
// sample rate; the rest (a cutoff below the Nyquist frequency, a rate
// reachable by a rational factor, a stride of whole samples) is checked
// for each series, and a product that cannot be made is skipped.
func (p *Product) checkParams(bad func(key, format string, args ...any) error) error {
	positive := func(key string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return bad(key, "must be a positive number of Hz, got %g", v)
		}
		return nil
	}
	switch p.Kind {
	case KindASD, KindSpectrogram:
		if err := checkWelch("", deref(p.FFTLength), p.Overlap, p.Method, p.Window); err != nil {
			ve := err.(*ValidationError)
			return bad(strings.TrimPrefix(ve.Key, "."), "%s", ve.Msg)
		}
		if p.Kind == KindSpectrogram {
			if s, fl := deref(p.Stride), deref(p.FFTLength); !(s >= fl) || math.IsInf(s, 0) {
				return bad("stride", "must be at least fftlength (%g s), got %g", fl, s)
			}
		}
	case KindHighpass, KindLowpass, KindBandpass:
		if p.Order < 1 || p.Order > processor.MaxFilterOrder {
			return bad("order", "must be from 1 to %d, got %d", processor.MaxFilterOrder, p.Order)
		}
		if p.Kind != KindBandpass {
			return positive("cutoff", p.Cutoff)
		}
		if err := positive("low", p.Low); err != nil {
			return err
		}
		if err := positive("high", p.High); err != nil {
			return err
		}
		if !(p.Low < p.High) {
			return bad("high", "must be above low (%g Hz), got %g", p.Low, p.High)
		}
	case KindResample:
		return positive("rate", p.Rate)
	case KindTrend:
		if s := deref(p.Stride); !(s > 0) || math.IsInf(s, 0) {
			return bad("stride", "must be a positive number of seconds, got %g", s)
		}
	}
	return nil
}
