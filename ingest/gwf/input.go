package gwf

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/gwwatchd/gwwatchd/internal/cksum"
)

// input is a frame file's bytes, taken once and in order: from memory, or
// from an io.Reader through a few buffers of fixed size. When asked to, it
// works out a checksum of the file's first bytes on another goroutine as
// they come in, so that the parse needs the structure checksums only.
type input struct {
	mem   []byte    // the bytes from base to size, when they are in memory
	inMem bool      // whether they are
	r     io.Reader // where they come from otherwise
	base  int64     // offset in the file of mem[0], or of the first byte r gives
	size  int64     // offset of the end of the input
	pos   int64     // offset of the next byte to take

	buf       []byte      // r's bytes from bufAt on
	bufAt     int64       //
	bufSummed bool        // whether buf was handed to the file checksum, which frees it
	free      chan []byte // buffers not in use
	made      int         // buffers made so far, at most inputBufs

	last [4]byte // the file's last 4 bytes, once they have come in

	sum *fileSum // the checksum of the file's first bytes; nil if none
}

// The buffers a streamed input reads into: while the parser takes bytes
// from one, the file checksum may still be at work on the others.
const (
	inputBufSize = 64 << 10
	inputBufs    = 4
)

// fileSum is a running checksum of the bytes [0,limit) of a file.
type fileSum struct {
	limit  int64
	chunks chan chunkAt // streamed input: the buffers to sum, in order
	closed bool
	stop   atomic.Bool // input in memory: the checksum is no longer wanted
	result chan uint32 // the CRC, before cksum.Finish
	got    *uint32     // what result gave, once received
}

type chunkAt struct {
	b  []byte
	at int64
}

// errPastEnd is a reader's attempt to take bytes beyond the input: every
// length is checked against the input's size first, so it is a bug.
var errPastEnd = errors.New("gwf: read past the end of the input")

func memInput(b []byte, base int64) *input {
	in := &input{mem: b, inMem: true, base: base, size: base + int64(len(b)), pos: base}
	if n := len(b); n >= 4 {
		copy(in.last[:], b[n-4:])
	}
	return in
}

func streamInput(r io.Reader, size int64) *input {
	return &input{r: r, size: size, free: make(chan []byte, inputBufs)}
}

// next takes up to max bytes (at least 1) at pos, as many as are at hand;
// they stay valid until the next call.
func (in *input) next(max int64) ([]byte, error) {
	if in.pos >= in.size || max <= 0 {
		return nil, errPastEnd
	}
	if in.inMem {
		i := in.pos - in.base
		n := min(max, in.size-in.pos)
		in.pos += n
		return in.mem[i : i+n], nil
	}
	if in.pos == in.bufAt+int64(len(in.buf)) {
		if err := in.refill(); err != nil {
			return nil, err
		}
	}
	i := in.pos - in.bufAt
	n := min(max, int64(len(in.buf))-i)
	in.pos += n
	return in.buf[i : i+n], nil
}

// refill reads the bytes after buf into a free buffer.
func (in *input) refill() error {
	at := in.bufAt + int64(len(in.buf))
	if in.buf != nil && !in.bufSummed {
		in.free <- in.buf[:cap(in.buf)]
	}
	in.buf = nil
	var b []byte
	select {
	case b = <-in.free:
	default:
		if in.made < inputBufs {
			in.made++
			b = make([]byte, min(inputBufSize, in.size))
		} else {
			b = <-in.free
		}
	}
	b = b[:min(int64(len(b)), in.size-at)]
	if n, err := io.ReadFull(in.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		in.free <- b[:cap(b)]
		return fmt.Errorf("gwf: reading at offset %d of %d: %w", at+int64(n), in.size, err)
	}
	in.buf, in.bufAt, in.bufSummed = b, at, false
	if end := at + int64(len(b)); end > in.size-4 && in.size >= 4 {
		for i := max(at, in.size-4); i < end; i++ {
			in.last[i-(in.size-4)] = b[i-at]
		}
	}
	if in.sum != nil {
		in.sum.chunks <- chunkAt{b, at}
		in.bufSummed = true
	}
	return nil
}

// startSum starts the checksum of the bytes [0,limit) of a file read from
// its start, before more than its first buffer has been read.
func (in *input) startSum(limit int64) {
	s := &fileSum{limit: limit, result: make(chan uint32, 1)}
	in.sum = s
	if in.inMem {
		// In steps, so that close can stop it short: the bytes are the
		// caller's, not to be read once the parse has returned.
		body := in.mem[:limit]
		go func() {
			var crc uint32
			for len(body) > 0 && !s.stop.Load() {
				k := min(len(body), inputBufSize)
				crc = cksum.Update(crc, body[:k])
				body = body[k:]
			}
			s.result <- crc
		}()
		return
	}
	s.chunks = make(chan chunkAt, inputBufs)
	free := in.free
	go func() {
		var crc uint32
		for c := range s.chunks {
			if c.at < limit {
				crc = cksum.Update(crc, c.b[:min(int64(len(c.b)), limit-c.at)])
			}
			free <- c.b[:cap(c.b)]
		}
		s.result <- crc
	}()
	if in.buf != nil {
		s.chunks <- chunkAt{in.buf, in.bufAt}
		in.bufSummed = true
	}
}

// drain takes the rest of the input, for the file checksum.
func (in *input) drain() error {
	for in.pos < in.size {
		if _, err := in.next(in.size - in.pos); err != nil {
			return err
		}
	}
	return nil
}

// fileCRC returns the running checksum of the bytes [0,limit), before
// cksum.Finish, once every one of them has been taken.
func (in *input) fileCRC() uint32 {
	s := in.sum
	if s.got == nil {
		if s.chunks != nil {
			in.close()
		}
		got := <-s.result
		s.got = &got
	}
	return *s.got
}

// close stops the file checksum's goroutine, if it is still at work; an
// input in memory is no longer read once close returns.
func (in *input) close() {
	s := in.sum
	if s == nil || s.closed {
		return
	}
	s.closed = true
	if s.chunks != nil {
		close(s.chunks)
		return
	}
	if s.got == nil {
		s.stop.Store(true)
		got := <-s.result
		s.got = &got
	}
}
