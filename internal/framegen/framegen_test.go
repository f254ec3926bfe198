package framegen

import (
	"bytes"
	"testing"

	"github.com/gwwatchd/gwwatchd/ingest/gwf"
)

// The files made decode with the project's reader, every checksum
// verified, holding the channels, rates, types and sample counts asked for.
func TestFilesDecode(t *testing.T) {
	spec := Spec{
		Channels: []Channel{
			{Name: "X1:GEN-A", Rate: 256, Type: Int16},
			{Name: "X1:GEN-B", Rate: 1024, Type: Float32, Gzip: true},
			{Name: "X1:GEN-C", Rate: 16384, Type: Float64},
			{Name: "X1:GEN-D", Rate: 512, Type: Int16, Gzip: true},
		},
		Frames: 3, FrameLength: 0.5, GPS: 1300000000, Seed: 1,
	}
	var buf bytes.Buffer
	if err := Write(&buf, spec); err != nil {
		t.Fatal(err)
	}
	f, err := gwf.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !f.FileChecksum || f.Version != 8 || len(f.Frames) != 3 {
		t.Fatalf("version %d, %d frames, file checksum %v", f.Version, len(f.Frames), f.FileChecksum)
	}
	types := map[string]string{Int16: "int16", Float32: "float32", Float64: "float64"}
	var n int64
	for i, fr := range f.Frames {
		want := (gwf.Time{Sec: 1300000000}).Add(float64(i) * 0.5)
		if fr.GPS != want || fr.Duration != 0.5 {
			t.Errorf("frame %d at %v for %g s, want %v for 0.5 s", i, fr.GPS, fr.Duration, want)
		}
		if len(fr.Channels) != len(spec.Channels) {
			t.Fatalf("frame %d: %d channels", i, len(fr.Channels))
		}
		for j, c := range fr.Channels {
			want := spec.Channels[j]
			if c.Name != want.Name || c.SampleRate != want.Rate || c.DType != types[want.Type] {
				t.Errorf("frame %d channel %d: %s %g Hz %s, want %s %g Hz %s", i, j, c.Name, c.SampleRate, c.DType, want.Name, want.Rate, want.Type)
			}
			n += int64(c.Len())
		}
	}
	if n != spec.Samples() {
		t.Errorf("%d samples, Samples says %d", n, spec.Samples())
	}
	if series := f.Series(); len(series) != len(spec.Channels) {
		t.Errorf("%d series joined, want one per channel", len(f.Series()))
	}
}

func TestRefusesFractionalSamples(t *testing.T) {
	err := Write(&bytes.Buffer{}, Spec{Channels: []Channel{{Name: "X", Rate: 100, Type: Int16}}, Frames: 1, FrameLength: 0.015})
	if err == nil {
		t.Fatal("a channel of 1.5 samples a frame was written")
	}
}
