// Package cksum computes the checksum of POSIX cksum, which frame files
// carry: a CRC-32 with polynomial 0x04C11DB7 fed most significant bit
// first, not reflected, then fed the byte count (least significant byte
// first) and complemented. hash/crc32 only has the reflected form, so the
// tables are built here, sixteen of them to process sixteen bytes a step.
package cksum

import "encoding/binary"

// Poly is the CRC polynomial.
const Poly = 0x04C11DB7

var table = func() (t [16][256]uint32) {
	for i := range 256 {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ Poly
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 16; k++ {
		for i := range 256 {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>24]
		}
	}
	return t
}()

// Update feeds p to a running checksum that starts at 0.
func Update(crc uint32, p []byte) uint32 {
	t := &table
	for len(p) >= 16 {
		q := p[:16]
		crc ^= binary.BigEndian.Uint32(q)
		crc = t[15][crc>>24] ^ t[14][crc>>16&0xff] ^ t[13][crc>>8&0xff] ^ t[12][crc&0xff] ^
			t[11][q[4]] ^ t[10][q[5]] ^ t[9][q[6]] ^ t[8][q[7]] ^
			t[7][q[8]] ^ t[6][q[9]] ^ t[5][q[10]] ^ t[4][q[11]] ^
			t[3][q[12]] ^ t[2][q[13]] ^ t[1][q[14]] ^ t[0][q[15]]
		p = p[16:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	return crc
}

// Finish completes a checksum over n bytes in all.
func Finish(crc uint32, n uint64) uint32 {
	for ; n > 0; n >>= 8 {
		crc = crc<<8 ^ table[0][byte(crc>>24)^byte(n)]
	}
	return ^crc
}

// Sum is the checksum of p alone.
func Sum(p []byte) uint32 { return Finish(Update(0, p), uint64(len(p))) }

// Digest is a running checksum of bytes written to it, for data that
// arrives in pieces.
type Digest struct {
	crc uint32
	n   uint64
}

// Write feeds p to the checksum; it never fails.
func (d *Digest) Write(p []byte) (int, error) {
	d.crc = Update(d.crc, p)
	d.n += uint64(len(p))
	return len(p), nil
}

// Sum32 is the checksum of everything written so far.
func (d *Digest) Sum32() uint32 { return Finish(d.crc, d.n) }
