package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gwwatchd/gwwatchd/internal/h5"
)

func testDoc(sha string) *Doc {
	return &Doc{
		Attrs: []Attr{
			{Name: "format", Value: "gwwatchd-archive"},
			{Name: "format_version", Value: int64(1)},
			{Name: "source_sha256", Value: sha},
			{Name: "content_key", Value: "key-" + sha},
			{Name: "unit", Value: "µm"},
		},
		Datasets: []Dataset{
			{Path: "/raw/K1:X", Data: []int16{1, -2, 32767, -32768}, Attrs: []Attr{{Name: "t0", Value: 1300000000.5}, {Name: "name", Value: "K1:X"}}},
			{Path: "/processed/K1:X/spectrogram", Data: []float64{1, 2, 3, 4, 5, 6}, Dims: []uint{2, 3}, Attrs: []Attr{{Name: "f", Value: []float64{1, 2}}}},
			{Path: "/raw/u", Data: []uint32{4294967295, 0}},
		},
	}
}

// TestRoundTrip writes archives made in memory and, with values of more
// than imageMax bytes, through their files.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		comp Compression
		big  bool
	}{{Compression{}, false}, {Compression{Gzip: true, Level: 6}, false}, {Compression{}, true}, {Compression{Gzip: true, Level: 6}, true}} {
		comp := tc.comp
		dir := t.TempDir()
		want := testDoc("abc")
		if tc.big {
			big := make([]float64, imageMax/8+1)
			for i := range big {
				big[i] = float64(i)
			}
			want.Datasets = append(want.Datasets, Dataset{Path: "/raw/big", Data: big})
		}
		if inMem := docBytes(want) <= imageMax; inMem == tc.big {
			t.Fatalf("%d bytes of values: made in memory %v", docBytes(want), inMem)
		}
		w, err := WriteFile(dir, "a/b/x.h5", want, comp)
		if err != nil {
			t.Fatal(err)
		}
		p := w.Path
		if b, _ := os.ReadFile(p); fmt.Sprintf("%x", sha256.Sum256(b)) != w.SHA256 || int64(len(b)) != w.Size {
			t.Errorf("Written %+v does not describe the file", w)
		}
		if p != filepath.Join(dir, "a/b/x.h5") {
			t.Errorf("got path %s", p)
		}
		got, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Attrs, sortedAttrs(want.Attrs)) {
			t.Errorf("root attrs: got %v, want %v", got.Attrs, want.Attrs)
		}
		for _, wd := range want.Datasets {
			gd := got.Dataset(wd.Path)
			if gd == nil {
				t.Fatalf("no dataset %s in %v", wd.Path, got.Datasets)
			}
			if !reflect.DeepEqual(gd.Data, wd.Data) {
				t.Errorf("%s: got %v, want %v", wd.Path, gd.Data, wd.Data)
			}
			if !reflect.DeepEqual(gd.Attrs, sortedAttrs(wd.Attrs)) && len(wd.Attrs) > 0 {
				t.Errorf("%s attrs: got %v, want %v", wd.Path, gd.Attrs, wd.Attrs)
			}
		}
		if d := got.Dataset("/processed/K1:X/spectrogram"); !reflect.DeepEqual(d.Dims, []uint{2, 3}) {
			t.Errorf("dims: got %v, want [2 3]", d.Dims)
		}
	}
}

func sortedAttrs(a []Attr) []Attr {
	out := append([]Attr(nil), a...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Name < out[i].Name {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestWriteNeverOverwrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w1, err := WriteFile(dir, "x.h5", testDoc("one"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := WriteFile(dir, "x.h5", testDoc("two"), Compression{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := w1.Path, w2.Path
	if want := filepath.Join(dir, "x_2.h5"); p2 != want {
		t.Errorf("second archive: got %s, want %s", p2, want)
	}
	_, err = WriteFile(dir, "x.h5", testDoc("two"), Compression{})
	var de *DuplicateError
	if !errors.As(err, &de) || de.Path != p2 || !errors.Is(err, ErrDuplicate) {
		t.Errorf("same source again: got %v, want a DuplicateError naming %s", err, p2)
	}
	if sha, _ := rootAttrOf(t, p1, "source_sha256"); sha != "one" {
		t.Errorf("first archive was changed: source_sha256 %q", sha)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	if _, err := WriteFile(dir, "../x.h5", testDoc("three"), Compression{}); err == nil {
		t.Error("a path outside the root was accepted")
	}
}

// The same source bytes read as another channel, time or sidecar are other
// content: an archive at the same name is a duplicate only when its
// content_key is the same, and an archive with none never is.
func TestSameSourceBytesOtherMetadataGetTheirOwnArchive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := testDoc("zeros")
	if _, err := WriteFile(dir, "x.h5", first, Compression{}); err != nil {
		t.Fatal(err)
	}
	other := testDoc("zeros")
	for i := range other.Attrs {
		if other.Attrs[i].Name == "content_key" {
			other.Attrs[i].Value = "key-zeros-as-channel-Y"
		}
	}
	w, err := WriteFile(dir, "x.h5", other, Compression{})
	if err != nil {
		t.Fatalf("same bytes, other metadata: %v, want an archive of its own", err)
	}
	if want := filepath.Join(dir, "x_2.h5"); w.Path != want {
		t.Errorf("got %s, want %s", w.Path, want)
	}
	old := testDoc("legacy")
	old.Attrs = slices.DeleteFunc(old.Attrs, func(a Attr) bool { return a.Name == "content_key" })
	if _, err := WriteFile(dir, "y.h5", old, Compression{}); err != nil {
		t.Fatal(err)
	}
	if w, err := WriteFile(dir, "y.h5", old, Compression{}); err != nil || w.Path != filepath.Join(dir, "y_2.h5") {
		t.Errorf("archive without content_key: got %v, %v; want a distinct y_2.h5", w, err)
	}
}

func TestDataSHA256IsOfLittleEndianBytes(t *testing.T) {
	t.Parallel()
	// The hash is of the values' little-endian bytes, spelled out here.
	for _, tt := range []struct {
		values any
		bytes  []byte
	}{
		{[]int16{1, -1}, []byte{1, 0, 0xff, 0xff}},
		{[]float64{1}, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		{[]uint32{0x01020304}, []byte{4, 3, 2, 1}},
		{[]int8{-1, 2}, []byte{0xff, 2}},
	} {
		sum := sha256.Sum256(tt.bytes)
		if got, want := DataSHA256(tt.values), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("DataSHA256(%v) = %s, want %s", tt.values, got, want)
		}
	}
}

// TestComplexAndUint64 checks that complex values, stored as numpy and
// h5py store them, and uint64 values read back exactly, and that their
// data_sha256 covers the real and imaginary parts.
func TestComplexAndUint64(t *testing.T) {
	t.Parallel()
	doc := &Doc{Datasets: []Dataset{
		{Path: "/raw/c128", Data: []complex128{complex(1, -2), complex(math.Inf(1), 3.5e-300)}},
		{Path: "/raw/c64", Data: []complex64{complex(1.5, -2.25), 0}},
		{Path: "/raw/u64", Data: []uint64{0, 1 << 63, math.MaxUint64}},
		{Path: "/raw/empty", Data: []complex128{}},
	}}
	for _, comp := range []Compression{{}, {Gzip: true, Level: 4}} {
		p := filepath.Join(t.TempDir(), "c.h5")
		if err := h5.Write(p, doc, comp); err != nil {
			t.Fatal(err)
		}
		got, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range doc.Datasets {
			d := got.Dataset(want.Path)
			if d == nil || !reflect.DeepEqual(d.Data, want.Data) {
				t.Errorf("%s: read %#v, want %#v", want.Path, d, want.Data)
			}
		}
	}
	c := DataSHA256([]complex128{complex(1, 2)})
	f := DataSHA256([]float64{1, 2})
	if c == "" || c != f {
		t.Errorf("data_sha256 of 1+2i is %q, want that of [1, 2], %q", c, f)
	}
	if DataSHA256([]complex64{complex(1, 2)}) != DataSHA256([]float32{1, 2}) {
		t.Error("complex64 data_sha256 differs from its parts'")
	}
}

// Collision names are read by T010150 parsers, gwpy's among them, which
// take START and DURATION from the last two fields: the counter goes in
// the description, never after the duration ("-1_2" reads as 12 s).
func TestCollisionNamesKeepStartAndDuration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		i    int
		want string
	}{
		{"HLV-HW100916-968654552-1.h5", 1, "HLV-HW100916-968654552-1.h5"},
		{"HLV-HW100916-968654552-1.h5", 2, "HLV-HW100916_2-968654552-1.h5"},
		{"K-K1_LSC_DARM_OUT_DQ-1300000000-64.h5", 17, "K-K1_LSC_DARM_OUT_DQ_17-1300000000-64.h5"},
		{"K-K1_TEST-1300000000-8.json", 3, "K-K1_TEST_3-1300000000-8.json"},
		{"x.h5", 2, "x_2.h5"},
		{"K1_LSC-DARM-ERR-1300000000-64.h5", 2, "K1_LSC-DARM-ERR-1300000000-64_2.h5"}, // not T010150: five fields
		{"K-K1-1300000000.5-64.h5", 2, "K-K1-1300000000.5-64_2.h5"},
	} {
		if got := CollisionName(tt.name, tt.i); got != tt.want {
			t.Errorf("CollisionName(%q, %d) = %q, want %q", tt.name, tt.i, got, tt.want)
		}
	}
	dir := t.TempDir()
	name := "HLV-HW100916-968654552-1.h5"
	for i, want := range []string{name, "HLV-HW100916_2-968654552-1.h5", "HLV-HW100916_3-968654552-1.h5"} {
		w, err := WriteFile(dir, name, testDoc(fmt.Sprint("source", i)), Compression{})
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(w.Path) != want {
			t.Errorf("archive %d: got %s, want %s", i+1, filepath.Base(w.Path), want)
		}
	}
}

// rootAttrOf reads a string root attribute of an archive.
func rootAttrOf(t *testing.T, path, name string) (string, error) {
	t.Helper()
	attrs, err := h5.ReadRootAttrs(path)
	if err != nil {
		return "", err
	}
	v, _ := h5.FindAttr(attrs, name).(string)
	return v, nil
}

// TestCommitsShareDirectoryFsync: archives committed to one directory
// while its fsync runs share the next one, and each Commit returns only
// after an fsync that started after its link. Not parallel: it replaces
// fsyncDir.
func TestCommitsShareDirectoryFsync(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	temps := make([]*Temp, n)
	for i := range temps {
		tmp, err := WriteTemp(dir, "d/"+fmt.Sprintf("x%d.h5", i), testDoc(fmt.Sprint("source", i)), Compression{})
		if err != nil {
			t.Fatal(err)
		}
		defer tmp.Discard()
		temps[i] = tmp
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "d"), &st); err != nil {
		t.Fatal(err)
	}
	id := dirID{dev: uint64(st.Dev), ino: st.Ino}
	queued := func() int {
		dirSyncs.mu.Lock()
		s := dirSyncs.m[id]
		dirSyncs.mu.Unlock()
		if s == nil {
			return 0
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.queue)
	}
	var mu sync.Mutex
	var syncs int
	var started []time.Time // of each fsync
	entered := make(chan struct{})
	fsyncDir = func(f *os.File) error {
		mu.Lock()
		syncs++
		first := syncs == 1
		started = append(started, time.Now())
		mu.Unlock()
		if first {
			close(entered)
			for deadline := time.Now().Add(10 * time.Second); queued() < n-1 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		return f.Sync()
	}
	defer func() { fsyncDir = (*os.File).Sync }()
	linked := make([]time.Time, n) // just before each Commit
	var wg sync.WaitGroup
	commit := func(i int) {
		linked[i] = time.Now()
		if _, err := temps[i].Commit(); err != nil {
			t.Error(err)
		}
	}
	wg.Go(func() { commit(0) })
	<-entered
	for i := 1; i < n; i++ {
		wg.Go(func() { commit(i) })
	}
	wg.Wait()
	if syncs != 2 {
		t.Errorf("%d commits to one directory took %d fsyncs of it, want 2", n, syncs)
	}
	for i := 1; i < n; i++ {
		if !started[len(started)-1].After(linked[i]) {
			t.Errorf("commit %d was served by an fsync that started before it was called", i)
		}
		if _, err := os.Stat(filepath.Join(dir, "d", fmt.Sprintf("x%d.h5", i))); err != nil {
			t.Error(err)
		}
	}
	if len(dirSyncs.m) != 0 {
		t.Errorf("%d directories still tracked after every commit returned", len(dirSyncs.m))
	}
}
