package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// maxFileSize bounds the files Read takes, checked before anything is
// allocated for one; data files are expected to be a few hundred
// megabytes at most.
const maxFileSize = 4 << 30

// maxSidecarSize bounds a sidecar, which holds a handful of keys.
const maxSidecarSize = 1 << 20

// formats maps lower-case extensions to Series.Format.
var formats = map[string]string{
	".npy": "npy",
	".bin": "raw", ".raw": "raw",
	".txt": "text", ".csv": "text", ".dat": "text",
}

// Read reads the samples in the file at path together with their metadata.
//
// The format follows the extension, in any case: .npy (NumPy), .bin and
// .raw (headerless samples), .txt, .csv and .dat (text); a frame or HDF5
// file (see ReadAll) must hold exactly one series. Metadata is taken
// from, highest precedence first: opt.Flags, a <stem>.json or <stem>.toml
// sidecar, the file itself, a LIGO-T010150 file name, and opt.Defaults.
// Series.Origin records which of these supplied each value.
//
// The file is only ever opened for reading. A file that cannot be ingested
// as it stands yields an *InputError; invalid options and operating-system
// failures yield other errors, as does a file that changes while it is
// read (wrapping ErrChanged).
func Read(path string, opt Options) (s *Series, err error) {
	if err := opt.Flags.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: invalid flag: %w", err)
	}
	if err := opt.Defaults.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: invalid watch default: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: resolving %s: %w", path, err)
	}
	base := filepath.Base(abs)
	ext := strings.ToLower(filepath.Ext(base))
	format, ok := formats[ext]
	switch {
	case dropdir.IsSidecar(abs):
		return nil, inputErr(abs, ErrSidecar, "is a sidecar, not data")
	case ext == "":
		return nil, inputErr(abs, ErrUnsupportedFormat, "no file extension: want "+extensions)
	case multiFormats[ext] != "":
		all, err := ReadAll(abs, opt)
		if err != nil {
			return nil, err
		}
		if len(all) > 1 {
			return nil, inputErr(abs, nil, fmt.Sprintf("holds %d series, not one", len(all)))
		}
		return all[0], nil
	case !ok:
		return nil, inputErr(abs, ErrUnsupportedFormat, fmt.Sprintf("unsupported format %q: want %s", clip(ext), extensions))
	}

	o, src, side, err := openSource(abs, opt.Expect)
	if err != nil {
		return nil, err
	}
	defer o.close()

	r := &resolver{path: abs, flags: opt.Flags, defaults: opt.Defaults}
	if side != nil {
		r.sidecar = side.meta
	}
	s = &Series{Format: format, Source: src, Origin: map[string]string{}}
	sum, err := r.read(s, o)
	if sum != nil {
		// Before the file is closed, and whatever else goes wrong.
		defer func() {
			h, herr := sum()
			switch {
			case err != nil:
			case herr != nil:
				s, err = nil, herr
			default:
				s.Source.SHA256 = h
			}
		}()
	}
	if err != nil {
		return nil, o.changedOr(err)
	}
	if n, durRat, ok := parseName(base); ok {
		r.name = &n
		r.filename.T0 = &n.GPS
		if rate, ok := nameRate(s.Len(), durRat); ok {
			r.filename.SampleRate = &rate
		}
	}
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if stem == "" {
		stem = base
	}
	if err := r.resolve(s, stem); err != nil {
		return nil, err
	}
	return s, nil
}

// openSource opens a data file, checked as openChecked does, and reads
// its sidecar, if any. It returns the file open, for the caller to read
// and close, and its description, all but its sha256.
func openSource(abs string, expect *FileID) (*openFile, Source, *sidecar, error) {
	o, err := openChecked(abs, abs, maxFileSize, expect)
	if err != nil {
		return nil, Source{Path: abs}, nil, err
	}
	if o.size == 0 {
		err := o.check()
		o.close()
		if err == nil {
			err = inputErr(abs, nil, "empty file")
		}
		return nil, Source{Path: abs}, nil, err
	}
	side, err := readSidecar(abs)
	if err != nil {
		err = o.changedOr(err)
		o.close()
		return nil, Source{Path: abs}, nil, err
	}
	src := o.source()
	if side != nil {
		src.Sidecar = side.info
	}
	return o, src, side, nil
}

// readFile reads a whole regular file, opened by openRegular, and
// describes it, all but its sha256, which the caller computes. errPath
// names the data file in any InputError, also when reading its sidecar.
// When expect is set, the file opened must be the one it identifies. The
// file is returned open, for the caller to close.
func readFile(path, errPath string, limit int64, expect *FileID) ([]byte, Source, *os.File, error) {
	o, err := openChecked(path, errPath, limit, expect)
	if err != nil {
		return nil, Source{Path: path}, nil, err
	}
	data := make([]byte, o.size)
	if err := o.readAt(data, 0); err != nil {
		o.close()
		return nil, Source{Path: path}, nil, err
	}
	if err := o.check(); err != nil {
		o.close()
		return nil, Source{Path: path}, nil, err
	}
	return data, o.source(), o.f, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type sidecar struct {
	info *Sidecar
	meta Meta
}

// readSidecar finds, reads and parses the sidecar of the data file at
// path, returning nil if there is none.
func readSidecar(path string) (*sidecar, error) {
	var found []string
	for _, p := range dropdir.Sidecars(dropdir.Stem(path)) {
		_, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: looking for a sidecar: %w", err)
		}
		found = append(found, p)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 2:
		return nil, inputErr(path, nil, fmt.Sprintf("both %s and %s sidecars exist",
			filepath.Base(found[0]), filepath.Base(found[1])))
	}
	p := found[0]
	data, src, f, err := readFile(p, path, maxSidecarSize, nil)
	if err != nil {
		return nil, err
	}
	f.Close()
	src.SHA256 = sha256Hex(data)
	var m Meta
	if strings.HasSuffix(p, ".json") {
		m, err = parseSidecarJSON(data)
	} else {
		m, err = parseSidecarTOML(data)
	}
	if err != nil {
		return nil, inputErr(path, err, fmt.Sprintf("sidecar %s: %v", p, err))
	}
	return &sidecar{
		info: &Sidecar{Path: p, Size: src.Size, SHA256: src.SHA256},
		meta: m,
	}, nil
}

// resolver merges the metadata sources of one file.
type resolver struct {
	path     string
	flags    Meta
	sidecar  Meta
	file     Meta // what the file itself says
	filename Meta // from a T010150 name
	defaults Meta
	name     *Name
}

type layer struct {
	origin string
	meta   *Meta
}

// layers returns the metadata sources, highest precedence first.
func (r *resolver) layers() []layer {
	return []layer{
		{"flag", &r.flags},
		{"sidecar", &r.sidecar},
		{"file", &r.file},
		{"filename", &r.filename},
		{"config", &r.defaults},
	}
}

func (r *resolver) fail(format string, args ...any) error {
	return inputErr(r.path, nil, fmt.Sprintf(format, args...))
}

// read decodes the file o according to s.Format, filling s.DType,
// s.ByteOrder and s.Values, and r.file with what the file says about
// itself. The samples are read into their slice, which is all that is
// allocated at their size; the file is hashed as it is read, and sum,
// when not nil, waits for its sha256 and must be called, also on error,
// before o is closed. s.Values must not be written to before sum returns.
func (r *resolver) read(s *Series, o *openFile) (sum func() (string, error), err error) {
	switch s.Format {
	case "npy":
		head, err := o.readNPYHead()
		if err != nil {
			return nil, err
		}
		a, off, n, err := npyLayout(head, o.size)
		if err != nil {
			return nil, inputErr(r.path, err, err.Error())
		}
		s.DType, s.ByteOrder = a.DType, a.ByteOrder
		h := newChunkHash()
		h.add(head)
		v := samples.Make(s.DType, int(n))
		b := samples.Bytes(v)
		// Whatever of the samples was read with the header comes first.
		pre := copy(b, head[min(off, int64(len(head))):])
		if err := o.readHashed(b[pre:], int64(len(head)), h); err != nil {
			return h.sum, err
		}
		s.Values = v
		sum = h.sum
	case "text":
		sum = o.hashFile()
		td, err := o.readText()
		if err != nil {
			return sum, err
		}
		s.DType, s.Values = samples.Float64, td.Values
		r.file.T0, r.file.SampleRate = td.T0, td.Rate
	case "raw":
		if err := r.rawType(s); err != nil {
			return nil, err
		}
		size := s.DType.Size()
		if o.size%int64(size) != 0 {
			return nil, r.fail("size %d is not a multiple of %d (%s)", o.size, size, s.DType)
		}
		h := newChunkHash()
		v := samples.Make(s.DType, int(o.size)/size)
		if err := o.readHashed(samples.Bytes(v), 0, h); err != nil {
			return h.sum, err
		}
		s.Values = v
		sum = h.sum
	}
	if s.Format != "text" {
		if err := o.check(); err != nil {
			return sum, err
		}
		// The hash is of the file's bytes, which are swapped in place only
		// once it is taken.
		if (s.ByteOrder == "big") == samples.NativeLittle && s.DType.Size() > 1 {
			sum()
			samples.SwapOrder(samples.Bytes(s.Values), s.DType)
		}
	}
	if s.Len() == 0 {
		return sum, r.fail("no samples")
	}
	if s.Format != "raw" {
		if err := r.checkFileType(s); err != nil {
			return sum, err
		}
		s.Origin["dtype"] = "file"
		if s.ByteOrder != "" {
			s.Origin["byte_order"] = "file"
		}
	}
	return sum, nil
}

// rawType settles the sample type of a raw file, which says nothing
// about itself. A byte order may come from byte_order or from the order
// character of a NumPy type string in dtype.
func (r *resolver) rawType(s *Series) error {
	for _, l := range r.layers() {
		if l.meta.DType == nil {
			continue
		}
		d, _, err := parseDTypeSpec(*l.meta.DType)
		if err != nil {
			return r.fail("%s dtype: %v", l.origin, err)
		}
		s.DType = d
		s.Origin["dtype"] = l.origin
		break
	}
	if s.DType == "" {
		return r.fail("no dtype: give --dtype, a sidecar dtype, or a watch default")
	}
	if s.DType.Size() == 1 {
		return nil
	}
	for _, l := range r.layers() {
		order := ""
		if l.meta.ByteOrder != nil {
			order = *l.meta.ByteOrder
		} else if l.meta.DType != nil {
			_, order, _ = parseDTypeSpec(*l.meta.DType)
		}
		if order != "" {
			s.ByteOrder = order
			s.Origin["byte_order"] = l.origin
			return nil
		}
	}
	s.ByteOrder = "little"
	s.Origin["byte_order"] = "default"
	return nil
}

// checkFileType refuses flags or a sidecar that describe the samples
// differently from a file that records its own type: metadata must never
// reinterpret the bytes.
func (r *resolver) checkFileType(s *Series) error {
	for _, l := range r.layers()[:2] {
		if l.meta.DType != nil {
			d, order, err := parseDTypeSpec(*l.meta.DType)
			if err != nil {
				return r.fail("%s dtype: %v", l.origin, err)
			}
			if d != s.DType {
				return r.fail("%s says dtype %s but the file holds %s", l.origin, d, s.DType)
			}
			if order != "" && s.ByteOrder != "" && order != s.ByteOrder {
				return r.fail("%s says dtype %s (%s-endian) but the file is %s-endian", l.origin, clip(*l.meta.DType), order, s.ByteOrder)
			}
		}
		if bo := l.meta.ByteOrder; bo != nil && s.ByteOrder != "" && *bo != s.ByteOrder {
			return r.fail("%s says byte_order %s but the file is %s-endian", l.origin, *bo, s.ByteOrder)
		}
	}
	return nil
}

// resolve fills the remaining metadata of s by precedence.
func (r *resolver) resolve(s *Series, stem string) error {
	pickString := func(key string, get func(*Meta) *string) (string, bool) {
		for _, l := range r.layers() {
			if v := get(l.meta); v != nil {
				s.Origin[key] = l.origin
				return *v, true
			}
		}
		return "", false
	}
	pickFloat := func(key string, get func(*Meta) *float64) (float64, bool) {
		for _, l := range r.layers() {
			if v := get(l.meta); v != nil {
				s.Origin[key] = l.origin
				return *v, true
			}
		}
		return 0, false
	}
	var ok bool
	if s.Channel, ok = pickString("channel", func(m *Meta) *string { return m.Channel }); !ok {
		s.Channel = stem
		s.Origin["channel"] = "default"
	}
	if s.Dataset, ok = pickString("dataset", func(m *Meta) *string { return m.Dataset }); !ok {
		s.Dataset = s.Channel
		s.Origin["dataset"] = "default"
	}
	if s.Unit, ok = pickString("unit", func(m *Meta) *string { return m.Unit }); !ok {
		s.Unit = DefaultUnit
		s.Origin["unit"] = "default"
	}
	s.Description, _ = pickString("description", func(m *Meta) *string { return m.Description })

	if s.T0, ok = pickFloat("t0", func(m *Meta) *float64 { return m.T0 }); !ok {
		return r.fail("no t0: give --t0, a sidecar t0, a T010150 file name, or a watch default")
	}
	if err := checkT0(s.T0); err != nil {
		return r.fail("%v (from %s)", err, s.Origin["t0"])
	}
	if s.SampleRate, ok = pickFloat("sample_rate", func(m *Meta) *float64 { return m.SampleRate }); !ok {
		hint := ""
		if r.name != nil {
			hint = fmt.Sprintf(" (%d samples in the file name's %s s is not a whole number of hertz)", s.Len(), fmtFloat(r.name.Duration))
		}
		return r.fail("no sample_rate: give --sample-rate, a sidecar sample_rate, a T010150 file name, or a watch default%s", hint)
	}
	if err := checkRate(s.SampleRate); err != nil {
		return r.fail("%v (from %s)", err, s.Origin["sample_rate"])
	}
	if err := checkDuration(s.Len(), s.SampleRate); err != nil {
		return r.fail("%v", err)
	}

	if r.name != nil {
		s.Obs, s.Desc = r.name.Obs, r.name.Desc
	} else {
		s.Obs, s.Desc = channelObs(s.Channel), channelDesc(s.Channel)
	}
	return nil
}

// DefaultUnit is the unit of a series whose metadata gives none: no unit,
// as astropy and gwpy write a dimensionless one.
const DefaultUnit = ""

// channelObs is the observatory letter of a channel such as
// "K1:LSC-DARM_OUT_DQ", or "X" when the channel has no prefix.
func channelObs(channel string) string {
	prefix, _, ok := strings.Cut(channel, ":")
	if !ok || prefix == "" {
		return "X"
	}
	c := prefix[0]
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	if c < 'A' || c > 'Z' {
		return "X"
	}
	return string(c)
}

// channelDesc makes a channel name safe for the DESC part of a T010150
// name, which allows only letters, digits and underscores.
func channelDesc(channel string) string {
	var b strings.Builder
	for _, c := range channel {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ChannelNameParts returns the observatory and description parts of the
// LIGO-T010150 name of a series of channel read from a file whose name
// says neither: "K" and "K1_LSC_DARM_OUT_DQ" for K1:LSC-DARM_OUT_DQ.
func ChannelNameParts(channel string) (obs, desc string) {
	return channelObs(channel), channelDesc(channel)
}
