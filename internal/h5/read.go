package h5

// #include <stdlib.h>
// #include "h5shim.h"
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// Layouts of a dataset's storage.
const (
	Compact    = "compact"
	Contiguous = "contiguous"
	Chunked    = "chunked"
	Virtual    = "virtual"
)

// Filter ids of the filters libhdf5 defines.
const (
	FilterDeflate     = 1
	FilterShuffle     = 2
	FilterFletcher32  = 3
	FilterSzip        = 4
	FilterNbit        = 5
	FilterScaleOffset = 6
)

// Info is what a dataset's metadata says of it, learnt without reading
// any of its values.
type Info struct {
	Rank      int    // 0 for a scalar
	Null      bool   // a null dataspace: no elements at all
	Class     string // "integer", "float", "complex", "string", "compound" or "other"
	Size      int    // bytes per element as stored
	Signed    bool   // for integers
	Supported bool   // Read can give its values as a Go slice

	Layout     string // Compact, Contiguous, Chunked or Virtual
	External   bool   // its values are in files outside this one
	Filters    []int  // filter ids, in the order applied when writing
	ChunkElems int64  // elements per chunk; 0 unless Chunked
	Chunks     int64  // chunks allocated in the file; 0 unless Chunked
	Storage    int64  // bytes allocated for its values in the file
}

// Elements returns the number of elements the dataspace declares, or -1
// if that overflows an int64.
func (d *Dataset) Elements() int64 {
	if d.Info != nil && d.Info.Null {
		return 0
	}
	n := int64(1)
	for _, v := range d.Dims {
		if v > math.MaxInt64 || v != 0 && n > math.MaxInt64/int64(v) {
			return -1
		}
		n *= int64(v)
	}
	return n
}

// Maximum expansion of each filter libhdf5 applies on reading: deflate
// codes a 258-byte match in 2 bits at best; shuffle and Fletcher-32
// change no sizes (Fletcher-32 adds 4 bytes).
var filterRatio = map[int]int64{
	FilterDeflate:    1032,
	FilterShuffle:    1,
	FilterFletcher32: 1,
}

// ErrStorage is wrapped by the error CheckStorage returns.
var ErrStorage = errors.New("dataset storage cannot hold its declared size")

// CheckStorage checks, before any value is read, that what the file
// stores of the dataset can hold the elements its dataspace declares:
// values in the file itself (no external files, no virtual mapping),
// only filters whose expansion is bounded, the bytes declared within
// what the stored bytes can expand to and within fileSize times that
// bound, and the chunks allocated covering them. A dataset whose storage
// was never written, which libhdf5 would read as its fill value, holds no
// stored samples and is refused too. Its messages describe the storage
// and never quote the file.
func (d *Dataset) CheckStorage(fileSize int64) error {
	in := d.Info
	if in == nil {
		return fmt.Errorf("%w: no storage information", ErrStorage)
	}
	n := d.Elements()
	if n < 0 {
		return fmt.Errorf("%w: its dimensions overflow", ErrStorage)
	}
	if n == 0 {
		return nil
	}
	if in.Size <= 0 || n > math.MaxInt64/int64(in.Size) {
		return fmt.Errorf("%w: %d elements of %d bytes overflow", ErrStorage, n, in.Size)
	}
	want := n * int64(in.Size)
	switch {
	case in.External:
		return fmt.Errorf("%w: its values are in external files", ErrStorage)
	case in.Layout == Virtual:
		return fmt.Errorf("%w: it is a virtual dataset, mapped from other datasets", ErrStorage)
	case in.Storage <= 0:
		return fmt.Errorf("%w: no values stored (%d elements declared, only the fill value would be read)", ErrStorage, n)
	}
	ratio := int64(1)
	for _, f := range in.Filters {
		r, ok := filterRatio[f]
		if !ok {
			return fmt.Errorf("%w: filter %d is not supported", ErrStorage, f)
		}
		ratio *= r
	}
	if in.Storage > fileSize {
		return fmt.Errorf("%w: %d bytes stored in a %d-byte file", ErrStorage, in.Storage, fileSize)
	}
	switch in.Layout {
	case Compact, Contiguous:
		if len(in.Filters) > 0 {
			return fmt.Errorf("%w: filters on %s storage", ErrStorage, in.Layout)
		}
		if in.Storage < want {
			return fmt.Errorf("%w: %d bytes stored for %d elements of %d bytes", ErrStorage, in.Storage, n, in.Size)
		}
	case Chunked:
		if in.Chunks <= 0 {
			return fmt.Errorf("%w: no chunks stored (%d elements declared, only the fill value would be read)", ErrStorage, n)
		}
		if in.ChunkElems <= 0 || in.Chunks > math.MaxInt64/in.ChunkElems || in.Chunks*in.ChunkElems < n {
			return fmt.Errorf("%w: %d chunks of %d elements stored for %d elements", ErrStorage, in.Chunks, in.ChunkElems, n)
		}
		if in.Storage > math.MaxInt64/ratio || want > ratio*in.Storage+1024 {
			return fmt.Errorf("%w: %d bytes stored cannot expand to %d bytes (at most %d times)", ErrStorage, in.Storage, want, ratio)
		}
	default:
		return fmt.Errorf("%w: unknown layout", ErrStorage)
	}
	return nil
}

// ReadOptions selects what Select reads of each dataset beyond its Info.
type ReadOptions struct {
	// Attrs reports, from its path and Info, whether to read a dataset's
	// attributes; nil reads every dataset's.
	Attrs func(d *Dataset) bool
	// Data reports, from its path, Info and attributes, whether to read a
	// dataset's values; nil reads none. An error ends the read with it.
	Data func(d *Dataset) (bool, error)
}

// Read reads a whole HDF5 file into a Doc: root attributes and every
// dataset with its attributes and values, in name order; of a view of
// another dataset (Dataset.Virtual) it reads no values. Every dataset's
// storage is checked first (see CheckStorage), and a type without a Go
// slice fails with ErrUnsupportedType.
func Read(path string) (*Doc, error) {
	return Select(path, ReadOptions{Data: func(d *Dataset) (bool, error) {
		if d.Virtual != "" {
			return false, nil // a view: its values are its source's
		}
		if !d.Info.Supported {
			return false, fmt.Errorf("dataset %s: %w (%s, %d bytes)", d.Path, ErrUnsupportedType, d.Info.Class, d.Info.Size)
		}
		return true, nil
	}})
}

// Select reads the root attributes of an HDF5 file and the Info of every
// dataset reached through hard links from the root, each once; soft and
// external links are not followed. Of each dataset it reads what opt
// selects, the values only after CheckStorage accepts them. Datasets are
// returned in name order, with nil Data when not read.
func Select(path string, opt ReadOptions) (*Doc, error) {
	var doc *Doc
	err := run(func() error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		r := &reader{path: path, size: fi.Size(), opt: opt, seen: map[C.haddr_t]bool{}}
		doc, err = r.read()
		return err
	})
	return doc, err
}

// ReadRootAttrs reads only the root attributes of an HDF5 file.
func ReadRootAttrs(path string) ([]Attr, error) {
	var attrs []Attr
	err := run(func() error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		r := &reader{path: path, size: fi.Size()}
		f, root, err := r.open()
		if err != nil {
			return err
		}
		defer f.Close()
		defer root.Close()
		attrs, err = r.attrs(root.ID(), root.OpenAttribute)
		return r.fail("root attributes", err)
	})
	return attrs, err
}

// ErrUnsupportedType is wrapped by the error for a dataset whose stored
// type has no Go slice here, such as a compound table or strings.
var ErrUnsupportedType = errors.New("unsupported stored type")

// ErrNotHDF5 is returned for a file without the HDF5 signature.
var ErrNotHDF5 = errors.New("not an HDF5 file")

type reader struct {
	path string
	size int64
	opt  ReadOptions
	seen map[C.haddr_t]bool // objects visited, against hard-link cycles
	doc  *Doc
}

// maxDepth bounds the nesting of groups followed.
const maxDepth = 64

func (r *reader) fail(what string, err error) error {
	if err == nil {
		return nil
	}
	if what != "" {
		err = fail("read "+what, err)
	}
	return err
}

func (r *reader) open() (*hdf5.File, *hdf5.Group, error) {
	if !isHDF5(r.path) {
		return nil, nil, ErrNotHDF5
	}
	f, err := openFile(r.path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, nil, fail("open", err)
	}
	root, err := f.OpenGroup("/")
	if err != nil {
		err = fail("open root group", err)
		f.Close()
		return nil, nil, err
	}
	return f, root, nil
}

func (r *reader) read() (*Doc, error) {
	f, root, err := r.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer root.Close()
	r.doc = &Doc{}
	if r.doc.Attrs, err = r.attrs(root.ID(), root.OpenAttribute); err != nil {
		return nil, r.fail("root attributes", err)
	}
	if err := r.walk(root, "", 0); err != nil {
		return nil, err
	}
	return r.doc, nil
}

func (r *reader) walk(g *hdf5.Group, prefix string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("groups nested more than %d deep", maxDepth)
	}
	n := C.gw_nlinks(C.hid_t(g.ID()))
	if n < 0 {
		return r.fail("group", errors.New("cannot count links"))
	}
	buf := make([]byte, 4096)
	for i := int64(0); i < int64(n); i++ {
		var hard, otype C.int
		var addr C.haddr_t
		l := C.gw_link(C.hid_t(g.ID()), C.hsize_t(i), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &hard, &otype, &addr)
		if l < 0 {
			return r.fail("link", fmt.Errorf("cannot read link %d", i))
		}
		if int(l) >= len(buf) {
			return fmt.Errorf("link %d: name of %d bytes", i, int(l))
		}
		if hard == 0 || r.seen[addr] {
			continue // soft and external links lead elsewhere; a second hard link to the same object
		}
		r.seen[addr] = true
		name := string(buf[:l])
		path := prefix + "/" + name
		switch otype {
		case C.H5O_TYPE_GROUP:
			sub, err := g.OpenGroup(name)
			if err != nil {
				return r.fail("group", err)
			}
			err = r.walk(sub, path, depth+1)
			sub.Close()
			if err != nil {
				return err
			}
		case C.H5O_TYPE_DATASET:
			d, err := r.dataset(g, name, path)
			if err != nil {
				return err
			}
			r.doc.Datasets = append(r.doc.Datasets, *d)
		}
	}
	return nil
}

func (r *reader) dataset(g *hdf5.Group, name, path string) (*Dataset, error) {
	ds, err := g.OpenDataset(name)
	if err != nil {
		return nil, r.fail("dataset", err)
	}
	defer ds.Close()
	id := C.hid_t(ds.ID())
	d := &Dataset{Path: path, Info: &Info{}}
	in := d.Info

	var rank, null C.int
	var cdims [32]C.hsize_t
	if C.gw_dset_rank(id, &rank, &cdims[0], &null) < 0 {
		return nil, r.fail("dataspace", errors.New("cannot read the dataspace"))
	}
	in.Rank, in.Null = int(rank), null != 0
	d.Dims = make([]uint, in.Rank)
	for i := range d.Dims {
		d.Dims[i] = uint(cdims[i])
	}

	var cls, sign, vlen C.int
	var size C.size_t
	if C.gw_dset_type(id, &cls, &size, &sign, &vlen) < 0 {
		return nil, r.fail("type", errors.New("cannot read the type"))
	}
	in.Size = int(size)
	part := int(C.gw_dset_complex_size(id))
	switch {
	case part > 0:
		in.Class, in.Supported = "complex", true
	case cls == C.H5T_INTEGER:
		in.Class, in.Signed = "integer", sign != 0
	case cls == C.H5T_FLOAT:
		in.Class = "float"
	case cls == C.H5T_STRING:
		in.Class = "string"
	case cls == C.H5T_COMPOUND:
		in.Class = "compound"
	default:
		in.Class = "other"
	}
	st := storedType{cls, in.Size, in.Signed}
	if _, ok := storedTypes[st]; ok && part == 0 {
		in.Supported = true
	}

	var layout, external, nfilters C.int
	var filters [8]C.int
	var chunkElems, storage, nchunks C.longlong
	if C.gw_dset_storage(id, &layout, &external, &nfilters, &filters[0], &chunkElems, &storage, &nchunks) < 0 {
		return nil, r.fail("storage", errors.New("cannot read the storage layout"))
	}
	switch layout {
	case C.H5D_COMPACT:
		in.Layout = Compact
	case C.H5D_CONTIGUOUS:
		in.Layout = Contiguous
	case C.H5D_CHUNKED:
		in.Layout = Chunked
	case C.H5D_VIRTUAL:
		in.Layout = Virtual
		buf := make([]byte, 1024)
		if C.gw_view_source(id, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))) == 1 {
			d.Virtual = C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
		}
	default:
		in.Layout = fmt.Sprintf("layout %d", int(layout))
	}
	in.External = external > 0
	for i := 0; i < int(nfilters); i++ {
		if i >= len(filters) {
			in.Filters = append(in.Filters, -1) // too many to be a filter pipeline any writer makes
			break
		}
		in.Filters = append(in.Filters, int(filters[i]))
	}
	in.ChunkElems, in.Chunks, in.Storage = int64(chunkElems), int64(nchunks), int64(storage)

	if r.opt.Attrs == nil || r.opt.Attrs(d) {
		if d.Attrs, err = r.attrs(ds.ID(), ds.OpenAttribute); err != nil {
			return nil, r.fail("attributes", err)
		}
	}
	if r.opt.Data == nil {
		return d, nil
	}
	want, err := r.opt.Data(d)
	if err != nil || !want {
		return d, err
	}
	if !in.Supported {
		return nil, fmt.Errorf("dataset %s: %w (%s, %d bytes)", path, ErrUnsupportedType, in.Class, in.Size)
	}
	if err := d.CheckStorage(r.size); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	n := int(d.Elements())
	if part > 0 {
		d.Data, err = readComplex(ds, part, n)
		return d, r.fail("values", err)
	}
	data, err := makeSlice(st, n)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if err := ds.Read(data.Interface()); err != nil {
			return nil, r.fail("values", err)
		}
	}
	d.Data = data.Elem().Interface()
	return d, nil
}

type attrOpener func(name string) (*hdf5.Attribute, error)

// attrs reads the attributes of an object, each bounded by the size of
// the file, which must store it.
func (r *reader) attrs(id int64, open attrOpener) ([]Attr, error) {
	n := C.gw_num_attrs(C.hid_t(id))
	if n < 0 {
		return nil, errors.New("cannot count attributes")
	}
	if int64(n) > r.size {
		return nil, fmt.Errorf("%d attributes in a %d-byte file", int64(n), r.size)
	}
	if n == 0 {
		return []Attr{}, nil
	}
	names, err := r.attrNames(id, int(n))
	if err != nil {
		return nil, err
	}
	attrs := make([]Attr, 0, int(n))
	for i, name := range names {
		v, err := r.attr(open, name)
		if err != nil {
			return nil, fmt.Errorf("attribute %d: %w", i, err)
		}
		attrs = append(attrs, Attr{Name: name, Value: v})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	return attrs, nil
}

// maxAttrName bounds the length of an attribute name read.
const maxAttrName = 1023

// attrNames reads the names of the n attributes of an object in name
// order, in one pass over them: asking libhdf5 for each by its index
// would sort them all again for every one.
func (r *reader) attrNames(id int64, n int) ([]string, error) {
	buf := make([]byte, min(64*n, 1<<16))
	used := C.gw_attr_names(C.hid_t(id), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if int64(used) > int64(len(buf)) {
		// Each name is at most maxAttrName bytes and its NUL.
		if int64(used) > int64(n)*(maxAttrName+1) {
			return nil, fmt.Errorf("%d bytes of attribute names for %d attributes", int64(used), n)
		}
		buf = make([]byte, int(used))
		used = C.gw_attr_names(C.hid_t(id), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	}
	if used <= 0 || int64(used) > int64(len(buf)) {
		return nil, errors.New("cannot read the attribute names")
	}
	names := strings.Split(string(buf[:used-1]), "\x00") // the last NUL ends the last name
	if len(names) != n {
		return nil, fmt.Errorf("%d attribute names for %d attributes", len(names), n)
	}
	for i, name := range names {
		if len(name) > maxAttrName {
			return nil, fmt.Errorf("cannot read the name of attribute %d", i)
		}
	}
	return names, nil
}

func (r *reader) attr(open attrOpener, name string) (any, error) {
	a, err := open(name)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	id := C.hid_t(a.ID())
	var cls, sign, vlen, rank C.int
	var size C.size_t
	var npoints C.longlong
	if C.gw_attr_info(id, &cls, &size, &sign, &vlen, &rank, &npoints) < 0 {
		return nil, errors.New("cannot read its type")
	}
	if npoints < 0 || int64(size) > r.size || int64(npoints) > r.size/max(1, int64(size)) {
		return nil, fmt.Errorf("%d points of %d bytes in a %d-byte file", int64(npoints), int64(size), r.size)
	}
	switch {
	case cls == C.H5T_STRING && npoints == 1:
		p := C.gw_read_string(id)
		if p == nil {
			return nil, errors.New("cannot read string")
		}
		defer C.free(unsafe.Pointer(p))
		return C.GoString(p), nil
	case cls == C.H5T_FLOAT && npoints == 1 && rank == 0:
		var v float64
		if C.gw_attr_read(id, C.gw_native_double(), unsafe.Pointer(&v)) < 0 {
			return nil, errors.New("cannot read number")
		}
		return v, nil
	case cls == C.H5T_FLOAT && rank == 1:
		v := make([]float64, int(npoints))
		if len(v) == 0 {
			return v, nil
		}
		if C.gw_attr_read(id, C.gw_native_double(), unsafe.Pointer(&v[0])) < 0 {
			return nil, errors.New("cannot read numbers")
		}
		return v, nil
	case cls == C.H5T_INTEGER && npoints == 1 && rank == 0:
		var v int64
		if C.gw_attr_read(id, C.gw_native_int64(), unsafe.Pointer(&v)) < 0 {
			return nil, errors.New("cannot read number")
		}
		return v, nil
	}
	return fmt.Sprintf(unsupportedPrefix+"class %d, %d points)", cls, npoints), nil
}

// unsupportedPrefix begins the text Read gives in place of an attribute
// of a type it does not read.
const unsupportedPrefix = "(unsupported attribute: "

// Unsupported reports whether an attribute value read is the text Read
// gives in place of one of a type it does not read: writing it back would
// not write the attribute that was read.
func Unsupported(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, unsupportedPrefix)
}

// readComplex reads a whole dataset of n complex values of part bytes each.
func readComplex(ds *hdf5.Dataset, part, n int) (any, error) {
	var data any
	var ptr unsafe.Pointer
	etype := C.int(C.GW_T_COMPLEX128)
	if part == 4 {
		etype = C.GW_T_COMPLEX64
		v := make([]complex64, n)
		data = v
		if n > 0 {
			ptr = unsafe.Pointer(&v[0])
		}
	} else {
		v := make([]complex128, n)
		data = v
		if n > 0 {
			ptr = unsafe.Pointer(&v[0])
		}
	}
	if n > 0 && C.gw_read_complex(C.hid_t(ds.ID()), etype, ptr) < 0 {
		return nil, errors.New("cannot read complex values")
	}
	return data, nil
}
