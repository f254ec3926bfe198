package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/audit"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/daemon"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/pipeline"
)

// reprocessConfig writes a configuration with the directories of base and
// the chain of testdata/config/reprocess.toml.
func reprocessConfig(t *testing.T, base string) string {
	t.Helper()
	text, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := os.ReadFile("../../testdata/config/reprocess.toml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(filepath.Dir(base), "reprocess.toml")
	if err := os.WriteFile(p, append(append(text, '\n'), chain...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameDatasets checks that every dataset of before is in after with the
// same attributes and values.
func sameDatasets(t *testing.T, path string, before, after *archive.Doc) {
	t.Helper()
	for _, d := range before.Datasets {
		got := after.Dataset(d.Path)
		switch {
		case got == nil:
			t.Errorf("%s: %s is gone", path, d.Path)
		case !reflect.DeepEqual(got.Attrs, d.Attrs):
			t.Errorf("%s: %s: attributes %v, were %v", path, d.Path, got.Attrs, d.Attrs)
		case !reflect.DeepEqual(got.Data, d.Data) || !slices.Equal(got.Dims, d.Dims) || got.Virtual != d.Virtual:
			t.Errorf("%s: %s: values, shape or mapping changed", path, d.Path)
		}
	}
	// The root's attributes but the PROV document, which tells of the
	// products added too.
	for _, at := range before.Attrs {
		if got := h5Attr(after.Attrs, at.Name); at.Name != "prov_json" && !reflect.DeepEqual(got, at.Value) {
			t.Errorf("%s: root attribute %s is %v, was %v", path, at.Name, got, at.Value)
		}
	}
	if len(after.Attrs) != len(before.Attrs) {
		t.Errorf("%s: %d root attributes, were %d", path, len(after.Attrs), len(before.Attrs))
	}
}

func h5Attr(attrs []archive.Attr, name string) any {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return nil
}

// loggedArchives loads the configuration at path and returns it with the
// archives its log names.
func loggedArchives(t *testing.T, path string) (*config.Config, []audit.Archive) {
	t.Helper()
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := audit.Replay(c.Audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	return c, ix.Archives()
}

// reprocessedRecords are the reprocessed records of the log at path.
func reprocessedRecords(t *testing.T, path string) []audit.Reprocessed {
	t.Helper()
	var out []audit.Reprocessed
	err := audit.Scan(path, func(rec audit.Record, _ []byte) error {
		if rec.Event == (audit.Reprocessed{}).EventName() {
			e, err := rec.Decode()
			if err != nil {
				return err
			}
			out = append(out, e.(audit.Reprocessed))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReprocessAddsProducts: reprocess adds a new version of the ASD and a
// band-pass → ASD chain to archives of the default configuration, keeps
// every dataset they held as it was, records each archive replaced, and a
// second run adds nothing.
func TestReprocessAddsProducts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	// 16 s, so that the spectrogram is made, and found again as it was.
	var srcs []string
	for i := range 2 {
		src := filepath.Join(dir, "K-K1_TEST-"+strconv.Itoa(1300000000+16*i)+"-16.npy")
		if err := synth.WriteNPY(src, synth.Coloured(16*512, 512, 50, uint64(i))); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	if code, stdout, stderr := runMain(t, append([]string{"ingest", "--config", cfg, "--channel", "K1:TEST"}, srcs...)...); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, stdout, stderr)
	}
	c, archives := loggedArchives(t, cfg)
	if len(archives) != 2 {
		t.Fatalf("%d archives in the log, want 2", len(archives))
	}
	before := map[string]*archive.Doc{}
	sums := map[string]string{}
	for _, a := range archives {
		doc, err := archive.Read(a.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		before[a.ArchivePath] = doc
		sums[a.ArchivePath] = a.ArchiveSHA256
	}

	newCfg := reprocessConfig(t, cfg)
	code, stdout, stderr := runMain(t, "reprocess", "--config", newCfg, "--all")
	if code != exitOK {
		t.Fatalf("reprocess: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("reprocess printed %q, want two lines", stdout)
	}
	for i, a := range archives {
		if want := a.ArchivePath + ": added 3 products (asd@2, bp, bp_asd)"; lines[i] != want {
			t.Errorf("line %d: got %q, want %q", i, lines[i], want)
		}
		after, err := archive.Read(a.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		sameDatasets(t, a.ArchivePath, before[a.ArchivePath], after)
		ar, err := archive.Open(a.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ar.Products {
			got = append(got, p.Name+"@"+string(rune('0'+p.Version))+" "+p.Kind+" "+p.Path)
		}
		for _, want := range []string{
			"asd@1 asd /processed/K1:TEST/asd_values",
			"spectrogram@1 spectrogram /processed/K1:TEST/spectrogram",
			"asd@2 asd /processed/K1:TEST/asd@2_values",
			"asd@2 asd_frequencies /processed/K1:TEST/asd@2_frequencies",
			"bp@1 bandpass /processed/K1:TEST/bp",
			"bp_asd@1 asd /processed/K1:TEST/bp_asd_values",
		} {
			if !slices.Contains(got, want) {
				t.Errorf("%s: products %q lack %q", a.ArchivePath, got, want)
			}
		}
		// The ASD of the raw series, for plot, is its latest version.
		if s := ar.Series[0]; s.Product(archive.ProductASD).Path != "/processed/K1:TEST/asd@2_values" ||
			s.Product(archive.ProductFrequencies).Path != "/processed/K1:TEST/asd@2_frequencies" ||
			s.Product(archive.ProductSpectrogram).Path != "/processed/K1:TEST/spectrogram" {
			t.Errorf("%s: Series.Product gives %s, %s, %s", a.ArchivePath, s.Product(archive.ProductASD).Path,
				s.Product(archive.ProductFrequencies).Path, s.Product(archive.ProductSpectrogram).Path)
		}
		var prov struct {
			Entity   map[string]any `json:"entity"`
			Activity map[string]any `json:"activity"`
			Agent    map[string]any `json:"agent"`
		}
		if err := json.Unmarshal([]byte(ar.ProvJSON), &prov); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"gw:/processed/K1:TEST/asd@2_values", "gw:/processed/K1:TEST/bp", "gw:/processed/K1:TEST/bp_asd_values",
			"gw:/processed/K1:TEST/asd_values", "gw:/raw/K1:TEST"} {
			if prov.Entity[id] == nil {
				t.Errorf("%s: PROV-JSON has no entity %s", a.ArchivePath, id)
			}
		}
		if prov.Activity["gw:process/processed/K1:TEST/bp_asd_values"] == nil || len(prov.Agent) != 2 {
			t.Errorf("%s: PROV-JSON activities %v, agents %v", a.ArchivePath, prov.Activity, prov.Agent)
		}
		for _, v := range []string{"/gwpy/products/K1:TEST/asd@2_values", "/gwpy/products/K1:TEST/bp", "/gwpy/products/K1:TEST/bp_asd_values"} {
			if after.Dataset(v) == nil {
				t.Errorf("%s: no view %s", a.ArchivePath, v)
			}
		}
	}
	code, stdout, _ = runMain(t, "inspect", "--config", cfg, "--json", archives[0].ArchivePath)
	var s struct {
		Audit struct {
			Seq uint64
		}
		Datasets []struct {
			Path    string
			Name    string `json:"product_name"`
			Version int    `json:"product_version"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || code != exitOK {
		t.Fatalf("inspect --json: exit %d, %v", code, err)
	}
	versions := map[string]string{}
	for _, d := range s.Datasets {
		versions[d.Path] = d.Name + " " + strconv.Itoa(d.Version)
	}
	if got := versions["/processed/K1:TEST/asd@2_values"]; got != "asd 2" {
		t.Errorf("inspect --json: asd@2_values is product %q, want asd 2", got)
	}
	if got := versions["/processed/K1:TEST/asd_values"]; got != "asd 1" {
		t.Errorf("inspect --json: asd_values is product %q, want asd 1", got)
	}
	if s.Audit.Seq <= archives[0].Seq {
		t.Errorf("inspect --json: audit record %d, want the reprocessed one after %d", s.Audit.Seq, archives[0].Seq)
	}
	recs := reprocessedRecords(t, c.Audit.Path)
	if len(recs) != 2 {
		t.Fatalf("%d reprocessed records, want 2", len(recs))
	}
	for _, r := range recs {
		now, err := pipeline.FileSHA256(r.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		if r.PreviousSHA256 != sums[r.ArchivePath] || r.ArchiveSHA256 != now || r.ArchiveSize == 0 || r.PreviousSize == 0 {
			t.Errorf("record %+v: want previous %s, now %s", r, sums[r.ArchivePath], now)
		}
		var stored []string
		for _, p := range r.Products {
			stored = append(stored, p.StoredAs)
		}
		if !slices.Equal(stored, []string{"asd@2", "bp", "bp_asd"}) || r.Products[2].Input != "bp" || r.Products[0].Welch == nil || r.Products[0].Welch.FFTLength != 2 {
			t.Errorf("record products %+v", r.Products)
		}
	}
	code, stdout, _ = runMain(t, append([]string{"verify"}, archivePaths(archives)...)...)
	if code != exitOK {
		t.Errorf("verify: exit %d\n%s", code, stdout)
	}
	if problems, err := daemon.CheckArchives(c); err != nil || len(problems) > 0 {
		t.Errorf("CheckArchives: %v, %v", problems, err)
	}
	if code, stdout, _ := runMain(t, "audit", "verify", "--config", cfg, "--archives"); code != exitOK {
		t.Errorf("audit verify --archives: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runMain(t, "trace", "--config", cfg, archives[0].ArchivePath)
	if code != exitOK || !strings.Contains(stdout, "archived   ") || !strings.Contains(stdout, "\nreprocessed ") ||
		!strings.Contains(stdout, "added bp_asd of K1:TEST: ") || strings.Index(stdout, "archived   ") > strings.Index(stdout, "\nreprocessed ") {
		t.Errorf("trace: exit %d, want the archived and the reprocessed record:\n%s", code, stdout)
	}
	ix, err := audit.Replay(c.Audit.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if a, ok := ix.ByArchivePath(r.ArchivePath); !ok || a.ArchiveSHA256 != r.ArchiveSHA256 {
			t.Errorf("Replay: %s has sha256 %s, want the reprocessed %s", r.ArchivePath, a.ArchiveSHA256, r.ArchiveSHA256)
		}
	}

	// The proof of a reprocessed archive is of the record that names it
	// as it is.
	code, proof, _ := runMain(t, "audit", "prove", "--config", cfg, archives[0].ArchivePath)
	if code != exitOK {
		t.Fatalf("audit prove: exit %d", code)
	}
	proofFile := filepath.Join(dir, "proof")
	if err := os.WriteFile(proofFile, []byte(proof), 0o644); err != nil {
		t.Fatal(err)
	}
	_, pub, _ := runMain(t, "audit", "pubkey", "--config", cfg)
	now0, _ := pipeline.FileSHA256(archives[0].ArchivePath)
	code, stdout, _ = runMain(t, "audit", "check-proof", "--pubkey", strings.TrimSpace(pub), proofFile)
	if code != exitOK || !strings.Contains(stdout, " (reprocessed, ") || !strings.Contains(stdout, "archive_sha256  "+now0+"\n") {
		t.Errorf("check-proof: exit %d, want the reprocessed record naming sha256 %s:\n%s", code, now0, stdout)
	}

	// Again: nothing to add, nothing written, nothing recorded.
	code, stdout, _ = runMain(t, "reprocess", "--config", newCfg, archives[0].ArchivePath, archives[1].ArchivePath)
	if want := archives[0].ArchivePath + ": nothing to add\n" + archives[1].ArchivePath + ": nothing to add\n"; code != exitOK || stdout != want {
		t.Errorf("second reprocess: exit %d, %q; want %q", code, stdout, want)
	}
	if n := len(reprocessedRecords(t, c.Audit.Path)); n != 2 {
		t.Errorf("%d reprocessed records after the second run, want 2", n)
	}
	for _, r := range recs {
		if now, _ := pipeline.FileSHA256(r.ArchivePath); now != r.ArchiveSHA256 {
			t.Errorf("%s: rewritten by the second run", r.ArchivePath)
		}
	}
}

func archivePaths(as []audit.Archive) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ArchivePath)
	}
	return out
}

// TestReprocessRefuses: what reprocess will not do, and how it says so.
func TestReprocessRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := tempConfig(t, dir)
	ingestN(t, dir, cfg, 0)
	_, archives := loggedArchives(t, cfg)
	logged := archives[0].ArchivePath
	stray := filepath.Join(dir, "stray.h5")
	b, err := os.ReadFile(logged)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stray, b, 0o644); err != nil {
		t.Fatal(err)
	}
	newCfg := reprocessConfig(t, cfg)
	code, stdout, _ := runMain(t, "reprocess", "--config", newCfg, stray, filepath.Join(dir, "gone.h5"))
	if want := stray + ": error: the audit log does not name it as archived\n"; code != exitProblems || !strings.HasPrefix(stdout, want) {
		t.Errorf("reprocess of an archive the log does not name: exit %d, %q; want %d and %q", code, stdout, exitProblems, want)
	}
	for _, args := range [][]string{
		{"reprocess", "--config", newCfg},
		{"reprocess", "--config", newCfg, "--all", logged},
		{"reprocess", "--config", newCfg, "--product", "nope", logged},
	} {
		if code, stdout, stderr := runMain(t, args...); code != exitError || stdout != "" || !strings.Contains(stderr, "Usage: gwwatchd reprocess") {
			t.Errorf("%v: exit %d, %q, %q; want a usage error", args, code, stdout, stderr)
		}
	}
	// --product: what is named and what it is made of, nothing else.
	code, stdout, _ = runMain(t, "reprocess", "--config", newCfg, "--product", "bp_asd", logged)
	if want := logged + ": added 2 products (bp, bp_asd)\n"; code != exitOK || stdout != want {
		t.Errorf("reprocess --product bp_asd: exit %d, %q; want %q", code, stdout, want)
	}
}
