package h5

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// imageDoc has a dataset of every element type the writer takes, in
// nested groups, of one and two dimensions, empty and not, with
// attributes of every kind, views, and root attributes.
func imageDoc() *Doc {
	attrs := []Attr{{"unit", "strain"}, {"t0", 1300000000.5}, {"n", int64(-3)}, {"f", []float64{1, 2.5}}}
	return &Doc{
		Attrs: []Attr{{"archive_id", "abc"}, {"format_version", int64(3)}, {"prov_json", `{"a":[1,2,3]}`}},
		Datasets: []Dataset{
			{Path: "/raw/K1:F64", Data: []float64{1, -2, 3.5, 4}, Attrs: attrs},
			{Path: "/raw/K1:F32", Data: []float32{1, 2}},
			{Path: "/raw/K1:I8", Data: []int8{-1, 2}},
			{Path: "/raw/K1:I16", Data: []int16{-1, 2, 3}},
			{Path: "/raw/K1:I32", Data: []int32{1 << 20}},
			{Path: "/raw/K1:I64", Data: []int64{-1 << 40}},
			{Path: "/raw/K1:U8", Data: []uint8{255}},
			{Path: "/raw/K1:U16", Data: []uint16{65535}},
			{Path: "/raw/K1:U32", Data: []uint32{1 << 31}},
			{Path: "/raw/K1:U64", Data: []uint64{1 << 63}},
			{Path: "/raw/K1:C64", Data: []complex64{1 + 2i, 3 - 4i}},
			{Path: "/raw/K1:C128", Data: []complex128{1 + 2i}},
			{Path: "/raw/K1:EMPTY", Data: []float64{}},
			{Path: "/processed/K1:F64/spectrogram", Data: make([]float64, 12), Dims: []uint{3, 4}, Attrs: attrs[:2]},
			{Path: "/gwpy/timeseries/K1:F64", Virtual: "/raw/K1:F64", Attrs: []Attr{{"x0", 1.0}}},
		},
	}
}

// TestImageIsTheFile writes the same document into a file and into
// memory, stored as it is and compressed: the image is the file, byte for
// byte, and reads back as what was written. Object headers hold the time
// in seconds, so the two are written within one second.
func TestImageIsTheFile(t *testing.T) {
	for _, comp := range []Compression{{}, {Gzip: true, Level: 4}} {
		doc := imageDoc()
		var want, got []byte
		for try := 0; ; try++ {
			start := time.Now().Unix()
			want, got = writeBoth(t, doc, comp)
			if time.Now().Unix() == start {
				break
			}
			if try == 10 {
				t.Fatal("no two writes within one second")
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("gzip %v: the image (%d bytes) is not the file (%d bytes)", comp.Gzip, len(got), len(want))
		}
		q := filepath.Join(t.TempDir(), "b.h5")
		if err := os.WriteFile(q, got, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := Read(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range doc.Datasets {
			b := back.Dataset(d.Path)
			if b == nil {
				t.Fatalf("%s not read back", d.Path)
			}
			if d.Virtual == "" && !reflect.DeepEqual(b.Data, d.Data) {
				t.Errorf("%s: read back %v, wrote %v", d.Path, b.Data, d.Data)
			}
		}
		if !reflect.DeepEqual(back.Attrs, doc.Attrs) {
			t.Errorf("root attributes: read back %v, wrote %v", back.Attrs, doc.Attrs)
		}
	}
}

// writeBoth writes doc into a file and into memory, and returns the bytes
// of the file and the image.
func writeBoth(t *testing.T, doc *Doc, comp Compression) (file, image []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.h5")
	if err := Write(p, doc, comp); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := CreateImage(comp)
	if err != nil {
		t.Fatal(err)
	}
	if img := w.Image(); img != nil {
		t.Fatalf("an open Writer gives an image of %d bytes", len(img))
	}
	w.Datasets(doc.Datasets)
	if err := w.Close(doc.Attrs); err != nil {
		t.Fatal(err)
	}
	return file, w.Image()
}

// TestImageFailure: a failed write leaves no image.
func TestImageFailure(t *testing.T) {
	w, err := CreateImage(Compression{})
	if err != nil {
		t.Fatal(err)
	}
	w.Dataset(&Dataset{Path: "/raw/x", Data: []float64{1}})
	if err := w.Dataset(&Dataset{Path: "/raw/x", Data: []float64{2}}); err == nil {
		t.Fatal("a second dataset of the same path was written")
	}
	if err := w.Close(nil); err == nil {
		t.Fatal("Close after a failure returned nil")
	}
	if img := w.Image(); img != nil {
		t.Fatalf("a failed Writer gives an image of %d bytes", len(img))
	}
}
