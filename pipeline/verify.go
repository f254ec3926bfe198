package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/ingest"
	"github.com/gwwatchd/gwwatchd/internal/samples"
	"github.com/gwwatchd/gwwatchd/processor"
)

// RecomputeTolerance bounds the relative difference between a stored
// product and the one recomputed from its parent. The same build gives
// identical values; another build or FFT may differ in the last bits.
const RecomputeTolerance = 1e-9

// Report is the outcome of verifying one archive.
type Report struct {
	Path     string
	Checked  []string // what was checked and held
	Problems []string // what did not hold
	// NotRecomputed are the products of kinds gwwatchd does not make (a
	// program's own, see package provenance), whose hashes and parents
	// were checked but which no one can recompute here.
	NotRecomputed []string
}

// OK reports whether every check held.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// ErrUnreadable marks an archive that could not be read at all.
var ErrUnreadable = errors.New("unreadable archive")

// Verify checks an archive: every view for gwpy, every data_sha256,
// every product recomputed from its parent with its recorded parameters,
// in dependency order, every parent link, and the source's sha256 when
// the source still exists. An archive that cannot be read gives an error
// wrapping ErrUnreadable.
func Verify(path string, proc *processor.Processor) (*Report, error) {
	a, err := archive.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if a.Format != archive.Format {
		return nil, fmt.Errorf("%w: %s: not a gwwatchd archive (format %q)", ErrUnreadable, path, a.Format)
	}
	r := &Report{Path: path}
	ok := func(format string, a ...any) { r.Checked = append(r.Checked, fmt.Sprintf(format, a...)) }
	bad := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	for _, v := range a.Views {
		if err := a.CheckView(v); err != nil {
			bad("%s: view for gwpy: %v", v.Path, err)
		} else {
			ok("%s: view of %s", v.Path, v.Of)
		}
	}
	checkSHA := func(o *archive.Object, got string) {
		switch want := o.DataSHA256; {
		case want == "":
			bad("%s: no data_sha256", o.Path)
		case got != want:
			bad("%s: data_sha256 is %s, recorded %s", o.Path, got, want)
		default:
			ok("%s: data_sha256", o.Path)
		}
	}
	// The values of a parent are read once, or kept from its own check
	// when it is a product, and its hash taken then; they are let go
	// once the last product made of it is recomputed.
	uses := map[string]int{}
	productAt := map[string]bool{}
	for _, p := range a.Products {
		uses[p.Parent]++
		productAt[p.Path] = true
	}
	loaded := map[string]any{}
	hashed := map[string]string{} // data_sha256 of the parents read
	for _, p := range a.Products {
		values, err := p.Load()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
		sum := archive.DataSHA256(values)
		checkSHA(p.Object, sum)
		if uses[p.Path] > 0 {
			loaded[p.Path], hashed[p.Path] = values, sum
		}
		from := a.Object(p.Parent)
		if from == nil {
			bad("%s: parent_dataset %q is not in the archive", p.Path, p.Parent)
			continue
		}
		ok("%s: parent %s", p.Path, p.Parent)
		parent, held := loaded[p.Parent]
		if !held {
			if parent, err = from.Load(); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
			}
			loaded[p.Parent], hashed[p.Parent] = parent, archive.DataSHA256(parent)
		}
		if uses[p.Parent]--; uses[p.Parent] == 0 {
			delete(loaded, p.Parent)
		}
		if productAt[p.Parent] && hashed[p.Parent] != from.DataSHA256 {
			// A product of a chain is recomputed from its parent as
			// stored, which must be what was made.
			bad("%s: not recomputed: its parent %s does not match its data_sha256", p.Path, p.Parent)
			continue
		}
		if !archive.KnownKind(p.Kind) {
			// A program's own product (package provenance): its hash and
			// its parent are all there is to check.
			ok("%s: not recomputed: kind %s is not one gwwatchd makes", p.Path, p.Kind)
			r.NotRecomputed = append(r.NotRecomputed, p.Path)
			continue
		}
		if !spectral(p.Kind) && samples.Of(parent) != "" && !ingest.IsComplex(parent) {
			// Filters, resamplings and trends are made of their parent as
			// float64: convert it once, for every such product of it.
			if x, isFloat := parent.([]float64); !isFloat {
				x = ingest.Float64s(parent)
				if _, still := loaded[p.Parent]; still {
					loaded[p.Parent] = x
				}
				parent = x
			}
		}
		if err := recompute(p, values, parent, proc); err != nil {
			bad("%s: %v", p.Path, err)
		} else {
			ok("%s: recomputed from %s", p.Path, p.Parent)
		}
	}
	clear(loaded)
	checked := map[*archive.Object]bool{}
	for _, v := range a.Views {
		checked[v.Object] = true
	}
	for _, p := range a.Products {
		checked[p.Object] = true
	}
	// The raw series and whatever else the archive holds.
	for _, o := range a.Objects() {
		if checked[o] {
			continue
		}
		sum, done := hashed[o.Path]
		if !done {
			values, err := o.Load()
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
			}
			sum = archive.DataSHA256(values)
		}
		checkSHA(o, sum)
	}
	verifySource(a.Source, ok, bad)
	return r, nil
}

func verifySource(src archive.File, ok, bad func(string, ...any)) {
	if src.Path == "" {
		ok("source: none recorded")
		return
	}
	got, err := FileSHA256(src.Path)
	if errors.Is(err, fs.ErrNotExist) {
		ok("source %s: gone, not checked", src.Path)
		return
	}
	if err != nil {
		bad("source %s: %v", src.Path, err)
		return
	}
	if got != src.SHA256 {
		bad("source %s: sha256 is %s, recorded %s", src.Path, got, src.SHA256)
		return
	}
	ok("source %s: sha256", src.Path)
}

// CheckData re-reads an archive and checks every dataset against its
// data_sha256, and every view for gwpy: what must hold before a source
// may be moved or deleted.
func CheckData(path string) error {
	a, err := archive.Open(path)
	if err != nil {
		return err
	}
	return checkData(a)
}

func checkData(a *archive.Archive) error {
	if len(a.Objects()) == 0 {
		return fmt.Errorf("%s: no datasets", a.Path)
	}
	views := map[*archive.Object]*archive.View{}
	for _, v := range a.Views {
		views[v.Object] = v
	}
	for _, o := range a.Objects() {
		if v := views[o]; v != nil {
			if err := a.CheckView(v); err != nil {
				return fmt.Errorf("%s: %s: %w", a.Path, o.Path, err)
			}
			continue
		}
		values, err := o.Load()
		if err != nil {
			return err
		}
		if got := archive.DataSHA256(values); o.DataSHA256 == "" || got != o.DataSHA256 {
			return fmt.Errorf("%s: %s: data_sha256 is %s, recorded %q", a.Path, o.Path, got, o.DataSHA256)
		}
	}
	return nil
}

// FileSHA256 returns the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recompute makes a product again from the values of its parent and
// compares it with its values.
func recompute(p *archive.Product, values, parent any, proc *processor.Processor) error {
	want, err := Recompute(p, parent, proc)
	if err != nil {
		return err
	}
	got, okType := values.([]float64)
	if n, isCount := values.([]int64); isCount && p.Kind == archive.ProductTrend {
		got, okType = ingest.Float64s(n), true // a trend's numbers of samples
	}
	if !okType {
		return fmt.Errorf("stored as %T, want float64", values)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d values, recomputed %d", len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		if rel := relDiff(got[i], want[i]); rel > worst || math.IsNaN(rel) {
			worst, at = rel, i
			if math.IsNaN(rel) {
				break
			}
		}
	}
	if worst > RecomputeTolerance || math.IsNaN(worst) {
		return fmt.Errorf("differs from the recomputed %s at index %d by %.3g (relative)", p.Kind, at, worst)
	}
	return nil
}

// Recompute makes a stored product (ASD values or frequencies, or a
// spectrogram) again from parent, the values of its parent dataset, with
// the parameters the product records. Spectra read parent's samples as
// they are stored, a segment at a time, as the archive's were made; the
// other products are made of them converted to float64.
func Recompute(p *archive.Product, parent any, proc *processor.Processor) ([]float64, error) {
	if p.ParamsErr != nil {
		return nil, fmt.Errorf("params_json: %v", p.ParamsErr)
	}
	pj := p.Params
	prm := pj.Processor()
	if samples.Of(parent) == "" || ingest.IsComplex(parent) {
		return nil, fmt.Errorf("parent %s holds no numeric series", p.Parent)
	}
	switch p.Kind {
	case archive.ProductASD:
		a, err := proc.ASDOf(parent, pj.SampleRate, prm)
		if err != nil {
			return nil, fmt.Errorf("recompute: %v", err)
		}
		return a.Values, nil
	case archive.ProductFrequencies:
		// Those of the ASD, which need not be made again for them: its
		// periodograms are as large as the series.
		f, err := proc.ASDFrequencies(parent, pj.SampleRate, prm)
		if err != nil {
			return nil, fmt.Errorf("recompute: %v", err)
		}
		return f, nil
	case archive.ProductSpectrogram:
		if pj.Stride == 0 {
			return nil, fmt.Errorf("params_json has no stride")
		}
		// As it was made: gwpy's chunks and PSD, or, in archives written
		// before, whole strides and ASD.
		spectrogram := proc.SpectrogramOf
		if pj.Chunks == archive.ChunksGWpy {
			spectrogram = proc.GWpySpectrogramOf
		}
		sg, err := spectrogram(parent, pj.SampleRate, pj.Stride, prm)
		if err != nil {
			return nil, fmt.Errorf("recompute: %v", err)
		}
		return sg.Values, nil
	}
	// The processor only reads its input: float64 samples need no copy.
	x, isFloat := parent.([]float64)
	if !isFloat {
		x = ingest.Float64s(parent)
	}
	return recomputeChain(p, x)
}

// spectral reports whether products of kind are spectra, which are made
// of their parent's samples as they are stored.
func spectral(kind string) bool {
	return kind == archive.ProductASD || kind == archive.ProductFrequencies || kind == archive.ProductSpectrogram
}

// recomputeChain makes a product of a processing chain other than an ASD
// or a spectrogram again from x, its parent's values.
func recomputeChain(p *archive.Product, x []float64) ([]float64, error) {
	var (
		y   []float64
		err error
	)
	switch f := p.Filter; p.Kind {
	case archive.ProductHighpass:
		y, err = processor.Highpass(x, f.SampleRate, processor.FilterParams{Order: f.Order, Cutoff: f.Cutoff})
	case archive.ProductLowpass:
		y, err = processor.Lowpass(x, f.SampleRate, processor.FilterParams{Order: f.Order, Cutoff: f.Cutoff})
	case archive.ProductBandpass:
		y, err = processor.Bandpass(x, f.SampleRate, processor.BandParams{Order: f.Order, Low: f.Low, High: f.High})
	case archive.ProductResample:
		r := p.Resample
		y, err = processor.Resample(x, r.SampleRate, processor.ResampleParams{Up: r.Up, Down: r.Down})
	case archive.ProductTrend:
		t := p.Trend
		var tr *processor.Trend
		if tr, err = processor.Trends(x, t.SampleRate, processor.TrendParams{Stride: t.Stride}); err == nil {
			if y = ingest.Float64s(archive.TrendValues(tr, t.Stat)); y == nil {
				return nil, fmt.Errorf("params_json: unknown trend statistic %q", t.Stat)
			}
		}
	default:
		return nil, fmt.Errorf("unknown product %q", p.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("recompute: %v", err)
	}
	return y, nil
}

func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// Summary is the one line verify prints for an archive.
func (r *Report) Summary() string {
	if r.OK() && len(r.NotRecomputed) > 0 {
		return fmt.Sprintf("%s: OK (%d checks; not recomputed, of kinds gwwatchd does not make: %s)", r.Path, len(r.Checked), strings.Join(r.NotRecomputed, ", "))
	}
	if r.OK() {
		return fmt.Sprintf("%s: OK (%d checks)", r.Path, len(r.Checked))
	}
	return fmt.Sprintf("%s: FAILED: %s", r.Path, strings.Join(r.Problems, "; "))
}
