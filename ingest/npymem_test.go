package ingest

import (
	"encoding/binary"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// parseNPY decodes a whole .npy file held in memory, for the tests of the
// header parser: format versions 1.0, 2.0 and 3.0, holding a 1-D or N×1
// array of a supported type. Read does the same from a file without
// holding it.
func parseNPY(data []byte) (*npyArray, error) {
	a, off, n, err := npyLayout(data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	a.Values = decodeSamples(data[off:off+n*int64(a.DType.Size())], a.DType, a.ByteOrder)
	return a, nil
}

// decodeSamples converts b, which must hold a whole number of samples, to
// a slice of d in native byte order. Floats are rebuilt from their bits so
// every NaN payload and signed zero survives.
func decodeSamples(b []byte, d DType, byteOrder string) any {
	var bo binary.ByteOrder = binary.LittleEndian
	if byteOrder == "big" {
		bo = binary.BigEndian
	}
	if !d.Valid() {
		return nil
	}
	v := samples.Make(d, len(b)/d.Size())
	if _, err := binary.Decode(b, bo, v); err != nil {
		return nil
	}
	return v
}
