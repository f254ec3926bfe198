package gwf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
)

// DefaultMaxBytes is the bound Decode puts on the decoded samples of one
// file, summed over its channels, when Options.MaxBytes is 0.
const DefaultMaxBytes = 1 << 31

// Options adjusts Decode, Scan and Read.
type Options struct {
	// Keep reports whether a channel is wanted; nil keeps every channel.
	// Channels not kept are left out of the File and their vectors are not
	// expanded, but their structures are still checked.
	Keep func(kind Kind, name string) bool

	// MaxBytes bounds the decoded samples of the channels kept, summed over
	// the file; 0 means DefaultMaxBytes. A file over it fails with
	// ErrTooLarge before the samples are allocated.
	MaxBytes int64
}

// Decode parses a whole frame file held in memory with default Options.
//
// Every error it returns is an *Error about the bytes given (see
// ErrMalformed, ErrChecksum, ErrUnsupported and ErrTooLarge); on error it
// returns no File. The File does not refer to data after Decode returns.
// Decode expands vectors on up to GOMAXPROCS goroutines; it is safe to
// call from several goroutines at once.
func Decode(data []byte) (*File, error) {
	return Options{}.Decode(data)
}

// Decode parses a whole frame file held in memory, as the package-level
// Decode does, with these options. It reads the file as Read does, then
// expands the vector of every channel kept, checking the vectors'
// checksums and the file's alongside.
func (o Options) Decode(data []byte) (*File, error) {
	in := memInput(data, 0)
	defer in.close()
	d, err := o.read(in, modeDecode)
	if err != nil {
		return nil, err
	}
	if err := d.expandAll(); err != nil {
		return nil, err
	}
	return d.file, nil
}

// Scan parses a frame file as Decode does and makes every check of a
// length and declared size that Decode makes before it allocates, failing
// as Decode would for a size the file cannot hold or one over MaxBytes;
// but it expands no vector and verifies no checksum over a vector or the
// whole file, so it does little more than walk the structures, and a file
// it accepts may still fail to Decode. Every Channel of the File it
// returns has nil Values; File.Series still joins them, into Series with
// nil Values whose Shape counts the samples Decode would give.
func (o Options) Scan(data []byte) (*File, error) {
	in := memInput(data, 0)
	defer in.close()
	d, err := o.read(in, modeScan)
	if err != nil {
		return nil, err
	}
	return d.file, nil
}

// Read parses a frame file from r, which yields exactly size bytes, in one
// sequential pass, and returns an Index of it: its metadata and where each
// kept channel's vector is, for Index.Load to expand later.
//
// Read makes every check Decode makes short of expanding the samples: the
// structure of every part of the file, every length and declared size
// (including Options.MaxBytes over the channels kept, before anything is
// allocated for their samples), and every checksum the file carries, the
// vectors' and the whole file's included; so a file Read accepts fails to
// Decode only in the compressed data of a vector. Its errors are those of
// Decode, by the same rule of precedence, and, for r failing or ending
// before size bytes, an error wrapping r's (io.ErrUnexpectedEOF for a file
// shorter than size) that is not an *Error.
//
// Read holds no more of the file at a time than a few buffers of fixed
// size and one structure other than a vector, which it parses and then
// discards; a vector's fields are kept (of those after its data, up to
// 1 MiB: a vector with more is refused), its data only pass through its
// checksum, as do the structures whose content is not needed. The file
// checksum is worked out on a second goroutine as the bytes come in. Read
// takes no more than size bytes from r.
func (o Options) Read(r io.Reader, size int64) (*Index, error) {
	if size < 0 {
		return nil, fmt.Errorf("gwf: negative file size %d", size)
	}
	in := streamInput(r, size)
	defer in.close()
	d, err := o.read(in, modeRead)
	if err != nil {
		return nil, err
	}
	return d.index(), nil
}

// What a read of a file is for.
type mode int

const (
	modeRead   mode = iota // an Index, every checksum verified
	modeDecode             // the file in memory, its vectors' data kept for expansion, their checksums and the file's left to check alongside it
	modeScan               // sizes only: no checksum over a vector, a frame or the file
)

// read reads a file's structures; the caller closes in.
func (o Options) read(in *input, m mode) (*decoder, error) {
	d := &decoder{in: in, opts: o, budget: o.MaxBytes, scan: m == modeScan, keepData: m == modeDecode, later: m == modeDecode}
	if d.budget <= 0 {
		d.budget = DefaultMaxBytes
	}
	err := d.run()
	if err != nil {
		// A corrupt byte can make a file look well-formed but beyond what is
		// supported; the file checksum, when there is one, tells which.
		if e, ok := err.(*Error); ok && (e.kind == ErrUnsupported || e.kind == ErrTooLarge) && d.fileSumV8 {
			if derr := in.drain(); derr != nil {
				return nil, derr
			}
			if cerr := d.checkFileSum(where{Struct: "file", Offset: -1}); cerr != nil {
				return nil, cerr
			}
		}
		return nil, err
	}
	return d, nil
}

const (
	headerLen       = 40
	structHeaderLen = 14 // length, checksum type and class (or class), instance
)

// Class names, as the dictionary (FrSH) gives them.
const (
	nameFrSH         = "FrSH"
	nameFrSE         = "FrSE"
	nameFrameH       = "FrameH"
	nameFrAdcData    = "FrAdcData"
	nameFrProcData   = "FrProcData"
	nameFrSimData    = "FrSimData"
	nameFrVect       = "FrVect"
	nameFrEndOfFrame = "FrEndOfFrame"
	nameFrEndOfFile  = "FrEndOfFile"
)

// decoder reads a frame file's structures one after the other.
type decoder struct {
	in       *input
	data     []byte // the structure in hand, after its common header
	vbuf     []byte // the fields of the vector in hand before or after its data
	head     [headerLen]byte
	hdr      [structHeaderLen]byte
	order    binary.ByteOrder
	version  int
	opts     Options
	budget   int64
	scan     bool // check sizes only: no checksums over vectors, frames or the file
	keepData bool // keep each vector's data, a part of the input in memory
	later    bool // leave the vectors' checksums and the file's to expandAll

	vectSums []*span // with later, the vectors whose checksums are to check, in file order

	file    *File
	classes map[uint16]string // class id -> name, from FrSH
	frame   *frameState       // the open frame, between FrameH and FrEndOfFrame
	pieces  []*piece          // the channels kept, with their vectors

	sumOn     bool   // whether sum runs: a version 8 structure with a checksum to check
	sum       uint32 // the running checksum of the structure in hand
	frameOn   bool   // whether frameSum runs: a frame before version 8, to check
	frameSum  uint32 // the running checksum of the open frame
	vectErr   error  // the first vector checksum mismatch, in file order
	fileSumV8 bool   // whether the version 8 file checksum is being worked out
	eofWhere  where  // the FrEndOfFile, for a file checksum error
}

// checkFileSum compares, from version 8, the file checksum in the file's
// last 4 bytes with the file's bytes, every one of which has been taken;
// a stored 0 means none was computed.
func (d *decoder) checkFileSum(w where) error {
	if !d.fileSumV8 {
		return nil
	}
	got := cksum.Finish(d.in.fileCRC(), uint64(d.in.size-4))
	stored := d.order.Uint32(d.in.last[:])
	if stored == 0 {
		return nil
	}
	if got != stored {
		return w.err(ErrChecksum, "checksum mismatch in", "file checksum stored %08x, computed %08x", stored, got)
	}
	d.file.FileChecksum = true
	return nil
}

// frameState is what is gathered of a frame until its FrEndOfFrame.
type frameState struct {
	f     *Frame
	start int64            // offset of the FrameH
	chans []pending        // channels kept, waiting for their vectors
	vects map[uint32]*span // FrVect instance -> what it holds
	dups  map[dupKey]int   // channels seen so far per kind and name
}

// span is an FrVect as Read found it.
type span struct {
	off, end int64
	v        *vect // its fields; nil if they are malformed
	err      error // what is wrong in its fields, told when a channel uses it
	sumErr   error // its checksum mismatch; nil if none, or not checked
	sumLater bool  // whether its checksum is left to expandAll
}

type dupKey struct {
	kind Kind
	name string
}

type pending struct {
	ch   *Channel
	data ptr
	rate float64 // sampleRate the structure declares, 0 if none
	w    where
}

// structure is one structure's common header.
type structure struct {
	off, end int64
	chkType  byte
	class    uint16
	instance uint32
	name     string // class name from the dictionary, "" if unknown
}

func (s *structure) where(name string) where {
	st := s.name
	if st == "" {
		st = fmt.Sprintf("structure of class %d", s.class)
	}
	return where{Struct: st, Name: name, Offset: s.off}
}

func (d *decoder) run() error {
	if err := d.header(); err != nil {
		return err
	}
	d.classes = make(map[uint16]string)
	n := d.in.size
	for d.in.pos < n {
		s, err := d.structHeader()
		if err != nil {
			return err
		}
		done, err := d.structure(s)
		if err != nil {
			return err
		}
		if done {
			if s.end != n {
				return s.where("").malformed("extra bytes after", "%d bytes follow the end of file structure", n-s.end)
			}
			return d.finishRead()
		}
	}
	w := where{Offset: n}
	if d.frame != nil {
		return w.malformed("truncated", "the file ends inside frame %d (no FrEndOfFrame)", len(d.file.Frames)-1)
	}
	return w.malformed("truncated", "the file ends without an FrEndOfFile")
}

// finishRead reports, once the whole file has been read, a file checksum
// mismatch, or else the first vector checksum mismatch in file order;
// unless expandAll is to check them.
func (d *decoder) finishRead() error {
	if d.later {
		return nil
	}
	if err := d.checkFileSum(d.eofWhere); err != nil {
		return err
	}
	return d.vectErr
}

// readRaw reads len(p) bytes into p, through no checksum.
func (d *decoder) readRaw(p []byte) error {
	for len(p) > 0 {
		b, err := d.in.next(int64(len(p)))
		if err != nil {
			return err
		}
		p = p[copy(p, b):]
	}
	return nil
}

// readSummed reads len(p) bytes into p through the running checksums.
func (d *decoder) readSummed(p []byte) error {
	if err := d.readRaw(p); err != nil {
		return err
	}
	d.feed(p)
	return nil
}

// skipSummed passes n bytes through the running checksums.
func (d *decoder) skipSummed(n int64) error {
	for n > 0 {
		b, err := d.in.next(n)
		if err != nil {
			return err
		}
		d.feed(b)
		n -= int64(len(b))
	}
	return nil
}

// feed passes bytes of the structure in hand to the running checksums.
func (d *decoder) feed(b []byte) {
	if d.sumOn {
		d.sum = cksum.Update(d.sum, b)
	}
	if d.frameOn {
		d.frameSum = cksum.Update(d.frameSum, b)
	}
}

// header checks the 40-byte file header and learns the byte order.
func (d *decoder) header() error {
	w := where{Struct: "file header", Offset: 0}
	h := d.head[:min(d.in.size, headerLen)]
	if err := d.readRaw(h); err != nil {
		return err
	}
	if len(h) < 5 || string(h[:5]) != "IGWD\x00" {
		// What it starts with is not quoted: it may be anything at all.
		return &Error{Problem: "not a frame file", Offset: -1, Detail: fmt.Sprintf("its first %d bytes are not \"IGWD\\x00\"", min(len(h), 5)), kind: ErrMalformed}
	}
	if len(h) < headerLen {
		return w.malformed("truncated", "need %d bytes, have %d", headerLen, len(h))
	}
	v := int(h[5])
	if v < 6 || v > 9 {
		return w.unsupported("unsupported", "frame format version %d (versions 6 to 9 are read)", v)
	}
	if h[7] != 2 || h[8] != 4 || h[9] != 8 || h[10] != 4 || h[11] != 8 {
		return w.unsupported("unsupported", "word sizes %v (want 2, 4, 8, 4, 8)", h[7:12])
	}
	var order binary.ByteOrder
	switch {
	case h[12] == 0x34 && h[13] == 0x12:
		order = binary.LittleEndian
	case h[12] == 0x12 && h[13] == 0x34:
		order = binary.BigEndian
	default:
		return w.malformed("bad byte-order pattern in", "bytes 12-13 are % x, want 12 34 in either order", h[12:14])
	}
	if order.Uint32(h[14:]) != 0x12345678 || order.Uint64(h[18:]) != 0x0123456789abcdef ||
		math.Float32frombits(order.Uint32(h[26:])) != float32(math.Pi) || math.Float64frombits(order.Uint64(h[30:])) != math.Pi {
		return w.malformed("inconsistent byte-order patterns in", "the 4-byte, 8-byte and pi patterns disagree with the 2-byte one")
	}
	d.order = order
	d.version = v
	d.file = &File{Version: v, MinorVersion: int(h[6]), ByteOrder: "little"}
	if order == binary.BigEndian {
		d.file.ByteOrder = "big"
	}
	if v < 8 {
		if !d.scan {
			// Whether there is a file checksum is told at the end of the
			// file; work one out alongside the parse in case there is.
			d.in.startSum(d.in.size)
		}
		return nil
	}
	d.file.Library = int(h[38])
	switch h[39] {
	case 0:
	case 1:
		if d.scan {
			break
		}
		// The file checksum covers all but the last 4 bytes; work it out
		// alongside the parse, which needs the structure checksums only.
		d.in.startSum(d.in.size - 4)
		d.fileSumV8 = true
	default:
		return w.malformed("unknown file checksum scheme in", "byte 39 is %d (0 none, 1 CRC)", h[39])
	}
	return nil
}

// structHeader reads the common header of the structure at the input's
// position and checks its length; it starts the running checksums.
func (d *decoder) structHeader() (*structure, error) {
	off, n := d.in.pos, d.in.size
	if n-off < structHeaderLen {
		return nil, where{Offset: off}.malformed("truncated", "structure header needs %d bytes, have %d", structHeaderLen, n-off)
	}
	b := d.hdr[:]
	if err := d.readRaw(b); err != nil {
		return nil, err
	}
	length := d.order.Uint64(b)
	s := &structure{off: off, instance: d.order.Uint32(b[10:])}
	minLen := uint64(structHeaderLen)
	if d.version >= 8 {
		s.chkType, s.class = b[8], uint16(b[9])
		minLen += 4
	} else {
		s.class = d.order.Uint16(b[8:])
	}
	switch s.class {
	case 1:
		s.name = nameFrSH
	case 2:
		s.name = nameFrSE
	default:
		s.name = d.classes[s.class]
	}
	if s.name == nameFrEndOfFile && d.version >= 8 {
		minLen += 4
	}
	if length < minLen {
		return nil, s.where("").malformed("bad length of", "%d bytes, less than the %d of its header", length, minLen)
	}
	if length > uint64(n-off) {
		return nil, s.where("").malformed("truncated", "length %d, but %d bytes remain", length, n-off)
	}
	s.end = off + int64(length)
	d.sumOn = false
	if d.version < 8 {
		if !d.scan && s.name == nameFrameH && d.frame == nil {
			// The frame checksum runs from the FrameH to the end of its
			// FrEndOfFrame.
			d.frameOn, d.frameSum = true, 0
		}
		if d.frameOn {
			d.frameSum = cksum.Update(d.frameSum, b)
		}
		return s, nil
	}
	if s.chkType > 1 {
		return nil, s.where("").malformed("unknown checksum scheme in", "chkType %d (0 none, 1 CRC)", s.chkType)
	}
	// A vector's checksum, over most of a file's bytes, is reported only
	// once the whole file has been read, or when something looks wrong in
	// the vector; Scan does not check it.
	if s.chkType == 1 && !((d.scan || d.later) && s.name == nameFrVect) {
		d.sumOn, d.sum = true, cksum.Update(0, b)
	}
	return s, nil
}

// sumLen is how many bytes of s its checksum covers, short of the checksum
// that versions 8 and later end it with (and the file checksum after it,
// in FrEndOfFile).
func (d *decoder) sumLen(s *structure) int64 {
	n := s.end - s.off
	if d.version >= 8 {
		n -= 4
		if s.name == nameFrEndOfFile {
			n -= 4
		}
	}
	return n
}

// load reads the rest of s into d.data and checks its checksum.
func (d *decoder) load(s *structure) error {
	n := int(s.end - s.off - structHeaderLen)
	if cap(d.data) < n {
		d.data = make([]byte, n)
	}
	d.data = d.data[:n]
	if err := d.readRaw(d.data); err != nil {
		return err
	}
	fields := d.data[:d.sumLen(s)-structHeaderLen]
	if d.frameOn && s.name != nameFrEndOfFrame { // FrEndOfFrame's is its own to feed
		d.frameSum = cksum.Update(d.frameSum, d.data)
	}
	if !d.sumOn {
		return nil
	}
	stored := d.order.Uint32(d.data[len(fields):])
	if stored == 0 {
		return nil // not computed
	}
	if got := cksum.Finish(cksum.Update(d.sum, fields), uint64(d.sumLen(s))); got != stored {
		return s.where("").err(ErrChecksum, "checksum mismatch in", "stored %08x, computed %08x", stored, got)
	}
	return nil
}

// skip passes the rest of s, whose content is not needed, through its
// checksum.
func (d *decoder) skip(s *structure) error {
	if err := d.skipSummed(d.sumLen(s) - structHeaderLen); err != nil {
		return err
	}
	return d.checkSum(s)
}

// checkSum reads the checksum ending s, from version 8, and compares it
// with the running one.
func (d *decoder) checkSum(s *structure) error {
	if d.version < 8 {
		return nil
	}
	var b [4]byte
	if err := d.readRaw(b[:]); err != nil {
		return err
	}
	if !d.sumOn {
		return nil
	}
	stored := d.order.Uint32(b[:])
	if stored == 0 {
		return nil // not computed
	}
	if got := cksum.Finish(d.sum, uint64(d.sumLen(s))); got != stored {
		return s.where("").err(ErrChecksum, "checksum mismatch in", "stored %08x, computed %08x", stored, got)
	}
	return nil
}

// body returns a cursor over the fields of s, in d.data, short of the
// structure checksum that versions 8 and later end with.
func (d *decoder) body(s *structure) *cursor {
	return &cursor{b: d.data[:d.sumLen(s)-structHeaderLen], order: d.order}
}

// finish checks that a parser read exactly the fields of s.
func finish(c *cursor, w where) error {
	if c.short {
		return w.malformed("truncated", "its fields run past the end of the structure")
	}
	if c.rest() != 0 {
		return w.malformed("bad length of", "%d bytes left over after its fields", c.rest())
	}
	return nil
}

// structure reads one structure; done is true after FrEndOfFile.
func (d *decoder) structure(s *structure) (done bool, err error) {
	switch s.name {
	case nameFrVect:
		if d.frame != nil {
			if _, dup := d.frame.vects[s.instance]; dup {
				return false, s.where("").malformed("duplicate", "instance %d appears twice in frame %d", s.instance, len(d.file.Frames)-1)
			}
		}
		sp, err := d.vector(s)
		if err != nil {
			return false, err
		}
		if sp.sumErr != nil && d.vectErr == nil {
			d.vectErr = sp.sumErr
		}
		if d.frame != nil {
			d.frame.vects[s.instance] = sp
		}
		return false, nil
	case nameFrSH, nameFrameH, nameFrAdcData, nameFrProcData, nameFrSimData, nameFrEndOfFrame, nameFrEndOfFile:
		if err := d.load(s); err != nil {
			return false, err
		}
	default:
		// FrSE, FrDetector, FrHistory, FrRawData, FrEvent, FrTable, FrTOC, ...:
		// their length and checksum are checked; their content is not needed.
		return false, d.skip(s)
	}
	switch s.name {
	case nameFrSH:
		return false, d.frSH(s)
	case nameFrameH:
		return false, d.frameH(s)
	case nameFrAdcData, nameFrProcData, nameFrSimData:
		return false, d.channel(s)
	case nameFrEndOfFrame:
		return false, d.endOfFrame(s)
	}
	return true, d.endOfFile(s)
}

func (d *decoder) frSH(s *structure) error {
	c := d.body(s)
	name := c.str()
	id := c.u16()
	c.str() // comment
	w := s.where(name)
	if err := finish(c, w); err != nil {
		return err
	}
	if id < 3 {
		return w.malformed("bad class in", "class %d is reserved", id)
	}
	if old, ok := d.classes[id]; ok && old != name {
		return w.malformed("conflicting", "class %d was already named %q", id, old)
	}
	d.classes[id] = name
	return nil
}

func (d *decoder) frameH(s *structure) error {
	c := d.body(s)
	f := &Frame{Name: c.str()}
	w := s.where(f.Name)
	f.Run = c.i32()
	f.Number = c.u32()
	f.DataQuality = c.u32()
	sec, nsec := c.u32(), c.u32()
	f.ULeapS = c.u16()
	f.Duration = c.f64()
	for range 13 { // type, user, detectSim, detectProc, history, rawData, procData, simData, event, simEvent, summaryData, auxData, auxTable
		c.ptr()
	}
	if err := finish(c, w); err != nil {
		return err
	}
	if d.frame != nil {
		return w.malformed("misplaced", "frame %d has no FrEndOfFrame before this FrameH", len(d.file.Frames)-1)
	}
	if nsec >= 1e9 {
		return w.malformed("bad start time in", "GTimeN %d is not below 1e9", nsec)
	}
	if !finite(f.Duration) || f.Duration < 0 {
		return w.malformed("bad duration in", "dt %v", f.Duration)
	}
	f.GPS = Time{Sec: int64(sec), Nsec: int32(nsec)}
	d.file.Frames = append(d.file.Frames, f)
	d.frame = &frameState{f: f, start: s.off, vects: make(map[uint32]*span), dups: make(map[dupKey]int)}
	return nil
}

// channel reads an FrAdcData, FrProcData or FrSimData.
func (d *decoder) channel(s *structure) error {
	c := d.body(s)
	ch := &Channel{}
	ch.Name = c.str()
	ch.Comment = c.str()
	w := s.where(ch.Name)
	var rate float64
	var data ptr
	switch s.name {
	case nameFrAdcData:
		a := &AdcInfo{}
		ch.Kind, ch.Adc = Adc, a
		a.ChannelGroup = c.u32()
		a.ChannelNumber = c.u32()
		a.NBits = c.u32()
		a.Bias = c.f32()
		a.Slope = c.f32()
		a.Units = c.str()
		a.SampleRate = c.f64()
		ch.TimeOffset = c.f64()
		ch.FShift = c.f64()
		ch.Phase = c.f32()
		a.DataValid = c.u16()
		data = c.ptr()
		c.ptr() // aux
		c.ptr() // next
		rate = a.SampleRate
	case nameFrProcData:
		p := &ProcInfo{}
		ch.Kind, ch.Proc = Proc, p
		p.Type = c.u16()
		p.SubType = c.u16()
		ch.TimeOffset = c.f64()
		p.TRange = c.f64()
		ch.FShift = c.f64()
		ch.Phase = c.f32()
		p.FRange = c.f64()
		p.BW = c.f64()
		nAux := int(c.u16())
		if nAux*10 > c.rest() { // 8 bytes of value and at least 2 of name each
			return w.malformed("truncated", "%d auxiliary parameters do not fit in the structure", nAux)
		}
		if nAux > 0 {
			p.AuxParams = make([]AuxParam, nAux)
			for i := range p.AuxParams {
				p.AuxParams[i].Value = c.f64()
			}
			for i := range p.AuxParams {
				p.AuxParams[i].Name = c.str()
			}
		}
		data = c.ptr()
		c.ptr() // aux
		c.ptr() // table
		c.ptr() // history
		c.ptr() // next
	case nameFrSimData:
		sim := &SimInfo{}
		ch.Kind, ch.Sim = Sim, sim
		if d.version == 6 {
			sim.SampleRate = float64(c.f32())
		} else {
			sim.SampleRate = c.f64()
		}
		ch.TimeOffset = c.f64()
		ch.FShift = c.f64()
		ch.Phase = c.f32()
		data = c.ptr()
		c.ptr() // input
		c.ptr() // table
		c.ptr() // next
		rate = sim.SampleRate
	}
	if err := finish(c, w); err != nil {
		return err
	}
	fs := d.frame
	if fs == nil {
		return w.malformed("misplaced", "channel outside a frame (no FrameH before it)")
	}
	if !finite(ch.TimeOffset) || math.Abs(ch.TimeOffset) > 1e10 {
		return w.malformed("bad time offset in", "timeOffset %v", ch.TimeOffset)
	}
	key := dupKey{ch.Kind, ch.Name}
	ch.Dup = fs.dups[key]
	fs.dups[key]++
	if d.opts.Keep != nil && !d.opts.Keep(ch.Kind, ch.Name) {
		return nil
	}
	ch.Frame = len(d.file.Frames) - 1
	fs.chans = append(fs.chans, pending{ch: ch, data: data, rate: rate, w: w})
	return nil
}

func (d *decoder) endOfFrame(s *structure) error {
	c := d.body(s)
	run := c.i32()
	number := c.u32()
	var chkType, chkSum uint32
	if d.version >= 8 {
		// GTimeS, GTimeN: not compared with the FrameH's. frameCPP writes
		// 0 there, and FrameL's reader ties the two structures by run and
		// frame number only; the frame's time is the FrameH's.
		c.u32()
		c.u32()
	} else {
		chkType, chkSum = c.u32(), c.u32()
	}
	w := s.where("")
	if err := finish(c, w); err != nil {
		return err
	}
	fs := d.frame
	if fs == nil {
		return w.malformed("misplaced", "FrEndOfFrame without a FrameH before it")
	}
	f := fs.f
	if run != f.Run || number != f.Number {
		return w.malformed("inconsistent", "run %d frame %d, but its FrameH says run %d frame %d", run, number, f.Run, f.Number)
	}
	if chkType > 1 {
		return w.malformed("unknown checksum scheme in", "chkType %d (0 none, 1 CRC)", chkType)
	}
	if d.frameOn {
		d.frameOn = false
		if chkType == 1 && chkSum != 0 {
			// The frame checksum runs from the FrameH to this structure's
			// end, its own chkSum counted as zero.
			crc := cksum.Update(d.frameSum, d.data[:len(d.data)-4])
			crc = cksum.Update(crc, []byte{0, 0, 0, 0})
			if got := cksum.Finish(crc, uint64(s.end-fs.start)); got != chkSum {
				return w.err(ErrChecksum, "checksum mismatch in", "frame checksum stored %08x, computed %08x", chkSum, got)
			}
		}
	}
	for _, p := range fs.chans {
		if err := d.resolve(fs, p); err != nil {
			return err
		}
		f.Channels = append(f.Channels, p.ch)
	}
	d.frame = nil
	return nil
}

func (d *decoder) endOfFile(s *structure) error {
	c := d.body(s)
	nFrames := c.u32()
	nBytes := c.u64()
	var chkType, chkSum, chkSumHeader uint32
	var sumAt int
	if d.version >= 8 {
		c.u64() // seekTOC
		chkSumHeader = c.u32()
	} else {
		chkType = c.u32()
		sumAt = c.pos
		chkSum = c.u32()
		c.u64() // seekTOC
	}
	w := s.where("")
	if err := finish(c, w); err != nil {
		return err
	}
	if d.frame != nil {
		return w.malformed("misplaced", "frame %d has no FrEndOfFrame", len(d.file.Frames)-1)
	}
	if int(nFrames) != len(d.file.Frames) {
		return w.malformed("inconsistent", "nFrames %d, but the file holds %d frames", nFrames, len(d.file.Frames))
	}
	if nBytes != 0 && nBytes != uint64(d.in.size) {
		return w.malformed("inconsistent", "nBytes %d, but the file is %d bytes", nBytes, d.in.size)
	}
	if d.version >= 8 {
		if chkSumHeader != 0 {
			if got := cksum.Sum(d.head[:]); got != chkSumHeader {
				return w.err(ErrChecksum, "checksum mismatch in", "file header checksum stored %08x, computed %08x", chkSumHeader, got)
			}
		}
		d.eofWhere = w // the file checksum is checked by finishRead
		return nil
	}
	if chkType > 1 {
		return w.malformed("unknown checksum scheme in", "chkType %d (0 none, 1 CRC)", chkType)
	}
	if chkType == 1 && chkSum != 0 && !d.scan {
		d.file.FileChecksum = true
		// The checksum of the whole file, its chkSum counted as zero: the
		// one worked out, of the bytes as they are, less that of the 4
		// stored ones followed by the rest of the file's length in zeros.
		if err := d.in.drain(); err != nil {
			return err
		}
		crc := d.in.fileCRC()
		crc ^= zeroExtend(cksum.Update(0, d.data[sumAt:sumAt+4]), d.in.size-(s.off+structHeaderLen+int64(sumAt)+4))
		if got := cksum.Finish(crc, uint64(d.in.size)); got != chkSum {
			return w.err(ErrChecksum, "checksum mismatch in", "file checksum stored %08x, computed %08x", chkSum, got)
		}
	}
	return nil
}

// zeroExtend feeds n zero bytes to a running checksum.
func zeroExtend(crc uint32, n int64) uint32 {
	var zeros [512]byte
	for n > 0 {
		k := min(n, int64(len(zeros)))
		crc = cksum.Update(crc, zeros[:k])
		n -= k
	}
	return crc
}

// resolve finds a channel's vector in its frame and checks it.
func (d *decoder) resolve(fs *frameState, p pending) error {
	ch, w := p.ch, p.w
	if p.data.class == 0 {
		return w.malformed("no data in", "its data pointer is null")
	}
	if name := d.classes[p.data.class]; name != nameFrVect {
		return w.malformed("bad data pointer in", "it points to class %d (%q), not an FrVect", p.data.class, name)
	}
	sp, ok := fs.vects[p.data.inst]
	if !ok {
		return w.malformed("dangling data pointer in", "FrVect instance %d is not in frame %d", p.data.inst, ch.Frame)
	}
	err := sp.err
	if err == nil {
		v := *sp.v // fill names it after the channel
		err = d.fill(ch, &v, p.rate, w, sp)
	}
	if err != nil {
		// What looks wrong in a vector may be a corrupt byte.
		sumErr := sp.sumErr
		if sp.sumLater {
			sumErr = d.vectSum(sp)
		}
		if sumErr != nil {
			return sumErr
		}
	}
	return err
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// index makes the Index of a file read.
func (d *decoder) index() *Index {
	x := &Index{file: d.file, version: d.version, order: d.order, classes: d.classes, pieces: d.pieces,
		byKey: make(map[pieceKey]*piece, len(d.pieces))}
	for _, p := range d.pieces {
		x.byKey[pieceKey{p.ch.Kind, p.ch.Name, p.ch.Dup, p.ch.Frame}] = p
	}
	return x
}

// expandAll expands the samples of every channel kept, of a file read in
// memory, and checks the vectors' checksums, on as many goroutines as
// there are processors, while the file checksum is worked out. All of it
// is done, so that the error returned does not depend on the order the
// work happened in: a file checksum error, or else the first vector
// checksum error in file order, or else the first expansion error in the
// order of the channels.
func (d *decoder) expandAll() error {
	// Expansions first: with one large vector, one goroutine inflates it
	// while another checks the checksums.
	pieces, sums := d.pieces, d.vectSums
	n := len(pieces) + len(sums)
	errs := make([]error, n)
	task := func(i int) error {
		if i >= len(pieces) {
			return d.vectSum(sums[i-len(pieces)])
		}
		p := pieces[i]
		values := newValues(p.t, int(p.v.nData))
		if values == nil {
			return p.v.w.unsupported("unsupported", "data type %s", p.t.name)
		}
		err := expand(values, p.v, p.t, p.s)
		if err == nil {
			p.ch.Values = values
		}
		return err
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			errs[i] = task(i)
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if err := d.checkFileSum(d.eofWhere); err != nil {
		return err
	}
	for _, err := range errs[len(pieces):] {
		if err != nil {
			return err
		}
	}
	for _, err := range errs[:len(pieces)] {
		if err != nil {
			return err
		}
	}
	return nil
}

// vectSum checks the checksum of an FrVect of a file in memory.
func (d *decoder) vectSum(sp *span) error {
	b := d.in.mem[sp.off-d.in.base : sp.end-d.in.base]
	stored := d.order.Uint32(b[len(b)-4:])
	if stored == 0 {
		return nil // not computed
	}
	if got := cksum.Sum(b[:len(b)-4]); got != stored {
		return where{Struct: nameFrVect, Offset: sp.off}.err(ErrChecksum, "checksum mismatch in", "stored %08x, computed %08x", stored, got)
	}
	return nil
}
