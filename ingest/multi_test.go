package ingest

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gonum.org/v1/hdf5"

	"github.com/gwwatchd/gwwatchd/internal/h5"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// sharedGWF is where the real frame files are when ../shared is beside
// the repository; tests that need them skip without it.
const sharedGWF = "../../shared/testdata/gwf"

func shared(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(sharedGWF, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present: %v", p, err)
	}
	return p
}

// TestFrameMatchesGwpyHDF5 checks the three channels of a real frame file
// against the values gwpy wrote from it to HDF5, and that HDF5 file read
// as input gives the same three series.
func TestFrameMatchesGwpyHDF5(t *testing.T) {
	gwfPath := shared(t, "HLV-HW100916-968654552-1.gwf")
	hdfPath := shared(t, "HLV-HW100916-968654552-1.hdf")
	fromFrame, err := ReadAll(gwfPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromHDF, err := ReadAll(hdfPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"H1:LDAS-STRAIN", "L1:LDAS-STRAIN", "V1:h_16384Hz"}
	for name, all := range map[string][]*Series{"gwf": fromFrame, "hdf": fromHDF} {
		var got []string
		for _, s := range all {
			got = append(got, s.Channel)
			if s.T0 != 968654552 || s.SampleRate != 16384 || s.Unit != "strain" || s.DType != samples.Float64 || s.Len() != 16384 {
				t.Errorf("%s %s: t0 %v rate %v unit %q dtype %s len %d", name, s.Channel, s.T0, s.SampleRate, s.Unit, s.DType, s.Len())
			}
			if s.Obs != "HLV" || s.Desc != "HW100916" || s.Format != map[string]string{"gwf": "gwf", "hdf": "hdf5"}[name] {
				t.Errorf("%s %s: obs %q desc %q format %q", name, s.Channel, s.Obs, s.Desc, s.Format)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: channels %v, want %v", name, got, want)
		}
	}
	for i := range want {
		if !reflect.DeepEqual(fromFrame[i].Values, fromHDF[i].Values) {
			t.Errorf("%s: frame samples differ from gwpy's", want[i])
		}
		if fromFrame[i].Extra["frame_kind"] != "proc" {
			t.Errorf("%s: frame_kind %v", want[i], fromFrame[i].Extra["frame_kind"])
		}
	}
}

// TestFrameChannelsJoined checks FrameL's own test file: every ADC, proc
// and sim channel joined over its 10 frames.
func TestFrameChannelsJoined(t *testing.T) {
	p := shared(t, "libframe-test.gwf")
	all, err := ReadAll(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Series{}
	for _, s := range all {
		byName[s.Dataset] = s
		if s.T0 != 925484675 || s.Duration() != 10 {
			t.Errorf("%s: t0 %v, %v s; want 925484675, 10 s", s.Dataset, s.T0, s.Duration())
		}
		if s.Extra["frame_count"] != int64(10) {
			t.Errorf("%s: joined %v frames, want 10", s.Dataset, s.Extra["frame_count"])
		}
	}
	for name, want := range map[string]struct {
		dtype DType
		rate  float64
		kind  string
	}{
		"Adc0": {samples.Int16, 200, "adc"}, "Adc3": {samples.Int16, 200, "adc"}, "fastAdc0": {samples.Int16, 2000, "adc"}, "fastAdc1": {samples.Int16, 2000, "adc"},
		"D1": {samples.Float32, 200, "adc"}, "Bad_data_(data[0]=nan)": {samples.Float32, 200, "adc"},
		"fastProc": {samples.Float32, 2000, "proc"}, "sim1": {samples.Int32, 200, "sim"},
	} {
		s := byName[name]
		if s == nil {
			t.Errorf("no series %q", name)
			continue
		}
		if s.DType != want.dtype || s.SampleRate != want.rate || s.Extra["frame_kind"] != want.kind {
			t.Errorf("%s: %s at %v Hz, %v; want %s at %v Hz, %s", name, s.DType, s.SampleRate, s.Extra["frame_kind"], want.dtype, want.rate, want.kind)
		}
	}
	// The channel's name says NaN; FrameL's test program stores +Inf there,
	// in each of the 10 frames. Either way it is not a finite number.
	if s := byName["Bad_data_(data[0]=nan)"]; s != nil {
		v := s.Values.([]float32)
		for i := 0; i < len(v); i += 200 {
			if !math.IsInf(float64(v[i]), 1) {
				t.Errorf("Bad_data: sample %d is %v, want +Inf", i, v[i])
			}
		}
	}
	if s := byName["Adc0"]; s != nil {
		if _, ok := s.Extra["slope"].(float64); !ok {
			t.Errorf("Adc0: no slope attribute: %v", s.Extra)
		}
	}
}

func TestChannelSelection(t *testing.T) {
	p := shared(t, "libframe-test.gwf")
	all, err := ReadAll(p, Options{Channels: []string{"Adc*", "fastProc"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range all {
		got = append(got, s.Channel)
	}
	slices.Sort(got)
	if want := []string{"Adc0", "Adc1", "Adc2", "Adc3", "fastProc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("selected %v, want %v", got, want)
	}
	_, err = ReadAll(p, Options{Channels: []string{"K1:*"}})
	if !IsInputError(err) || !strings.Contains(err.Error(), `no channel matches K1:*; the file holds "D1", "Bad_data_(data[0]=nan)", "Adc3"`) {
		t.Errorf("no match: got %v", err)
	}
	if _, err := ReadAll(p, Options{Channels: []string{"K1:["}}); err == nil || IsInputError(err) {
		t.Errorf("bad pattern: got %v, want an error that is not the file's", err)
	}
}

// TestFrameMetadataRules checks that flags and sidecars may fill in what a
// frame leaves out, but not contradict what it says.
func TestFrameMetadataRules(t *testing.T) {
	src := shared(t, "HLV-HW100916-968654552-1.gwf")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sidecar string
		opt           Options
		want          string // "" for success
	}{
		{name: "config defaults for raw files are not used", opt: Options{Defaults: Meta{Channel: ptr("K1:X"), T0: ptr(1.0), SampleRate: ptr(3.0)}}},
		{name: "agreeing sidecar", sidecar: `{"t0": 968654552, "sample_rate": 16384, "dtype": "float64"}`},
		{name: "sidecar t0", sidecar: `{"t0": 968654553}`, want: "sidecar sets t0 968654553, but H1:LDAS-STRAIN starts at 968654552"},
		{name: "flag sample rate", opt: Options{Flags: Meta{SampleRate: ptr(4096.0)}}, want: "the command line sets sample_rate 4096"},
		{name: "sidecar channel", sidecar: `{"channel": "K1:X"}`, want: `sidecar sets channel "K1:X", but the file holds 3 series`},
		{name: "sidecar dtype", sidecar: `{"dtype": "int16"}`, want: `sidecar sets dtype "int16", but H1:LDAS-STRAIN holds float64`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "HLV-HW100916-968654552-1.gwf")
			os.WriteFile(p, data, 0o644)
			if tt.sidecar != "" {
				os.WriteFile(filepath.Join(dir, "HLV-HW100916-968654552-1.json"), []byte(tt.sidecar), 0o644)
			}
			all, err := ReadAll(p, tt.opt)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if all[0].Channel != "H1:LDAS-STRAIN" || all[0].T0 != 968654552 || all[0].Origin["t0"] != "file" {
					t.Errorf("got %s at %v from %s", all[0].Channel, all[0].T0, all[0].Origin["t0"])
				}
				return
			}
			if !IsInputError(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an input error containing %q", err, tt.want)
			}
		})
	}
}

// TestHDF5Input checks series written the ways gwpy and gwexpy write them,
// in nested groups, beside datasets that are not time series.
func TestHDF5Input(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "series.h5")
	doc := &h5.Doc{Datasets: []h5.Dataset{
		{Path: "/K1:A", Data: []float64{1, 2, 3, 4}, Attrs: []h5.Attr{{Name: "x0", Value: 1300000000.0}, {Name: "dx", Value: 0.25},
			{Name: "xunit", Value: "s"}, {Name: "unit", Value: "m"}, {Name: "channel", Value: "K1:A"}, {Name: "name", Value: "A"}}},
		{Path: "/group/sub/b", Data: []int32{5, 6}, Attrs: []h5.Attr{{Name: "t0", Value: int64(1300000001)}, {Name: "dt", Value: 0.5}}},
		{Path: "/group/asd", Data: []float64{1, 2}, Attrs: []h5.Attr{{Name: "x0", Value: 0.0}, {Name: "dx", Value: 1.0}, {Name: "xunit", Value: "Hz"}}},
		{Path: "/group/plain", Data: []float64{1, 2}},
		{Path: "/image", Data: []float64{1, 2, 3, 4}, Dims: []uint{2, 2}, Attrs: []h5.Attr{{Name: "x0", Value: 0.0}, {Name: "dx", Value: 1.0}}},
		{Path: "/K1:C", Data: []complex128{1 + 2i}, Attrs: []h5.Attr{{Name: "x0", Value: 1300000000.0}, {Name: "dx", Value: 1.0}}},
	}}
	if err := h5.Write(p, doc, h5.Compression{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "series.json"), []byte(`{"unit": "ct"}`), 0o644)
	all, err := ReadAll(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*Series{}
	for _, s := range all {
		by[s.Channel] = s
	}
	a, b, c := by["K1:A"], by["group/sub/b"], by["K1:C"]
	if len(all) != 3 || a == nil || b == nil || c == nil {
		t.Fatalf("got %d series %v, want K1:A, group/sub/b and K1:C", len(all), by)
	}
	if a.Channel != "K1:A" || a.T0 != 1300000000 || a.SampleRate != 4 || a.Unit != "m" || a.Origin["unit"] != "file" || a.Extra["name"] != "A" {
		t.Errorf("K1:A: %+v", a)
	}
	if b.Channel != "group/sub/b" || b.Dataset != "group_sub_b" || b.T0 != 1300000001 || b.SampleRate != 2 || b.Unit != "ct" || b.Origin["unit"] != "sidecar" {
		t.Errorf("b: %+v", b)
	}
	if !reflect.DeepEqual(b.Values, []int32{5, 6}) || b.DType != samples.Int32 {
		t.Errorf("b: %v %s", b.Values, b.DType)
	}
	if c.DType != samples.Complex128 || c.Len() != 1 {
		t.Errorf("K1:C: %s, %d samples", c.DType, c.Len())
	}
	for _, s := range all {
		if s.Source.SHA256 == "" || s.Source.Sidecar == nil || s.Obs != "K" || s.Desc != "series" {
			t.Errorf("%s: source %+v, obs %q desc %q", s.Channel, s.Source, s.Obs, s.Desc)
		}
	}
}

func TestHDF5InputRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, doc *h5.Doc) string {
		p := filepath.Join(dir, name)
		if err := h5.Write(p, doc, h5.Compression{}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	archive := write("archive.h5", &h5.Doc{Attrs: []h5.Attr{{Name: "format", Value: "gwwatchd-archive"}, {Name: "archive_id", Value: "abc"}},
		Datasets: []h5.Dataset{{Path: "/raw/K1:A", Data: []float64{1}, Attrs: []h5.Attr{{Name: "x0", Value: 1.0}, {Name: "dx", Value: 1.0}}}}})
	none := write("none.h5", &h5.Doc{Datasets: []h5.Dataset{{Path: "/x", Data: []float64{1}}}})
	notHDF := filepath.Join(dir, "text.hdf5")
	os.WriteFile(notHDF, []byte("not hdf5"), 0o644)
	// As the pipeline refuses its own archives, by their root attributes.
	refuse := func(root map[string]any) string {
		if id, _ := root["archive_id"].(string); root["format"] == "gwwatchd-archive" {
			return "already a gwwatchd archive (archive_id " + id + ")"
		}
		return ""
	}
	for p, want := range map[string]string{
		archive: "already a gwwatchd archive (archive_id abc)",
		none:    "holds no series",
		notHDF:  ": not an HDF5 file",
	} {
		_, err := ReadAll(p, Options{RefuseHDF5: refuse})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), p+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line naming the file with %q", filepath.Base(p), err, want)
		}
	}
}

// TestHDF5InputOddFiles checks an HDF5 file holding a table beside its
// series, datasets whose channel names collide, and a file a writer still
// holds open.
func TestHDF5InputOddFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "odd.h5")
	series := func(path, channel string) h5.Dataset {
		return h5.Dataset{Path: path, Data: []float64{1, 2}, Attrs: []h5.Attr{{Name: "x0", Value: 1.0}, {Name: "dx", Value: 1.0}, {Name: "channel", Value: channel}}}
	}
	doc := &h5.Doc{Datasets: []h5.Dataset{series("/a", "K1:X"), series("/b", "K1:X"), series("/c", "a"), series("/d", "K1:X_2")}}
	if err := h5.Write(p, doc, h5.Compression{}); err != nil {
		t.Fatal(err)
	}
	addTable(t, p)
	all, err := ReadAll(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range all {
		if names[s.Dataset] {
			t.Errorf("dataset name %q twice", s.Dataset)
		}
		names[s.Dataset] = true
	}
	if len(all) != 4 {
		t.Errorf("got %d series, want the 4 beside the table", len(all))
	}

	// Held open by a writer, as libhdf5 locks it: not yet, rather than bad.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Skipf("flock: %v", err)
	}
	_, err = ReadAll(p, Options{})
	if !errors.Is(err, ErrInUse) || IsInputError(err) {
		t.Errorf("locked: got %v, want ErrInUse and not an input error", err)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if _, err := ReadAll(p, Options{}); err != nil {
		t.Errorf("unlocked: %v", err)
	}
}

// addTable adds a compound dataset, a table such as a segment list, to an
// HDF5 file.
func addTable(t *testing.T, path string) {
	t.Helper()
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct {
		Start, End int64
	}
	rows := []row{{1, 2}, {3, 4}}
	dt, err := hdf5.NewDatatypeFromValue(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.CreateDataset("segments", dt, space)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Write(&rows); err != nil {
		t.Fatal(err)
	}
}

// TestHDF5EmptyUnitStaysEmpty reads a series gwpy wrote without a unit
// (gwpy writes a dimensionless one as ""), and one with no unit attribute:
// both have no unit, never a spelling astropy cannot parse.
func TestHDF5EmptyUnitStaysEmpty(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "K-K1_A-1300000000-1.h5")
	attrs := func(extra ...h5.Attr) []h5.Attr {
		return append([]h5.Attr{{Name: "x0", Value: 1300000000.0}, {Name: "dx", Value: 0.25}}, extra...)
	}
	doc := &h5.Doc{Datasets: []h5.Dataset{
		{Path: "/K1:A", Data: []float64{1, 2, 3, 4}, Attrs: attrs(h5.Attr{Name: "unit", Value: ""})},
		{Path: "/K1:B", Data: []float64{1, 2, 3, 4}, Attrs: attrs()},
		{Path: "/K1:C", Data: []float64{1, 2, 3, 4}, Attrs: attrs(h5.Attr{Name: "unit", Value: "dimensionless"})},
	}}
	if err := h5.Write(p, doc, h5.Compression{}); err != nil {
		t.Fatal(err)
	}
	all, err := ReadAll(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("%d series, want 3", len(all))
	}
	for _, s := range all {
		if s.Unit != "" {
			t.Errorf("%s: unit %q, want \"\"", s.Channel, s.Unit)
		}
	}
}

// A frame file's series are loaded after Open read it through: a file
// changed in between, in place or cut short, is ErrChanged when a series
// is loaded, never samples other than those hashed, nor an InputError
// about bytes that were not there when the file was read.
func TestFrameFileChangedBeforeLoad(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile("../testdata/gwf/selfmade-v8-le.gwf")
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []string{"written", "cut"} {
		t.Run(change, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "X-SELF-1000000000-1.gwf")
			if err := os.WriteFile(p, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := Open(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if len(b.Series) == 0 || b.Series[0].Values != nil || b.Series[0].Len() == 0 {
				t.Fatalf("Open: %d series, the first with values %v of %d samples; want its samples in the file", len(b.Series), b.Series[0].Values != nil, b.Series[0].Len())
			}
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if change == "written" {
				// Every byte but the header's changed, the size kept.
				bad := bytes.Clone(orig)
				for i := 40; i < len(bad); i++ {
					bad[i] ^= 0x5a
				}
				_, err = f.WriteAt(bad, 0)
			} else {
				err = f.Truncate(int64(len(orig) / 2))
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.Series {
				err := b.Load(i)
				if !errors.Is(err, ErrChanged) || IsInputError(err) {
					t.Fatalf("Load(%d) of a file %s since Open: got %v, want ErrChanged", i, change, err)
				}
				if b.Series[i].Values != nil {
					t.Fatalf("Load(%d) failed but set values", i)
				}
			}
		})
	}
}
