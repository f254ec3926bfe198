package h5

import (
	"path/filepath"
	"testing"
)

func TestViewRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.h5")
	doc := &Doc{Datasets: []Dataset{
		{Path: "/raw/K1:X", Data: []int16{1, 2, 3}, Attrs: []Attr{{"t0", 1.0}, {"params_json", "{}"}}},
		{Path: "/gwpy/timeseries/K1:X", Virtual: "/raw/K1:X", Attrs: []Attr{{"x0", 1.0}, {"dx", 0.5}}},
	}}
	if err := Write(p, doc, Compression{}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	v := got.Dataset("/gwpy/timeseries/K1:X")
	if v == nil || v.Virtual != "/raw/K1:X" || v.Data != nil || len(v.Attrs) != 2 {
		t.Fatalf("view: %+v", v)
	}
}
