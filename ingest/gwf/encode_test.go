package gwf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
)

// A frame file writer for tests: it writes versions 6 to 9 in either byte
// order, every data type, every compression code the reader takes, and
// every checksum the format carries. It compresses on its own (gzip with
// the standard library, zero suppression with the code below) so that the
// reader is checked against an independent writer.

type encFile struct {
	version     int
	big         bool // structure fields big-endian
	frames      []encFrame
	noChecksums bool // write 0 for every checksum, with chkType 1
	noChkType   bool // write chkType 0 and no checksums
	extras      bool // add structures the reader must skip
}

type encFrame struct {
	name   string
	run    int32
	number uint32
	gps    Time // Frac ignored
	dt     float64
	chans  []encChannel
	eofGPS *Time   // GTime written in FrEndOfFrame (version 8 on); nil: gps
	eofNum *uint32 // frame number written in FrEndOfFrame; nil: number
}

type encChannel struct {
	kind       Kind
	name       string
	comment    string
	values     any    // a typed slice, as Channel.Values
	code       uint16 // compression code as stored, with 256 for little-endian data
	rate       float64
	timeOffset float64
	startX     float64
	unit       string
	shape      []int // nil for one dimension
	zsBlock    int   // block size for zero suppression; 0 for 12
	adc        AdcInfo
	proc       ProcInfo
	override   *vectOverride // to write bad vectors
}

// vectOverride replaces what the encoder would write in an FrVect.
type vectOverride struct {
	typ   *uint16
	nData *uint64
	data  []byte
}

// Class ids: deliberately not FrameL's, so that the reader must use the
// dictionary.
var encClasses = map[string]uint16{
	"FrameH": 3, "FrVect": 5, "FrProcData": 6, "FrAdcData": 7, "FrSimData": 8,
	"FrEndOfFrame": 9, "FrHistory": 12, "FrDetector": 4, "FrTable": 14,
	"FrRawData": 15, "FrTOC": 20, "FrEndOfFile": 21, "FrEvent": 17,
}

type orderAppender interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type enc struct {
	f         encFile
	b         []byte
	order     orderAppender
	declared  map[string]bool
	instances map[string]uint32
}

func encode(tb testing.TB, f encFile) []byte {
	tb.Helper()
	b, err := encodeFile(f)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func encodeFile(f encFile) ([]byte, error) {
	e := &enc{f: f, order: binary.LittleEndian, declared: map[string]bool{}, instances: map[string]uint32{}}
	if f.big {
		e.order = binary.BigEndian
	}
	e.header()
	for _, fr := range f.frames {
		if err := e.frame(fr); err != nil {
			return nil, err
		}
	}
	if f.extras {
		s := e.begin("FrTOC")
		e.b = append(e.b, "not parsed by the reader"...)
		e.end(s)
	}
	e.endOfFile(len(f.frames))
	return e.b, nil
}

func (e *enc) header() {
	h := make([]byte, headerLen)
	copy(h, "IGWD\x00")
	h[5] = byte(e.f.version)
	h[6] = 42
	copy(h[7:], []byte{2, 4, 8, 4, 8})
	e.order.PutUint16(h[12:], 0x1234)
	e.order.PutUint32(h[14:], 0x12345678)
	e.order.PutUint64(h[18:], 0x0123456789abcdef)
	e.order.PutUint32(h[26:], math.Float32bits(math.Pi))
	e.order.PutUint64(h[30:], math.Float64bits(math.Pi))
	if e.f.version >= 8 {
		h[38] = 3 // neither FrameL nor frameCPP
		if !e.f.noChkType {
			h[39] = 1
		}
	}
	e.b = h
}

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u16(v uint16)  { e.b = e.order.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32)  { e.b = e.order.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)  { e.b = e.order.AppendUint64(e.b, v) }
func (e *enc) f32(v float32) { e.u32(math.Float32bits(v)) }
func (e *enc) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *enc) str(s string) {
	e.u16(uint16(len(s) + 1))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}
func (e *enc) ptr(class string, inst uint32) {
	if class == "" {
		e.u16(0)
		e.u32(0)
		return
	}
	e.u16(encClasses[class])
	e.u32(inst)
}

// begin starts a structure of the named class, writing its dictionary
// entry first if the file has none yet; it returns where it starts.
func (e *enc) begin(class string) int {
	if !e.declared[class] {
		e.declared[class] = true
		s := e.beginID(1, "FrSH")
		e.str(class)
		e.u16(encClasses[class])
		e.str("written by the test encoder")
		e.end(s)
		for _, el := range []string{"name", "chkSum"} {
			s := e.beginID(2, "FrSE")
			e.str(el)
			e.str("STRING")
			e.str("")
			e.end(s)
		}
	}
	return e.beginID(encClasses[class], class)
}

func (e *enc) beginID(id uint16, class string) int {
	start := len(e.b)
	e.u64(0) // length, set by end
	if e.f.version >= 8 {
		if e.f.noChkType {
			e.u8(0)
		} else {
			e.u8(1)
		}
		e.u8(uint8(id))
	} else {
		e.u16(id)
	}
	e.u32(e.instances[class])
	e.instances[class]++
	return start
}

// end completes the structure begun at start: length, and from version 8
// its checksum.
func (e *enc) end(start int) {
	if e.f.version >= 8 {
		e.u32(0)
	}
	e.order.PutUint64(e.b[start:], uint64(len(e.b)-start))
	if e.f.version >= 8 && !e.f.noChecksums && !e.f.noChkType {
		e.order.PutUint32(e.b[len(e.b)-4:], cksumRef(e.b[start:len(e.b)-4]))
	}
}

func (e *enc) frame(fr encFrame) error {
	s := e.begin("FrameH")
	frameStart := s
	e.str(fr.name)
	e.u32(uint32(fr.run))
	e.u32(fr.number)
	e.u32(0x5a5a)
	e.u32(uint32(fr.gps.Sec))
	e.u32(uint32(fr.gps.Nsec))
	e.u16(18)
	e.f64(fr.dt)
	for range 13 {
		e.ptr("", 0)
	}
	e.end(s)
	if e.f.extras {
		s := e.begin("FrDetector")
		e.b = append(e.b, bytes.Repeat([]byte{0xee}, 37)...)
		e.end(s)
		s = e.begin("FrHistory")
		e.str(fr.name)
		e.u32(1)
		e.str("history the reader skips")
		e.ptr("", 0)
		e.end(s)
		// A table whose column is a STRING vector nothing points at.
		s = e.begin("FrTable")
		e.str("table")
		e.str("")
		e.u16(1)
		e.u32(2)
		e.str("col")
		e.ptr("FrVect", e.instances["FrVect"])
		e.ptr("", 0)
		e.end(s)
		s = e.begin("FrVect")
		e.str("col")
		e.u16(0)
		e.u16(typeString)
		e.u64(2)
		e.u64(7)
		e.str("ab")
		e.str("c")
		e.u32(1)
		e.u64(2)
		e.f64(0)
		e.f64(0)
		e.str("")
		e.str("")
		e.ptr("", 0)
		e.end(s)
	}
	for _, ch := range fr.chans {
		if err := e.channel(ch); err != nil {
			return err
		}
	}
	s = e.begin("FrEndOfFrame")
	e.u32(uint32(fr.run))
	if fr.eofNum != nil {
		e.u32(*fr.eofNum)
	} else {
		e.u32(fr.number)
	}
	if e.f.version >= 8 {
		eof := fr.gps
		if fr.eofGPS != nil {
			eof = *fr.eofGPS
		}
		e.u32(uint32(eof.Sec))
		e.u32(uint32(eof.Nsec))
		e.end(s)
	} else {
		e.u32(1) // chkType
		sumAt := len(e.b)
		e.u32(0)
		e.end(s)
		if !e.f.noChecksums {
			e.order.PutUint32(e.b[sumAt:], cksumRef(e.b[frameStart:]))
		}
	}
	clear(e.instances)
	return nil
}

func (e *enc) channel(ch encChannel) error {
	vinst := e.instances["FrVect"]
	switch ch.kind {
	case Adc:
		s := e.begin("FrAdcData")
		e.str(ch.name)
		e.str(ch.comment)
		e.u32(ch.adc.ChannelGroup)
		e.u32(ch.adc.ChannelNumber)
		e.u32(ch.adc.NBits)
		e.f32(ch.adc.Bias)
		e.f32(ch.adc.Slope)
		e.str(ch.adc.Units)
		e.f64(ch.rate)
		e.f64(ch.timeOffset)
		e.f64(0) // fShift
		e.f32(0) // phase
		e.u16(ch.adc.DataValid)
		e.ptr("FrVect", vinst)
		e.ptr("", 0)
		e.ptr("", 0)
		e.end(s)
	case Proc:
		s := e.begin("FrProcData")
		e.str(ch.name)
		e.str(ch.comment)
		e.u16(ch.proc.Type)
		e.u16(ch.proc.SubType)
		e.f64(ch.timeOffset)
		e.f64(ch.proc.TRange)
		e.f64(0)   // fShift
		e.f32(0.5) // phase
		e.f64(ch.proc.FRange)
		e.f64(ch.proc.BW)
		e.u16(uint16(len(ch.proc.AuxParams)))
		for _, a := range ch.proc.AuxParams {
			e.f64(a.Value)
		}
		for _, a := range ch.proc.AuxParams {
			e.str(a.Name)
		}
		e.ptr("FrVect", vinst)
		for range 4 {
			e.ptr("", 0)
		}
		e.end(s)
	case Sim:
		s := e.begin("FrSimData")
		e.str(ch.name)
		e.str(ch.comment)
		if e.f.version == 6 {
			e.f32(float32(ch.rate))
		} else {
			e.f64(ch.rate)
		}
		e.f64(ch.timeOffset)
		e.f64(0)
		e.f32(0)
		e.ptr("FrVect", vinst)
		for range 3 {
			e.ptr("", 0)
		}
		e.end(s)
	}
	typ, n, err := typeOf(ch.values)
	if err != nil {
		return err
	}
	data, err := compressFor(e.f.version, ch.code, typ, ch.values, ch.zsBlock)
	if err != nil {
		return fmt.Errorf("channel %s: %w", ch.name, err)
	}
	shape := ch.shape
	if shape == nil {
		shape = []int{n}
	}
	nData := uint64(n)
	if o := ch.override; o != nil {
		if o.typ != nil {
			typ = *o.typ
		}
		if o.nData != nil {
			nData = *o.nData
			shape = []int{int(nData)}
		}
		if o.data != nil {
			data = o.data
		}
	}
	s := e.begin("FrVect")
	e.str(ch.name)
	e.u16(ch.code)
	e.u16(typ)
	e.u64(nData)
	e.u64(uint64(len(data)))
	e.b = append(e.b, data...)
	e.u32(uint32(len(shape)))
	for _, x := range shape {
		e.u64(uint64(x))
	}
	for i := range shape {
		if i == 0 {
			e.f64(1 / ch.rate)
		} else {
			e.f64(1)
		}
	}
	for i := range shape {
		if i == 0 {
			e.f64(ch.startX)
		} else {
			e.f64(0)
		}
	}
	for range shape {
		e.str("s")
	}
	e.str(ch.unit)
	e.ptr("", 0)
	e.end(s)
	return nil
}

func (e *enc) endOfFile(nFrames int) {
	s := e.begin("FrEndOfFile")
	e.u32(uint32(nFrames))
	if e.f.version >= 8 {
		e.u64(0) // nBytes, set below
		e.u64(0) // seekTOC
		hdr := uint32(0)
		if !e.f.noChecksums && !e.f.noChkType {
			hdr = cksumRef(e.b[:headerLen])
		}
		e.u32(hdr)
		e.u32(0) // chkSum
		e.u32(0) // chkSumFile
		e.order.PutUint64(e.b[s:], uint64(len(e.b)-s))
		e.order.PutUint64(e.b[s+structHeaderLen+4:], uint64(len(e.b)))
		if !e.f.noChecksums && !e.f.noChkType {
			n := len(e.b)
			e.order.PutUint32(e.b[n-8:], cksumRef(e.b[s:n-8]))
			e.order.PutUint32(e.b[n-4:], cksumRef(e.b[:n-4]))
		}
		return
	}
	e.u64(0) // nBytes, set below
	e.u32(1) // chkType
	sumAt := len(e.b)
	e.u32(0)
	e.u64(0) // seekTOC
	e.order.PutUint64(e.b[s:], uint64(len(e.b)-s))
	e.order.PutUint64(e.b[s+structHeaderLen+4:], uint64(len(e.b)))
	if !e.f.noChecksums {
		e.order.PutUint32(e.b[sumAt:], cksumRef(e.b))
	}
}

// cksumRef is POSIX cksum as the specification describes it, a byte at a
// time through a table that cksumBitTable works out bit by bit from the
// polynomial, independently of the reader's slicing implementation.
func cksumRef(p []byte) uint32 {
	var crc uint32
	feed := func(b byte) { crc = crc<<8 ^ cksumBitTable[byte(crc>>24)^b] }
	for _, b := range p {
		feed(b)
	}
	for n := len(p); n > 0; n >>= 8 {
		feed(byte(n))
	}
	return ^crc
}

// cksumBitTable holds, for each byte b, the CRC register after b has been
// shifted out of its top byte one bit at a time.
var cksumBitTable = func() (t [256]uint32) {
	for b := range t {
		crc := uint32(b) << 24
		for range 8 {
			top := crc >> 31
			crc <<= 1
			if top != 0 {
				crc ^= cksum.Poly
			}
		}
		t[b] = crc
	}
	return t
}()

// typeOf returns the FrVect type code and length of a typed slice.
func typeOf(values any) (uint16, int, error) {
	switch v := values.(type) {
	case []int8:
		return typeC, len(v), nil
	case []uint8:
		return type1U, len(v), nil
	case []int16:
		return type2S, len(v), nil
	case []uint16:
		return type2U, len(v), nil
	case []int32:
		return type4S, len(v), nil
	case []uint32:
		return type4U, len(v), nil
	case []int64:
		return type8S, len(v), nil
	case []uint64:
		return type8U, len(v), nil
	case []float32:
		return type4R, len(v), nil
	case []float64:
		return type8R, len(v), nil
	case []complex64:
		return type8C, len(v), nil
	case []complex128:
		return type16C, len(v), nil
	}
	return 0, 0, fmt.Errorf("values of type %T", values)
}

// words returns the component words of values (real parts, then
// imaginary parts for complex numbers when zsOrder is set, else
// interleaved as stored) and their size in bytes.
func words(values any, zsOrder bool) ([]uint64, int) {
	var w []uint64
	size := 0
	add32 := func(x uint32) { w = append(w, uint64(x)) }
	switch v := values.(type) {
	case []int8:
		for _, x := range v {
			w = append(w, uint64(uint8(x)))
		}
		size = 1
	case []uint8:
		for _, x := range v {
			w = append(w, uint64(x))
		}
		size = 1
	case []int16:
		for _, x := range v {
			w = append(w, uint64(uint16(x)))
		}
		size = 2
	case []uint16:
		for _, x := range v {
			w = append(w, uint64(x))
		}
		size = 2
	case []int32:
		for _, x := range v {
			add32(uint32(x))
		}
		size = 4
	case []uint32:
		for _, x := range v {
			add32(x)
		}
		size = 4
	case []float32:
		for _, x := range v {
			add32(math.Float32bits(x))
		}
		size = 4
	case []int64:
		for _, x := range v {
			w = append(w, uint64(x))
		}
		size = 8
	case []uint64:
		w = append(w, v...)
		size = 8
	case []float64:
		for _, x := range v {
			w = append(w, math.Float64bits(x))
		}
		size = 8
	case []complex64:
		if zsOrder {
			for _, x := range v {
				add32(math.Float32bits(real(x)))
			}
			for _, x := range v {
				add32(math.Float32bits(imag(x)))
			}
		} else {
			for _, x := range v {
				add32(math.Float32bits(real(x)))
				add32(math.Float32bits(imag(x)))
			}
		}
		size = 4
	case []complex128:
		if zsOrder {
			for _, x := range v {
				w = append(w, math.Float64bits(real(x)))
			}
			for _, x := range v {
				w = append(w, math.Float64bits(imag(x)))
			}
		} else {
			for _, x := range v {
				w = append(w, math.Float64bits(real(x)), math.Float64bits(imag(x)))
			}
		}
		size = 8
	}
	return w, size
}

func putWords(w []uint64, size int, le bool) []byte {
	out := make([]byte, 0, len(w)*size)
	for _, x := range w {
		for i := range size {
			shift := 8 * i
			if !le {
				shift = 8 * (size - 1 - i)
			}
			out = append(out, byte(x>>shift))
		}
	}
	return out
}

func diffWords(w []uint64, size int) []uint64 {
	mask := uint64(math.MaxUint64)
	if size < 8 {
		mask = 1<<(8*size) - 1
	}
	out := make([]uint64, len(w))
	prev := uint64(0)
	for i, x := range w {
		out[i] = (x - prev) & mask
		prev = x
	}
	return out
}

// compressFor packs values as the compression code says, in the byte order
// its 256 flag says.
func compressFor(version int, code uint16, typ uint16, values any, zsBlock int) ([]byte, error) {
	le := code&littleEndian != 0
	low := code & 0xff
	var gz, zs, zst, diff bool
	if version >= 9 {
		gz, diff, zs, zst = low&v9Gzip != 0, low&v9Diff != 0, low&v9ZeroSuppress != 0, low&v9Zstd != 0
	} else {
		switch low {
		case 0:
		case 1:
			gz = true
		case 3:
			gz, diff = true, true
		case 5, 8, 10:
			zs = true
		case 6:
			if vtypes[typ].word == 2 {
				zs = true
			} else {
				gz = true
			}
		default:
			return nil, fmt.Errorf("code %d", code)
		}
	}
	w, size := words(values, zs)
	if zs {
		if zsBlock == 0 {
			zsBlock = 12
		}
		return zsEncode(diffWords(w, size), size, le, zsBlock), nil
	}
	if diff {
		w = diffWords(w, size)
	}
	data := putWords(w, size, le)
	switch {
	case gz:
		var buf bytes.Buffer
		zw := zlibWriters.Get().(*zlib.Writer)
		defer zlibWriters.Put(zw)
		zw.Reset(&buf)
		zw.Write(data)
		zw.Close()
		return buf.Bytes(), nil
	case zst:
		return zstdEncoder().EncodeAll(data, nil), nil
	}
	return data, nil
}

// zlibWriters keeps compressors for reuse: building one costs more than
// compressing a test channel. The fastest level is enough, as only the
// decoder is under test.
var zlibWriters = sync.Pool{New: func() any {
	zw, err := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	if err != nil {
		panic(err)
	}
	return zw
}}

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		panic(err)
	}
	return enc
})

// zsEncode zero-suppresses differences of size-byte words in blocks of
// bsize, as the specification's appendix describes.
func zsEncode(diffs []uint64, size int, le bool, bsize int) []byte {
	bits := uint(8 * size)
	field := zsField(size)
	var bw bitWriter
	bw.write(uint64(bsize), 16)
	for i := 0; i < len(diffs); i += bsize {
		block := diffs[i:min(i+bsize, len(diffs))]
		// Smallest nBits (>= 2) whose range -(2^(n-1)-1) .. 2^(n-1) holds
		// every difference, taken as a signed word; 0 if all are zero.
		nBits := uint(0)
		for _, d := range block {
			v := int64(d<<(64-bits)) >> (64 - bits) // the word as a signed number
			if v == 0 {
				continue
			}
			for n := max(nBits, 2); ; n++ {
				// At the full word size every value fits, wrapping.
				if n >= bits || (v >= -(int64(1)<<(n-1)-1) && v <= int64(1)<<(n-1)) {
					nBits = n
					break
				}
			}
		}
		if nBits == 0 {
			bw.write(0, field)
			continue
		}
		bw.write(uint64(nBits-1), field)
		bias := uint64(1)<<(nBits-1) - 1
		for _, d := range block {
			u := d + bias
			if nBits < 64 {
				u &= 1<<nBits - 1
			}
			bw.write(u, nBits)
		}
	}
	out := bw.bytes()
	for len(out)%size != 0 {
		out = append(out, 0)
	}
	if !le {
		out = swapWords(out, size)
	}
	return out
}

type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) write(v uint64, k uint) {
	for k > 0 {
		take := min(k, 8)
		w.acc |= (v & (1<<take - 1)) << w.n
		w.n += take
		v >>= take
		k -= take
		for w.n >= 8 {
			w.out = append(w.out, byte(w.acc))
			w.acc >>= 8
			w.n -= 8
		}
	}
}

func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}
