package provenance_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/pipeline"
	"github.com/gwwatchd/gwwatchd/processor"
	"github.com/gwwatchd/gwwatchd/provenance"
)

// chain writes an archive of an int16 series, a filtered series of it,
// an ASD of that and a spectrogram, at dir/a.h5.
func chain(t *testing.T, dir string) (*provenance.Writer, *provenance.Written) {
	t.Helper()
	created := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	w := provenance.New(provenance.Options{Program: "mine", Version: "2.0", Host: "lab1", Created: created,
		Source: &provenance.Source{Path: filepath.Join(dir, "gone.bin"), Size: 2048, ModTime: created, SHA256: strings.Repeat("ab", 32)}})
	x := make([]int16, 1024)
	for i := range x {
		x[i] = int16(i % 37)
	}
	raw, err := w.AddSeries(provenance.Series{Channel: "K1:X-Y", T0: 1300000000, SampleRate: 256, Unit: "ct", Description: "test", Values: x})
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v) / 2
	}
	filt, err := w.Derive(raw, provenance.Product{Name: "half", Kind: "scale", Step: "halved", Params: map[string]float64{"gain": 0.5},
		Values: f, Unit: "ct", Axes: archive.Axes{T0: 1300000000, DT: 1.0 / 256}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Derive(filt, provenance.Product{Name: "myasd", Kind: "periodogram", Params: map[string]int{"nfft": 4},
		Values: []float64{1, 2, 3}, Unit: "ct / Hz(1/2)", Axes: archive.Axes{F0: 0, DF: 64}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Derive(filt, provenance.Product{Name: "mysg", Kind: "my_spectrogram", Values: []float64{1, 2, 3, 4, 5, 6},
		Dims: []uint{2, 3}, Unit: "ct2 / Hz", Axes: archive.Axes{T0: 1300000000, DT: 2, DF: 64}}); err != nil {
		t.Fatal(err)
	}
	written, err := w.Write(filepath.Join(dir, "a.h5"))
	if err != nil {
		t.Fatal(err)
	}
	return w, written
}

// TestReadBack: archive.Open reads what a Writer wrote with its lineage,
// parameters, axes, the provenance set on every dataset, the views for
// gwpy and the PROV-JSON document of the whole chain.
func TestReadBack(t *testing.T) {
	_, written := chain(t, t.TempDir())
	a, err := archive.Open(written.Path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Format != archive.Format || len(a.Series) != 1 || a.Series[0].Channel != "K1:X-Y" || a.Series[0].SampleRate != 256 {
		t.Fatalf("got format %q, series %+v", a.Format, a.Series)
	}
	type link struct{ path, parent, kind, step string }
	var got []link
	for _, p := range a.Products {
		got = append(got, link{p.Path, p.Parent, p.Kind, p.Step})
	}
	want := []link{
		{"/processed/K1:X-Y/half", "/raw/K1:X-Y", "scale", "halved"},
		{"/processed/K1:X-Y/myasd", "/processed/K1:X-Y/half", "periodogram", "periodogram"},
		{"/processed/K1:X-Y/mysg", "/processed/K1:X-Y/half", "my_spectrogram", "my_spectrogram"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got products\n%v\nwant\n%v", got, want)
	}
	half := a.Products[0]
	if half.SampleRate != 256 || half.Axes.DT != 1.0/256 || half.Unit != "ct" || half.ParamsErr != nil {
		t.Errorf("half: rate %g, axes %+v, unit %q, params error %v", half.SampleRate, half.Axes, half.Unit, half.ParamsErr)
	}
	if m, ok := half.OwnParams.(map[string]any); !ok || m["gain"] != 0.5 {
		t.Errorf("half: got params %#v, want gain 0.5", half.OwnParams)
	}
	if sg := a.Products[2]; !slices.Equal(sg.Shape, []uint{2, 3}) || sg.Axes.DT != 2 || sg.Axes.DF != 64 {
		t.Errorf("mysg: shape %v, axes %+v", sg.Shape, sg.Axes)
	}
	objects := []*archive.Object{{Path: "/", Provenance: a.Provenance}, a.Series[0].Object}
	for _, p := range a.Products {
		objects = append(objects, p.Object)
	}
	for _, o := range objects { // views carry only what gwpy takes
		p := o.Provenance
		if p.Program != "mine" || p.ProgramVersion != "2.0" || p.Host != "lab1" || !p.Created.Equal(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) ||
			p.GoVersion == "" || p.HDF5Version == "" {
			t.Errorf("%s: provenance %+v", o.Path, p)
		}
	}
	kinds := map[string]string{}
	for _, v := range a.Views {
		if err := a.CheckView(v); err != nil {
			t.Errorf("%s: %v", v.Path, err)
		}
		kinds[v.Path] = v.Kind
	}
	for _, path := range []string{"/gwpy/timeseries/K1:X-Y", "/gwpy/products/K1:X-Y/half", "/gwpy/products/K1:X-Y/myasd", "/gwpy/products/K1:X-Y/mysg"} {
		if _, ok := kinds[path]; !ok {
			t.Errorf("no view %s; views %v", path, kinds)
		}
	}
	var prov struct {
		Entity         map[string]map[string]any
		WasDerivedFrom map[string]map[string]any
		Agent          map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(a.ProvJSON), &prov); err != nil {
		t.Fatal(err)
	}
	if d := prov.WasDerivedFrom["_:d_gw:/processed/K1:X-Y/myasd"]; d["prov:usedEntity"] != "gw:/processed/K1:X-Y/half" {
		t.Errorf("PROV: myasd derived from %v, want half", d["prov:usedEntity"])
	}
	if ag := prov.Agent["gw:gwwatchd"]; ag["gw:program"] != "mine" || ag["gw:program_version"] != "2.0" {
		t.Errorf("PROV agent %v", ag)
	}
}

// TestInspect: inspect names the program beside gwwatchd in every
// dataset's provenance, and shows the lineage of its products.
func TestInspect(t *testing.T) {
	_, written := chain(t, t.TempDir())
	a, err := archive.Open(written.Path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := a.Summary().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, " program=mine program_version=2.0\n"); n != 4 {
		t.Errorf("the program in %d provenance lines, want 4 (raw and 3 products):\n%s", n, out)
	}
	if !strings.Contains(out, "      /processed/K1:X-Y/myasd  periodogram") {
		t.Errorf("no myasd under half in the lineage:\n%s", out)
	}
}

// TestVerifyOwnKinds: verify checks the hashes and parents of products of
// a program's own kinds and says it did not recompute them; a product
// whose values changed is a problem.
func TestVerifyOwnKinds(t *testing.T) {
	dir := t.TempDir()
	_, written := chain(t, dir)
	r, err := pipeline.Verify(written.Path, processor.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("problems: %v", r.Problems)
	}
	for _, want := range []string{
		"/processed/K1:X-Y/myasd: data_sha256",
		"/processed/K1:X-Y/myasd: parent /processed/K1:X-Y/half",
		"/processed/K1:X-Y/myasd: not recomputed: kind periodogram is not one gwwatchd makes",
		"/processed/K1:X-Y/half: not recomputed: kind scale is not one gwwatchd makes",
	} {
		if !slices.Contains(r.Checked, want) {
			t.Errorf("no %q in %v", want, r.Checked)
		}
	}
	if got := r.Summary(); !strings.Contains(got, "not recomputed, of kinds gwwatchd does not make: /processed/K1:X-Y/half, /processed/K1:X-Y/myasd, /processed/K1:X-Y/mysg") {
		t.Errorf("summary %q", got)
	}

	// The same chain with other values under the recorded hash.
	doc, err := archive.Read(written.Path)
	if err != nil {
		t.Fatal(err)
	}
	other := *doc
	other.Datasets = slices.Clone(doc.Datasets)
	for i, d := range other.Datasets {
		if d.Path == "/processed/K1:X-Y/myasd" {
			other.Datasets[i].Data = []float64{1, 2, 4}
		}
	}
	bad := filepath.Join(dir, "bad")
	if _, err := archive.WriteFile(bad, "b.h5", &other, archive.Compression{}); err != nil {
		t.Fatal(err)
	}
	r, err = pipeline.Verify(filepath.Join(bad, "b.h5"), processor.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "/processed/K1:X-Y/myasd: data_sha256 is") {
		t.Errorf("got problems %v, want myasd's data_sha256", r.Problems)
	}
}

// TestReprocess: gwwatchd reprocess adds its products to an archive a
// program wrote (the ASD; 4 s are too short for a spectrogram) and keeps
// the program's as they were; the archive still verifies.
func TestReprocess(t *testing.T) {
	dir := t.TempDir()
	_, written := chain(t, dir)
	before, err := archive.Read(written.Path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Archive.Root = dir
	p := pipeline.New(pipeline.Options{Config: cfg, CPUs: 1})
	res, err := p.Reprocess(context.Background(), written.Path, cfg.Processing.Chain(), written.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/processed/K1:X-Y/asd_values", "/processed/K1:X-Y/asd_frequencies"}; !slices.Equal(res.Added, want) {
		t.Errorf("added %v, want %v", res.Added, want)
	}
	after, err := archive.Read(written.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range before.Datasets {
		if !strings.HasPrefix(d.Path, "/processed/") {
			continue
		}
		got := after.Dataset(d.Path)
		if got == nil || archive.DataSHA256(got.Data) != archive.DataSHA256(d.Data) || len(got.Attrs) != len(d.Attrs) {
			t.Errorf("%s: not kept as it was", d.Path)
		}
	}
	r, err := pipeline.Verify(written.Path, processor.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.NotRecomputed) != 3 {
		t.Errorf("problems %v, not recomputed %v", r.Problems, r.NotRecomputed)
	}
}

// TestRefused: what cannot be stored as asked is refused when added.
func TestRefused(t *testing.T) {
	w := provenance.New(provenance.Options{Program: "mine"})
	if _, err := w.AddSeries(provenance.Series{Channel: "K1:X", SampleRate: 256, Values: []string{"a"}}); err == nil {
		t.Error("a series of strings: no error")
	}
	if _, err := w.AddSeries(provenance.Series{Channel: "K1:X", Values: []float64{1}}); err == nil {
		t.Error("a series without a sample rate: no error")
	}
	raw, err := w.AddSeries(provenance.Series{Channel: "K1:X", SampleRate: 256, Values: []float64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddSeries(provenance.Series{Channel: "K1:X", SampleRate: 256, Values: []float64{1, 2}}); err == nil {
		t.Error("a second series of one dataset name: no error")
	}
	for _, p := range []provenance.Product{
		{Name: "a", Kind: archive.ProductASD, Values: []float64{1}},
		{Name: "asd", Kind: "mine", Values: []float64{1}},
		{Name: "a@2", Kind: "mine", Values: []float64{1}},
		{Name: "a.b", Kind: "mine", Values: []float64{1}},
		{Name: "x_values", Kind: "mine", Values: []float64{1}},
		{Name: "a", Values: []float64{1}},
		{Name: "a", Kind: "mine", Values: 3},
		{Name: "a", Kind: "mine", Values: []float64{}},
		{Name: "a", Kind: "mine", Values: []float64{1, 2, 3}, Dims: []uint{2, 2}},
	} {
		if _, err := w.Derive(raw, p); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if _, err := w.Derive(raw, provenance.Product{Name: "a", Kind: "mine", Values: []float64{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Derive(raw, provenance.Product{Name: "a", Kind: "mine", Values: []float64{1}}); err == nil {
		t.Error("a second product of one name: no error")
	}
	if _, err := provenance.New(provenance.Options{}).Derive(raw, provenance.Product{Name: "b", Kind: "mine", Values: []float64{1}}); err == nil {
		t.Error("a parent of another archive: no error")
	}
}

// TestWriteTwice: the same content written again at its path is a
// duplicate, and nothing is written.
func TestWriteTwice(t *testing.T) {
	dir := t.TempDir()
	w, written := chain(t, dir)
	if _, err := w.Write(written.Path); !errors.Is(err, archive.ErrDuplicate) {
		t.Errorf("got %v, want a duplicate", err)
	}
}
