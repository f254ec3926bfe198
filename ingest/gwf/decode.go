package gwf

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
)

// DefaultMaxBytes is the bound Decode puts on the decoded samples of one
// file, summed over its channels, when Options.MaxBytes is 0.
const DefaultMaxBytes = 1 << 31

// Options adjusts Decode.
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
// Decode does, with these options.
func (o Options) Decode(data []byte) (*File, error) {
	return o.decode(data, false)
}

// Scan parses a frame file as Decode does and makes every check of a
// length and declared size that Decode makes before it allocates, failing
// as Decode would for a size the file cannot hold or one over MaxBytes;
// but it expands no vector and verifies no checksum over a vector or the
// whole file, so it reads little more than the structures' headers, and a
// file it accepts may still fail to Decode. Every Channel of the File it
// returns has nil Values; File.Series still joins them, into Series with
// nil Values whose Shape counts the samples Decode would give.
func (o Options) Scan(data []byte) (*File, error) {
	return o.decode(data, true)
}

func (o Options) decode(data []byte, scan bool) (*File, error) {
	d := &decoder{data: data, opts: o, budget: o.MaxBytes, scan: scan}
	if d.budget <= 0 {
		d.budget = DefaultMaxBytes
	}
	f, err := d.run()
	if err != nil {
		// A corrupt byte can make a file look well-formed but beyond what is
		// supported; the file checksum, when there is one, tells which.
		if e, ok := err.(*Error); ok && (e.kind == ErrUnsupported || e.kind == ErrTooLarge) {
			if cerr := d.checkFileSum(where{Struct: "file", Offset: -1}); cerr != nil {
				return nil, cerr
			}
		}
		return nil, err
	}
	return f, nil
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

type decoder struct {
	data    []byte
	order   binary.ByteOrder
	version int
	opts    Options
	budget  int64
	scan    bool // check sizes only: no expansion, no checksums over vectors or the file

	file    *File
	classes map[uint16]string // class id -> name, from FrSH
	frame   *frameState       // the open frame, between FrameH and FrEndOfFrame

	jobs     []job        // vectors to expand once the whole file has been read
	vectSums []*structure // FrVect structures whose checksums are still to check

	eofWhere   where       // the FrEndOfFile, for a file checksum error
	fileSum    chan uint32 // checksum of the file up to its last 4 bytes, when one is to be checked
	fileSumGot *uint32     // what fileSum gave, once received
}

// checkFileSum compares, from version 8, the file checksum in the file's
// last 4 bytes with the file's bytes; a stored 0 means none was computed.
func (d *decoder) checkFileSum(w where) error {
	if d.fileSum == nil {
		return nil
	}
	if d.fileSumGot == nil {
		got := <-d.fileSum
		d.fileSumGot = &got
	}
	stored := d.order.Uint32(d.data[len(d.data)-4:])
	if stored == 0 {
		return nil
	}
	if *d.fileSumGot != stored {
		return w.err(ErrChecksum, "checksum mismatch in", "file checksum stored %08x, computed %08x", stored, *d.fileSumGot)
	}
	d.file.FileChecksum = true
	return nil
}

// frameState is what is gathered of a frame until its FrEndOfFrame.
type frameState struct {
	f     *Frame
	start int64           // offset of the FrameH
	chans []pending       // channels kept, waiting for their vectors
	vects map[uint32]span // FrVect instance -> where it is
	dups  map[dupKey]int  // channels seen so far per kind and name
}

type span struct {
	off, end int64
	chkType  byte
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

func (d *decoder) run() (*File, error) {
	if err := d.header(); err != nil {
		return nil, err
	}
	d.classes = make(map[uint16]string)
	n := int64(len(d.data))
	off := int64(headerLen)
	for off < n {
		s, err := d.structHeader(off)
		if err != nil {
			return nil, err
		}
		done, err := d.structure(s)
		if err != nil {
			return nil, err
		}
		off = s.end
		if done {
			if off != n {
				return nil, s.where("").malformed("extra bytes after", "%d bytes follow the end of file structure", n-off)
			}
			if err := d.finishAll(); err != nil {
				return nil, err
			}
			return d.file, nil
		}
	}
	w := where{Offset: n}
	if d.frame != nil {
		return nil, w.malformed("truncated", "the file ends inside frame %d (no FrEndOfFrame)", len(d.file.Frames)-1)
	}
	return nil, w.malformed("truncated", "the file ends without an FrEndOfFile")
}

// header checks the 40-byte file header and learns the byte order.
func (d *decoder) header() error {
	w := where{Struct: "file header", Offset: 0}
	h := d.data
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
	if v >= 8 {
		d.file.Library = int(h[38])
		switch h[39] {
		case 0:
		case 1:
			if d.scan {
				break
			}
			// The file checksum covers all but the last 4 bytes; work it out
			// alongside the parse, which needs the structure checksums only.
			d.fileSum = make(chan uint32, 1)
			body := d.data[:len(d.data)-4]
			go func() { d.fileSum <- cksum.Sum(body) }()
		default:
			return w.malformed("unknown file checksum scheme in", "byte 39 is %d (0 none, 1 CRC)", h[39])
		}
	}
	return nil
}

// structHeader reads the common header of the structure at off and checks
// its length and, from version 8, its checksum.
func (d *decoder) structHeader(off int64) (*structure, error) {
	n := int64(len(d.data))
	if n-off < structHeaderLen {
		return nil, where{Offset: off}.malformed("truncated", "structure header needs %d bytes, have %d", structHeaderLen, n-off)
	}
	b := d.data[off:]
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
	if d.version < 8 {
		return s, nil
	}
	if s.chkType > 1 {
		return nil, s.where("").malformed("unknown checksum scheme in", "chkType %d (0 none, 1 CRC)", s.chkType)
	}
	if s.name == nameFrVect {
		// A vector's bytes are most of a file: check them alongside the
		// expansion of the samples, or before reporting anything wrong in it.
		if !d.scan {
			d.vectSums = append(d.vectSums, s)
		}
		return s, nil
	}
	if err := d.structSum(s); err != nil {
		return nil, err
	}
	return s, nil
}

// structSum checks the checksum of a structure of version 8 or later.
func (d *decoder) structSum(s *structure) error {
	if d.version < 8 || s.chkType != 1 {
		return nil
	}
	sumAt := s.end - 4
	if s.name == nameFrEndOfFile {
		sumAt -= 4 // chkSumFile follows chkSum
	}
	stored := d.order.Uint32(d.data[sumAt:])
	if stored == 0 {
		return nil // not computed
	}
	if got := cksum.Sum(d.data[s.off:sumAt]); got != stored {
		return s.where("").err(ErrChecksum, "checksum mismatch in", "stored %08x, computed %08x", stored, got)
	}
	return nil
}

// body returns a cursor over the fields of s after its common header,
// short of the structure checksum that versions 8 and later end with.
func (d *decoder) body(s *structure) *cursor {
	end := s.end
	if d.version >= 8 {
		end -= 4
		if s.name == nameFrEndOfFile {
			end -= 4
		}
	}
	return &cursor{b: d.data[s.off+structHeaderLen : end], order: d.order}
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

// structure handles one structure; done is true after FrEndOfFile.
func (d *decoder) structure(s *structure) (done bool, err error) {
	switch s.name {
	case nameFrSH:
		return false, d.frSH(s)
	case nameFrameH:
		return false, d.frameH(s)
	case nameFrAdcData, nameFrProcData, nameFrSimData:
		return false, d.channel(s)
	case nameFrVect:
		if d.frame != nil {
			if _, dup := d.frame.vects[s.instance]; dup {
				return false, s.where("").malformed("duplicate", "instance %d appears twice in frame %d", s.instance, len(d.file.Frames)-1)
			}
			d.frame.vects[s.instance] = span{s.off, s.end, s.chkType}
		}
		return false, nil
	case nameFrEndOfFrame:
		return false, d.endOfFrame(s)
	case nameFrEndOfFile:
		return true, d.endOfFile(s)
	}
	// FrSE, FrDetector, FrHistory, FrRawData, FrEvent, FrTable, FrTOC, ...:
	// their length and checksum are checked; their content is not needed.
	return false, nil
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
	d.frame = &frameState{f: f, start: s.off, vects: make(map[uint32]span), dups: make(map[dupKey]int)}
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
	if d.version < 8 && chkType == 1 && chkSum != 0 && !d.scan {
		// The frame checksum runs from the FrameH to this structure's end,
		// its own chkSum counted as zero.
		sumAt := s.end - 4
		crc := cksum.Update(0, d.data[fs.start:sumAt])
		crc = cksum.Update(crc, []byte{0, 0, 0, 0})
		if got := cksum.Finish(crc, uint64(s.end-fs.start)); got != chkSum {
			return w.err(ErrChecksum, "checksum mismatch in", "frame checksum stored %08x, computed %08x", chkSum, got)
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
	var sumAt int64
	if d.version >= 8 {
		c.u64() // seekTOC
		chkSumHeader = c.u32()
	} else {
		chkType = c.u32()
		sumAt = s.off + structHeaderLen + int64(c.pos)
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
	if nBytes != 0 && nBytes != uint64(len(d.data)) {
		return w.malformed("inconsistent", "nBytes %d, but the file is %d bytes", nBytes, len(d.data))
	}
	if d.version >= 8 {
		if chkSumHeader != 0 {
			if got := cksum.Sum(d.data[:headerLen]); got != chkSumHeader {
				return w.err(ErrChecksum, "checksum mismatch in", "file header checksum stored %08x, computed %08x", chkSumHeader, got)
			}
		}
		d.eofWhere = w // the file checksum is checked by finishAll
		return nil
	}
	if chkType > 1 {
		return w.malformed("unknown checksum scheme in", "chkType %d (0 none, 1 CRC)", chkType)
	}
	if chkType == 1 && chkSum != 0 && !d.scan {
		d.file.FileChecksum = true
		crc := cksum.Update(0, d.data[:sumAt])
		crc = cksum.Update(crc, []byte{0, 0, 0, 0})
		crc = cksum.Update(crc, d.data[sumAt+4:])
		if got := cksum.Finish(crc, uint64(len(d.data))); got != chkSum {
			return w.err(ErrChecksum, "checksum mismatch in", "file checksum stored %08x, computed %08x", chkSum, got)
		}
	}
	return nil
}

// resolve finds a channel's vector in its frame and expands it.
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
	v, err := d.parseVect(sp)
	if err == nil {
		err = d.fill(ch, v, p.rate, w)
	}
	if err != nil && !d.scan {
		// What looks wrong in a vector may be a corrupt byte.
		if cerr := d.structSum(&structure{off: sp.off, end: sp.end, chkType: sp.chkType, name: nameFrVect}); cerr != nil {
			return cerr
		}
	}
	return err
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// finishAll expands the samples of the vectors and checks their
// checksums, on as many goroutines as there are processors, while the file
// checksum is worked out. All of it is done, so that the error returned
// does not depend on the order the work happened in: a file checksum
// error, or else the first vector checksum error in file order, or else
// the first expansion error.
func (d *decoder) finishAll() error {
	if d.scan {
		d.jobs = nil
		return nil
	}
	// Expansions first: with one large vector, one goroutine inflates it
	// while another checks the checksums.
	n := len(d.jobs) + len(d.vectSums)
	errs := make([]error, n)
	task := func(i int) error {
		if i < len(d.jobs) {
			j := d.jobs[i]
			values, err := expand(j.v, j.t, j.s)
			j.ch.Values = values
			return err
		}
		return d.structSum(d.vectSums[i-len(d.jobs)])
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
	for _, err := range errs[len(d.jobs):] {
		if err != nil {
			return err
		}
	}
	for _, err := range errs[:len(d.jobs)] {
		if err != nil {
			return err
		}
	}
	return nil
}
