package gwf

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Zero suppression, the frame format's own compression of integer words
// (and of floating-point numbers taken as integers of their size):
//
//   - the words are differentiated: each is replaced by its difference from
//     the one before (the first from zero), wrapping at the word size;
//   - the output is a stream of bits, filled from the least significant bit
//     of each word up, written as words of the same size in the writer's
//     byte order; read as little-endian bytes it is one stream taken least
//     significant bit first;
//   - its first 16 bits are the block size B;
//   - then, for each block of B words (the last may be shorter), a field
//     of 4, 5 or 6 bits (for 2, 4 or 8-byte words) holding nBits-1, and, if
//     nBits is more than 1, each word's difference plus 2^(nBits-1)-1 in
//     nBits bits. nBits of 1 means the block's differences are all zero and
//     takes no bits beyond its field.
//
// Complex numbers are zero-suppressed as their real parts followed by their
// imaginary parts.

// zsField is the width of the nBits-1 field for words of w bytes.
func zsField(w int) uint {
	switch w {
	case 2:
		return 4
	case 4:
		return 5
	}
	return 6
}

// zsCheck checks, before anything is allocated, that n bytes of data of
// w-byte words, which start with head, can hold nWords words: each block
// of at most B words takes at least its field.
func zsCheck(head []byte, n int64, nWords, w int, le bool, at where) error {
	if n%int64(w) != 0 {
		return at.malformed("bad size of", "%d bytes of zero-suppressed data are not a whole number of %d-byte words", n, w)
	}
	if nWords == 0 {
		return nil
	}
	if n < int64(w) {
		return at.malformed("truncated", "no zero-suppressed data for %d words", nWords)
	}
	// The block size is the low 16 bits of the first word.
	bsize := uint64(binary.LittleEndian.Uint16(head))
	if !le {
		bsize = uint64(binary.BigEndian.Uint16(head[w-2:]))
	}
	if bsize == 0 {
		return at.malformed("bad zero-suppressed data in", "block size 0")
	}
	blocks := (uint64(n)*8 - 16) / uint64(zsField(w))
	if uint64(nWords) > blocks*bsize {
		return at.malformed("impossible size of", "%d bytes of zero-suppressed data in blocks of %d cannot hold %d words", n, bsize, nWords)
	}
	return nil
}

// zsExpand decodes a zero-suppressed vector into values, a typed slice
// of exactly its samples.
func zsExpand(values any, v *vect, t *vtype, s scheme) error {
	data := v.data
	if !s.le {
		data = swapWords(data, s.zsWord)
	}
	var err error
	switch out := values.(type) {
	case []int16:
		err = zsDecode(out, data, 2)
	case []uint16:
		err = zsDecode(out, data, 2)
	case []int32:
		err = zsDecode(out, data, 4)
	case []uint32:
		err = zsDecode(out, data, 4)
	case []int64:
		err = zsDecode(out, data, 8)
	case []uint64:
		err = zsDecode(out, data, 8)
	case []float32:
		// The words are the numbers' bits.
		err = zsDecode(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(out))), len(out)), data, 4)
	case []float64:
		err = zsDecode(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(out))), len(out)), data, 8)
	case []complex64:
		n := len(out)
		w := make([]uint32, 2*n)
		if err = zsDecode(w, data, 4); err == nil {
			for i := range out {
				out[i] = complex(math.Float32frombits(w[i]), math.Float32frombits(w[n+i]))
			}
		}
	case []complex128:
		n := len(out)
		w := make([]uint64, 2*n)
		if err = zsDecode(w, data, 8); err == nil {
			for i := range out {
				out[i] = complex(math.Float64frombits(w[i]), math.Float64frombits(w[n+i]))
			}
		}
	default:
		return v.w.unsupported("unsupported compression of", "zero suppression of %s data", t.name)
	}
	return zsErr(err, v)
}

func zsErr(err error, v *vect) error {
	if err == nil {
		return nil
	}
	return v.w.malformed("bad zero-suppressed data in", "%v", err)
}

// swapWords returns a copy of data with each w-byte word reversed.
func swapWords(data []byte, w int) []byte {
	out := make([]byte, len(data))
	for i := 0; i+w <= len(data); i += w {
		for j := range w {
			out[i+j] = data[i+w-1-j]
		}
	}
	return out
}

type zsError string

func (e zsError) Error() string { return string(e) }

// zsDecode decodes zero-suppressed w-byte words from the little-endian
// stream in into out, summing the differences back as it goes.
func zsDecode[T ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64](out []T, in []byte, w int) error {
	if len(out) == 0 {
		return nil
	}
	field := zsField(w)
	br := bitReader{b: in}
	bsize, ok := br.read(16)
	if !ok || bsize == 0 {
		return zsError("no block size")
	}
	var acc uint64
	for i := 0; i < len(out); {
		code, ok := br.read(field)
		if !ok {
			return zsError("the data end before the last block")
		}
		cnt := min(int(bsize), len(out)-i)
		block := out[i : i+cnt]
		i += cnt
		if code == 0 { // differences all zero
			for j := range block {
				block[j] = T(acc)
			}
			continue
		}
		nBits := uint(code) + 1
		bias := uint64(1)<<(nBits-1) - 1
		for j := range block {
			u, ok := br.read(nBits)
			if !ok {
				return zsError("the data end inside a block")
			}
			acc += u - bias
			block[j] = T(acc)
		}
	}
	return nil
}

// bitReader reads a byte slice as a stream of bits, least significant bit
// of each byte first.
type bitReader struct {
	b   []byte
	pos int
	acc uint64 // bits not yet read, lowest first
	n   uint   // how many bits of acc are valid
}

// read returns the next k bits (k <= 64), or false if there are not k left.
func (r *bitReader) read(k uint) (uint64, bool) {
	if k > 56 {
		lo, ok1 := r.read(32)
		hi, ok2 := r.read(k - 32)
		return lo | hi<<32, ok1 && ok2
	}
	if r.n < k {
		r.refill()
		if r.n < k {
			return 0, false
		}
	}
	v := r.acc & (1<<k - 1)
	r.acc >>= k
	r.n -= k
	return v, true
}

// refill tops acc up to at least 56 valid bits where the input allows.
func (r *bitReader) refill() {
	if r.pos+8 <= len(r.b) {
		// Load 8 bytes; the ones beyond the whole bytes taken are loaded
		// again, at the same place, by the next refill.
		r.acc |= binary.LittleEndian.Uint64(r.b[r.pos:]) << r.n
		adv := (63 - r.n) >> 3
		r.pos += int(adv)
		r.n += adv * 8
		return
	}
	for r.n <= 56 && r.pos < len(r.b) {
		r.acc |= uint64(r.b[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
}
