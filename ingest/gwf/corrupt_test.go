package gwf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gwwatchd/gwwatchd/internal/testsize"
)

// smallSpec is a small file with a few channels of each kind, compressed
// several ways, over two frames.
func smallSpec(version int, big bool) encFile {
	f := encFile{version: version, big: big, extras: true}
	codes := map[string]uint16{"int16": 5, "float64": 1, "int32": 3, "float32": 8}
	if version >= 9 {
		codes = map[string]uint16{"int16": v9ZeroSuppress, "float64": v9Zstd, "int32": v9Diff | v9Gzip, "float32": v9ZeroSuppress}
	}
	for fi := range 2 {
		fr := encFrame{name: "small", number: uint32(fi), gps: Time{Sec: 1e9 + int64(fi)}, dt: 1}
		for i, dtype := range []string{"int16", "float64", "int32", "float32"} {
			fr.chans = append(fr.chans, encChannel{
				kind: Kind(1 + i%3), name: "C1:" + dtype, values: sampleValues(dtype, 32, uint64(fi*10+i)),
				code: codes[dtype] | littleEndian, rate: 32, unit: "m",
			})
		}
		f.frames = append(f.frames, fr)
	}
	return f
}

func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "gwf: ") {
		t.Errorf("error not one line starting gwf: %q", msg)
	}
}

// TestTruncated cuts files short at every length (one in three at a
// reduced size): each must be rejected.
func TestTruncated(t *testing.T) {
	t.Parallel()
	for _, v := range []int{7, 8, 9} {
		data := encode(t, smallSpec(v, v == 7))
		if _, err := Decode(data); err != nil {
			t.Fatalf("v%d whole file: %v", v, err)
		}
		// At a reduced size, one cut in three.
		step := 1
		if !testsize.Full() {
			step = 3
		}
		for n := 0; n < len(data); n += step {
			_, err := Decode(data[:n])
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("v%d cut to %d of %d bytes: got %v, want a malformed-file error", v, n, len(data), err)
			}
			checkOneLine(t, err)
		}
	}
}

// TestBitFlips changes each byte of checksummed files in turn (every other
// one at a reduced size): every change must be rejected, and a change
// inside the samples as a checksum error.
func TestBitFlips(t *testing.T) {
	t.Parallel()
	masks := []byte{0x01, 0x80, 0xff}
	full := testsize.Full()
	if !full {
		masks = masks[:1] // the lowest bit of each byte flipped
	}
	for _, v := range []int{8, 9} {
		for _, big := range []bool{false, true} {
			if !full && big == (v == 8) {
				continue // one byte order of each version
			}
			data := encode(t, smallSpec(v, big))
			// At a reduced size, every other byte: the even ones of
			// version 8, the odd ones of version 9.
			first, step := 0, 1
			if !full {
				first, step = v-8, 2
			}
			// Each byte is flipped in place and restored after the
			// Decode, which must not write to its input.
			bad := bytes.Clone(data)
			for i := first; i < len(bad); i += step {
				for _, mask := range masks {
					bad[i] ^= mask
					_, err := Decode(bad)
					bad[i] ^= mask
					// A version or word size changed in the file header is
					// one this package does not read, before any checksum.
					if !errors.Is(err, ErrMalformed) && !(i < headerLen && errors.Is(err, ErrUnsupported)) {
						t.Fatalf("v%d big=%v byte %d ^ %#x: got %v, want an error", v, big, i, mask, err)
					}
				}
			}
			if !bytes.Equal(bad, data) {
				t.Fatalf("v%d big=%v: Decode changed the bytes it was given", v, big)
			}
		}
	}
	// A flip in the middle of a vector's samples, and one in the file
	// header, fail their checksums.
	spec := smallSpec(8, false)
	data := encode(t, spec)
	at := bytes.LastIndex(data, []byte("C1:float64"))
	for _, pos := range []int{at + 60, 6} {
		bad := bytes.Clone(data)
		bad[pos] ^= 0x10
		_, err := Decode(bad)
		if !errors.Is(err, ErrChecksum) {
			t.Errorf("flip at %d: got %v, want a checksum error", pos, err)
		}
	}
}

// TestOldVersionsCorrupt flips bytes of version 6 and 7 files, whose
// checksums are per frame and per file: nothing may panic.
func TestOldVersionsCorrupt(t *testing.T) {
	t.Parallel()
	// At a reduced size, every other byte.
	step := 1
	if !testsize.Full() {
		step = 2
	}
	for _, v := range []int{6, 7} {
		data := encode(t, smallSpec(v, false))
		rejected, flips := 0, 0
		bad := bytes.Clone(data)
		for i := 0; i < len(bad); i += step {
			bad[i] ^= 0x40
			if _, err := Decode(bad); err != nil {
				rejected++
			}
			bad[i] ^= 0x40
			flips++
		}
		if !bytes.Equal(bad, data) {
			t.Fatalf("v%d: Decode changed the bytes it was given", v)
		}
		if rejected < flips*9/10 {
			t.Errorf("v%d: only %d of %d flips rejected", v, rejected, flips)
		}
	}
}

// TestNoChecksums reads files that carry no checksums, or zeros for them.
func TestNoChecksums(t *testing.T) {
	t.Parallel()
	for _, v := range []int{7, 8, 9} {
		for _, kind := range []string{"zeros", "chkType 0"} {
			spec := smallSpec(v, false)
			spec.noChecksums = kind == "zeros"
			spec.noChkType = kind == "chkType 0"
			f, err := Decode(encode(t, spec))
			if err != nil {
				t.Fatalf("v%d %s: %v", v, kind, err)
			}
			checkDecoded(t, f, spec)
			if f.FileChecksum && v >= 8 && spec.noChkType {
				t.Errorf("v%d %s: FileChecksum set", v, kind)
			}
		}
	}
}

func oneChannel(ch encChannel) encFile {
	if ch.rate == 0 {
		ch.rate = 16
	}
	if ch.name == "" {
		ch.name = "X1:BAD"
	}
	return encFile{version: 8, frames: []encFrame{{name: "bad", dt: 1, chans: []encChannel{ch}}}}
}

func u64p(v uint64) *uint64 { return &v }
func u16p(v uint16) *uint16 { return &v }

// TestRejects covers inputs Decode must refuse, and how it says so.
func TestRejects(t *testing.T) {
	t.Parallel()
	var zeros bytes.Buffer
	zw := zlib.NewWriter(&zeros)
	zw.Write(make([]byte, 8<<20))
	zw.Close()

	good := encode(t, smallSpec(8, false))
	v5 := bytes.Clone(good)
	v5[5] = 5
	cases := []struct {
		name string
		data []byte
		opts Options
		kind error
		msg  string
	}{
		{name: "empty", data: nil, kind: ErrMalformed, msg: "not a frame file"},
		{name: "not a frame", data: []byte("PK\x03\x04 zip file"), kind: ErrMalformed, msg: "not a frame file"},
		{name: "short header", data: []byte("IGWD\x00\x08"), kind: ErrMalformed, msg: "truncated file header"},
		{name: "version 5", data: v5, kind: ErrUnsupported, msg: "frame format version 5"},
		{
			name: "gzip bomb", kind: ErrMalformed, msg: "cannot hold",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2}, code: 1,
				override: &vectOverride{nData: u64p(1 << 27)}})),
		},
		{
			name: "zstd bomb", kind: ErrMalformed, msg: "cannot hold",
			data: encode(t, encFile{version: 9, frames: []encFrame{{name: "b", dt: 1, chans: []encChannel{{kind: Adc, name: "z", rate: 1,
				values: []float64{1, 2}, code: v9Zstd, override: &vectOverride{nData: u64p(1 << 27)}}}}}}),
		},
		{
			name: "zero-suppress bomb", kind: ErrMalformed, msg: "cannot hold",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []int16{1, 2}, code: 5,
				override: &vectOverride{nData: u64p(1 << 27)}})),
		},
		{
			// Within what blocks of 65535 words can hold, but beyond any
			// ratio a writer reaches.
			name: "zero-suppress bomb in large blocks", kind: ErrMalformed, msg: "at most 1032 times",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: make([]int16, 1<<20), code: 5, zsBlock: 65535})),
		},
		{
			name: "gzip longer than nData", kind: ErrMalformed, msg: "long gzip data",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2, 3}, code: 1,
				override: &vectOverride{nData: u64p(2)}})),
		},
		{
			name: "gzip shorter than nData", kind: ErrMalformed, msg: "short gzip data",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2, 3}, code: 1,
				override: &vectOverride{nData: u64p(4)}})),
		},
		{
			name: "raw size", kind: ErrMalformed, msg: "24 bytes of data, want 32",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1, 2, 3}, code: 0,
				override: &vectOverride{nData: u64p(4)}})),
		},
		{
			name: "within the limit but over MaxBytes", kind: ErrTooLarge, msg: "decode limit",
			opts: Options{MaxBytes: 1 << 20},
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float64{1}, code: 1,
				override: &vectOverride{nData: u64p(1 << 20), data: zeros.Bytes()}})),
		},
		{
			name: "string channel", kind: ErrUnsupported, msg: "STRING",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []uint8{'a', 0, 'b', 0}, override: &vectOverride{typ: u16p(typeString)}})),
		},
		{
			name: "unknown type", kind: ErrUnsupported, msg: "data type 13",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []uint8{1}, override: &vectOverride{typ: u16p(13)}})),
		},
		{
			name: "unknown compression", kind: ErrUnsupported, msg: "code 7",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []float32{1}, code: 0, override: &vectOverride{}})),
		},
		{
			name: "zero suppression of the wrong width", kind: ErrUnsupported, msg: "zero suppression",
			data: encode(t, oneChannel(encChannel{kind: Adc, values: []int32{1}, code: 0, override: &vectOverride{}})),
		},
		{
			name: "differences of floats", kind: ErrUnsupported, msg: "integers only",
			data: encode(t, oneChannel(encChannel{kind: Sim, values: []float32{1}, code: 0, override: &vectOverride{}})),
		},
	}
	// The last three need codes the encoder cannot make: patch them in.
	cases[len(cases)-3].data = patchCode(t, cases[len(cases)-3].data, 7)
	cases[len(cases)-2].data = patchCode(t, cases[len(cases)-2].data, 5)
	cases[len(cases)-1].data = patchCode(t, cases[len(cases)-1].data, 3)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := c.opts.Decode(c.data)
			if err == nil {
				t.Fatalf("decoded %d frames, want an error", len(f.Frames))
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("got %v, want one wrapping %v", err, c.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not an *Error", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %q, want it to mention %q", err, c.msg)
			}
			checkOneLine(t, err)
		})
	}
}

// patchCode rewrites the compression code of the only FrVect of a file
// written by oneChannel, and recomputes the checksums.
func patchCode(t *testing.T, data []byte, code uint16) []byte {
	t.Helper()
	at := bytes.LastIndex(data, []byte("X1:BAD\x00"))
	data = bytes.Clone(data)
	data[at+7] = byte(code) // little-endian file
	data[at+8] = byte(code >> 8)
	return rechecksum(t, data)
}

var leOrder = binary.LittleEndian

// rechecksum recomputes every checksum of a version 8 little-endian file.
func rechecksum(t *testing.T, data []byte) []byte {
	t.Helper()
	d := &decoder{data: data, order: leOrder, version: 8, classes: map[uint16]string{}}
	for off := int64(headerLen); off < int64(len(data)); {
		n := int64(leOrder.Uint64(data[off:]))
		class := uint16(data[off+9])
		end := off + n
		sumAt := end - 4
		if d.classes[class] == nameFrEndOfFile {
			sumAt -= 4
		}
		leOrder.PutUint32(data[sumAt:], cksumRef(data[off:sumAt]))
		if class == 1 {
			c := &cursor{b: data[off+structHeaderLen:], order: leOrder}
			name := c.str()
			d.classes[c.u16()] = name
		}
		off = end
	}
	leOrder.PutUint32(data[len(data)-4:], cksumRef(data[:len(data)-4]))
	return data
}

func TestKeep(t *testing.T) {
	t.Parallel()
	spec := smallSpec(8, false)
	data := encode(t, spec)
	f, err := Options{Keep: func(k Kind, name string) bool { return name == "C1:int32" }}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range f.Frames {
		if len(fr.Channels) != 1 || fr.Channels[0].Name != "C1:int32" || !sameValues(fr.Channels[0].Values, spec.frames[i].chans[2].values) {
			t.Errorf("frame %d: kept %v", i, fr.Channels)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	e := where{Struct: "FrVect", Name: "H1:LDAS-STRAIN", Offset: 1234}.malformed("truncated", "need %d bytes, have %d", 131072, 100)
	want := `gwf: truncated FrVect "H1:LDAS-STRAIN" at offset 1234: need 131072 bytes, have 100`
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
	c := where{Offset: -1}.err(ErrChecksum, "checksum mismatch in", "x")
	if !errors.Is(c, ErrChecksum) || !errors.Is(c, ErrMalformed) || errors.Is(c, ErrUnsupported) {
		t.Errorf("checksum error kinds wrong: %v", c)
	}
	if got := fmt.Sprint(c); got != "gwf: checksum mismatch in: x" {
		t.Errorf("got %q", got)
	}
}
