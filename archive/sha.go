package archive

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// DataSHA256 returns the hex SHA-256 of values as stored: each sample in
// little-endian byte order, one after another; "" if values holds no
// samples of a known type.
func DataSHA256(values any) string {
	d := samples.Of(values)
	if d == "" {
		return ""
	}
	h := sha256.New()
	b := samples.Bytes(values)
	if samples.NativeLittle {
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil))
	}
	// Elsewhere the samples are swapped a bounded chunk at a time, so
	// large series never need a second full-size buffer.
	w := samples.Width(d)
	chunk := make([]byte, 0, 8192*w)
	for len(b) > 0 {
		n := min(cap(chunk), len(b))
		c := append(chunk[:0], b[:n]...)
		samples.SwapOrder(c, d)
		h.Write(c)
		b = b[n:]
	}
	return hex.EncodeToString(h.Sum(nil))
}
