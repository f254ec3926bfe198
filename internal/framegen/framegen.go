// Package framegen writes large synthetic frame files (IGWD version 8,
// little-endian) for the benchmarks: many channels of noise over many
// frames, written as they are made, so that a file of any size needs
// memory for one vector at a time. It writes FrAdcData channels of int16,
// float32 or float64 samples, raw or gzip-compressed, with every
// structure checksum and the file checksum. The reader's tests use their
// own, more thorough writer; this one only has to be fast and valid.
package framegen

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
)

// Sample types of a channel.
const (
	Int16   = "int16"
	Float32 = "float32"
	Float64 = "float64"
)

// Channel is one channel of every frame.
type Channel struct {
	Name string
	Rate float64 // Hz; Rate × Spec.FrameLength must be a whole number
	Type string  // Int16, Float32 or Float64
	Gzip bool
}

// Spec describes a file.
type Spec struct {
	Channels    []Channel
	Frames      int
	FrameLength float64 // seconds
	GPS         int64   // start of the first frame
	Seed        uint64
}

// Samples is the number of samples the file holds, over all channels and
// frames.
func (s Spec) Samples() int64 {
	var n int64
	for _, c := range s.Channels {
		n += int64(math.Round(c.Rate*s.FrameLength)) * int64(s.Frames)
	}
	return n
}

// Class numbers, written in the file's dictionary.
const (
	classSH         = 1
	classSE         = 2
	classFrameH     = 3
	classAdcData    = 4
	classEndOfFrame = 5
	classEndOfFile  = 6
	classVect       = 7
)

var classNames = []struct {
	name string
	id   uint8
}{
	{"FrameH", classFrameH}, {"FrAdcData", classAdcData}, {"FrVect", classVect},
	{"FrEndOfFrame", classEndOfFrame}, {"FrEndOfFile", classEndOfFile},
}

// Vector types and compression codes of the format.
const (
	typeFloat64  = 2
	typeFloat32  = 3
	typeInt16    = 1
	codeRaw      = 0
	codeGzip     = 1
	littleEndian = 1 << 8
	headerLen    = 40
)

var le = binary.LittleEndian

// Write writes the file s describes to w.
func Write(w io.Writer, s Spec) error {
	for _, c := range s.Channels {
		n := c.Rate * s.FrameLength
		if n <= 0 || n != math.Round(n) {
			return fmt.Errorf("channel %s: %g Hz does not give whole samples in %g s frames", c.Name, c.Rate, s.FrameLength)
		}
		switch c.Type {
		case Int16, Float32, Float64:
		default:
			return fmt.Errorf("channel %s: type %q", c.Name, c.Type)
		}
	}
	g := &gen{w: bufio.NewWriterSize(w, 1<<20), spec: s, rng: rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))}
	g.header()
	g.dictionary()
	for f := range s.Frames {
		g.frame(f)
	}
	g.endOfFile()
	if g.err != nil {
		return g.err
	}
	return g.w.Flush()
}

type gen struct {
	w         *bufio.Writer
	spec      Spec
	rng       *rand.Rand
	sum       cksum.Digest // of the whole file so far
	n         uint64       // bytes written
	err       error
	headerSum uint32
	b         []byte // the structure being built
	inst      map[uint8]uint32
	zbuf      bytes.Buffer
	zw        *zlib.Writer
	vals      []byte
}

func (g *gen) emit(p []byte) {
	if g.err != nil {
		return
	}
	g.sum.Write(p)
	g.n += uint64(len(p))
	_, g.err = g.w.Write(p)
}

func (g *gen) header() {
	h := make([]byte, headerLen)
	copy(h, "IGWD\x00")
	h[5] = 8 // format version
	h[6] = 0 // minor version
	copy(h[7:], []byte{2, 4, 8, 4, 8})
	le.PutUint16(h[12:], 0x1234)
	le.PutUint32(h[14:], 0x12345678)
	le.PutUint64(h[18:], 0x0123456789abcdef)
	le.PutUint32(h[26:], math.Float32bits(math.Pi))
	le.PutUint64(h[30:], math.Float64bits(math.Pi))
	h[38] = 0 // library: unknown
	h[39] = 1 // checksums: CRC
	g.headerSum = cksum.Sum(h)
	g.emit(h)
}

func (g *gen) u8(v uint8)    { g.b = append(g.b, v) }
func (g *gen) u16(v uint16)  { g.b = le.AppendUint16(g.b, v) }
func (g *gen) u32(v uint32)  { g.b = le.AppendUint32(g.b, v) }
func (g *gen) u64(v uint64)  { g.b = le.AppendUint64(g.b, v) }
func (g *gen) f32(v float32) { g.u32(math.Float32bits(v)) }
func (g *gen) f64(v float64) { g.u64(math.Float64bits(v)) }
func (g *gen) str(s string) {
	g.u16(uint16(len(s) + 1))
	g.b = append(g.b, s...)
	g.b = append(g.b, 0)
}

// ptr writes a reference to instance inst of class, or a null one.
func (g *gen) ptr(class uint8, inst uint32) {
	g.u16(uint16(class))
	g.u32(inst)
}

// begin starts a structure of class: length (set by end), checksum type,
// class and instance number.
func (g *gen) begin(class uint8) {
	if g.inst == nil {
		g.inst = map[uint8]uint32{}
	}
	g.b = g.b[:0]
	g.u64(0)
	g.u8(1)
	g.u8(class)
	g.u32(g.inst[class])
	g.inst[class]++
}

// end sets the length and checksum of the structure and writes it.
func (g *gen) end() {
	g.u32(0)
	le.PutUint64(g.b, uint64(len(g.b)))
	le.PutUint32(g.b[len(g.b)-4:], cksum.Sum(g.b[:len(g.b)-4]))
	g.emit(g.b)
}

// dictionary describes each class the file uses (FrSH), with the two
// elements every structure has (FrSE), as frame writers do.
func (g *gen) dictionary() {
	for _, c := range classNames {
		g.begin(classSH)
		g.str(c.name)
		g.u16(uint16(c.id))
		g.str("synthetic benchmark data")
		g.end()
		for _, el := range []string{"name", "chkSum"} {
			g.begin(classSE)
			g.str(el)
			g.str("STRING")
			g.str("")
			g.end()
		}
	}
}

func (g *gen) frame(f int) {
	s := g.spec
	gps := float64(s.GPS) + float64(f)*s.FrameLength
	sec := math.Floor(gps)
	g.begin(classFrameH)
	g.str("synth")
	g.u32(1)         // run
	g.u32(uint32(f)) // frame number
	g.u32(0)         // data quality
	g.u32(uint32(sec))
	g.u32(uint32(math.Round((gps - sec) * 1e9)))
	g.u16(18) // leap seconds
	g.f64(s.FrameLength)
	for range 13 {
		g.ptr(0, 0)
	}
	g.end()
	for _, c := range s.Channels {
		g.channel(c)
	}
	g.begin(classEndOfFrame)
	g.u32(1)
	g.u32(uint32(f))
	g.u32(uint32(sec))
	g.u32(uint32(math.Round((gps - sec) * 1e9)))
	g.end()
	// Instance numbers count within a frame.
	clear(g.inst)
}

func (g *gen) channel(c Channel) {
	vinst := g.inst[classVect]
	g.begin(classAdcData)
	g.str(c.Name)
	g.str("")
	g.u32(0)  // channel group
	g.u32(0)  // channel number
	g.u32(16) // bits
	g.f32(0)  // bias
	g.f32(1)  // slope
	g.str("counts")
	g.f64(c.Rate)
	g.f64(0) // time offset
	g.f64(0) // frequency shift
	g.f32(0) // phase
	g.u16(0) // data valid
	g.ptr(classVect, vinst)
	g.ptr(0, 0)
	g.ptr(0, 0)
	g.end()

	n := int(math.Round(c.Rate * g.spec.FrameLength))
	typ, data := g.samples(c.Type, n)
	code := uint16(codeRaw | littleEndian)
	if c.Gzip {
		code = codeGzip | littleEndian
		g.zbuf.Reset()
		if g.zw == nil {
			g.zw, _ = zlib.NewWriterLevel(&g.zbuf, zlib.BestSpeed)
		} else {
			g.zw.Reset(&g.zbuf)
		}
		g.zw.Write(data)
		g.zw.Close()
		data = g.zbuf.Bytes()
	}
	g.begin(classVect)
	g.str(c.Name)
	g.u16(code)
	g.u16(typ)
	g.u64(uint64(n))
	g.u64(uint64(len(data)))
	g.b = append(g.b, data...)
	g.u32(1) // dimensions
	g.u64(uint64(n))
	g.f64(1 / c.Rate)
	g.f64(0) // startX
	g.str("s")
	g.str("counts")
	g.ptr(0, 0)
	g.end()
}

// samples makes n samples of noise of the named type, little-endian.
func (g *gen) samples(typ string, n int) (uint16, []byte) {
	switch typ {
	case Int16:
		g.vals = g.vals[:0]
		for range n {
			g.vals = le.AppendUint16(g.vals, uint16(int16(math.Round(1000*g.rng.NormFloat64()))))
		}
		return typeInt16, g.vals
	case Float32:
		g.vals = g.vals[:0]
		for range n {
			g.vals = le.AppendUint32(g.vals, math.Float32bits(float32(g.rng.NormFloat64())))
		}
		return typeFloat32, g.vals
	default:
		g.vals = g.vals[:0]
		for range n {
			g.vals = le.AppendUint64(g.vals, math.Float64bits(g.rng.NormFloat64()))
		}
		return typeFloat64, g.vals
	}
}

// endOfFile writes FrEndOfFile: the frame count, the file length, no
// table of contents, the header checksum, its own checksum and the
// file's, which covers every byte before it.
func (g *gen) endOfFile() {
	g.begin(classEndOfFile)
	g.u32(uint32(g.spec.Frames))
	at := len(g.b)
	g.u64(0) // file length, set below
	g.u64(0) // no table of contents
	g.u32(g.headerSum)
	g.u32(0) // checksum of this structure
	g.u32(0) // checksum of the file
	le.PutUint64(g.b, uint64(len(g.b)))
	le.PutUint64(g.b[at:], g.n+uint64(len(g.b)))
	n := len(g.b)
	le.PutUint32(g.b[n-8:], cksum.Sum(g.b[:n-8]))
	g.sum.Write(g.b[:n-4])
	le.PutUint32(g.b[n-4:], g.sum.Sum32())
	if g.err == nil {
		_, g.err = g.w.Write(g.b)
	}
}
