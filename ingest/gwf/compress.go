package gwf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash"
	"hash/adler32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"

	"github.com/gwwatchd/gwwatchd/internal/samples"
)

// bufPool holds scratch buffers for decompressed bytes on their way to a
// typed slice.
var bufPool sync.Pool

func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putBuf(b []byte) {
	bufPool.Put(&b)
}

// flatePool holds deflate readers for reuse; each is reset onto new input.
var flatePool sync.Pool

// inflateChunk is how many bytes inflate decompresses at a time before
// converting them: a multiple of every sample size, small enough to stay
// in cache.
const inflateChunk = 64 << 10

type chunk = [inflateChunk]byte

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

// inflate decompresses the zlib stream src ("gzip" in frame files) into
// values, samples of size bytes in the given byte order, which it must fill
// exactly. The zlib framing is read here rather than by a zlib reader so
// that the Adler-32 check and the conversion to samples can run on another
// goroutine while this one inflates.
func inflate(values any, src []byte, size int, le bool, w where) error {
	if len(src) < 2 {
		return w.malformed("bad gzip data in", "%d bytes, too short for a zlib stream", len(src))
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 {
		return w.malformed("bad gzip data in", "no zlib header")
	}
	if flg&0x20 != 0 {
		return w.unsupported("unsupported gzip data in", "a preset dictionary")
	}
	in := bytes.NewBuffer(src[2:]) // a ByteReader: the inflater reads no further than the deflate data
	var fr io.ReadCloser
	if p, ok := flatePool.Get().(io.ReadCloser); ok {
		p.(flate.Resetter).Reset(in, nil)
		fr = p
	} else {
		fr = flate.NewReader(in)
	}
	defer flatePool.Put(fr)

	total := samples.Len(values) * size
	sum := adler32.New()
	var err error
	if total <= 2*inflateChunk {
		err = inflateInline(fr, values, total, size, le, sum)
	} else {
		err = inflatePipelined(fr, values, total, size, le, sum)
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return w.malformed("short gzip data in", "it expands to fewer than %d bytes", total)
		}
		return w.malformed("bad gzip data in", "%v", err)
	}
	var one [1]byte
	if n, err := io.ReadFull(fr, one[:]); n != 0 {
		return w.malformed("long gzip data in", "it expands to more than %d bytes", total)
	} else if err != io.EOF {
		return w.malformed("bad gzip data in", "%v", err)
	}
	trailer := in.Bytes()
	if len(trailer) < 4 {
		return w.malformed("bad gzip data in", "no Adler-32 after the deflate data")
	}
	if stored, got := binary.BigEndian.Uint32(trailer), sum.Sum32(); stored != got {
		return w.malformed("bad gzip data in", "Adler-32 stored %08x, computed %08x", stored, got)
	}
	return nil
}

func inflateInline(fr io.Reader, values any, total, size int, le bool, sum hash.Hash32) error {
	c := chunkPool.Get().(*chunk)
	defer chunkPool.Put(c)
	for done := 0; done < total; {
		k := min(total-done, inflateChunk)
		if _, err := io.ReadFull(fr, c[:k]); err != nil {
			return err
		}
		sum.Write(c[:k])
		putBytes(values, done/size, c[:k], le)
		done += k
	}
	return nil
}

// inflatePipelined inflates on this goroutine and hands the chunks to
// another, which checksums them and converts them to samples.
func inflatePipelined(fr io.Reader, values any, total, size int, le bool, sum hash.Hash32) error {
	type piece struct {
		c   *chunk
		n   int
		off int
	}
	const depth = 3
	full := make(chan piece, depth)
	free := make(chan *chunk, depth)
	for range depth {
		free <- chunkPool.Get().(*chunk)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for p := range full {
			sum.Write(p.c[:p.n])
			putBytes(values, p.off/size, p.c[:p.n], le)
			free <- p.c
		}
	})
	var err error
	for done := 0; done < total; {
		k := min(total-done, inflateChunk)
		c := <-free
		if _, err = io.ReadFull(fr, c[:k]); err != nil {
			free <- c
			break
		}
		full <- piece{c, k, done}
		done += k
	}
	close(full)
	wg.Wait()
	for range depth {
		chunkPool.Put(<-free)
	}
	return err
}

// zstdDecoder is shared by all decodes: DecodeAll is safe for concurrent
// use, and a decoder is costly to make. With the cap limit, DecodeAll never
// writes past the capacity of the slice it is given.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderMaxWindow(DefaultMaxBytes))
})

// unzstd decompresses the zstd frames in src into dst, which they must
// fill exactly.
func unzstd(dst, src []byte, w where) error {
	dec, err := zstdDecoder()
	if err != nil {
		return w.unsupported("cannot decode zstd data in", "%v", err)
	}
	out, err := dec.DecodeAll(src, dst[:0])
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return w.malformed("long zstd data in", "it expands to more than %d bytes", len(dst))
	}
	if err != nil {
		return w.malformed("bad zstd data in", "%v", err)
	}
	if len(out) != len(dst) {
		return w.malformed("short zstd data in", "it expands to %d bytes, want %d", len(out), len(dst))
	}
	if len(out) > 0 && &out[0] != &dst[0] {
		copy(dst, out) // not expected with the cap limit, but keep dst authoritative
	}
	return nil
}
