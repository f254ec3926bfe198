package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// maxFileSize bounds what Read loads into memory; data files are expected
// to be a few hundred megabytes at most.
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

	data, src, side, sum, err := readSource(abs, opt.Expect, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if h := sum(); s != nil {
			s.Source.SHA256 = h
		}
	}()

	r := &resolver{path: abs, flags: opt.Flags, defaults: opt.Defaults}
	if side != nil {
		r.sidecar = side.meta
	}
	s = &Series{Format: format, Source: src, Origin: map[string]string{}}
	if err := r.decode(s, data); err != nil {
		return nil, err
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

// readSource reads a whole data file and its sidecar, if any, and starts
// hashing the file, which the caller decodes meanwhile: sum waits for the
// hash. On error there is nothing to wait for. keep, if not nil, is given
// the open file to use until the caller is done, and must close it.
func readSource(abs string, expect *FileID, keep func(*os.File)) (data []byte, src Source, side *sidecar, sum func() string, err error) {
	data, src, f, err := readFile(abs, abs, maxFileSize, expect)
	if err != nil {
		return nil, src, nil, nil, err
	}
	if keep != nil {
		keep(f)
	} else {
		f.Close()
	}
	if len(data) == 0 {
		return nil, src, nil, nil, inputErr(abs, nil, "empty file")
	}
	if side, err = readSidecar(abs); err != nil {
		return nil, src, nil, nil, err
	}
	if side != nil {
		src.Sidecar = side.info
	}
	// Both only read data.
	c := make(chan string, 1)
	go func() { c <- sha256Hex(data) }()
	return data, src, side, func() string { return <-c }, nil
}

// readFile reads a whole regular file, opened by openRegular, and
// describes it, all but its sha256, which the caller computes. errPath
// names the data file in any InputError, also when reading its sidecar.
// When expect is set, the file opened must be the one it identifies. The
// file is returned open, for the caller to close.
func readFile(path, errPath string, limit int64, expect *FileID) ([]byte, Source, *os.File, error) {
	src := Source{Path: path}
	f, id, err := openRegular(path, errPath)
	if err != nil {
		return nil, src, nil, err
	}
	data, src, err := readOpen(f, id, path, errPath, limit, expect)
	if err != nil {
		f.Close()
		return nil, src, nil, err
	}
	return data, src, f, nil
}

func readOpen(f *os.File, id FileID, path, errPath string, limit int64, expect *FileID) ([]byte, Source, error) {
	src := Source{Path: path}
	if expect != nil && *expect != id {
		return nil, src, fmt.Errorf("ingest: %s: %w: device %d inode %d size %d, expected device %d inode %d size %d",
			path, ErrChanged, id.Dev, id.Ino, id.Size, expect.Dev, expect.Ino, expect.Size)
	}
	before, err := f.Stat()
	if err != nil {
		return nil, src, fmt.Errorf("ingest: %w", err)
	}
	if before.Size() > limit || int64(int(before.Size())) != before.Size() {
		return nil, src, inputErr(errPath, nil, fmt.Sprintf("%s is %d bytes, more than the limit of %d", path, before.Size(), limit))
	}
	data := make([]byte, before.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, src, fmt.Errorf("ingest: %s: %w: it shrank", path, ErrChanged)
		}
		return nil, src, fmt.Errorf("ingest: %w", err)
	}
	var extra [1]byte
	if n, _ := f.Read(extra[:]); n > 0 {
		return nil, src, fmt.Errorf("ingest: %s: %w: it grew", path, ErrChanged)
	}
	after, err := f.Stat()
	if err != nil {
		return nil, src, fmt.Errorf("ingest: %w", err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return nil, src, fmt.Errorf("ingest: %s: %w", path, ErrChanged)
	}
	src.Size = before.Size()
	src.ModTime = before.ModTime().UTC()
	src.ID = id
	return data, src, nil
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

// decode parses data according to s.Format, filling s.DType, s.ByteOrder
// and s.Values, and r.file with what the file says about itself.
func (r *resolver) decode(s *Series, data []byte) error {
	switch s.Format {
	case "npy":
		a, err := parseNPY(data)
		if err != nil {
			return inputErr(r.path, err, err.Error())
		}
		s.DType, s.ByteOrder, s.Values = a.DType, a.ByteOrder, a.Values
	case "text":
		td, err := parseText(data)
		if err != nil {
			return inputErr(r.path, err, err.Error())
		}
		s.DType, s.Values = samples.Float64, td.Values
		r.file.T0, r.file.SampleRate = td.T0, td.Rate
	case "raw":
		if err := r.rawType(s); err != nil {
			return err
		}
		size := s.DType.Size()
		if len(data)%size != 0 {
			return r.fail("size %d is not a multiple of %d (%s)", len(data), size, s.DType)
		}
		s.Values = decodeSamples(data, s.DType, s.ByteOrder)
	}
	if s.Len() == 0 {
		return r.fail("no samples")
	}
	if s.Format != "raw" {
		if err := r.checkFileType(s); err != nil {
			return err
		}
		s.Origin["dtype"] = "file"
		if s.ByteOrder != "" {
			s.Origin["byte_order"] = "file"
		}
	}
	return nil
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
