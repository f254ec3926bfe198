package archive

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"unsafe"
)

// littleEndian reports whether this machine stores values little-endian,
// the order data_sha256 is defined in.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// DataSHA256 returns the hex SHA-256 of values as stored: each sample in
// little-endian byte order, one after another.
func DataSHA256(values any) string {
	h := sha256.New()
	switch v := values.(type) {
	case []int8:
		hashChunks(h, v)
	case []int16:
		hashChunks(h, v)
	case []int32:
		hashChunks(h, v)
	case []int64:
		hashChunks(h, v)
	case []uint8:
		h.Write(v)
	case []uint16:
		hashChunks(h, v)
	case []uint32:
		hashChunks(h, v)
	case []uint64:
		hashChunks(h, v)
	case []float32:
		hashChunks(h, v)
	case []float64:
		hashChunks(h, v)
	case []complex64:
		// Real then imaginary part of each value, as numpy stores them.
		hashChunks(h, unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(v))), 2*len(v)))
	case []complex128:
		hashChunks(h, unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(v))), 2*len(v)))
	default:
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashChunks feeds a slice to h in little-endian order. On a
// little-endian machine that is the slice's own memory; elsewhere the
// values are converted a bounded chunk at a time, so large series never
// need a second full-size buffer.
func hashChunks[T int8 | int16 | int32 | int64 | uint16 | uint32 | uint64 | float32 | float64](h hash.Hash, v []T) {
	if len(v) == 0 {
		return
	}
	if littleEndian {
		h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(v[0]))))
		return
	}
	const chunk = 8192
	buf := make([]byte, 0, chunk*8)
	for len(v) > 0 {
		n := min(chunk, len(v))
		buf, _ = binary.Append(buf[:0], binary.LittleEndian, v[:n])
		h.Write(buf)
		v = v[n:]
	}
}
