package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/gwwatchd/gwwatchd/archive"
	"github.com/gwwatchd/gwwatchd/ingest"
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
}

// OK reports whether every check held.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// ErrUnreadable marks an archive that could not be read at all.
var ErrUnreadable = errors.New("unreadable archive")

// Verify checks an archive: every data_sha256, every product recomputed
// from its parent with its recorded parameters, every parent link, and
// the source's sha256 when the source still exists. An archive that cannot
// be read gives an error wrapping ErrUnreadable.
func Verify(path string, proc *processor.Processor) (*Report, error) {
	doc, err := archive.Read(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if f, _ := doc.Attr("format").(string); f != archive.Format {
		return nil, fmt.Errorf("%w: %s: not a gwwatchd archive (format %q)", ErrUnreadable, path, f)
	}
	r := &Report{Path: path}
	ok := func(format string, a ...any) { r.Checked = append(r.Checked, fmt.Sprintf(format, a...)) }
	bad := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	for i := range doc.Datasets {
		d := &doc.Datasets[i]
		if d.Virtual != "" {
			if err := archive.CheckView(doc, d); err != nil {
				bad("%s: view for gwpy: %v", d.Path, err)
			} else {
				ok("%s: view of %s", d.Path, d.Virtual)
			}
			continue
		}
		want, _ := d.Attr("data_sha256").(string)
		switch got := archive.DataSHA256(d.Data); {
		case want == "":
			bad("%s: no data_sha256", d.Path)
		case got != want:
			bad("%s: data_sha256 is %s, recorded %s", d.Path, got, want)
		default:
			ok("%s: data_sha256", d.Path)
		}
		if _, isRaw := d.Attr("product").(string); !isRaw {
			continue
		}
		parentPath, _ := d.Attr("parent_dataset").(string)
		parent := doc.Dataset(parentPath)
		if parent == nil {
			bad("%s: parent_dataset %q is not in the archive", d.Path, parentPath)
			continue
		}
		ok("%s: parent %s", d.Path, parentPath)
		if err := recompute(d, parent, proc); err != nil {
			bad("%s: %v", d.Path, err)
		} else {
			ok("%s: recomputed from %s", d.Path, parentPath)
		}
	}
	verifySource(doc, ok, bad)
	return r, nil
}

func verifySource(doc *archive.Doc, ok, bad func(string, ...any)) {
	src, _ := doc.Attr("source_path").(string)
	want, _ := doc.Attr("source_sha256").(string)
	got, err := FileSHA256(src)
	if errors.Is(err, fs.ErrNotExist) {
		ok("source %s: gone, not checked", src)
		return
	}
	if err != nil {
		bad("source %s: %v", src, err)
		return
	}
	if got != want {
		bad("source %s: sha256 is %s, recorded %s", src, got, want)
		return
	}
	ok("source %s: sha256", src)
}

// CheckData re-reads an archive and checks every dataset against its
// data_sha256: what must hold before a source may be moved or deleted.
func CheckData(path string) error {
	doc, err := archive.Read(path)
	if err != nil {
		return err
	}
	if len(doc.Datasets) == 0 {
		return fmt.Errorf("%s: no datasets", path)
	}
	for i := range doc.Datasets {
		d := &doc.Datasets[i]
		if d.Virtual != "" {
			if err := archive.CheckView(doc, d); err != nil {
				return fmt.Errorf("%s: %s: %w", path, d.Path, err)
			}
			continue
		}
		want, _ := d.Attr("data_sha256").(string)
		if got := archive.DataSHA256(d.Data); want == "" || got != want {
			return fmt.Errorf("%s: %s: data_sha256 is %s, recorded %q", path, d.Path, got, want)
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

// recompute makes a product again from its parent with the parameters in
// its params_json and compares.
func recompute(d, parent *archive.Dataset, proc *processor.Processor) error {
	want, err := Recompute(d, parent, proc)
	if err != nil {
		return err
	}
	product, _ := d.Attr("product").(string)
	got, okType := d.Data.([]float64)
	if !okType {
		return fmt.Errorf("stored as %T, want float64", d.Data)
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
		return fmt.Errorf("differs from the recomputed %s at index %d by %.3g (relative)", product, at, worst)
	}
	return nil
}

// Recompute makes a stored product (ASD values or frequencies, or a
// spectrogram) again from its parent raw dataset, with the parameters
// recorded in the product's params_json.
func Recompute(d, parent *archive.Dataset, proc *processor.Processor) ([]float64, error) {
	product, _ := d.Attr("product").(string)
	var pj struct {
		FFTLength  float64  `json:"fftlength"`
		Overlap    float64  `json:"overlap"`
		Method     string   `json:"method"`
		Window     string   `json:"window"`
		SampleRate float64  `json:"sample_rate"`
		Stride     *float64 `json:"stride"`
		Chunks     string   `json:"chunks"`
	}
	s, _ := d.Attr("params_json").(string)
	if err := json.Unmarshal([]byte(s), &pj); err != nil {
		return nil, fmt.Errorf("params_json: %v", err)
	}
	prm := processor.Params{FFTLength: pj.FFTLength, Overlap: pj.Overlap, Method: pj.Method, Window: pj.Window}
	x := ingest.Float64s(parent.Data)
	if x == nil {
		return nil, fmt.Errorf("parent %s holds no numeric series", parent.Path)
	}
	var want []float64
	switch product {
	case archive.ProductASD, archive.ProductFrequencies:
		a, err := proc.ASD(x, pj.SampleRate, prm)
		if err != nil {
			return nil, fmt.Errorf("recompute: %v", err)
		}
		want = a.Values
		if product == archive.ProductFrequencies {
			want = a.Frequencies()
		}
	case archive.ProductSpectrogram:
		if pj.Stride == nil {
			return nil, fmt.Errorf("params_json has no stride")
		}
		// As it was made: gwpy's chunks and PSD, or, in archives written
		// before, whole strides and ASD.
		spectrogram := proc.Spectrogram
		if pj.Chunks == archive.ChunksGWpy {
			spectrogram = proc.GWpySpectrogram
		}
		sg, err := spectrogram(x, pj.SampleRate, *pj.Stride, prm)
		if err != nil {
			return nil, fmt.Errorf("recompute: %v", err)
		}
		want = sg.Values
	default:
		return nil, fmt.Errorf("unknown product %q", product)
	}
	return want, nil
}

func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// Summary is the one line verify prints for an archive.
func (r *Report) Summary() string {
	if r.OK() {
		return fmt.Sprintf("%s: OK (%d checks)", r.Path, len(r.Checked))
	}
	return fmt.Sprintf("%s: FAILED: %s", r.Path, strings.Join(r.Problems, "; "))
}
