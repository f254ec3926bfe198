package archive

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/buildinfo"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/processor"
)

// testContent is one series with an ASD and a spectrogram as gwpy makes
// it, and a second series whose products were skipped.
func testContent(t *testing.T) *Content {
	t.Helper()
	x := synth.Coloured(16*256, 256, 20, 1)
	proc := processor.New(1)
	prm := processor.Params{FFTLength: 2, Overlap: 1, Method: processor.MethodMedian, Window: processor.WindowHann}
	asd, err := proc.ASD(x, 256, prm)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := proc.GWpySpectrogram(x, 256, 4, prm)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	return &Content{
		ID:  NewID(),
		Key: "key",
		Source: ingest.Source{Path: "/in/K-X-1300000000-16.npy", Size: 32896, ModTime: created.Add(-time.Hour), SHA256: strings.Repeat("ab", 32),
			Sidecar: &ingest.Sidecar{Path: "/in/K-X-1300000000-16.json", Size: 21, SHA256: strings.Repeat("cd", 32)}},
		Created:  created,
		Host:     "host",
		Software: buildinfo.Info{Version: "v1.2.3", GoVersion: "go1.x", Gonum: "v0.17.0"},
		HDF5:     "1.10.8",
		Entries: []Entry{
			{Series: &ingest.Series{Channel: "K1:X", Dataset: "K1:X", Unit: "Counts.", T0: 1300000000, SampleRate: 256, DType: "float64", Values: x, Format: "npy",
				Origin: map[string]string{"channel": "sidecar"}},
				ASD: asd, ASDParams: prm, Spectrogram: sg, SpectrogramParams: prm, SpectrogramStride: 4},
			{Series: &ingest.Series{Channel: "K1:Z", Dataset: "K1:Z", T0: 1300000000, SampleRate: 4, DType: "int16", Values: []int16{1, 2, 3}, Format: "npy"},
				ASDSkipped: "too short", SpectrogramSkipped: "too short too"},
		},
	}
}

func TestOpenReadsTheLayout(t *testing.T) {
	t.Parallel()
	c := testContent(t)
	a, path := writeAndOpen(t, c)
	if a.Path != path || a.Format != Format || a.FormatVersion != FormatVersion || a.ID != c.ID || a.ContentKey != "key" {
		t.Errorf("root: %+v", a)
	}
	if want := (File{Path: c.Source.Path, Size: c.Source.Size, ModTime: c.Source.ModTime, SHA256: c.Source.SHA256}); a.Source != want {
		t.Errorf("source %+v, want %+v", a.Source, want)
	}
	if sc := a.Sidecar; sc == nil || *sc != (File{Path: c.Source.Sidecar.Path, Size: 21, SHA256: c.Source.Sidecar.SHA256}) {
		t.Errorf("sidecar %+v", sc)
	}
	wantProv := Provenance{Version: "v1.2.3", PipelineVersion: c.Software.PipelineVersion(), GoVersion: "go1.x", HDF5Version: "1.10.8",
		GonumVersion: "v0.17.0", Host: "host", Created: c.Created}
	if a.Provenance != wantProv {
		t.Errorf("provenance %+v, want %+v", a.Provenance, wantProv)
	}

	if len(a.Series) != 2 || len(a.Products) != 3 || len(a.Views) != 4 || len(a.Others) != 0 {
		t.Fatalf("%d series, %d products, %d views, %d others; want 2, 3, 4, 0", len(a.Series), len(a.Products), len(a.Views), len(a.Others))
	}
	x, z := a.Series[0], a.Series[1]
	if x.Name != "K1:X" || x.Path != "/raw/K1:X" || x.Channel != "K1:X" || x.T0 != 1300000000 || x.SampleRate != 256 || x.DT != 1.0/256 ||
		x.Unit != "ct" || x.UnitSource != "Counts." || x.DType != "float64" || !reflect.DeepEqual(x.Shape, []uint{16 * 256}) || x.Provenance != wantProv {
		t.Errorf("series %+v", x)
	}
	if x.ParamsErr != nil || x.Params.Channel != "K1:X" || x.Params.Samples != 16*256 || x.Params.UnitSource != "Counts." || x.Params.Origin["channel"] != "sidecar" {
		t.Errorf("series params %+v (%v)", x.Params, x.ParamsErr)
	}
	if len(x.Skipped) != 0 || !reflect.DeepEqual(z.Skipped, map[string]string{ProductASD: "too short", ProductSpectrogram: "too short too"}) || len(z.Products) != 0 {
		t.Errorf("skipped: %v and %v, products of K1:Z %v", x.Skipped, z.Skipped, z.Products)
	}

	e := c.Entries[0]
	asd, freqs, sg := x.Product(ProductASD), x.Product(ProductFrequencies), x.Product(ProductSpectrogram)
	if asd == nil || freqs == nil || sg == nil || len(x.Products) != 3 {
		t.Fatalf("products of K1:X: %v", x.Products)
	}
	if asd.Parent != x.Path || asd.Unit != "ct / Hz(1/2)" || asd.Axes != (Axes{F0: e.ASD.F0, DF: e.ASD.DF}) || asd.Step != "ASD via Welch/median" || freqs.Unit != "Hz" {
		t.Errorf("ASD %+v, frequencies %+v", asd, freqs)
	}
	if want := welchParams(e.ASDParams, 256, e.ASD.NFFT, e.ASD.NOverlap, e.ASD.Segments, 0); asd.ParamsErr != nil || asd.Params != want {
		t.Errorf("ASD params %+v (%v), want %+v", asd.Params, asd.ParamsErr, want)
	}
	if sg.Quantity != "psd" || sg.Unit != "ct2 / Hz" || sg.Params.Chunks != ChunksGWpy || sg.Params.Stride != 4 ||
		sg.Axes != (Axes{T0: 1300000000, DT: e.Spectrogram.DT, F0: e.Spectrogram.F0, DF: e.Spectrogram.DF}) ||
		!reflect.DeepEqual(sg.Shape, []uint{uint(e.Spectrogram.Times), uint(e.Spectrogram.Freqs)}) {
		t.Errorf("spectrogram %+v", sg)
	}
	for _, v := range a.Views {
		if src := a.Object(v.Of); src == nil || v.Of != viewOf(v.Kind, v.Name, v.Leaf) || a.CheckView(v) != nil {
			t.Errorf("view %+v: %v", v, a.CheckView(v))
		}
	}

	// Values are read on demand, and are what was written.
	doc, err := c.Doc()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range a.Objects() {
		got, err := o.Load()
		if err != nil {
			t.Fatal(err)
		}
		if want := doc.Dataset(o.Path).Data; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: values differ", o.Path)
		}
		if got != nil && DataSHA256(got) != o.DataSHA256 {
			t.Errorf("%s: data_sha256 %s, recorded %s", o.Path, DataSHA256(got), o.DataSHA256)
		}
	}

	// The document in memory reads as the file does.
	m := FromDoc(doc)
	if m.ID != a.ID || m.Source != a.Source || len(m.Series) != 2 || len(m.Products) != 3 || m.Series[0].Product(ProductASD).Params != asd.Params {
		t.Errorf("FromDoc: %+v", m)
	}
	if v, _ := m.Series[1].Load(); !reflect.DeepEqual(v, []int16{1, 2, 3}) {
		t.Errorf("FromDoc: K1:Z holds %v", v)
	}
}

// Products of products: each is listed after the dataset it was made
// of, however they sort by name; a cycle of parent links, which no writer
// makes, leaves its products listed once each.
func TestProductsInDependencyOrder(t *testing.T) {
	t.Parallel()
	product := func(path, parent string) Dataset {
		return Dataset{Path: path, Data: []float64{1}, Attrs: []Attr{{Name: attrProduct, Value: "x"}, {Name: attrParent, Value: parent}}}
	}
	doc := &Doc{Datasets: []Dataset{
		product("/processed/X/a_second", "/processed/X/z_first"),
		product("/processed/X/c1", "/processed/X/c2"),
		product("/processed/X/c2", "/processed/X/c1"),
		product("/processed/X/m_third", "/processed/X/a_second"),
		product("/processed/X/z_first", "/raw/X"),
		{Path: "/raw/X", Data: []float64{1, 2}},
	}}
	a := FromDoc(doc)
	var got []string
	for _, p := range a.Products {
		got = append(got, strings.TrimPrefix(p.Path, "/processed/X/"))
	}
	if want := []string{"z_first", "a_second", "c2", "c1", "m_third"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if s := a.Series[0]; len(s.Products) != 1 || s.Products[0].Path != "/processed/X/z_first" {
		t.Errorf("products made of /raw/X directly: %v", s.Products)
	}
}

func TestLoadRefusesAChangedFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := WriteFile(dir, "a.h5", testDoc("abc"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(w.Path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := WriteFile(dir, "b.h5", testDoc("def"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other.Path, w.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Object("/raw/K1:X").Load(); err == nil || !strings.Contains(err.Error(), "changed since it was opened") {
		t.Errorf("got %v, want the file named as changed", err)
	}
	if _, err := Open(filepath.Join(dir, "none.h5")); !os.IsNotExist(err) {
		t.Errorf("no file: got %v", err)
	}
}

func TestInputRefusal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		root map[string]any
		want string
	}{
		{map[string]any{attrFormat: Format, attrArchiveID: "0123abcd"}, "already a gwwatchd archive (archive_id 0123abcd): archives are not archived again"},
		{map[string]any{attrFormat: Format, attrArchiveID: "x\ny"}, "already a gwwatchd archive (archive_id a 3-byte token of text with control characters): archives are not archived again"},
		{map[string]any{attrFormat: Format}, "already a gwwatchd archive (archive_id a 0-byte token of nothing): archives are not archived again"},
		{map[string]any{attrFormat: "other"}, ""},
		{nil, ""},
	} {
		if got := InputRefusal(tt.root); got != tt.want {
			t.Errorf("InputRefusal(%v) = %q, want %q", tt.root, got, tt.want)
		}
	}
}
