package gwf

import (
	"math"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// vtype describes an FrVect data type.
type vtype struct {
	name    string // the specification's name, for messages
	dtype   string // NumPy name; "" for types not decoded
	size    int    // bytes per element
	word    int    // bytes per component word: size, or size/2 for complex
	integer bool
}

// FrVect type codes.
const (
	typeC      = 0
	type2S     = 1
	type8R     = 2
	type4R     = 3
	type4S     = 4
	type8S     = 5
	type8C     = 6
	type16C    = 7
	typeString = 8
	type2U     = 9
	type4U     = 10
	type8U     = 11
	type1U     = 12
)

var vtypes = [...]vtype{
	typeC:      {"CHAR", "int8", 1, 1, true},
	type2S:     {"INT_2S", "int16", 2, 2, true},
	type8R:     {"REAL_8", "float64", 8, 8, false},
	type4R:     {"REAL_4", "float32", 4, 4, false},
	type4S:     {"INT_4S", "int32", 4, 4, true},
	type8S:     {"INT_8S", "int64", 8, 8, true},
	type8C:     {"COMPLEX_8", "complex64", 8, 4, false},
	type16C:    {"COMPLEX_16", "complex128", 16, 8, false},
	typeString: {"STRING", "", 0, 0, false},
	type2U:     {"INT_2U", "uint16", 2, 2, true},
	type4U:     {"INT_4U", "uint32", 4, 4, true},
	type8U:     {"INT_8U", "uint64", 8, 8, true},
	type1U:     {"CHAR_U", "uint8", 1, 1, true},
}

// vect is an FrVect as stored.
type vect struct {
	name     string
	compress uint16
	typ      uint16
	nData    uint64
	nBytes   int64   // how many bytes of data it stores
	head     [8]byte // the first of them, up to 8
	data     []byte  // the data as stored, possibly compressed, when at hand
	nx       []uint64
	dx       []float64
	startX   []float64
	unitX    []string
	unitY    string
	w        where
}

// maxVectFields bounds the bytes of an FrVect's fields after its data:
// nDim, its dimensions and units, unitY and next. A vector has one or a
// few dimensions, each of 24 bytes and a unit; more is refused rather than
// read.
const maxVectFields = 1 << 20

// vector reads the rest of the FrVect s as its bytes come in: it keeps the
// fields before and after the data, passes the data through the checksum
// (keeping them only when the decoder keeps data, the input being in
// memory), and checks the checksum. What is wrong in the fields is told
// in the span, to be reported when a channel uses the vector; the error
// returned is the input's.
func (d *decoder) vector(s *structure) (*span, error) {
	sp := &span{off: s.off, end: s.end}
	left := d.sumLen(s) - structHeaderLen // the bytes of its fields
	v, bad, err := d.vectFields(s, left)
	if err != nil {
		return nil, err
	}
	if bad != nil {
		sp.err = bad
	} else {
		sp.v = v
	}
	if d.later && d.version >= 8 && s.chkType == 1 {
		sp.sumLater = true
		d.vectSums = append(d.vectSums, sp)
	}
	if err := d.checkSum(s); err != nil {
		if _, ok := err.(*Error); !ok {
			return nil, err
		}
		sp.sumErr = err
	}
	return sp, nil
}

// vectFields reads the left bytes of an FrVect's fields; bad is what is
// wrong in them, err what is wrong with the input.
func (d *decoder) vectFields(s *structure, left int64) (v *vect, bad, err error) {
	// Take the rest of the fields, past something wrong in them.
	rest := func(e *Error) (*vect, error, error) {
		return nil, e, d.skipSummed(left)
	}
	truncated := func(name string) (*vect, error, error) {
		return rest(s.where(name).malformed("truncated", "its fields run past the end of the structure"))
	}
	if left < 2 {
		return truncated("")
	}
	// name, compress, type, nData, nBytes
	pre := d.scratch(2)
	if err := d.readSummed(pre); err != nil {
		return nil, nil, err
	}
	left -= 2
	k := min(int64(d.order.Uint16(pre))+20, left)
	pre = d.scratch(2 + int(k))
	if err := d.readSummed(pre[2:]); err != nil {
		return nil, nil, err
	}
	left -= k
	c := &cursor{b: pre, order: d.order}
	v = &vect{name: c.str()}
	v.w = s.where(v.name)
	v.compress = c.u16()
	v.typ = c.u16()
	v.nData = c.u64()
	nBytes := c.u64()
	if c.short {
		return rest(v.w.malformed("truncated", "its fields run past the end of the structure"))
	}
	if nBytes > uint64(left) {
		return rest(v.w.malformed("truncated", "need %d bytes of data, have %d", nBytes, left))
	}
	v.nBytes = int64(nBytes)
	if d.keepData && d.in.inMem {
		i := d.in.pos - d.in.base
		v.data = d.in.mem[i : i+v.nBytes]
	}
	h := min(v.nBytes, int64(len(v.head)))
	if err := d.readSummed(v.head[:h]); err != nil {
		return nil, nil, err
	}
	if err := d.skipSummed(v.nBytes - h); err != nil {
		return nil, nil, err
	}
	left -= v.nBytes

	// nDim, nx, dx, startX, unitX, unitY, next
	if left > maxVectFields {
		var b [4]byte
		if err := d.readSummed(b[:]); err != nil {
			return nil, nil, err
		}
		left -= 4
		switch nDim := uint64(d.order.Uint32(b[:])); {
		case nDim*26 > uint64(left):
			return rest(v.w.malformed("truncated", "%d dimensions do not fit in the structure", nDim))
		case nDim == 0:
			return rest(v.w.malformed("bad shape of", "no dimensions"))
		}
		return rest(v.w.malformed("bad length of", "%d bytes of fields after its data, more than the %d a vector's take", left+4, maxVectFields))
	}
	post := d.scratch(int(left))
	if err := d.readSummed(post); err != nil {
		return nil, nil, err
	}
	if err := v.shape(&cursor{b: post, order: d.order}); err != nil {
		return nil, err, nil
	}
	return v, nil, nil
}

// scratch returns d.vbuf with n bytes.
func (d *decoder) scratch(n int) []byte {
	if cap(d.vbuf) < n {
		d.vbuf = append(d.vbuf[:cap(d.vbuf)], make([]byte, n-cap(d.vbuf))...)
	}
	return d.vbuf[:n]
}

// shape reads the fields of an FrVect after its data, the rest of the
// structure, and checks its dimensions.
func (v *vect) shape(c *cursor) error {
	nDim := c.u32()
	// Each dimension takes nx, dx, startX (24 bytes) and a unitX string (2 or more).
	if uint64(nDim)*26 > uint64(c.rest()) {
		return v.w.malformed("truncated", "%d dimensions do not fit in the structure", nDim)
	}
	if nDim == 0 {
		return v.w.malformed("bad shape of", "no dimensions")
	}
	v.nx = make([]uint64, nDim)
	v.dx = make([]float64, nDim)
	v.startX = make([]float64, nDim)
	v.unitX = make([]string, nDim)
	for i := range v.nx {
		v.nx[i] = c.u64()
	}
	for i := range v.dx {
		v.dx[i] = c.f64()
	}
	for i := range v.startX {
		v.startX[i] = c.f64()
	}
	for i := range v.unitX {
		v.unitX[i] = c.str()
	}
	v.unitY = c.str()
	c.ptr() // next
	if err := finish(c, v.w); err != nil {
		return err
	}
	prod := uint64(1)
	for _, n := range v.nx {
		if n > math.MaxInt32 {
			return v.w.malformed("bad shape of", "dimension of %d elements", n)
		}
		if n != 0 && prod > math.MaxUint64/n {
			return v.w.malformed("bad shape of", "dimensions %v overflow", v.nx)
		}
		prod *= n
	}
	if prod != v.nData {
		return v.w.malformed("bad shape of", "dimensions %v hold %d elements, but nData is %d", v.nx, prod, v.nData)
	}
	return nil
}

// piece is a channel kept and its vector, as Read found them.
type piece struct {
	ch       *Channel
	off, end int64 // the FrVect
	v        *vect
	t        *vtype
	s        scheme
}

// fill sets a channel's axis and metadata from its vector sp, and keeps
// the channel for its samples to be expanded. rate is the sample rate its
// structure declares, 0 if none.
func (d *decoder) fill(ch *Channel, v *vect, rate float64, w where, sp *span) error {
	if v.name == "" {
		v.w.Name = ch.Name
	}
	if int(v.typ) >= len(vtypes) || vtypes[v.typ].dtype == "" {
		name := "unknown"
		if int(v.typ) < len(vtypes) {
			name = vtypes[v.typ].name
		}
		return v.w.unsupported("unsupported", "data type %d (%s)", v.typ, name)
	}
	t := &vtypes[v.typ]
	s, err := d.prepare(v, t)
	if err != nil {
		return err
	}
	d.pieces = append(d.pieces, &piece{ch: ch, off: sp.off, end: sp.end, v: v, t: t, s: s})
	ch.DType = t.dtype
	ch.Compression = v.compress
	ch.Unit = v.unitY
	ch.XUnit = v.unitX[0]
	ch.StartX = v.startX[0]
	ch.Shape = make([]int, len(v.nx))
	for i, n := range v.nx {
		ch.Shape[i] = int(n) // parseVect bounds n
	}
	dx := v.dx[0]
	switch {
	case finite(dx) && dx > 0:
		ch.Dx = dx
		ch.SampleRate = 1 / dx
		if finite(rate) && rate > 0 && math.Abs(rate*dx-1) > 1e-6 {
			return w.malformed("inconsistent", "sampleRate %v disagrees with its FrVect's dx %v", rate, dx)
		}
	case finite(rate) && rate > 0:
		ch.Dx = 1 / rate
		ch.SampleRate = rate
	}
	start := d.file.Frames[ch.Frame].GPS.Add(ch.TimeOffset)
	if ch.isTimeSeries() && finite(ch.StartX) && math.Abs(ch.StartX) < 1e10 {
		start = start.Add(ch.StartX)
	}
	ch.T0 = start
	return nil
}

// isTimeSeries reports whether the first dimension is time.
func (m *Meta) isTimeSeries() bool {
	return m.Kind != Proc || m.Proc.Type <= 1
}

// scheme is how a vector's data are packed.
type scheme struct {
	gzip, zstd bool
	diff       bool // the values are differences, to be summed back
	zsWord     int  // zero-suppressed words of this many bytes; 0 if not
	le         bool // written by a little-endian machine
}

// The version 9 compression code is a set of flags.
const (
	v9Gzip         = 1 << 0
	v9Diff         = 1 << 1
	v9ZeroSuppress = 1 << 2
	v9Zstd         = 1 << 3
	littleEndian   = 1 << 8 // in every version: the writer was little-endian
)

// schemeOf reads a compression code for a vector of type t.
//
// Up to version 8 the low byte names the method: 0 raw, 1 gzip,
// 3 differences then gzip (integers), 5, 8 and 10 zero suppression of 2-,
// 4- and 8-byte words, and 6, which asks for zero suppression of 2-byte
// words and gzip for everything else. Version 9 replaces the low byte with
// the v9 flags, where zero suppression applies to the type's own word size.
// In both, 256 added to the code says the data were written little-endian.
func (d *decoder) schemeOf(code uint16, t *vtype, w where) (scheme, error) {
	s := scheme{le: code&littleEndian != 0}
	bad := func(why string) (scheme, error) {
		return scheme{}, w.unsupported("unsupported compression of", "code %d for %s data: %s", code, t.name, why)
	}
	if code&^0x1ff != 0 {
		return bad("unknown code")
	}
	low := code & 0xff
	if d.version >= 9 {
		if low&^0xf != 0 {
			return bad("unknown flags")
		}
		s.gzip = low&v9Gzip != 0
		s.zstd = low&v9Zstd != 0
		s.diff = low&v9Diff != 0
		if low&v9ZeroSuppress != 0 {
			s.zsWord = t.word
		}
		switch {
		case s.gzip && s.zstd:
			return bad("gzip and zstd together")
		case s.zsWord != 0 && (s.gzip || s.zstd || s.diff):
			return bad("zero suppression combined with another method")
		}
	} else {
		switch low {
		case 0:
		case 1:
			s.gzip = true
		case 3:
			s.gzip, s.diff = true, true
		case 5:
			s.zsWord = 2
		case 6:
			if t.word == 2 {
				s.zsWord = 2
			} else {
				s.gzip = true
			}
		case 8:
			s.zsWord = 4
		case 10:
			s.zsWord = 8
		default:
			return bad("unknown code")
		}
	}
	if s.diff && !t.integer {
		return bad("differences are defined for integers only")
	}
	if s.zsWord != 0 && (s.zsWord != t.word || t.word == 1) {
		return bad("zero suppression of this word size does not fit the type")
	}
	return s, nil
}

// The most bytes a compressed stream can expand to per byte: deflate codes
// a 258-byte match in 2 bits at best, and a 4-byte zstd RLE block expands
// to at most 128 KiB. A vector declaring more than its compressed bytes
// could hold is rejected before anything is allocated for it.
//
// Zero suppression's best case is a block of zero differences, B words in
// one field of 4 to 6 bits, so its ratio grows with the block size the
// file declares, up to 262140 for blocks of 65535 2-byte words: a 9 KB
// vector could declare a billion samples. FrameL writes blocks of 12
// words and frameCPP of 8, which expand at most 48 and 52 times; a
// zero-suppressed vector may expand no more than a gzip one, which allows
// blocks of up to 258, 161 and 96 words of 2, 4 and 8 bytes.
const (
	maxGzipRatio         = 1032
	maxZstdRatio         = 32768
	maxZeroSuppressRatio = maxGzipRatio
)

// prepare checks, before anything is allocated, that a vector's data can
// be expanded: a compression defined for its type, a size within the
// decode limit and within what its stored bytes could hold.
func (d *decoder) prepare(v *vect, t *vtype) (scheme, error) {
	s, err := d.schemeOf(v.compress, t, v.w)
	if err != nil {
		return s, err
	}
	if v.nData > uint64(d.budget)/uint64(t.size) {
		return s, v.w.err(ErrTooLarge, "too large", "%d samples of %d bytes exceed the %d bytes left of the decode limit", v.nData, t.size, d.budget)
	}
	size := int(v.nData) * t.size
	nBytes := uint64(v.nBytes)
	switch {
	case s.gzip && uint64(size) > maxGzipRatio*nBytes+1024:
		return s, v.w.malformed("impossible size of", "%d bytes of gzip data cannot hold %d bytes", nBytes, size)
	case s.zstd && uint64(size) > maxZstdRatio*nBytes+1024:
		return s, v.w.malformed("impossible size of", "%d bytes of zstd data cannot hold %d bytes", nBytes, size)
	case s.zsWord != 0 && uint64(size) > maxZeroSuppressRatio*nBytes+1024:
		return s, v.w.malformed("impossible size of", "%d bytes of zero-suppressed data cannot hold %d bytes (at most %d times as many)", nBytes, size, maxZeroSuppressRatio)
	case !s.gzip && !s.zstd && s.zsWord == 0 && v.nBytes != int64(size):
		return s, v.w.malformed("bad size of", "%d bytes of data, want %d (%d samples of %d bytes)", v.nBytes, size, v.nData, t.size)
	}
	if s.zsWord != 0 {
		if err := zsCheck(v.head[:min(v.nBytes, int64(len(v.head)))], v.nBytes, int(v.nData)*(t.size/t.word), s.zsWord, s.le, v.w); err != nil {
			return s, err
		}
	}
	d.budget -= int64(size)
	return s, nil
}

// expand decodes a prepared vector's data, at hand, into values, a typed
// slice of exactly its samples.
func expand(values any, v *vect, t *vtype, s scheme) error {
	if s.zsWord != 0 {
		return zsExpand(values, v, t, s)
	}
	switch {
	case s.gzip:
		if err := inflate(values, v.data, t.size, s.le, v.w); err != nil {
			return err
		}
	case s.zstd:
		buf := getBuf(int(v.nData) * t.size)
		defer putBuf(buf)
		if err := unzstd(buf, v.data, v.w); err != nil {
			return err
		}
		putBytes(values, 0, buf, s.le)
	default:
		putBytes(values, 0, v.data, s.le)
	}
	if s.diff {
		integrate(values)
	}
	return nil
}

// newValues makes a slice of n samples of t's type; nil for a type not
// decoded.
func newValues(t *vtype, n int) any { return samples.Make(samples.DType(t.dtype), n) }

// putBytes converts b, whole samples in the given byte order, into values
// from sample i on.
func putBytes(values any, i int, b []byte, le bool) {
	d := samples.Of(values)
	w, dst := samples.Width(d), samples.Bytes(values)
	if w == 0 || i*w >= len(dst) {
		return
	}
	dst = dst[i*w:]
	n := min(len(dst), len(b)/w*w)
	copy(dst[:n], b[:n])
	if le != samples.NativeLittle {
		samples.SwapOrder(dst[:n], d)
	}
}

// integrate sums differences back into values, wrapping as the integers
// they were taken of.
func integrate(values any) {
	switch v := values.(type) {
	case []int8:
		cumsum(v)
	case []uint8:
		cumsum(v)
	case []int16:
		cumsum(v)
	case []uint16:
		cumsum(v)
	case []int32:
		cumsum(v)
	case []uint32:
		cumsum(v)
	case []int64:
		cumsum(v)
	case []uint64:
		cumsum(v)
	}
}

func cumsum[T int8 | uint8 | int16 | uint16 | int32 | uint32 | int64 | uint64](v []T) {
	for i := 1; i < len(v); i++ {
		v[i] += v[i-1]
	}
}
