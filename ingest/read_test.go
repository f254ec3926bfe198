package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// timing gives Read the t0 and sample rate that most tests do not care about.
var timing = Options{Defaults: Meta{T0: ptr(1e9), SampleRate: ptr(16.0)}}

func TestReadRejects(t *testing.T) {
	good := string(npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", float64Bytes(1, 2, 3, 4)))
	golden := func(name string) string {
		b, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name  string
		files map[string]string
		read  string // the file passed to Read
		opt   Options
		want  string
		is    error // a sentinel the error must wrap, if any
	}{
		{name: "empty npy", files: map[string]string{"a.npy": ""}, read: "a.npy", opt: timing, want: "empty file"},
		{name: "empty text", files: map[string]string{"a.txt": ""}, read: "a.txt", opt: timing, want: "empty file"},
		{name: "empty raw", files: map[string]string{"a.bin": ""}, read: "a.bin", opt: timing, want: "empty file"},
		{name: "bad magic", files: map[string]string{"a.npy": "hello, world\n"}, read: "a.npy", opt: timing, want: "not a NumPy file"},
		{name: "truncated header", files: map[string]string{"a.npy": good[:40]}, read: "a.npy", opt: timing, want: "truncated header"},
		{name: "unparsable header", files: map[string]string{"a.npy": string(npyFile(1, "{'descr': '<f8' 'shape': (4,)}", nil))}, read: "a.npy", opt: timing, want: "unparsable header"},
		{name: "object array", files: map[string]string{"a.npy": golden("bad_object.npy")}, read: "a.npy", opt: timing, want: "object arrays are not supported"},
		{name: "2-D array", files: map[string]string{"a.npy": golden("bad_2d.npy")}, read: "a.npy", opt: timing, want: "shape (3, 4): only 1-D or N×1 arrays are supported"},
		{name: "unsupported npy dtype", files: map[string]string{"a.npy": golden("bad_complex.npy")}, read: "a.npy", opt: timing, want: "unsupported dtype"},
		{name: "npy data size", files: map[string]string{"a.npy": good[:len(good)-1]}, read: "a.npy", opt: timing, want: "data is 31 bytes, expected 32 for shape (4,) float64"},
		{name: "raw size not multiple", files: map[string]string{"a.bin": strings.Repeat("x", 1001)}, read: "a.bin", opt: Options{Flags: Meta{DType: ptr("float64")}, Defaults: timing.Defaults}, want: "size 1001 is not a multiple of 8 (float64)"},
		{name: "raw without dtype", files: map[string]string{"a.raw": "12345678"}, read: "a.raw", opt: timing, want: "no dtype: give --dtype, a sidecar dtype, or a watch default"},
		{name: "missing t0", files: map[string]string{"a.txt": "1\n2\n"}, read: "a.txt", opt: Options{Defaults: Meta{SampleRate: ptr(1.0)}}, want: "no t0: give --t0"},
		{name: "missing sample rate", files: map[string]string{"a.txt": "1\n2\n"}, read: "a.txt", opt: Options{Defaults: Meta{T0: ptr(1.0)}}, want: "no sample_rate: give --sample-rate"},
		{name: "inexact name rate", files: map[string]string{"K-D-100-3.txt": "1\n2\n"}, read: "K-D-100-3.txt", want: "(2 samples in the file name's 3 s is not a whole number of hertz)"},
		{name: "zero sample rate", files: map[string]string{"a.txt": "1\n", "a.json": `{"sample_rate": 0, "t0": 0}`}, read: "a.txt", want: "sample_rate 0 is not a positive finite number"},
		{name: "negative sample rate", files: map[string]string{"a.txt": "1\n", "a.json": `{"sample_rate": -1}`}, read: "a.txt", opt: timing, want: "sample_rate -1 is not a positive finite number"},
		{name: "NaN sample rate", files: map[string]string{"a.txt": "1\n", "a.toml": "sample_rate = nan"}, read: "a.txt", opt: timing, want: "sample_rate NaN is not a positive finite number"},
		{name: "Inf sample rate", files: map[string]string{"a.txt": "1\n", "a.toml": "sample_rate = +inf"}, read: "a.txt", opt: timing, want: "sample_rate +Inf is not a positive finite number"},
		{name: "unparsable JSON sidecar", files: map[string]string{"a.txt": "1\n", "a.json": "{\n\"t0\": 1,\n}"}, read: "a.txt", opt: timing, want: "a.json: line 3, column 1"},
		{name: "unparsable TOML sidecar", files: map[string]string{"a.txt": "1\n", "a.toml": "t0 = 1\nunit = \"m\nx"}, read: "a.txt", opt: timing, want: "a.toml: line 2"},
		{name: "unknown sidecar key", files: map[string]string{"a.txt": "1\n", "a.json": `{"samplerate": 4}`}, read: "a.txt", opt: timing, want: `unknown key, a 10-byte token of printable ASCII`},
		{name: "wrong sidecar type", files: map[string]string{"a.txt": "1\n", "a.json": `{"t0": "now"}`}, read: "a.txt", opt: timing, want: "t0 must be a number, not string"},
		{name: "unknown sidecar dtype", files: map[string]string{"a.bin": "12345678", "a.json": `{"dtype": "double"}`}, read: "a.bin", opt: timing, want: `unknown dtype a 6-byte token of printable ASCII`},
		{name: "unsupported sidecar dtype", files: map[string]string{"a.bin": "12345678", "a.toml": `dtype = "uint64"`}, read: "a.bin", opt: timing, want: "unsupported dtype uint64"},
		{name: "non-numeric text", files: map[string]string{"a.csv": "1\n2\n3\n4\n5\n6\nabc\n"}, read: "a.csv", opt: timing, want: `line 7: a 3-byte token of printable ASCII is not a number`},
		{name: "non-uniform time column", files: map[string]string{"a.dat": "0 1\n1 2\n2 3\n3.5 4\n"}, read: "a.dat", want: "non-uniform time column at line 4: step 1.5, expected 1"},
		{name: "both sidecars", files: map[string]string{"a.txt": "1\n", "a.json": "{}", "a.toml": ""}, read: "a.txt", opt: timing, want: "both a.json and a.toml sidecars exist"},
		{name: "JSON sidecar as data", files: map[string]string{"a.txt": "1\n", "a.json": "{}"}, read: "a.json", opt: timing, want: "is a sidecar, not data", is: ErrSidecar},
		{name: "TOML sidecar as data", files: map[string]string{"a.TOML": ""}, read: "a.TOML", opt: timing, want: "is a sidecar, not data", is: ErrSidecar},
		{name: "unsupported extension", files: map[string]string{"a.fits": "x"}, read: "a.fits", opt: timing, want: `unsupported format ".fits"`, is: ErrUnsupportedFormat},
		{name: "no extension", files: map[string]string{"data": "1\n"}, read: "data", opt: timing, want: "no file extension", is: ErrUnsupportedFormat},
		{name: "sidecar dtype conflicts with npy", files: map[string]string{"a.npy": good, "a.json": `{"dtype": "int16"}`}, read: "a.npy", opt: timing, want: "sidecar says dtype int16 but the file holds float64"},
		{name: "flag dtype conflicts with npy", files: map[string]string{"a.npy": good}, read: "a.npy", opt: Options{Flags: Meta{DType: ptr("float32")}, Defaults: timing.Defaults}, want: "flag says dtype float32 but the file holds float64"},
		{name: "sidecar byte order conflicts with npy", files: map[string]string{"a.npy": good, "a.json": `{"byte_order": "big"}`}, read: "a.npy", opt: timing, want: "sidecar says byte_order big but the file is little-endian"},
		{name: "sidecar type string conflicts with npy", files: map[string]string{"a.npy": good, "a.json": `{"dtype": ">f8"}`}, read: "a.npy", opt: timing, want: "sidecar says dtype >f8 (big-endian) but the file is little-endian"},
		{name: "dtype conflicts with text", files: map[string]string{"a.txt": "1\n", "a.toml": `dtype = "int16"`}, read: "a.txt", opt: timing, want: "sidecar says dtype int16 but the file holds float64"},
		{name: "text with three columns", files: map[string]string{"a.txt": "1 2 3\n"}, read: "a.txt", opt: timing, want: "line 1: 3 columns"},
		{name: "text with ragged rows", files: map[string]string{"a.txt": "1\n2 3\n"}, read: "a.txt", opt: timing, want: "line 2: 2 columns, but line 1 has 1"},
		{name: "text without samples", files: map[string]string{"a.txt": "# header only\n"}, read: "a.txt", opt: timing, want: "no samples"},
		{name: "newline in reason", files: map[string]string{"a.txt": "1\n", "a.json": "{\"dtype\": \"f\\n8\"}"}, read: "a.txt", opt: timing, want: `unknown dtype a 3-byte token of text with control characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			before := snapshot(t, dir)
			path := filepath.Join(dir, tt.read)
			s, err := Read(path, tt.opt)
			if err == nil {
				t.Fatalf("got %d samples, want error containing %q", s.Len(), tt.want)
			}
			checkInputError(t, err, path, tt.want)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got error %v, want one wrapping %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrSidecar) || errors.Is(err, ErrUnsupportedFormat)) {
				t.Errorf("got error %v wrapping a skip sentinel, want a plain rejection", err)
			}
			checkUnchanged(t, dir, before)
		})
	}
}

// checkInputError checks that err is a one-line *InputError naming the
// file at path and containing want.
func checkInputError(t *testing.T, err error, path, want string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || !IsInputError(err) {
		t.Fatalf("got %T %v, want *InputError", err, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, path+": ") {
		t.Errorf("got %q, want it to start with the path %q", msg, path)
	}
	if !strings.Contains(msg, filepath.Base(path)) {
		t.Errorf("got %q, want it to name %s", msg, filepath.Base(path))
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("got %q, want one line", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("got %q, want it to contain %q", msg, want)
	}
}

func TestReadNotInputErrors(t *testing.T) {
	dir := writeDir(t, map[string]string{"a.txt": "1\n"})
	tests := []struct {
		name string
		path string
		opt  Options
	}{
		{"missing file", filepath.Join(dir, "missing.txt"), timing},
		{"invalid flag", filepath.Join(dir, "a.txt"), Options{Flags: Meta{SampleRate: ptr(math.NaN())}}},
		{"invalid default", filepath.Join(dir, "a.txt"), Options{Defaults: Meta{SampleRate: ptr(-1.0)}}},
		{"invalid default dtype", filepath.Join(dir, "a.txt"), Options{Defaults: Meta{DType: ptr("float128")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.path, tt.opt)
			if err == nil || IsInputError(err) {
				t.Errorf("got %v, want a non-input error", err)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "missing.txt"), timing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.npy")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path, timing)
	checkInputError(t, err, path, "is not a regular file")
}

func TestInputErrorOneLine(t *testing.T) {
	e := &InputError{Path: "/tmp/a\nb.txt", Reason: "bad\r\nthing"}
	if got, want := e.Error(), `/tmp/a\nb.txt: bad\r\nthing`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &InputError{Path: "/x", Err: ErrSidecar}
	if got, want := e.Error(), "/x: sidecar file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", e), ErrSidecar) || !IsInputError(fmt.Errorf("wrapped: %w", e)) {
		t.Error("wrapped InputError: got no match, want errors.Is and IsInputError to see through")
	}
}

func TestReadSource(t *testing.T) {
	content := "# strain\n0,1.5\n0.5,2.5\n1,-3\n"
	sideDoc := `{"channel": "K1:LSC-DARM_OUT_DQ", "unit": "strain"}`
	dir := writeDir(t, map[string]string{"s.csv": content, "s.json": sideDoc})
	before := snapshot(t, dir)

	// A relative path must come back absolute.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, filepath.Join(dir, "s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Read(rel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkUnchanged(t, dir, before)

	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	wantSrc := Source{
		Path:    filepath.Join(dir, "s.csv"),
		Size:    int64(len(content)),
		ModTime: fixedTime,
		SHA256:  sum(content),
		Sidecar: &Sidecar{Path: filepath.Join(dir, "s.json"), Size: int64(len(sideDoc)), SHA256: sum(sideDoc)},
	}
	fi, err := os.Lstat(filepath.Join(dir, "s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	wantSrc.ID, _ = idOf(fi)
	if !reflect.DeepEqual(s.Source, wantSrc) {
		t.Errorf("source:\ngot  %+v %+v\nwant %+v %+v", s.Source, s.Source.Sidecar, wantSrc, wantSrc.Sidecar)
	}
	if s.Source.ModTime.Location() != time.UTC {
		t.Errorf("mod time location: got %v, want UTC", s.Source.ModTime.Location())
	}
	want := Series{
		Channel: "K1:LSC-DARM_OUT_DQ", Dataset: "K1:LSC-DARM_OUT_DQ", Unit: "strain",
		T0: 0, SampleRate: 2, DType: samples.Float64, Values: []float64{1.5, 2.5, -3},
		Format: "text", Obs: "K", Desc: "K1_LSC_DARM_OUT_DQ",
		Origin: map[string]string{
			"channel": "sidecar", "dataset": "default", "unit": "sidecar",
			"t0": "file", "sample_rate": "file", "dtype": "file",
		},
		Source: wantSrc,
	}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("series:\ngot  %+v\nwant %+v", *s, want)
	}
	if got := s.Duration(); got != 1.5 {
		t.Errorf("duration: got %v, want 1.5", got)
	}
}

func TestReadRaw(t *testing.T) {
	be := string([]byte{0x00, 0x01, 0x00, 0x02, 0xff, 0xff})
	tests := []struct {
		name   string
		files  map[string]string
		read   string
		opt    Options
		want   any
		order  string
		origin map[string]string
	}{
		{
			name:   "default little endian",
			files:  map[string]string{"a.bin": be},
			read:   "a.bin",
			opt:    Options{Flags: Meta{DType: ptr("int16")}, Defaults: timing.Defaults},
			want:   []int16{0x0100, 0x0200, -1},
			order:  "little",
			origin: map[string]string{"dtype": "flag", "byte_order": "default"},
		},
		{
			name:   "sidecar byte order",
			files:  map[string]string{"a.raw": be, "a.toml": "dtype = \"int16\"\nbyte_order = \"big\"\n"},
			read:   "a.raw",
			opt:    timing,
			want:   []int16{1, 2, -1},
			order:  "big",
			origin: map[string]string{"dtype": "sidecar", "byte_order": "sidecar"},
		},
		{
			name:   "order from type string",
			files:  map[string]string{"a.bin": be},
			read:   "a.bin",
			opt:    Options{Defaults: Meta{DType: ptr(">u2"), T0: ptr(0.0), SampleRate: ptr(1.0)}},
			want:   []uint16{1, 2, 65535},
			order:  "big",
			origin: map[string]string{"dtype": "config", "byte_order": "config"},
		},
		{
			name:   "flag order beats sidecar type string",
			files:  map[string]string{"a.bin": be, "a.json": `{"dtype": "<i2"}`},
			read:   "a.bin",
			opt:    Options{Flags: Meta{ByteOrder: ptr("big")}, Defaults: timing.Defaults},
			want:   []int16{1, 2, -1},
			order:  "big",
			origin: map[string]string{"dtype": "sidecar", "byte_order": "flag"},
		},
		{
			name:   "one-byte type has no byte order",
			files:  map[string]string{"a.bin": be},
			read:   "a.bin",
			opt:    Options{Flags: Meta{DType: ptr("uint8"), ByteOrder: ptr("big")}, Defaults: timing.Defaults},
			want:   []uint8{0, 1, 0, 2, 255, 255},
			order:  "",
			origin: map[string]string{"dtype": "flag"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			s, err := Read(filepath.Join(dir, tt.read), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Values, tt.want) {
				t.Errorf("values: got %#v, want %#v", s.Values, tt.want)
			}
			if s.ByteOrder != tt.order || s.Format != "raw" {
				t.Errorf("got byte order %q format %q, want %q raw", s.ByteOrder, s.Format, tt.order)
			}
			for _, k := range []string{"dtype", "byte_order"} {
				if s.Origin[k] != tt.origin[k] {
					t.Errorf("origin of %s: got %q, want %q", k, s.Origin[k], tt.origin[k])
				}
			}
		})
	}
}

func TestReadFileName(t *testing.T) {
	tests := []struct {
		name, file string
		samples    int
		t0, rate   float64
		obs, desc  string
	}{
		{"integer", "K1-LSC_DARM-1000000000-2.txt", 8, 1000000000, 4, "K1", "LSC_DARM"},
		{"decimal", "HLV-TEST-1000000000.5-0.5.txt", 8, 1000000000.5, 16, "HLV", "TEST"},
		{"upper-case extension", "H-STRAIN-100-1.TXT", 4, 100, 4, "H", "STRAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{tt.file: strings.Repeat("0\n", tt.samples)})
			s, err := Read(filepath.Join(dir, tt.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.T0 != tt.t0 || s.SampleRate != tt.rate || s.Obs != tt.obs || s.Desc != tt.desc {
				t.Errorf("got t0 %v rate %v obs %q desc %q, want %v %v %q %q", s.T0, s.SampleRate, s.Obs, s.Desc, tt.t0, tt.rate, tt.obs, tt.desc)
			}
			if s.Origin["t0"] != "filename" || s.Origin["sample_rate"] != "filename" {
				t.Errorf("origins: got %v, want filename for t0 and sample_rate", s.Origin)
			}
			stem := strings.TrimSuffix(tt.file, filepath.Ext(tt.file))
			if s.Channel != stem || s.Origin["channel"] != "default" {
				t.Errorf("channel: got %q from %q, want %q from default", s.Channel, s.Origin["channel"], stem)
			}
		})
	}
}

func TestObsDescFromChannel(t *testing.T) {
	tests := []struct{ channel, obs, desc string }{
		{"K1:LSC-DARM_OUT_DQ", "K", "K1_LSC_DARM_OUT_DQ"},
		{"h1:GDS-CALIB_STRAIN", "H", "h1_GDS_CALIB_STRAIN"},
		{"strain", "X", "strain"},
		{":odd", "X", "_odd"},
		{"1X:weird", "X", "1X_weird"},
		{"V1:Hrec µ", "V", "V1_Hrec__"},
	}
	for _, tt := range tests {
		if obs, desc := channelObs(tt.channel), channelDesc(tt.channel); obs != tt.obs || desc != tt.desc {
			t.Errorf("%q: got %q %q, want %q %q", tt.channel, obs, desc, tt.obs, tt.desc)
		}
	}
}

// TestPrecedence sets t0 and sample_rate in every combination of the five
// sources and checks that the highest one wins and is recorded.
func TestPrecedence(t *testing.T) {
	origins := []string{"flag", "sidecar", "file", "filename", "config"}
	t0s := []float64{1, 2, 3, 4, 5}
	rates := []float64{10, 20, 8, 4, 50} // file: steps of 1/8 s; filename: 8 samples in 2 s
	for mask := 0; mask < 1<<len(origins); mask++ {
		has := func(i int) bool { return mask&(1<<i) != 0 }
		var set []string
		for i, o := range origins {
			if has(i) {
				set = append(set, o)
			}
		}
		t.Run(strings.Join(set, "+")+"/", func(t *testing.T) {
			files := map[string]string{}
			name := "plain.txt"
			if has(3) {
				name = "K1-TEST-4-2.txt"
			}
			var text strings.Builder
			for i := range 8 {
				if has(2) {
					fmt.Fprintf(&text, "%v, ", 3+float64(i)/8)
				}
				fmt.Fprintf(&text, "%d\n", i)
			}
			files[name] = text.String()
			if has(1) {
				files[strings.TrimSuffix(name, ".txt")+".toml"] = "t0 = 2\nsample_rate = 20\n"
			}
			var opt Options
			if has(0) {
				opt.Flags = Meta{T0: ptr(1.0), SampleRate: ptr(10.0)}
			}
			if has(4) {
				opt.Defaults = Meta{T0: ptr(5.0), SampleRate: ptr(50.0)}
			}
			dir := writeDir(t, files)
			path := filepath.Join(dir, name)
			s, err := Read(path, opt)
			if mask == 0 {
				checkInputError(t, err, path, "no t0")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			win := 0
			for !has(win) {
				win++
			}
			if s.T0 != t0s[win] || s.Origin["t0"] != origins[win] {
				t.Errorf("t0: got %v from %q, want %v from %q", s.T0, s.Origin["t0"], t0s[win], origins[win])
			}
			if s.SampleRate != rates[win] || s.Origin["sample_rate"] != origins[win] {
				t.Errorf("sample_rate: got %v from %q, want %v from %q", s.SampleRate, s.Origin["sample_rate"], rates[win], origins[win])
			}
		})
	}
}

// TestPrecedenceStrings covers the keys only flags, sidecars and defaults
// can set.
func TestPrecedenceStrings(t *testing.T) {
	keys := []string{"channel", "dataset", "unit", "description"}
	meta := func(tag string) Meta {
		return Meta{Channel: ptr(tag + ":C"), Dataset: ptr(tag + "_d"), Unit: ptr(tag + "_u"), Description: ptr(tag + " d")}
	}
	values := func(m Meta) []string { return []string{*m.Channel, *m.Dataset, *m.Unit, *m.Description} }
	for mask := 0; mask < 8; mask++ {
		has := func(i int) bool { return mask&(1<<i) != 0 }
		t.Run(fmt.Sprint(mask), func(t *testing.T) {
			files := map[string]string{"x.npy": string(npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", float64Bytes(0)))}
			if has(1) {
				files["x.json"] = `{"channel": "S:C", "dataset": "S_d", "unit": "S_u", "description": "S d"}`
			}
			opt := Options{Defaults: Meta{T0: ptr(0.0), SampleRate: ptr(1.0)}}
			if has(0) {
				opt.Flags = meta("F")
			}
			if has(2) {
				d := meta("C")
				d.T0, d.SampleRate = opt.Defaults.T0, opt.Defaults.SampleRate
				opt.Defaults = d
			}
			s, err := Read(filepath.Join(writeDir(t, files), "x.npy"), opt)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{s.Channel, s.Dataset, s.Unit, s.Description}
			var want, wantOrigin []string
			switch {
			case has(0):
				want, wantOrigin = values(meta("F")), []string{"flag", "flag", "flag", "flag"}
			case has(1):
				want, wantOrigin = values(meta("S")), []string{"sidecar", "sidecar", "sidecar", "sidecar"}
			case has(2):
				want, wantOrigin = values(meta("C")), []string{"config", "config", "config", "config"}
			default:
				want, wantOrigin = []string{"x", "x", DefaultUnit, ""}, []string{"default", "default", "default", ""}
			}
			for i, k := range keys {
				if got[i] != want[i] || s.Origin[k] != wantOrigin[i] {
					t.Errorf("%s: got %q from %q, want %q from %q", k, got[i], s.Origin[k], want[i], wantOrigin[i])
				}
			}
			if _, ok := s.Origin["description"]; !ok && wantOrigin[3] != "" {
				t.Error("description: no origin recorded")
			}
		})
	}
}

func TestDefaultsDoNotOverrideFileType(t *testing.T) {
	// A watch default dtype is meant for raw files; files that record
	// their own type simply ignore it.
	dir := writeDir(t, map[string]string{
		"a.npy": string(npyFile(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))),
		"b.txt": "1\n",
	})
	opt := Options{Defaults: Meta{DType: ptr("int16"), ByteOrder: ptr("little"), T0: ptr(0.0), SampleRate: ptr(1.0)}}
	for _, name := range []string{"a.npy", "b.txt"} {
		s, err := Read(filepath.Join(dir, name), opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.DType != samples.Float64 || s.Origin["dtype"] != "file" {
			t.Errorf("%s: got dtype %s from %q, want float64 from file", name, s.DType, s.Origin["dtype"])
		}
	}
}
