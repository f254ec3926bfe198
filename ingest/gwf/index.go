package gwf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
)

// Index is what Read learned of a file: its metadata and where each
// channel's vector is.
type Index struct {
	file    *File
	version int
	order   binary.ByteOrder
	classes map[uint16]string
	pieces  []*piece // in file order
	byKey   map[pieceKey]*piece
}

// pieceKey names a channel of a file as a Series names its pieces.
type pieceKey struct {
	kind  Kind
	name  string
	dup   int
	frame int
}

// File returns the file's metadata as Scan gives it: every Channel has nil
// Values. FileChecksum tells whether Read verified a file checksum.
func (x *Index) File() *File { return x.file }

// Series joins the channels into series as File.Series does, with nil
// Values and a Shape that counts the samples Load will give.
func (x *Index) Series() []*Series { return x.file.Series() }

// errNotIndexed is Load's error for a Series that is not one of the Index's.
var errNotIndexed = errors.New("gwf: the series is not one of the index's")

// loadBufs holds the buffers Load reads vectors into.
var loadBufs sync.Pool

// Load reads, through r (the same file Read was given), the FrVect
// structures of s's pieces, and nothing else; it checks each again (from
// version 8, its structure checksum when one is stored, so that a file
// changed since Read is caught, and that it is the vector Read saw: of the
// same type, size and compression), expands it and sets s.Values,
// allocating the series' samples once and expanding each piece in place.
// s must come from x.Series().
//
// An error about the bytes read is an *Error, as Decode's are; one from r,
// or r ending before a vector does, is wrapped with the offset read at.
// On error s.Values is left as it was. Load is safe to call from several
// goroutines at once for different series, with readers that are.
func (x *Index) Load(r io.ReaderAt, s *Series) error {
	if len(s.Frames) == 0 {
		return errNotIndexed
	}
	ps := make([]*piece, len(s.Frames))
	n := 0
	for i, fr := range s.Frames {
		p := x.byKey[pieceKey{s.Kind, s.Name, s.Dup, fr}]
		if p == nil || p.t.dtype != s.DType {
			return errNotIndexed
		}
		ps[i] = p
		n += int(p.v.nData)
	}
	want := 1
	for _, k := range s.Shape {
		want *= k
	}
	if len(s.Shape) == 0 || want != n {
		return errNotIndexed
	}
	values := newValues(ps[0].t, n)
	if values == nil {
		return ps[0].v.w.unsupported("unsupported", "data type %s", ps[0].t.name)
	}
	var buf []byte
	if b, ok := loadBufs.Get().(*[]byte); ok {
		buf = *b
	}
	defer func() { loadBufs.Put(&buf) }()
	rv := reflect.ValueOf(values)
	at := 0
	for _, p := range ps {
		size := int(p.end - p.off)
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if k, err := r.ReadAt(buf, p.off); k < size {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("gwf: reading the FrVect at offset %d: at offset %d: %w", p.off, p.off+int64(k), err)
		}
		v, err := x.reread(buf, p)
		if err != nil {
			return err
		}
		m := int(v.nData)
		if err := expand(rv.Slice(at, at+m).Interface(), v, p.t, p.s); err != nil {
			return err
		}
		at += m
	}
	s.Values = values
	return nil
}

// reread parses again the FrVect of p, read into b, and checks that it is
// the one Read saw; its data are in b.
func (x *Index) reread(b []byte, p *piece) (*vect, error) {
	d := &decoder{in: memInput(b, p.off), order: x.order, version: x.version, classes: x.classes, keepData: true}
	changed := func(detail string) error {
		return p.v.w.malformed("changed", "%s since the file was read", detail)
	}
	s, err := d.structHeader()
	if err != nil {
		return nil, err
	}
	if s.name != nameFrVect || s.end != p.end {
		return nil, changed("the structure is no longer the FrVect it was")
	}
	sp, err := d.vector(s)
	if err != nil {
		return nil, err
	}
	if sp.sumErr != nil {
		return nil, sp.sumErr
	}
	if sp.err != nil {
		return nil, sp.err
	}
	v, was := sp.v, p.v
	if v.typ != was.typ || v.nData != was.nData || v.compress != was.compress || v.nBytes != was.nBytes {
		return nil, changed(fmt.Sprintf("type %d, %d samples, compression %d in %d bytes, not %d, %d, %d in %d,",
			v.typ, v.nData, v.compress, v.nBytes, was.typ, was.nData, was.compress, was.nBytes))
	}
	v.w = was.w
	return v, nil
}
