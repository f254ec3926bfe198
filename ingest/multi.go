package ingest

import (
	"errors"
	"fmt"
	"math"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// multiFormats maps lower-case extensions to the formats that hold any
// number of named series, each of which carries its own channel, time and
// sample rate.
var multiFormats = map[string]string{
	".gwf": "gwf",
	".h5":  "hdf5", ".hdf": "hdf5", ".hdf5": "hdf5",
}

// extensions lists every extension ReadAll takes, for messages.
const extensions = ".npy, .bin, .raw, .txt, .csv, .dat, .gwf, .h5, .hdf or .hdf5"

// ReadAll reads every series in the file at path: the one series of a
// .npy, raw or text file (as Read does), or each selected channel of an
// IGWD frame file (.gwf) or of an HDF5 file holding series the way gwpy
// writes them (.h5, .hdf, .hdf5). opt.Channels selects channels by name.
//
// In frame and HDF5 files the file is authoritative for each series'
// channel, time, sample rate and sample type: flags or a sidecar that
// contradict it make the file an InputError, and watch defaults for them
// are not used. Unit and description come from the file where it gives
// them, and otherwise from flags, sidecar and defaults as for Read. A
// LIGO-T010150 file name gives Obs and Desc for all of them; otherwise
// they come from the channel of a lone series, or from the observatory of
// the first channel and the file's own name.
//
// Errors are as for Read.
func ReadAll(path string, opt Options) ([]*Series, error) {
	b, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	for i := range b.Series {
		if err := b.Load(i); err != nil {
			return nil, err
		}
	}
	return b.Series, nil
}

// Batch is the series of one source file, as Open leaves them: those of
// a frame file with their samples still in the file, to be loaded one
// series at a time, so that no more than the series at hand need be in
// memory. Close it.
type Batch struct {
	Series []*Series

	src  *openFile                       // nil when every series was read whole
	load map[*Series]func() (any, error) // the samples of the series still in src
}

// Open reads the file at path as ReadAll does, with the same checks and
// errors, except that the series of a frame file (.gwf) come with nil
// Values: the file was read once from start to end, every structure and
// checksum of it checked and its sha256 taken, but its vectors stay in
// it until Load expands them. Other formats are read whole.
func Open(path string, opt Options) (*Batch, error) {
	ext := strings.ToLower(filepath.Ext(path))
	format, ok := multiFormats[ext]
	if !ok {
		s, err := Read(path, opt)
		if err != nil {
			return nil, err
		}
		return &Batch{Series: []*Series{s}}, nil
	}
	if err := opt.Flags.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: invalid flag: %w", err)
	}
	if err := opt.Defaults.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: invalid watch default: %w", err)
	}
	if err := ValidChannelPatterns(opt.Channels); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: resolving %s: %w", path, err)
	}
	return readMulti(abs, format, opt)
}

// Load reads the samples of b.Series[i] into its Values, unless they are
// in memory already. Its errors are Open's for what the samples hold; a
// file changed since Open is ErrChanged.
func (b *Batch) Load(i int) error {
	s := b.Series[i]
	load := b.load[s]
	if s.Values != nil || load == nil {
		return nil
	}
	if b.src == nil {
		return fmt.Errorf("ingest: %s: load after Close", s.Source.Path)
	}
	v, err := load()
	if err == nil {
		// What was read is what was hashed only if the file is as it was.
		err = b.src.check()
	}
	if err != nil {
		return b.src.changedOr(err)
	}
	s.Values = v
	return nil
}

// Drop lets go of the samples of b.Series[i] when Load can read them
// again, and keeps them otherwise.
func (b *Batch) Drop(i int) {
	if s := b.Series[i]; b.load[s] != nil {
		s.Values = nil
	}
}

// Close closes the source file, if Open left it open. Series loaded stay
// as they are.
func (b *Batch) Close() error {
	if b.src != nil {
		b.src.close()
		b.src = nil
	}
	return nil
}

func readMulti(abs, format string, opt Options) (_ *Batch, err error) {
	o, src, side, err := openSource(abs, opt.Expect)
	if err != nil {
		return nil, err
	}
	b := &Batch{}
	defer func() {
		if b.src == nil {
			o.close()
		}
	}()
	keep := func(name string) bool { return selected(opt.Channels, name) }
	var found []string // every channel name in the file, for messages
	var out []*Series
	var sum func() (string, error)
	defer func() {
		// Before the file is closed, and whatever else goes wrong.
		h, herr := sum()
		switch {
		case err != nil:
		case herr != nil:
			err = herr
		default:
			for _, s := range out {
				s.Source.SHA256 = h
			}
		}
		if err != nil {
			b.src = nil
		}
	}()
	switch format {
	case "gwf":
		// The frame reader reads the file once through, as it is hashed
		// by another reader, and later each series' vectors by offset.
		sum = o.hashFile()
		out, found, b.load, err = scanFrames(abs, o, keep)
		if err == nil {
			err = o.check()
		}
		b.src = o
	case "hdf5":
		// libhdf5 reads the file again by itself; it is hashed meanwhile
		// as it stands, and checked unchanged once both are done.
		sum = o.hashFile()
		out, found, err = decodeHDF5(abs, o.f, src, keep, opt.RefuseHDF5, false)
		if err == nil {
			if _, err = sum(); err == nil {
				err = o.check()
			}
		}
	}
	if err != nil {
		return nil, o.changedOr(err)
	}
	if len(out) == 0 {
		if len(found) == 0 {
			return nil, inputErr(abs, nil, "holds no series")
		}
		return nil, inputErr(abs, nil, fmt.Sprintf("no channel matches %s; the file holds %s",
			strings.Join(opt.Channels, ", "), listNames(found)))
	}
	uniqueDatasets(out)
	r := &resolver{path: abs, flags: opt.Flags, defaults: opt.Defaults}
	if side != nil {
		r.sidecar = side.meta
	}
	name, _, named := parseName(filepath.Base(abs))
	for _, s := range out {
		s.Format, s.Source = format, src
		if err := r.resolveFromFile(s, len(out)); err != nil {
			return nil, err
		}
		switch {
		case named:
			s.Obs, s.Desc = name.Obs, name.Desc
		case len(out) == 1:
			s.Obs, s.Desc = channelObs(s.Channel), channelDesc(s.Channel)
		default:
			// No one channel describes the file: its name does.
			stem := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
			s.Obs, s.Desc = channelObs(out[0].Channel), channelDesc(stem)
		}
	}
	b.Series = out
	return b, nil
}

// resolveFromFile completes a series whose file gave its channel, dataset,
// t0, sample rate and type: flags and sidecar may only agree with those,
// and fill in the unit and description where the file has none.
func (r *resolver) resolveFromFile(s *Series, n int) error {
	s.Origin = map[string]string{"channel": "file", "dataset": "file", "t0": "file", "sample_rate": "file", "dtype": "file"}
	if s.ByteOrder != "" {
		s.Origin["byte_order"] = "file"
	}
	for _, l := range r.layers()[:2] {
		m, from := l.meta, l.origin
		if from == "flag" {
			from = "the command line"
		}
		if m.Channel != nil && (n > 1 || *m.Channel != s.Channel) {
			return r.fail("%s sets channel %q, but the file holds %s", from, clip(*m.Channel), seriesCount(n, s.Channel))
		}
		if m.Dataset != nil && (n > 1 || *m.Dataset != s.Dataset) {
			return r.fail("%s sets dataset %q, but the file holds %s", from, clip(*m.Dataset), seriesCount(n, s.Dataset))
		}
		if m.T0 != nil && math.Abs(*m.T0-s.T0) > 1e-9 {
			return r.fail("%s sets t0 %s, but %s starts at %s", from, fmtGPS(*m.T0), s.Channel, fmtGPS(s.T0))
		}
		if m.SampleRate != nil && math.Abs(*m.SampleRate-s.SampleRate) > 1e-9*s.SampleRate {
			return r.fail("%s sets sample_rate %s, but %s is sampled at %s Hz", from, fmtFloat(*m.SampleRate), s.Channel, fmtFloat(s.SampleRate))
		}
		if m.DType != nil {
			if d, _, err := parseDTypeSpec(*m.DType); err != nil || d != s.DType {
				return r.fail("%s sets dtype %q, but %s holds %s", from, clip(*m.DType), s.Channel, s.DType)
			}
		}
		if m.ByteOrder != nil && s.ByteOrder != "" && *m.ByteOrder != s.ByteOrder {
			return r.fail("%s sets byte_order %s, but %s is stored %s-endian", from, *m.ByteOrder, s.Channel, s.ByteOrder)
		}
	}
	fill := func(key string, v *string, get func(*Meta) *string) {
		if *v != "" {
			s.Origin[key] = "file"
			return
		}
		for _, l := range []layer{{"flag", &r.flags}, {"sidecar", &r.sidecar}, {"config", &r.defaults}} {
			if x := get(l.meta); x != nil {
				*v, s.Origin[key] = *x, l.origin
				return
			}
		}
	}
	fill("unit", &s.Unit, func(m *Meta) *string { return m.Unit })
	if s.Unit == "" {
		s.Unit, s.Origin["unit"] = DefaultUnit, "default"
	}
	fill("description", &s.Description, func(m *Meta) *string { return m.Description })
	if s.Description == "" {
		delete(s.Origin, "description")
	}
	if err := checkT0(s.T0); err != nil {
		return r.fail("%s: %v (from file)", s.Channel, err)
	}
	if err := checkRate(s.SampleRate); err != nil {
		return r.fail("%s: %v (from file)", s.Channel, err)
	}
	if err := checkDuration(seriesLen(s), s.SampleRate); err != nil {
		return r.fail("%s: %v", s.Channel, err)
	}
	return nil
}

// seriesLen is the number of samples of a series, also of one measured
// and not read, whose Shape alone counts them.
func seriesLen(s *Series) int {
	if s.Values != nil || s.stored > 0 {
		return s.Len()
	}
	return shapeLen(s.Shape)
}

// shapeLen is the number of elements an array of shape holds.
func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// fmtGPS writes a GPS time in plain decimal.
func fmtGPS(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func seriesCount(n int, name string) string {
	if n == 1 {
		return fmt.Sprintf("%q", clip(name))
	}
	return fmt.Sprintf("%d series", n)
}

// uniqueDatasets gives every series a dataset name of its own: a name
// taken already gets _2, _3, ... in file order.
func uniqueDatasets(all []*Series) {
	taken := map[string]bool{}
	for _, s := range all {
		taken[s.Dataset] = true
	}
	seen := map[string]bool{}
	for _, s := range all {
		if !seen[s.Dataset] {
			seen[s.Dataset] = true
			continue
		}
		for i := 2; ; i++ {
			if n := fmt.Sprintf("%s_%d", s.Dataset, i); !taken[n] {
				s.Dataset, taken[n], seen[n] = n, true, true
				break
			}
		}
	}
}

// ValidChannelPatterns checks glob patterns for selecting channels.
func ValidChannelPatterns(patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return errors.New("empty channel pattern")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("channel pattern %q: %w", clip(p), err)
		}
	}
	return nil
}

// selected reports whether a channel name matches one of the patterns, or
// there are none.
func selected(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// listNames lists names for a message, at most ten of them.
func listNames(names []string) string {
	const most = 10
	q := make([]string, 0, most+1)
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(names)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", clip(n)))
	}
	return strings.Join(q, ", ")
}
