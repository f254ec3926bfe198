package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestExampleIsTheDefault(t *testing.T) {
	c, err := Load("../config.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	c.File = ""
	if want := Default(); !reflect.DeepEqual(c, want) {
		t.Errorf("config.toml.example differs from the embedded default:\ngot  %+v\nwant %+v", c, want)
	}
}

func TestEmptyFileIsValid(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Watch) != 0 {
		t.Errorf("got %d watches from an empty file, want 0", len(c.Watch))
	}
	if c.Archive.Layout != DefaultLayout || c.Processing.ASD.FFTLength != 4 {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, toml string
		key        string
		line       int
	}{
		{"unknown top key", "bogus = 1\n", "bogus", 1},
		{"unknown section key", "[archive]\nroot = \"x\"\nrooot = \"y\"\n", "archive.rooot", 3},
		{"unknown watch key", "[[watch]]\ndir = \"a\"\n\n[[watch]]\ndir = \"b\"\nsetle = \"1s\"\n", "watch[1].setle", 6},
		{"compression", "[archive]\ncompression = \"lz4\"\n", "archive.compression", 2},
		{"gzip level", "[archive]\ngzip_level = 12\n", "archive.gzip_level", 2},
		{"method", "[processing.asd]\n\nmethod = \"max\"\n", "processing.asd.method", 3},
		{"window", "[processing.spectrogram]\nwindow = \"tukey\"\n", "processing.spectrogram.window", 2},
		{"overlap", "[processing.asd]\nfftlength = 2.0\noverlap = 2.0\n", "processing.asd.overlap", 3},
		{"fftlength", "[processing.asd]\nfftlength = -1.0\n", "processing.asd.fftlength", 2},
		{"stride", "[processing.spectrogram]\nstride = 1.0\n", "processing.spectrogram.stride", 2},
		{"audit size", "[audit]\nmax_size = -1\n", "audit.max_size", 2},
		{"checkpoint every", "[audit]\ncheckpoint_every = 0\n", "audit.checkpoint_every", 2},
		{"workers", "[daemon]\nworkers = 0\n", "daemon.workers", 2},
		{"after", "[[watch]]\ndir = \"a\"\nafter = \"copy\"\n", "watch[0].after", 3},
		{"move needs done_dir", "[[watch]]\ndir = \"a\"\nafter = \"move\"\n", "watch[0].done_dir", 1},
		{"sample rate", "[[watch]]\ndir = \"a\"\nsample_rate = 0.0\n", "watch[0].sample_rate", 3},
		{"dtype", "[[watch]]\ndir = \"a\"\ndtype = \"float16\"\n", "watch[0].dtype", 3},
		{"layout escape", "[archive]\nlayout = \"../{gps}.h5\"\n", "archive.layout", 2},
		{"layout placeholder", "[archive]\nlayout = \"{ifo}/{gps}.h5\"\n", "archive.layout", 2},
		{"dataset", "[[watch]]\ndir = \"a\"\ndataset = \"raw/x\"\n", "watch[0].dataset", 3},
		{"channels", "[[watch]]\ndir = \"a\"\nchannels = [\"K1:[\"]\n", "watch[0].channels", 3},
		{"archive in a watch", "[archive]\nroot = \"in\"\n[[watch]]\ndir = \"in\"\n", "archive.root", 2},
		{"archive below a recursive watch", "[archive]\nroot = \"in/archive\"\n[[watch]]\ndir = \"in\"\nrecursive = true\n", "archive.root", 2},
		{"quarantine in a watch", "[[watch]]\ndir = \"in\"\nquarantine_dir = \"./in/\"\n", "watch[0].quarantine_dir", 3},
		{"done dir of one watch is another", "[[watch]]\ndir = \"a\"\nafter = \"move\"\ndone_dir = \"b\"\n[[watch]]\ndir = \"b\"\n", "watch[0].done_dir", 4},
		{"duplicate dir", "[[watch]]\ndir = \"a\"\n[[watch]]\ndir = \"./a\"\n", "watch[1].dir", 4},
		{"metrics without a port", "[daemon]\nmetrics = \"9464\"\n", "daemon.metrics", 2},
		{"metrics port out of range", "[daemon]\nmetrics = \"127.0.0.1:94640\"\n", "daemon.metrics", 2},
		{"metrics port by name", "[daemon]\n\nmetrics = \"localhost:http\"\n", "daemon.metrics", 3},
		{"metrics port zero", "[daemon]\nmetrics = \":0\"\n", "daemon.metrics", 2},
		{"bad duration", "[daemon]\nrescan = \"soon\"\n", "", 2},
		{"wrong type", "[daemon]\nworkers = \"two\"\n", "", 2},
		{"syntax", "[daemon\nworkers = 1\n", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { parseError(t, tt.toml, tt.key, tt.line) })
	}
}

// parseError parses text, which must fail validation with an error of one
// line for key ("": any) at line (< 0: any line in the file), and returns
// the error.
func parseError(t *testing.T, text, key string, line int) error {
	t.Helper()
	_, err := Parse([]byte(text))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	if key != "" && ve.Key != key {
		t.Errorf("got key %q, want %q (%v)", ve.Key, key, err)
	}
	if line < 0 && ve.Line <= 0 || line >= 0 && ve.Line != line {
		t.Errorf("got line %d, want %d (%v)", ve.Line, line, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	return err
}

func TestLoadNamesFile(t *testing.T) {
	p := t.TempDir() + "/c.toml"
	if err := os.WriteFile(p, []byte("[archive]\ncompression = \"zip\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: archive.compression:") {
		t.Errorf("got %v, want it to start with %q", err, p+":2: archive.compression:")
	}
}

func TestEffectiveRoundTrips(t *testing.T) {
	c := Default()
	b, err := c.Effective()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatalf("effective config does not parse: %v\n%s", err, b)
	}
	if got.Processing.ASD.Overlap == nil || *got.Processing.ASD.Overlap != 2 {
		t.Errorf("effective ASD overlap: got %v, want 2", got.Processing.ASD.Overlap)
	}
	if !strings.Contains(string(b), "[[watch]]") {
		t.Errorf("effective config lacks the default watch:\n%s", b)
	}
}

// TestMetricsAddresses: what run can listen on is accepted at load.
func TestMetricsAddresses(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:9464", ":9464", "[::1]:9464", "localhost:65535"} {
		if _, err := Parse([]byte("[daemon]\nmetrics = " + strconv.Quote(addr) + "\n")); err != nil {
			t.Errorf("metrics = %q: %v", addr, err)
		}
	}
	_, err := Parse([]byte("[daemon]\nmetrics = \"9464\"\n"))
	if want := `line 2: daemon.metrics: "9464" is not an address HOST:PORT such as "127.0.0.1:9464": missing port in address`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestEffectiveSpellsOutEveryKey: the effective configuration names every
// key of the schema, as a value or, for metadata with no default, as a
// comment saying where it comes from; and it reads back as the same.
func TestEffectiveSpellsOutEveryKey(t *testing.T) {
	// Products of every kind between them set every key a product has.
	products, err := os.ReadFile("../testdata/config/chain.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(string(products) + "[[watch]]\ndir = \"a\"\n[[watch]]\ndir = \"b\"\nsample_rate = 4096.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Effective()
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := strings.Split(f.Tag.Get("toml"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}) {
				walk(prefix+name+".", ft)
				continue
			}
			if !regexp.MustCompile(`(?m)^\s*(# )?` + name + `( =|: )`).MatchString(text) {
				t.Errorf("the effective configuration lacks %s%s:\n%s", prefix, name, text)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
	for _, want := range []string{"memory_limit = \"50%\"", "key = \"var/state/audit.key\"", "channels = []", "create = false",
		"sample_rate = 4096.0", "# sample_rate: not set", "# t0: not set"} {
		if !strings.Contains(text, want) {
			t.Errorf("the effective configuration lacks %q:\n%s", want, text)
		}
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("the effective configuration does not parse: %v\n%s", err, b)
	}
	if b2, _ := again.Effective(); string(b2) != text {
		t.Errorf("the effective configuration read back is another:\n%s\nwant\n%s", b2, text)
	}
}

// TestWatchDirMustExist: a missing watch directory is a problem naming the
// key, its line and the path, unless the watch sets create = true, in
// which case MakeWatchDirs makes it.
func TestWatchDirMustExist(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.toml")
	typo, made, file := filepath.Join(dir, "incomnig"), filepath.Join(dir, "new", "in"), filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	text := fmt.Sprintf("[[watch]]\ndir = %q\n\n[[watch]]\ndir = %q\ncreate = true\n[[watch]]\ndir = %q\n", typo, made, file)
	os.WriteFile(p, []byte(text), 0o644)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	errs := c.WatchDirProblems()
	want := []string{
		fmt.Sprintf("%s:2: watch[0].dir: %q does not exist: create it, or set create = true in this [[watch]] to have run create it", p, typo),
		fmt.Sprintf("%s:8: watch[2].dir: %q is not a directory", p, file),
	}
	if len(errs) != len(want) {
		t.Fatalf("got %v, want %d problems", errs, len(want))
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("got %q, want %q", errs[i], want[i])
		}
	}
	if err := c.MakeWatchDirs(); err == nil || err.Error() != want[0] {
		t.Errorf("MakeWatchDirs: got %v, want %s", err, want[0])
	}
	if fi, err := os.Stat(made); err != nil || !fi.IsDir() {
		t.Errorf("the watch with create = true has no directory: %v", err)
	}
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Errorf("the mistyped directory was created: %v", err)
	}
}

func TestWatchOf(t *testing.T) {
	cfg := Default()
	cfg.Watch = append(cfg.Watch, Watch{Dir: "/data/drop", Recursive: true}, Watch{Dir: "/data/drop/k1"})
	tests := []struct {
		path, want string
	}{
		{"/data/drop/a.npy", "/data/drop"},
		{"/data/drop/k1/a.npy", "/data/drop/k1"},
		{"/data/drop/x/y/a.npy", "/data/drop"},
		{"/data/drop/k1/z/a.npy", "/data/drop"},
		{"/data/other/a.npy", ""},
		{"/data/dropx/a.npy", ""},
	}
	for _, tt := range tests {
		w := cfg.WatchOf(tt.path)
		got := ""
		if w != nil {
			got = w.Dir
		}
		if got != tt.want {
			t.Errorf("WatchOf(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
