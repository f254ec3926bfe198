package gwf

import (
	"fmt"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// TestRoundTrip writes every data type with every compression code and
// data byte order of each version, in files of either byte order, and
// reads them back.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, version := range []int{6, 7, 8, 9} {
		for _, big := range []bool{false, true} {
			if !testsize.Full() && big != (version%2 == 1) {
				continue // one byte order of each version, both over the four
			}
			t.Run(fmt.Sprintf("v%d-big=%v", version, big), func(t *testing.T) {
				spec := specFile(version, big, 300, 3)
				f, err := Decode(encodedSpec(t, version, big, 300, 3))
				if err != nil {
					t.Fatal(err)
				}
				checkDecoded(t, f, spec)
				checkJoined(t, f, spec)
			})
		}
	}
}

// TestZeroSuppressBlockSizes covers block sizes from 1 to the largest, and
// lengths that end mid-block.
func TestZeroSuppressBlockSizes(t *testing.T) {
	t.Parallel()
	for _, dtype := range []string{"int16", "uint16", "int32", "float32", "complex64", "int64", "float64", "complex128"} {
		for _, bsize := range []int{1, 2, 7, 12, 100, 65535} {
			for _, n := range []int{0, 1, 5, 999} {
				code := map[int]uint16{2: 5, 4: 8, 8: 10}[wordSize(dtype)]
				for _, le := range []uint16{0, littleEndian} {
					spec := encFile{version: 8, frames: []encFrame{{name: "zs", dt: 1, chans: []encChannel{{
						kind: Adc, name: "c", values: sampleValues(dtype, n, uint64(bsize*n)), code: code | le, rate: 1000, zsBlock: bsize,
					}}}}}
					f, err := Decode(encode(t, spec))
					if err != nil {
						t.Fatalf("%s block %d n %d: %v", dtype, bsize, n, err)
					}
					if got := f.Frames[0].Channels[0].Values; !sameValues(got, spec.frames[0].chans[0].values) {
						t.Errorf("%s block %d n %d le %v: values differ", dtype, bsize, n, le != 0)
					}
				}
			}
		}
	}
}

// TestZeroSuppressSpecExample decodes the example of the specification's
// appendix B: block size 3 over 82 85 85 81 80 82 84 85.
func TestZeroSuppressSpecExample(t *testing.T) {
	t.Parallel()
	words := []uint16{0x0003, 0x2D17, 0x37f8, 0x2963, 0x0025}
	var data []byte
	for _, w := range words {
		data = append(data, byte(w), byte(w>>8))
	}
	out := make([]int16, 8)
	if err := zsDecode(out, data, 2); err != nil {
		t.Fatal(err)
	}
	want := []int16{82, 85, 85, 81, 80, 82, 84, 85}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("got %v, want %v", out, want)
		}
	}
	// The encoder writes the same bits for the first two blocks; for the
	// third it picks 2 bits where the example, which pads the block with a
	// 0 the data do not have, picks 3.
	enc := zsEncode(diffWords([]uint64{82, 85, 85, 81, 80, 82, 84, 85}, 2), 2, true, 3)
	if string(enc[:6]) != string(data[:6]) {
		t.Errorf("encoder wrote % x, want % x", enc, data)
	}
}

func TestChecksumMatchesCksum(t *testing.T) {
	t.Parallel()
	// POSIX cksum of "123456789" is 930766865; of nothing, 4294967295.
	for _, c := range []struct {
		in   string
		want uint32
	}{{"", 4294967295}, {"123456789", 930766865}} {
		if got, ref := cksum.Sum([]byte(c.in)), cksumRef([]byte(c.in)); got != c.want || ref != c.want {
			t.Errorf("cksum(%q) = %d, reference %d, want %d", c.in, got, ref, c.want)
		}
	}
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(i * 7)
	}
	for n := range len(b) {
		if got, want := cksum.Sum(b[:n]), cksumRef(b[:n]); got != want {
			t.Fatalf("cksum of %d bytes = %08x, reference %08x", n, got, want)
		}
	}
}
