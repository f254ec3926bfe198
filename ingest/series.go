package ingest

import (
	"time"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// Series is one channel of samples read from a source file, with the
// metadata needed to archive it and a record of where each value came from.
type Series struct {
	Channel     string
	Dataset     string // name of the /raw dataset; defaults to Channel
	Unit        string
	Description string
	T0          float64 // GPS seconds of the first sample
	SampleRate  float64 // Hz

	// DType is the NumPy name of the source sample type without byte
	// order ("int16", "float64", ...). Values holds the samples exactly as
	// stored in the source, converted to native byte order only: one of
	// []int8, []int16, []int32, []int64, []uint8, []uint16, []uint32,
	// []float32 or []float64, matching DType; frame and HDF5 files may
	// also give []uint64, []complex64 or []complex128.
	DType  DType
	Values any

	// Shape is the shape of Values for a series of more than one
	// dimension, rows (in time) first; nil for the usual one dimension.
	Shape []int

	// Extra holds what the source says of the series beyond the fields
	// above, such as a frame channel's calibration (slope, bias) and
	// data_valid flag: attribute names mapped to string, int64 or float64
	// values, recorded as they are and never applied.
	Extra map[string]any

	// NoProducts, when set, says why no spectral products can be made of
	// the series, such as a frame's frequency series: the samples are
	// archived as they are.
	NoProducts string

	// Format is the source format: "npy", "raw", "text", "gwf" or "hdf5".
	Format string
	// ByteOrder is the byte order of the samples in the source: "little",
	// "big", or "" where it does not apply (text, one-byte types).
	ByteOrder string

	// Obs and Desc are the observatory and description parts of a
	// LIGO-T010150 name (OBS-DESC-GPSSTART-DURATION.ext): from the source
	// file name when it has that form, otherwise derived from the channel.
	Obs  string
	Desc string

	// Origin maps each metadata key (channel, dataset, t0, sample_rate,
	// unit, dtype, byte_order, description) to where its value came from:
	// "flag", "sidecar", "file", "filename", "config" or "default".
	Origin map[string]string

	Source Source

	stored int // samples, while they are in the file (Batch)
}

// Source describes the file a Series was read from.
type Source struct {
	Path    string // absolute path
	Size    int64
	ModTime time.Time
	SHA256  string   // hex, of the whole file
	Sidecar *Sidecar // nil when the file had none

	// ID identifies the file that was opened and read, which may no
	// longer be the one its name leads to.
	ID FileID
}

// FileID identifies one file: its device and inode numbers, and its size
// when it was looked at. Where the system has no inodes, Dev and Ino
// are 0.
type FileID struct {
	Dev, Ino uint64
	Size     int64
}

// Sidecar describes the metadata file that travelled with a data file.
type Sidecar struct {
	Path   string // absolute path
	Size   int64
	SHA256 string // hex
}

// Len returns the number of samples, also of a series whose samples are
// still in its file (see Batch).
func (s *Series) Len() int {
	if s.Values == nil && s.stored > 0 {
		return s.stored
	}
	return samples.Len(s.Values)
}

// Duration returns the span covered by the samples in seconds.
func (s *Series) Duration() float64 { return float64(s.Len()) / s.SampleRate }
