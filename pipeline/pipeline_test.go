package pipeline

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/processor"
)

const channel = "K1:LSC-DARM_OUT_DQ"

// fixture writes a T010150-named .npy with a JSON sidecar and returns its
// path and a pipeline writing below a temp archive root.
// fixture writes a source file of the samples x with a sidecar and
// returns it and the Options of a pipeline that archives it.
func fixture(t *testing.T, x []float64, seconds int) (string, Options) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "K-K1_LSC_DARM_OUT_DQ-1300000000-"+strconv.Itoa(seconds)+".npy")
	if err := synth.WriteNPY(src, x); err != nil {
		t.Fatal(err)
	}
	side := `{"channel": "` + channel + `", "unit": "ct"}`
	if err := os.WriteFile(strings.TrimSuffix(src, ".npy")+".json", []byte(side), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(dir, "archive")
	return src, Options{Config: cfg, CPUs: 1}
}

func TestProcessThenVerify(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 3), 16)
	p := New(opts)
	before, _ := os.ReadFile(src)
	st, _ := os.Stat(src)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(opts.Config.Archive.Root, "K/13000/K-K1_LSC_DARM_OUT_DQ-1300000000-16.h5")
	if res.Archive != want || res.Duplicate {
		t.Errorf("got archive %s (duplicate %v), want %s", res.Archive, res.Duplicate, want)
	}
	if len(res.Record.Products) != 3 || len(res.Record.Skipped) != 0 {
		t.Errorf("got products %v, skipped %v; want ASD, frequencies and spectrogram", res.Record.Products, res.Record.Skipped)
	}
	r, err := Verify(res.Archive, processor.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("verify: %s", r.Summary())
	}
	after, _ := os.ReadFile(src)
	st2, _ := os.Stat(src)
	if string(after) != string(before) || !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the source file was altered")
	}

	again, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Archive != res.Archive {
		t.Errorf("same source twice: got %s (duplicate %v), want the first archive reported as duplicate", again.Archive, again.Duplicate)
	}
}

func TestSkippedProductsAreExplained(t *testing.T) {
	t.Parallel()
	nan := synth.Coloured(16*1024, 1024, 50, 4)
	nan[100] = math.NaN()
	tests := []struct {
		name    string
		x       []float64
		seconds int
		asd     string // part of the reason
	}{
		{"non-finite", nan, 16, "not finite"},
		{"shorter than a segment", synth.Coloured(2*1024, 1024, 50, 5), 2, "shorter than one FFT segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, opts := fixture(t, tt.x, tt.seconds)
			p := New(opts)
			res, err := p.Process(context.Background(), src, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := archive.Read(res.Archive)
			if err != nil {
				t.Fatal(err)
			}
			raw := doc.Dataset("/raw/" + channel)
			if raw == nil || len(raw.Data.([]float64)) != len(tt.x) {
				t.Fatal("raw samples not archived")
			}
			reason, _ := raw.Attr("asd_skipped").(string)
			if !strings.Contains(reason, tt.asd) {
				t.Errorf("asd_skipped = %q, want it to say %q", reason, tt.asd)
			}
			if s, _ := raw.Attr("spectrogram_skipped").(string); s == "" {
				t.Error("spectrogram_skipped is not set")
			}
			if doc.Dataset("/processed/"+channel+"/asd_values") != nil {
				t.Error("an ASD was written for data that cannot give one")
			}
			if r, err := Verify(res.Archive, processor.New(1)); err != nil || !r.OK() {
				t.Errorf("verify: %v %v", err, r)
			}
		})
	}
}

func TestBadInputIsRejectedWithReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "short.bin")
	if err := os.WriteFile(bad, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Archive.Root = filepath.Join(dir, "archive")
	p := New(Options{Config: cfg, CPUs: 1})
	dt, rate, t0 := "float64", 16.0, 1e9
	_, err := p.Process(context.Background(), bad, ingest.Options{Flags: ingest.Meta{DType: &dt, SampleRate: &rate, T0: &t0}})
	if !ingest.IsInputError(err) {
		t.Fatalf("got %v, want an input error", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "short.bin") || strings.Contains(msg, "\n") {
		t.Errorf("got %q, want one line naming the file", msg)
	}
	if _, err := os.Stat(cfg.Archive.Root); !errors.Is(err, os.ErrNotExist) {
		t.Error("a rejected file left something in the archive root")
	}
}

// rewrite writes a changed copy of an archive and returns its path.
func rewrite(t *testing.T, path string, change func(*archive.Doc)) string {
	t.Helper()
	doc, err := archive.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	change(doc)
	w, err := archive.WriteFile(t.TempDir(), "x.h5", doc, archive.Compression{})
	if err != nil {
		t.Fatal(err)
	}
	return w.Path
}

func setAttr(d *archive.Dataset, name string, v any) {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			d.Attrs[i].Value = v
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 6), 16)
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asdPath := "/processed/" + channel + "/asd_values"
	tests := []struct {
		name   string
		change func(*archive.Doc)
		want   string
	}{
		{"raw sample changed", func(d *archive.Doc) {
			d.Dataset("/raw/" + channel).Data.([]float64)[7] += 1e-3
		}, "data_sha256"},
		{"ASD changed with a matching hash", func(d *archive.Doc) {
			a := d.Dataset(asdPath)
			a.Data.([]float64)[10] *= 1.01
			setAttr(a, "data_sha256", archive.DataSHA256(a.Data))
		}, "recomputed"},
		{"parameters changed", func(d *archive.Doc) {
			setAttr(d.Dataset(asdPath), "params_json", `{"fftlength":2,"overlap":1,"method":"median","window":"hann","sample_rate":1024}`)
		}, "values, recomputed"},
		{"parent link broken", func(d *archive.Doc) {
			setAttr(d.Dataset(asdPath), "parent_dataset", "/raw/nothing")
		}, "not in the archive"},
		{"source changed", func(d *archive.Doc) {
			d.Attrs[indexOf(d.Attrs, "source_sha256")].Value = strings.Repeat("0", 64)
		}, "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Verify(rewrite(t, res.Archive, tt.change), processor.New(1))
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() || !strings.Contains(r.Summary(), tt.want) {
				t.Errorf("got %q, want a failure mentioning %q", r.Summary(), tt.want)
			}
		})
	}
	if _, err := Verify(src, processor.New(1)); !errors.Is(err, ErrUnreadable) {
		t.Errorf("verify of a non-archive: got %v, want ErrUnreadable", err)
	}
}

func indexOf(attrs []archive.Attr, name string) int {
	for i, a := range attrs {
		if a.Name == name {
			return i
		}
	}
	return -1
}

func TestAuditRecords(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 7), 16)
	var got []audit.Event
	opts.Recorder = RecorderFunc(func(e audit.Event) error {
		got = append(got, e)
		return nil
	})
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Process(context.Background(), src, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(filepath.Dir(src), "bad.npy")
	os.WriteFile(bad, []byte("not numpy"), 0o644)
	if _, err := p.Process(context.Background(), bad, ingest.Options{}); err == nil {
		t.Fatal("bad input accepted")
	}
	if len(got) != 3 {
		t.Fatalf("got records %v, want archived, duplicate, rejected", got)
	}
	a, ok1 := got[0].(audit.Archived)
	dup, ok2 := got[1].(audit.Duplicate)
	rej, ok3 := got[2].(audit.Rejected)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("got records %v, want archived, duplicate, rejected", got)
	}
	for k, f := range map[string][2]string{
		"source_path": {a.SourcePath, src}, "source_sha256": {a.SourceSHA256, res.Source.SHA256}, "archive_path": {a.ArchivePath, res.Archive},
		"archive_sha256": {a.ArchiveSHA256, res.Record.ArchiveSHA256}, "archive_id": {a.ArchiveID, res.Record.ArchiveID},
		"sidecar_path": {a.SidecarPath, strings.TrimSuffix(src, ".npy") + ".json"},
	} {
		if f[0] != f[1] {
			t.Errorf("archived %s = %v, want %v", k, f[0], f[1])
		}
	}
	if len(res.Record.ArchiveSHA256) != 64 || len(res.Record.ArchiveID) != 32 {
		t.Errorf("archive sha256 %q, id %q", res.Record.ArchiveSHA256, res.Record.ArchiveID)
	}
	doc, _ := archive.Read(res.Archive)
	if doc.Attr("archive_id") != res.Record.ArchiveID {
		t.Errorf("archive_id attribute %v, want %s", doc.Attr("archive_id"), res.Record.ArchiveID)
	}
	if dup.ArchivePath != res.Archive {
		t.Errorf("duplicate names %v, want %s", dup.ArchivePath, res.Archive)
	}
	if !strings.Contains(rej.Reason, "bad.npy") {
		t.Errorf("rejected reason %q does not name the file", rej.Reason)
	}
	opts.Recorder = RecorderFunc(func(audit.Event) error { return errors.New("disk full") })
	p = New(opts)
	// A rejection the log could not take is not bad input yet: the file
	// must be tried again, not quarantined with no record of why.
	bad2 := filepath.Join(t.TempDir(), "bad2.npy")
	os.WriteFile(bad2, []byte("junk"), 0o644)
	if _, err := p.Process(context.Background(), bad2, ingest.Options{}); err == nil || ingest.IsInputError(err) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a rejection the log did not take: got %v, want an error that is not an input error", err)
	}
	src2, _ := fixture(t, synth.Coloured(16*1024, 1024, 50, 8), 16)
	if _, err := p.Process(context.Background(), src2, ingest.Options{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failed audit append: got %v, want the error", err)
	}
}

// knownFunc is a function as a Known.
type knownFunc func(contentKey string) (string, bool)

func (f knownFunc) ArchiveOf(contentKey string) (string, bool) { return f(contentKey) }

// only returns the one record of records, or nil.
func only(records []audit.Event) audit.Event {
	if len(records) != 1 {
		return nil
	}
	return records[0]
}

func TestKnownAndAdopted(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 9), 16)
	first, err := New(opts).Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var events []audit.Event
	opts.Recorder = RecorderFunc(func(e audit.Event) error {
		events = append(events, e)
		return nil
	})

	// The log does not know the archive on disk: it is adopted.
	opts.Known = knownFunc(func(string) (string, bool) { return "", false })
	res, err := New(opts).Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Record == nil || !res.Record.Adopted || res.Archive != first.Archive || res.Record.ArchiveID != first.Record.ArchiveID || res.Record.ArchiveSHA256 == "" {
		t.Errorf("got %+v, want the first archive adopted", res)
	}
	if a, ok := only(events).(audit.Archived); !ok || !a.Adopted {
		t.Errorf("got records %v, want one archived record marked adopted", events)
	}

	// The log knows the content: a duplicate, and nothing written.
	opts.Known = knownFunc(func(key string) (string, bool) { return "/somewhere/else.h5", key == first.ContentKey })
	opts.Root = t.TempDir()
	res, err = New(opts).Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Duplicate || res.Archive != "/somewhere/else.h5" {
		t.Errorf("got %+v, want a duplicate of /somewhere/else.h5", res)
	}
	if entries, _ := os.ReadDir(opts.Root); len(entries) != 0 {
		t.Errorf("a known source wrote %d entries to the archive root", len(entries))
	}
}

// An archive name too long for the file system comes from the source (a
// long stem, a long channel name): bad input with its reason, not a
// failure to retry every five minutes for ever.
func TestOverlongArchiveNameIsBadInput(t *testing.T) {
	t.Parallel()
	for name, ch := range map[string]string{
		"long stem":    "",
		"long channel": "K1:" + strings.Repeat("C", 10000),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, strings.Repeat("s", 250)+".npy")
			if ch != "" {
				src = filepath.Join(dir, "x.npy")
			}
			if err := synth.WriteNPY(src, synth.Coloured(8*64, 64, 5, 1)); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.Archive.Root = filepath.Join(dir, "archive")
			cfg.Archive.Layout = "{channel}.h5"
			p := New(Options{Config: cfg, CPUs: 1})
			opt := ingest.Options{}
			t0, rate := 1300000000.0, 64.0
			opt.Flags.T0, opt.Flags.SampleRate = &t0, &rate
			if ch != "" {
				opt.Flags.Channel = &ch
			}
			_, err := p.Process(context.Background(), src, opt)
			if !ingest.IsInputError(err) || !strings.Contains(err.Error(), "from the layout") {
				t.Fatalf("got %v, want an input error about the archive name", err)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("reason of %d bytes: it should not quote the whole name", len(err.Error()))
			}
		})
	}
}

// Archives written before spectrograms followed gwpy hold ASD rows of
// whole strides; verify recomputes each spectrogram as it was made, so
// they still verify, and a stored spectrogram of the other kind fails.
func TestOlderSpectrogramsStillVerify(t *testing.T) {
	t.Parallel()
	x := synth.Coloured(32*256, 256, 20, 3)
	s := &ingest.Series{Channel: "K1:OLD", Dataset: "K1:OLD", T0: 1300000000, SampleRate: 256, DType: "float64", Values: x, Format: "npy"}
	proc := processor.New(1)
	prm := processor.Params{FFTLength: 2, Overlap: 1, Method: "median", Window: "hann"}
	for _, legacy := range []bool{true, false} {
		sg, err := proc.GWpySpectrogram(x, 256, 8, prm)
		if legacy {
			sg, err = proc.Spectrogram(x, 256, 8, prm)
		}
		if err != nil {
			t.Fatal(err)
		}
		c := &archive.Content{ID: archive.NewID(), Source: ingest.Source{Path: "/src.npy", SHA256: strings.Repeat("ab", 32)},
			Entries: []archive.Entry{{Series: s, Spectrogram: sg, SpectrogramParams: prm, SpectrogramStride: 8}}}
		doc, err := c.Doc()
		if err != nil {
			t.Fatal(err)
		}
		w, err := archive.WriteFile(t.TempDir(), "a.h5", doc, archive.Compression{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Verify(w.Path, proc)
		if err != nil || !r.OK() {
			t.Errorf("legacy %v: verify: %v %s", legacy, err, r.Summary())
		}
		// The same values recorded as the other kind do not verify.
		bad := rewrite(t, w.Path, func(d *archive.Doc) {
			sgd := d.Dataset("/processed/K1:OLD/spectrogram")
			pj, _ := sgd.Attr("params_json").(string)
			if legacy {
				pj = strings.Replace(pj, "{", `{"chunks":"gwpy",`, 1)
			} else {
				pj = strings.Replace(pj, `"chunks":"gwpy",`, "", 1)
			}
			setAttr(sgd, "params_json", pj)
		})
		if r, _ := Verify(bad, proc); r != nil && r.OK() {
			t.Errorf("legacy %v: a spectrogram recorded as the other kind verified", legacy)
		}
	}
}

// The views gwpy reads must map the dataset their path names, whole, with
// that dataset's times and units: verify and CheckData find a view that
// does not.
func TestVerifyChecksTheViewsForGwpy(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 11), 16)
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := archive.Read(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{archive.ViewTimeSeries, archive.ViewASD, archive.ViewSpectrogram} {
		if v := doc.Dataset(archive.ViewPath(kind, channel)); v == nil || v.Virtual == "" || v.Data != nil {
			t.Errorf("no view %s: %+v", archive.ViewPath(kind, channel), v)
		}
	}
	proc := processor.New(1)
	for name, change := range map[string]func(*archive.Doc){
		"x0 moved": func(d *archive.Doc) { setAttr(d.Dataset(archive.ViewPath(archive.ViewTimeSeries, channel)), "x0", 1.0) },
		"unit changed": func(d *archive.Doc) {
			setAttr(d.Dataset(archive.ViewPath(archive.ViewASD, channel)), "unit", "m")
		},
		"maps another dataset": func(d *archive.Doc) {
			d.Dataset(archive.ViewPath(archive.ViewASD, channel)).Virtual = archive.ProcessedPath(channel, "asd_frequencies")
		},
	} {
		bad := rewrite(t, res.Archive, change)
		if r, err := Verify(bad, proc); err != nil || r.OK() {
			t.Errorf("%s: verify passed (%v)", name, err)
		}
		if err := CheckData(bad); err == nil {
			t.Errorf("%s: CheckData passed", name)
		}
	}
	if r, _ := Verify(rewrite(t, res.Archive, func(*archive.Doc) {}), proc); !r.OK() {
		t.Errorf("an archive rewritten unchanged: %s", r.Summary())
	}
}

// One of our own archives given as input is bad input, refused by its
// root attributes, whatever the options it is read with.
func TestOwnArchiveIsRefused(t *testing.T) {
	t.Parallel()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 12), 16)
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := res.Archive + ": already a gwwatchd archive (archive_id " + res.Record.ArchiveID + "): archives are not archived again"
	if _, err := p.Process(context.Background(), res.Archive, ingest.Options{}); !ingest.IsInputError(err) || err.Error() != want {
		t.Errorf("Process: got %v, want the input error %q", err, want)
	}
	if _, err := ingest.Measure(res.Archive, ReadOptions(nil)); !ingest.IsInputError(err) || err.Error() != want {
		t.Errorf("Measure: got %v, want the input error %q", err, want)
	}
}
