package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/config"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/synth"
	"github.com/gwwatchd/gwwatchd/processor"
)

// chainFixture archives 16 s of a 1024 Hz series with the chain of
// testdata/config/chain.toml besides the default ASD and spectrogram.
func chainFixture(t *testing.T) (*Result, *Pipeline) {
	t.Helper()
	src, opts := fixture(t, synth.Coloured(16*1024, 1024, 50, 11), 16)
	opts.Config = configFile(t, "chain.toml", opts.Config.Archive.Root)
	p := New(opts)
	res, err := p.Process(context.Background(), src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, p
}

// configFile is the configuration testdata/config/name holds, with its
// archives below root.
func configFile(t *testing.T, name, root string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Archive.Root = root
	return cfg
}

// TestChainProducts: each product is made of its input, in dependency
// order, and stored with its lineage and parameters; one whose input was
// not made is skipped naming its input; one for other channels is not
// made; and verify recomputes them all.
func TestChainProducts(t *testing.T) {
	t.Parallel()
	res, _ := chainFixture(t)
	proc := func(name string) string { return "/processed/" + channel + "/" + name }
	wantProducts := []string{proc("asd_values"), proc("asd_frequencies"), proc("spectrogram"), proc("bp"),
		proc("bp_asd_values"), proc("bp_asd_frequencies"), proc("bp_sg"), proc("r256"),
		proc("minute.mean"), proc("minute.min"), proc("minute.max"), proc("minute.rms"), proc("minute.n"), proc("hp")}
	if got := res.Record.Products; !slices.Equal(got, wantProducts) {
		t.Errorf("got products\n%v\nwant\n%v", got, wantProducts)
	}
	wantSkipped := map[string]string{
		proc("lp"):       "cutoff 600 Hz is not below the Nyquist frequency 512 Hz",
		proc("lp_trend"): `its input "lp" was not made: cutoff 600 Hz is not below the Nyquist frequency 512 Hz`,
	}
	if len(res.Record.Skipped) != len(wantSkipped) {
		t.Errorf("got skipped %v, want %v", res.Record.Skipped, wantSkipped)
	}
	for k, v := range wantSkipped {
		if res.Record.Skipped[k] != v {
			t.Errorf("skipped %s: got %q, want %q", k, res.Record.Skipped[k], v)
		}
	}
	if ps := res.Record.Params.Products; len(ps) != 9 || ps[1].Name != "bp_asd" || ps[1].Input != "bp" || ps[1].Welch == nil || ps[1].Welch.Overlap != 1 {
		t.Errorf("recorded params %+v", ps)
	}

	a, err := archive.Open(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]*archive.Product{}
	order := map[string]int{}
	for i, p := range a.Products {
		byPath[p.Path] = p
		order[p.Path] = i
	}
	for _, p := range a.Products {
		if q := byPath[p.Parent]; q != nil && order[q.Path] > order[p.Path] {
			t.Errorf("%s comes before its parent %s", p.Path, q.Path)
		}
	}
	raw := "/raw/" + channel
	for path, want := range map[string]struct{ kind, parent string }{
		proc("bp"): {"bandpass", raw}, proc("bp_asd_values"): {"asd", proc("bp")}, proc("r256"): {"resample", raw},
		proc("minute.rms"): {"trend", proc("r256")}, proc("minute.n"): {"trend", proc("r256")},
	} {
		p := byPath[path]
		if p == nil {
			t.Errorf("no product %s", path)
			continue
		}
		if p.Kind != want.kind || p.Parent != want.parent || p.ParamsErr != nil || p.DataSHA256 == "" || p.Provenance.Version == "" {
			t.Errorf("%s: kind %q parent %q (%v); want %q of %q", path, p.Kind, p.Parent, p.ParamsErr, want.kind, want.parent)
		}
	}
	if f := byPath[proc("bp")].Filter; f == nil || *f != (archive.FilterParams{Btype: "bandpass", Design: "butter", Filtering: "sosfiltfilt",
		High: 300, Low: 30, Order: 4, PadLen: 27, SampleRate: 1024}) {
		t.Errorf("bandpass params %+v", f)
	}
	if r := byPath[proc("r256")]; r.Resample == nil || *r.Resample != (archive.ResampleParams{Beta: 5, Down: 4, Rate: 256, SampleRate: 1024, Up: 1, Window: "kaiser"}) ||
		r.SampleRate != 256 || r.Axes.DT != 1.0/256 || r.Axes.T0 != 1300000000 || r.Unit != "ct" || !slices.Equal(r.Shape, []uint{4096}) {
		t.Errorf("resample %+v %+v", r, r.Resample)
	}
	if tr := byPath[proc("minute.mean")]; tr.Trend == nil || *tr.Trend != (archive.TrendParams{SampleRate: 256, Stat: "mean", Stride: 60}) ||
		tr.Quantity != "mean" || tr.Axes.DT != 60 || !slices.Equal(tr.Shape, []uint{1}) {
		t.Errorf("trend %+v %+v", tr, tr.Trend)
	}
	if asd := byPath[proc("bp_asd_values")]; asd.Params.SampleRate != 1024 || asd.Params.NFFT != 2048 || asd.Unit != "ct / Hz(1/2)" {
		t.Errorf("ASD of the bandpass: %+v", asd.Params)
	}
	s := a.Series[0]
	if !strings.Contains(s.Skipped["lp_trend"], `input "lp"`) || s.Skipped["lp"] == "" || s.Skipped["pem"] != "" {
		t.Errorf("raw series skipped: %v", s.Skipped)
	}
	views := map[string]string{}
	for _, v := range a.Views {
		views[v.Path] = v.Of
	}
	for _, leaf := range []string{"bp", "bp_asd_values", "bp_sg", "r256", "minute.mean", "minute.n", "hp"} {
		if of := views["/gwpy/products/"+channel+"/"+leaf]; of != proc(leaf) {
			t.Errorf("view of %s: maps %q", leaf, of)
		}
	}

	// The PROV-JSON document derives each product from its input.
	var prov struct {
		Derived map[string]struct {
			Gen  string `json:"prov:generatedEntity"`
			Used string `json:"prov:usedEntity"`
		} `json:"wasDerivedFrom"`
		Activity map[string]map[string]any `json:"activity"`
	}
	if err := json.Unmarshal([]byte(a.ProvJSON), &prov); err != nil {
		t.Fatal(err)
	}
	for gen, used := range map[string]string{proc("bp_asd_values"): proc("bp"), proc("minute.max"): proc("r256"), proc("bp"): raw} {
		if d := prov.Derived["_:d_gw:"+gen]; d.Used != "gw:"+used {
			t.Errorf("PROV: %s derived from %q, want %s", gen, d.Used, used)
		}
	}
	if act := prov.Activity["gw:process"+proc("bp")]; act["prov:type"] != "gw:Butterworth" || !strings.Contains(act["gw:params_json"].(string), `"low":30`) {
		t.Errorf("PROV activity of bp: %v", act)
	}

	// inspect shows the chain as a tree, each product under its parent.
	var text strings.Builder
	if err := a.Summary().WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{"\nlineage\n  " + raw + " ", "\n    " + proc("bp") + "  ", "\n      " + proc("bp_asd_values") + "  ",
		"\n    " + proc("r256") + "  ", "\n      " + proc("minute.n") + "  ", "lp_skipped       cutoff 600 Hz", "lp_trend_skipped its input \"lp\" was not made"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}

	r, err := Verify(res.Archive, processor.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("verify: %s", r.Summary())
	}
	for _, want := range []string{proc("bp_asd_values") + ": recomputed from " + proc("bp"), proc("minute.n") + ": recomputed from " + proc("r256")} {
		if !slices.Contains(r.Checked, want) {
			t.Errorf("verify did not check %q: %v", want, r.Checked)
		}
	}
}

// TestVerifyFindsTamperedChain: a chained product changed with a matching
// hash fails its recomputation, and a parent changed fails its hash and
// leaves what was made of it unrecomputed.
func TestVerifyFindsTamperedChain(t *testing.T) {
	t.Parallel()
	res, _ := chainFixture(t)
	proc := func(name string) string { return "/processed/" + channel + "/" + name }
	tests := []struct {
		name   string
		change func(*archive.Doc)
		want   []string
	}{
		{"ASD of the bandpass with a matching hash", func(d *archive.Doc) {
			a := d.Dataset(proc("bp_asd_values"))
			a.Data.([]float64)[10] *= 1.01
			setAttr(a, "data_sha256", archive.DataSHA256(a.Data))
		}, []string{proc("bp_asd_values") + ": differs from the recomputed asd"}},
		{"minute trend of the resampling with a matching hash", func(d *archive.Doc) {
			a := d.Dataset(proc("minute.max"))
			a.Data.([]float64)[0] += 1
			setAttr(a, "data_sha256", archive.DataSHA256(a.Data))
		}, []string{proc("minute.max") + ": differs"}},
		{"bandpass changed", func(d *archive.Doc) {
			d.Dataset(proc("bp")).Data.([]float64)[100] += 1
		}, []string{proc("bp") + ": data_sha256", proc("bp_asd_values") + ": not recomputed: its parent " + proc("bp")}},
		{"bandpass changed with a matching hash", func(d *archive.Doc) {
			a := d.Dataset(proc("bp"))
			a.Data.([]float64)[100] += 1
			setAttr(a, "data_sha256", archive.DataSHA256(a.Data))
		}, []string{proc("bp") + ": differs from the recomputed bandpass", proc("bp_asd_values") + ": differs"}},
		{"resample parameters changed", func(d *archive.Doc) {
			setAttr(d.Dataset(proc("r256")), "params_json", `{"beta":5,"down":2,"rate":512,"sample_rate":1024,"up":1,"window":"kaiser"}`)
		}, []string{proc("r256") + ": 4096 values, recomputed 8192"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Verify(rewrite(t, res.Archive, tt.change), processor.New(1))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.Summary(), want) {
					t.Errorf("got %q, want a failure mentioning %q", r.Summary(), want)
				}
			}
		})
	}
}
