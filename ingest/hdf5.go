package ingest

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gwwatchd/gwwatchd/ingest/gwf"
	"github.com/gwwatchd/gwwatchd/internal/h5"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// maxDecodedBytes bounds the samples of the series selected in one HDF5
// file, as gwf.DefaultMaxBytes bounds those of a frame file.
const maxDecodedBytes = gwf.DefaultMaxBytes

// decodeHDF5 finds the series in an HDF5 file written the way gwpy and
// gwexpy write them: one-dimensional datasets, at the root or in groups,
// whose attributes give the time of the first sample and the spacing (x0
// and dx, or t0 and dt, in seconds), and optionally unit, channel and
// name. Other datasets are passed over by their metadata, unread: only a
// one-dimensional dataset of a numeric type has its attributes read, and
// only a selected series its values, after its declared size was checked
// against what the file stores (h5.Dataset.CheckStorage) and the sum
// against maxDecodedBytes. f is the file as opened and read, which
// libhdf5 reads again through its descriptor. refuse, when set, is shown
// the root attributes first (see Options.RefuseHDF5). With measure set, no
// values are read and the series have nil Values.
func decodeHDF5(abs string, f *os.File, src Source, keep func(string) bool, refuse func(map[string]any) string, measure bool) (out []*Series, found []string, err error) {
	if locked, err := lockedByWriter(f); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	} else if locked {
		return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrInUse)
	}
	path := fdPath(f)
	if path == "" {
		path = abs
	}
	var budget int64 = maxDecodedBytes
	names := map[string]int{}
	opts := h5.ReadOptions{
		Attrs: func(d *h5.Dataset) bool { return candidate(d) },
		Data: func(d *h5.Dataset) (bool, error) {
			if !candidate(d) {
				return false, nil
			}
			s, ok := seriesOf(d)
			if !ok {
				return false, nil
			}
			found = append(found, s.Channel)
			if !keep(s.Channel) {
				return false, nil
			}
			where := fmt.Sprintf("dataset %q", clip(d.Path))
			n := d.Elements()
			if n == 0 {
				return false, inputErr(abs, nil, where+": no samples")
			}
			if err := d.CheckStorage(src.Size); err != nil {
				return false, inputErr(abs, err, fmt.Sprintf("%s: %s, %s: %v", where, d.Info.Layout, fmtCount(n, s.DType), err))
			}
			bytes := n * int64(s.DType.Size())
			if bytes > budget {
				return false, inputErr(abs, nil, fmt.Sprintf("%s: %s exceed the %d bytes left of the limit of %d for one file", where, fmtCount(n, s.DType), budget, int64(maxDecodedBytes)))
			}
			budget -= bytes
			s.Shape = []int{int(n)} // the length, until the values are read
			names[s.Dataset]++
			out = append(out, s)
			return !measure, nil
		},
	}
	// A file refused is told by its root attributes, before its datasets
	// (among them the views for gwpy of one of gwwatchd's own archives,
	// which no input may have) are looked at.
	refused := func(attrs []h5.Attr) error {
		if refuse == nil {
			return nil
		}
		root := make(map[string]any, len(attrs))
		for _, a := range attrs {
			root[a.Name] = a.Value
		}
		if why := refuse(root); why != "" {
			return inputErr(abs, nil, why)
		}
		return nil
	}
	if attrs, err := h5.ReadRootAttrs(path); err == nil {
		if err := refused(attrs); err != nil {
			return nil, nil, err
		}
	}
	doc, rerr := h5.Select(path, opts)
	// What libhdf5 read must be what was hashed: through the descriptor it
	// is the same file, but it may have been written to meanwhile.
	if fi, err := f.Stat(); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	} else if id, _ := idOf(fi); id != src.ID || fi.Size() != src.Size || !fi.ModTime().Equal(src.ModTime) {
		return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrChanged)
	}
	if path == abs {
		if fi, err := os.Lstat(abs); err != nil || !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrChanged)
		} else if id, _ := idOf(fi); id != src.ID {
			return nil, nil, fmt.Errorf("ingest: %s: %w", abs, ErrChanged)
		}
	}
	if rerr != nil {
		var ie *InputError
		var he *h5.Error
		switch {
		case errors.As(rerr, &ie):
			return nil, nil, ie
		case errors.Is(rerr, h5.ErrNotHDF5):
			return nil, nil, inputErr(abs, rerr, "not an HDF5 file")
		case errors.As(rerr, &he):
			return nil, nil, inputErr(abs, rerr, "unreadable HDF5 file: "+he.Error())
		}
		return nil, nil, inputErr(abs, rerr, "unreadable HDF5 file: "+rerr.Error())
	}
	if err := refused(doc.Attrs); err != nil {
		return nil, nil, err
	}
	byPath := map[string]*h5.Dataset{}
	for i := range doc.Datasets {
		byPath[doc.Datasets[i].Path] = &doc.Datasets[i]
	}
	for _, s := range out {
		if !measure {
			s.Values = byPath[s.Extra["hdf5_path"].(string)].Data
			s.Shape = nil
		}
		// Two datasets naming the same channel keep their own paths apart.
		if names[s.Dataset] > 1 {
			s.Dataset = plainName(strings.TrimPrefix(s.Extra["hdf5_path"].(string), "/"))
		}
	}
	return out, found, nil
}

// candidate reports, from its metadata alone, whether a dataset could be
// a series: one dimension of a numeric type.
func candidate(d *h5.Dataset) bool {
	return d.Info != nil && d.Info.Rank == 1 && !d.Info.Null && d.Info.Supported
}

// dtypeOfInfo is the sample type of a dataset's stored type.
func dtypeOfInfo(in *h5.Info) DType {
	switch in.Class {
	case "float":
		return map[int]DType{4: samples.Float32, 8: samples.Float64}[in.Size]
	case "complex":
		return map[int]DType{8: samples.Complex64, 16: samples.Complex128}[in.Size]
	case "integer":
		if in.Signed {
			return map[int]DType{1: samples.Int8, 2: samples.Int16, 4: samples.Int32, 8: samples.Int64}[in.Size]
		}
		return map[int]DType{1: samples.Uint8, 2: samples.Uint16, 4: samples.Uint32, 8: samples.Uint64}[in.Size]
	}
	return ""
}

// fmtCount describes n samples of a type, as in "1000000000000 uint8 samples".
func fmtCount(n int64, d DType) string {
	return fmt.Sprintf("%d %s samples", n, d)
}

// seriesOf makes a series of one dataset from its metadata and
// attributes, if it is one; its values are read later.
func seriesOf(d *h5.Dataset) (*Series, bool) {
	if !candidate(d) {
		return nil, false
	}
	dt := dtypeOfInfo(d.Info)
	if dt == "" {
		return nil, false
	}
	t0, ok0 := number(d, "x0", "t0")
	dx, ok1 := number(d, "dx", "dt")
	if !ok0 || !ok1 || dx <= 0 {
		return nil, false
	}
	if u, ok := d.Attr("xunit").(string); ok && u != "s" && u != "second" {
		return nil, false // a frequency series, or some other axis
	}
	channel := text(d, "channel")
	if channel == "" {
		channel = text(d, "name")
	}
	if channel == "" {
		channel = strings.TrimPrefix(d.Path, "/")
	}
	s := &Series{
		Channel:     channel,
		Dataset:     plainName(channel),
		Unit:        text(d, "unit"),
		Description: text(d, "description"),
		T0:          t0,
		SampleRate:  1 / dx,
		DType:       dt,
		Extra:       map[string]any{"hdf5_path": d.Path},
	}
	if name := text(d, "name"); name != "" && name != channel {
		s.Extra["name"] = name
	}
	if s.Unit == "dimensionless" {
		s.Unit = ""
	}
	return s, true
}

// number returns the first of the named attributes that is a number.
func number(d *h5.Dataset, names ...string) (float64, bool) {
	for _, n := range names {
		switch v := d.Attr(n).(type) {
		case float64:
			return v, true
		case int64:
			return float64(v), true
		}
	}
	return 0, false
}

func text(d *h5.Dataset, name string) string {
	s, _ := d.Attr(name).(string)
	return strings.TrimSpace(s)
}

// plainName makes a channel name usable as one HDF5 link name.
func plainName(s string) string {
	s = strings.ReplaceAll(s, "/", "_")
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

// Describe names a token read from a file without quoting it, as the
// reasons for refusing a file do: "a 22-byte token of printable ASCII".
// It is for refusals made outside this package (Options.RefuseHDF5).
func Describe(s string) string { return describe(s) }
