package gwf

import "github.com/gwwatchd/gwwatchd/internal/samples"

// File is a decoded frame file.
type File struct {
	Version      int    // frame format version, 6 to 9
	MinorVersion int    // minor version of the library that wrote the file (255: unreleased)
	Library      int    // library that wrote the file: 0 unknown, 1 FrameL, 2 frameCPP (0 before version 8)
	ByteOrder    string // "little" or "big": the order of the file's structure fields
	FileChecksum bool   // whether the file carried a file checksum (Decode verified it)
	Frames       []*Frame
}

// Frame is one frame: its header and the channels kept from it.
type Frame struct {
	Name        string  // project or experiment, from FrameH
	Run         int32   // run number; negative for simulated data
	Number      uint32  // frame number within the run
	DataQuality uint32  // top-level data quality word
	GPS         Time    // start of the frame
	ULeapS      uint16  // leap seconds between GPS and UTC when written
	Duration    float64 // frame length in seconds
	Channels    []*Channel
}

// Kind says which structure a channel came from.
type Kind uint8

// The kinds of channel.
const (
	Adc  Kind = iota + 1 // FrAdcData: data as acquired
	Proc                 // FrProcData: post-processed data
	Sim                  // FrSimData: simulated data
)

func (k Kind) String() string {
	switch k {
	case Adc:
		return "adc"
	case Proc:
		return "proc"
	case Sim:
		return "sim"
	}
	return "unknown"
}

// Meta is what describes a channel's samples apart from their time: when
// two frames' pieces of a channel have equal Meta and follow on in time,
// Series joins them.
type Meta struct {
	Name    string
	Kind    Kind
	Comment string

	// DType is the NumPy name of the sample type: int8, int16, int32,
	// int64, uint8, uint16, uint32, uint64, float32, float64, complex64 or
	// complex128.
	DType string

	Unit       string  // unitY of the FrVect: the samples' unit
	XUnit      string  // unitX[0] of the FrVect: the unit of Dx, usually "s"
	Dx         float64 // spacing of samples along the first dimension (dx[0], or 1/sampleRate when dx[0] is 0)
	SampleRate float64 // 1/Dx

	// Shape is nx of the FrVect, the length of each dimension; Values is
	// stored row-major. Time series have one dimension.
	Shape []int

	FShift float64 // heterodyne frequency in Hz (fShift), 0 if none
	Phase  float32 // heterodyne phase at the start of the data, radians

	Adc  *AdcInfo  // set when Kind is Adc
	Proc *ProcInfo // set when Kind is Proc
	Sim  *SimInfo  // set when Kind is Sim
}

// AdcInfo is what an FrAdcData says of its channel.
type AdcInfo struct {
	ChannelGroup  uint32
	ChannelNumber uint32
	NBits         uint32  // bits of the digitiser
	Bias          float32 // DC bias: value in Units at 0 counts
	Slope         float32 // calibration, Units per count
	Units         string  // the units of Bias and Slope
	SampleRate    float64 // the rate the structure declares
	DataValid     uint16  // 0 when the data are valid
}

// ProcInfo is what an FrProcData says of its channel.
type ProcInfo struct {
	// Type of data: 0 unknown, 1 time series, 2 frequency series, 3 other
	// 1-D series, 4 time-frequency, 5 wavelets, 6 multi-dimensional.
	Type uint16
	// SubType of a frequency series: 0 unknown, 1 DFT, 2 amplitude spectral
	// density, 3 power spectral density, 4 cross spectral density,
	// 5 coherence, 6 transfer function.
	SubType   uint16
	TRange    float64 // duration of the data in seconds
	FRange    float64 // frequency range in Hz, 0 if unknown
	BW        float64 // resolution bandwidth, 0 if unknown
	AuxParams []AuxParam
}

// AuxParam is one of an FrProcData's named auxiliary parameters.
type AuxParam struct {
	Name  string
	Value float64
}

// SimInfo is what an FrSimData says of its channel.
type SimInfo struct {
	SampleRate float64 // the rate the structure declares
}

// Channel is one channel's data in one frame.
type Channel struct {
	Meta

	T0         Time    // time of the first sample: frame start + TimeOffset + StartX
	TimeOffset float64 // offset of the data from the frame start, as stored
	StartX     float64 // startX[0] of the FrVect, as stored
	Frame      int     // index of the channel's frame in File.Frames

	// Dup tells apart channels of one kind that share a name within a
	// frame: 0 for the first in the file, 1 for the next, and so on.
	Dup int

	Compression uint16 // the FrVect's compression code as stored

	// Values holds the samples in native byte order as a []int8, []int16,
	// []int32, []int64, []uint8, []uint16, []uint32, []uint64, []float32,
	// []float64, []complex64 or []complex128, as DType says.
	Values any
}

// Len returns the number of samples in Values.
func (c *Channel) Len() int { return samples.Len(c.Values) }
