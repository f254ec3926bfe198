package archive

import (
	"slices"
	"testing"

	"github.com/gwwatchd/gwwatchd/processor"
)

// writeAndOpen lays c out, writes it and opens what was written; it also
// returns the path written to.
func writeAndOpen(t *testing.T, c *Content) (*Archive, string) {
	t.Helper()
	doc, err := c.Doc()
	if err != nil {
		t.Fatal(err)
	}
	w, err := WriteFile(t.TempDir(), "a.h5", doc, Compression{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(w.Path)
	if err != nil {
		t.Fatal(err)
	}
	return a, w.Path
}

// TestChainLayout: the products of a chain are laid out by name, typed by
// kind in the read model, each after its parent and with a view for gwpy
// that checks; one not made is explained on its raw series, and a source
// attribute of that name does not shadow it.
func TestChainLayout(t *testing.T) {
	t.Parallel()
	c := testContent(t)
	e := &c.Entries[0]
	x := e.Series.Values.([]float64)
	lp := processor.FilterParams{Order: 2, Cutoff: 50}
	y, err := processor.Lowpass(x, 256, lp)
	if err != nil {
		t.Fatal(err)
	}
	rs := processor.ResampleParams{Up: 1, Down: 2}
	z, err := processor.Resample(y, 256, rs)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := processor.Trends(z, 128, processor.TrendParams{Stride: 4})
	if err != nil {
		t.Fatal(err)
	}
	e.Series.Extra = map[string]any{"hp_skipped": "from the source", "kept": "yes"}
	e.Derived = []Derived{
		{Name: "lp", Kind: ProductLowpass, InputRate: 256, Filter: lp, PadLen: 9, Values: y, Rate: 256},
		{Name: "half", Kind: ProductResample, Input: "lp", InputRate: 256, Resample: rs, Values: z, Rate: 128},
		{Name: "t4", Kind: ProductTrend, Input: "half", InputRate: 128, Stride: 4, Trend: tr},
		{Name: "hp", Kind: ProductHighpass, Skipped: "cutoff 300 Hz is not below the Nyquist frequency 128 Hz"},
	}
	_, products, skipped := c.Paths()
	want := []string{"/processed/K1:X/lp", "/processed/K1:X/half", "/processed/K1:X/t4.mean", "/processed/K1:X/t4.min",
		"/processed/K1:X/t4.max", "/processed/K1:X/t4.rms", "/processed/K1:X/t4.n"}
	if got := products[3:]; !slices.Equal(got, want) {
		t.Errorf("got chain products %v, want %v", got, want)
	}
	if skipped["/processed/K1:X/hp"] != e.Derived[3].Skipped {
		t.Errorf("skipped %v", skipped)
	}
	a, _ := writeAndOpen(t, c)
	byPath := map[string]*Product{}
	for i, p := range a.Products {
		byPath[p.Path] = p
		if q := byPath[p.Parent]; q == nil && p.Parent != "/raw/K1:X" {
			t.Errorf("%s (product %d) before its parent %s", p.Path, i, p.Parent)
		}
	}
	if p := byPath["/processed/K1:X/lp"]; p.Filter == nil || *p.Filter != (FilterParams{Btype: "lowpass", Cutoff: 50, Design: "butter",
		Filtering: "sosfiltfilt", Order: 2, PadLen: 9, SampleRate: 256}) || p.Unit != "ct" || p.SampleRate != 256 || p.Axes.DT != 1.0/256 {
		t.Errorf("lowpass %+v %+v", p, p.Filter)
	}
	if p := byPath["/processed/K1:X/half"]; p.Parent != "/processed/K1:X/lp" || p.Resample == nil || p.Resample.Rate != 128 || p.Resample.Down != 2 {
		t.Errorf("resample %+v %+v", p, p.Resample)
	}
	if p := byPath["/processed/K1:X/t4.n"]; p.Parent != "/processed/K1:X/half" || p.Trend == nil || *p.Trend != (TrendParams{SampleRate: 128, Stat: "n", Stride: 4}) ||
		p.DType != "int64" || p.Quantity != "n" || p.Axes.DT != 4 || p.Axes.T0 != 1300000000 {
		t.Errorf("trend n %+v %+v", p, p.Trend)
	}
	s := a.Series[0]
	if s.Skipped["hp"] != e.Derived[3].Skipped || s.Skipped["asd"] != "" {
		t.Errorf("skipped on the raw series: %v", s.Skipped)
	}
	if got := str(s.attrs, "kept"); got != "yes" {
		t.Errorf("source attribute kept: %q", got)
	}
	var views []string
	for _, v := range a.Views {
		if err := a.CheckView(v); err != nil {
			t.Errorf("view %s: %v", v.Path, err)
		}
		if v.Kind == ViewProducts {
			views = append(views, v.Leaf)
		}
	}
	if want := []string{"half", "lp", "t4.max", "t4.mean", "t4.min", "t4.n", "t4.rms"}; !slices.Equal(views, want) {
		t.Errorf("views of the chain %v, want %v", views, want)
	}
}
