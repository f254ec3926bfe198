package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/gwwatchd/gwwatchd/internal/dropdir"
)

// Footprint is what holding the decoded samples of a file's series takes.
type Footprint struct {
	Series  int   // series ReadAll would return
	Samples int64 // samples in them, summed; an upper bound for text
	Bytes   int64 // bytes those samples take in their source types

	// Largest is, for a file whose series are read one at a time (a
	// frame file, see Batch), the samples and bytes of its largest
	// series, all of it that is in memory at once; nil for other files,
	// which are read whole.
	Largest *Footprint
}

// Measure tells, without decoding any samples, what ReadAll(path, opt)
// would hold in memory: the series opt selects, their samples and the
// bytes those take in their source dtype, summed. It reads only what
// describes the samples: the header of a .npy file, the sidecar of a raw
// file, the structures of a frame file (no vector is expanded), the
// metadata of an HDF5 file (no dataset is read); for text it assumes the
// densest file possible, one sample per two bytes, as float64. Every size
// a file declares is checked as ReadAll checks it, before anything is
// allocated for it, and a size the file cannot hold is the same
// *InputError ReadAll returns. Its Bytes are exact for npy, raw, frame
// and HDF5 files, and at least what ReadAll gives for text.
//
// Measure does not check what ReadAll checks of the samples themselves
// or of metadata beyond sizes, so a file it measures may still be
// refused. Other errors are as for ReadAll.
func Measure(path string, opt Options) (Footprint, error) {
	if err := opt.Flags.Validate(); err != nil {
		return Footprint{}, fmt.Errorf("ingest: invalid flag: %w", err)
	}
	if err := opt.Defaults.Validate(); err != nil {
		return Footprint{}, fmt.Errorf("ingest: invalid watch default: %w", err)
	}
	if err := ValidChannelPatterns(opt.Channels); err != nil {
		return Footprint{}, fmt.Errorf("ingest: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Footprint{}, fmt.Errorf("ingest: resolving %s: %w", path, err)
	}
	ext := strings.ToLower(filepath.Ext(abs))
	format := formats[ext]
	if format == "" {
		format = multiFormats[ext]
	}
	switch {
	case dropdir.IsSidecar(abs):
		return Footprint{}, inputErr(abs, ErrSidecar, "is a sidecar, not data")
	case ext == "":
		return Footprint{}, inputErr(abs, ErrUnsupportedFormat, "no file extension: want "+extensions)
	case format == "":
		return Footprint{}, inputErr(abs, ErrUnsupportedFormat, fmt.Sprintf("unsupported format %q: want %s", clip(ext), extensions))
	}

	o, err := openChecked(abs, abs, maxFileSize, opt.Expect)
	if err != nil {
		return Footprint{}, err
	}
	defer o.close()
	f, size := o.f, o.size
	if size == 0 {
		return Footprint{}, inputErr(abs, nil, "empty file")
	}
	src := o.source()
	keep := func(name string) bool { return selected(opt.Channels, name) }

	switch format {
	case "npy":
		return measureNPY(abs, o)
	case "text":
		n := (size + 1) / 2
		return Footprint{Series: 1, Samples: n, Bytes: 8 * n}, nil
	case "raw":
		return measureRaw(abs, size, opt)
	case "gwf":
		return measureFrames(abs, f, size, keep, opt.Channels)
	default:
		out, found, err := decodeHDF5(abs, f, src, keep, opt.RefuseHDF5, true)
		if err != nil {
			return Footprint{}, err
		}
		if err := noneFound(abs, out, found, opt.Channels); err != nil {
			return Footprint{}, err
		}
		var fp Footprint
		for _, s := range out {
			n := int64(seriesLen(s))
			fp.Series++
			fp.Samples += n
			fp.Bytes += n * int64(s.DType.Size())
		}
		return fp, nil
	}
}

// noneFound is ReadAll's error for a file holding no series it selects.
func noneFound(abs string, out []*Series, found, channels []string) error {
	if len(out) > 0 {
		return nil
	}
	if len(found) == 0 {
		return inputErr(abs, nil, "holds no series")
	}
	return inputErr(abs, nil, fmt.Sprintf("no channel matches %s; the file holds %s",
		strings.Join(channels, ", "), listNames(found)))
}

// measureNPY reads the header of a .npy file, at most maxNPYHeader bytes
// past its fixed prefix.
func measureNPY(abs string, o *openFile) (Footprint, error) {
	head, err := o.readNPYHead()
	if err != nil {
		return Footprint{}, err
	}
	a, _, n, err := npyLayout(head, o.size)
	if err != nil {
		return Footprint{}, inputErr(abs, err, err.Error())
	}
	return Footprint{Series: 1, Samples: n, Bytes: n * int64(a.DType.Size())}, nil
}

// measureRaw settles the sample type of a raw file as Read does, from
// flags, sidecar and defaults.
func measureRaw(abs string, size int64, opt Options) (Footprint, error) {
	side, err := readSidecar(abs)
	if err != nil {
		return Footprint{}, err
	}
	r := &resolver{path: abs, flags: opt.Flags, defaults: opt.Defaults}
	if side != nil {
		r.sidecar = side.meta
	}
	s := &Series{Origin: map[string]string{}}
	if err := r.rawType(s); err != nil {
		return Footprint{}, err
	}
	w := int64(s.DType.Size())
	if size%w != 0 {
		return Footprint{}, r.fail("size %d is not a multiple of %d (%s)", size, w, s.DType)
	}
	return Footprint{Series: 1, Samples: size / w, Bytes: size}, nil
}

// measureFrames scans a frame file mapped into memory, which touches only
// the pages of its structures' fields.
func measureFrames(abs string, f *os.File, size int64, keep func(string) bool, channels []string) (fp Footprint, err error) {
	data, unmap, err := mapFile(f, size)
	if err != nil {
		return Footprint{}, err
	}
	defer unmap()
	// A file truncated meanwhile faults on the pages past its end.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(interface{ Addr() uintptr }); !ok {
				panic(p)
			}
			fp, err = Footprint{}, fmt.Errorf("ingest: %s: %w: it shrank", abs, ErrChanged)
		}
	}()
	opts, met := frameOptions(keep)
	file, err := opts.Scan(data)
	if err != nil {
		return Footprint{}, inputErr(abs, err, err.Error())
	}
	all := file.Series()
	if len(all) == 0 {
		out := []*Series(nil)
		return Footprint{}, noneFound(abs, out, *met, channels)
	}
	fp.Largest = &Footprint{Series: 1}
	for _, s := range all {
		n := int64(shapeLen(s.Shape))
		b := n * int64(DType(s.DType).Size())
		fp.Series++
		fp.Samples += n
		fp.Bytes += b
		fp.Largest.Samples = max(fp.Largest.Samples, n)
		fp.Largest.Bytes = max(fp.Largest.Bytes, b)
	}
	return fp, nil
}
