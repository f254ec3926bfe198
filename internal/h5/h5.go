// Package h5 writes and reads the HDF5 files of gwwatchd through libhdf5:
// archives, and series written by other tools. All of the project's cgo
// is here.
package h5

// #cgo pkg-config: hdf5
// #include <stdlib.h>
// #include "h5shim.h"
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// Attr is one HDF5 attribute: a scalar string, float64 or int64, or a
// 1-D float64 array.
type Attr struct {
	Name  string
	Value any
}

// Dataset is one HDF5 dataset: a full path such as "/raw/K1:X", its values
// as a typed Go slice ([]int8 ... []uint64, []float32, []float64,
// []complex64 or []complex128; complex values are stored as numpy and h5py
// store them) and its shape.
type Dataset struct {
	Path  string
	Data  any
	Dims  []uint
	Attrs []Attr
	Info  *Info // how it is stored, when read from a file; nil when written

	// Virtual, when set, makes the dataset a view of the whole dataset at
	// this path in the same file (an HDF5 virtual dataset): its type, shape
	// and values are that dataset's, stored once, and Data is nil. Read
	// sets it for a virtual dataset that maps one whole dataset of the
	// file, and reads no values of it.
	Virtual string
}

// Attr returns the value of the named attribute, or nil.
func (d *Dataset) Attr(name string) any { return FindAttr(d.Attrs, name) }

// Doc is the content of one archive: root attributes and datasets.
type Doc struct {
	Attrs    []Attr
	Datasets []Dataset
}

// Attr returns the value of the named root attribute, or nil.
func (d *Doc) Attr(name string) any { return FindAttr(d.Attrs, name) }

// Dataset returns the dataset at path, or nil.
func (d *Doc) Dataset(path string) *Dataset {
	for i := range d.Datasets {
		if d.Datasets[i].Path == path {
			return &d.Datasets[i]
		}
	}
	return nil
}

func FindAttr(attrs []Attr, name string) any {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return nil
}

// Compression selects how datasets are stored.
type Compression struct {
	Gzip  bool
	Level int // 1..9
}

// LibVersion returns the version of the HDF5 library in use, asked of
// the library once: every archive records it.
var LibVersion = sync.OnceValue(func() string {
	version := "unknown"
	run(func() error {
		if v, err := hdf5.LibVersion(); err == nil {
			version = v.String()
		}
		return nil
	})
	return version
})

// Write writes doc as a new HDF5 file at path, which must not exist. A
// failure of libhdf5 is an *Error for "write archive", saying what the
// library or the system reported: "write archive: No space left on
// device" on a full disk. Nothing is printed.
func Write(path string, doc *Doc, comp Compression) error {
	return writeDoc(path, doc, comp, hdf5.F_ACC_EXCL)
}

// WriteInto is Write into an empty file the caller created and holds
// open (to lock it, say).
func WriteInto(path string, doc *Doc, comp Compression) error {
	return writeDoc(path, doc, comp, hdf5.F_ACC_TRUNC)
}

// writeDoc writes doc through a Writer: the datasets, then the root
// attributes.
func writeDoc(path string, doc *Doc, comp Compression, flag int) error {
	w, err := create(path, comp, flag)
	if err != nil {
		return err
	}
	w.Datasets(doc.Datasets)
	return w.Close(doc.Attrs)
}

// Writer writes an HDF5 file one dataset at a time, so that no more than
// the values of the dataset being written need be in memory; the root
// attributes, which may say something of every dataset, come last, at
// Close. Its methods report failures as Write does. After the first
// failure, every later call returns it without writing, so that a caller
// may check once, at Close, which it must call in any case. A Writer is
// not for concurrent use.
type Writer struct {
	f     C.hid_t // the open file, or -1 once closed
	comp  Compression
	err   error
	image []byte // for a Writer of CreateImage, the file once closed
	inMem bool   // made by CreateImage
}

// Create starts writing an HDF5 file into the empty file at path, which
// the caller created and holds open, as WriteInto does.
func Create(path string, comp Compression) (*Writer, error) {
	return create(path, comp, hdf5.F_ACC_TRUNC)
}

func create(path string, comp Compression, flag int) (*Writer, error) {
	w := &Writer{f: -1, comp: comp}
	err := run(func() error {
		f, err := createFile(path, flag)
		if err == nil {
			w.f = C.hid_t(f.ID())
		}
		return fail("write archive", err)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// imageIncrement is how much the memory of a file of CreateImage grows
// by at a time.
const imageIncrement = 64 << 10

// imageSeq numbers the files of CreateImage.
var imageSeq atomic.Uint64

// CreateImage starts writing an HDF5 file in memory only: Close leaves
// its bytes in Image, the very bytes Create would have left in a file,
// for the caller to write where it will. No system call is made while it
// is written, which makes it the cheaper way to write a small file; a
// large one costs its whole size in memory.
func CreateImage(comp Compression) (*Writer, error) {
	w := &Writer{f: -1, comp: comp, inMem: true}
	// libhdf5 tells open files apart by name, and tries to open the name
	// for reading before it creates a file of it, even in memory: the
	// name must be new to the library and lead to no file. Below the
	// running program, which is no directory, none can.
	name := C.CString(fmt.Sprintf("/proc/self/exe/gwwatchd-image-%d", imageSeq.Add(1)))
	defer C.free(unsafe.Pointer(name))
	err := run(func() error {
		f := C.gw_create_image(name, imageIncrement)
		if f < 0 {
			return fail("write archive", errors.New("cannot create a file in memory"))
		}
		w.f = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Dataset writes one dataset, its values and its attributes, creating the
// groups above it. A view (Dataset.Virtual) must come after the dataset
// it maps.
func (w *Writer) Dataset(d *Dataset) error {
	if w.err != nil {
		return w.err
	}
	w.err = run(func() error {
		if err := writeDataset(w.f, d, w.comp); err != nil {
			return fail("write archive", fmt.Errorf("dataset %s: %w", d.Path, err))
		}
		return nil
	})
	return w.err
}

// Datasets writes datasets as Dataset does, the views after every other
// dataset: each maps one written before it.
func (w *Writer) Datasets(ds []Dataset) error {
	for _, views := range []bool{false, true} {
		for i := range ds {
			if (ds[i].Virtual != "") == views {
				w.Dataset(&ds[i])
			}
		}
	}
	return w.err
}

// Close writes the root attributes, unless a call before failed, and
// closes the file. It returns the first failure of the Writer.
func (w *Writer) Close(attrs []Attr) error {
	if w.f < 0 {
		return w.err
	}
	err := run(func() error {
		err := w.err
		if err == nil {
			if aerr := writeRootAttrs(w.f, attrs); aerr != nil {
				err = fail("write archive", fmt.Errorf("root attributes: %w", aerr))
			}
		}
		if err == nil && w.inMem {
			w.image, err = image(w.f)
		}
		// A write that failed may fail again as the file is closed and
		// flushed: the first failure is the one to report.
		if C.H5Fclose(w.f) < 0 && err == nil {
			err = fail("write archive", errors.New("cannot close the file"))
		}
		return err
	})
	w.f = -1
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Image returns the bytes of the file of a Writer of CreateImage once it
// closed without failure, else nil.
func (w *Writer) Image() []byte {
	if w.err != nil || w.f >= 0 {
		return nil
	}
	return w.image
}

// image returns the image of a file of CreateImage. It must be called
// from within run.
func image(f C.hid_t) ([]byte, error) {
	n := C.gw_image(f, nil, 0)
	if n < 0 {
		return nil, fail("write archive", errors.New("cannot flush the file in memory"))
	}
	buf := make([]byte, int(n))
	if n == 0 || C.gw_image(f, unsafe.Pointer(&buf[0]), C.size_t(n)) != n {
		return nil, fail("write archive", errors.New("cannot copy the file out of memory"))
	}
	return buf, nil
}

// writeRootAttrs writes attrs on the root group of file f.
func writeRootAttrs(f C.hid_t, attrs []Attr) error {
	g := openRoot(f)
	if g < 0 {
		return errors.New("cannot open the root group")
	}
	defer C.H5Gclose(g)
	return writeAttrs(int64(g), attrs)
}

// openRoot opens the root group of file f, or returns a negative value.
func openRoot(f C.hid_t) C.hid_t {
	root := C.CString("/")
	defer C.free(unsafe.Pointer(root))
	return C.H5Gopen2(f, root, C.H5P_DEFAULT)
}

func writeDataset(f C.hid_t, d *Dataset, comp Compression) error {
	parent, name, err := ensureParent(f, d.Path)
	if err != nil {
		return err
	}
	defer C.H5Gclose(parent)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if d.Virtual != "" {
		csrc := C.CString(d.Virtual)
		defer C.free(unsafe.Pointer(csrc))
		id := C.gw_create_view(f, parent, cname, csrc)
		if id < 0 {
			return fmt.Errorf("view of %s: cannot create the virtual dataset", d.Virtual)
		}
		err := writeAttrs(int64(id), d.Attrs)
		if C.H5Dclose(id) < 0 && err == nil {
			err = fmt.Errorf("view of %s: cannot close the virtual dataset", d.Virtual)
		}
		return err
	}
	etype, size, n, err := elemType(d.Data)
	if err != nil {
		return err
	}
	dims := d.Dims
	if dims == nil {
		dims = []uint{uint(n)}
	}
	total := uint(1)
	for _, v := range dims {
		total *= v
	}
	if total != uint(n) {
		return fmt.Errorf("shape %v does not hold %d values", dims, n)
	}
	cdims := make([]C.hsize_t, len(dims))
	for i, v := range dims {
		cdims[i] = C.hsize_t(v)
	}
	var chunk *C.hsize_t
	if comp.Gzip && n > 0 {
		cchunk := make([]C.hsize_t, len(dims))
		for i, v := range chunkDims(dims, size) {
			cchunk[i] = C.hsize_t(v)
		}
		chunk = &cchunk[0]
	}
	var buf unsafe.Pointer
	if n > 0 {
		buf = reflect.ValueOf(d.Data).UnsafePointer()
	}
	var dims0 *C.hsize_t
	if len(cdims) > 0 {
		dims0 = &cdims[0]
	}
	ds := C.gw_create_dataset(parent, cname, etype, C.int(len(cdims)), dims0, chunk, C.int(comp.Level), buf)
	if ds < 0 {
		return errors.New("cannot create the dataset")
	}
	defer C.H5Dclose(ds)
	return writeAttrs(int64(ds), d.Attrs)
}

// chunkDims picks chunks of about 1 MiB: whole rows of a 2-D dataset.
func chunkDims(dims []uint, size int) []uint {
	const target = 1 << 20
	out := make([]uint, len(dims))
	row := uint(size)
	for i := 1; i < len(dims); i++ {
		out[i] = dims[i]
		row *= dims[i]
	}
	out[0] = max(1, min(dims[0], uint(target)/max(row, 1)))
	return out
}

// ensureParent creates the groups above a dataset path in f and returns
// the innermost one, open, with the dataset's own name.
func ensureParent(f C.hid_t, path string) (C.hid_t, string, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	g := openRoot(f)
	if g < 0 {
		return -1, "", errors.New("cannot open the root group")
	}
	for _, p := range parts[:len(parts)-1] {
		cp := C.CString(p)
		next := C.gw_group(g, cp)
		C.free(unsafe.Pointer(cp))
		C.H5Gclose(g)
		if next < 0 {
			return -1, "", fmt.Errorf("group %s: cannot create it", p)
		}
		g = next
	}
	return g, parts[len(parts)-1], nil
}

// elemTypes are the element types of gw_create_dataset of the numeric
// slices.
var elemTypes = map[reflect.Kind]C.int{
	reflect.Int8: C.GW_T_INT8, reflect.Int16: C.GW_T_INT16, reflect.Int32: C.GW_T_INT32, reflect.Int64: C.GW_T_INT64,
	reflect.Uint8: C.GW_T_UINT8, reflect.Uint16: C.GW_T_UINT16, reflect.Uint32: C.GW_T_UINT32, reflect.Uint64: C.GW_T_UINT64,
	reflect.Float32: C.GW_T_FLOAT, reflect.Float64: C.GW_T_DOUBLE,
	reflect.Complex64: C.GW_T_COMPLEX64, reflect.Complex128: C.GW_T_COMPLEX128,
}

// elemType returns the element type of a numeric slice for
// gw_create_dataset, the size of an element and the length.
func elemType(data any) (etype C.int, size, n int, err error) {
	rv := reflect.ValueOf(data)
	if rv.Kind() == reflect.Slice {
		if t, ok := elemTypes[rv.Type().Elem().Kind()]; ok {
			return t, int(rv.Type().Elem().Size()), rv.Len(), nil
		}
	}
	return 0, 0, 0, fmt.Errorf("unsupported data type %T", data)
}

// writeAttrs creates attrs on the object loc, in order, in one call into
// the library.
func writeAttrs(loc int64, attrs []Attr) error {
	if len(attrs) == 0 {
		return nil
	}
	kinds := make([]C.int, len(attrs))
	lens := make([]C.longlong, len(attrs))
	var text []byte
	var f64 []C.double
	var i64 []C.longlong
	for i, a := range attrs {
		if strings.IndexByte(a.Name, 0) >= 0 {
			return fmt.Errorf("attribute %s: name holds a NUL byte", a.Name)
		}
		text = append(append(text, a.Name...), 0)
		switch v := a.Value.(type) {
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return fmt.Errorf("attribute %s: string holds a NUL byte", a.Name)
			}
			kinds[i] = C.GW_ATTR_STRING
			text = append(append(text, v...), 0)
		case float64:
			kinds[i] = C.GW_ATTR_F64
			f64 = append(f64, C.double(v))
		case int64:
			kinds[i] = C.GW_ATTR_I64
			i64 = append(i64, C.longlong(v))
		case int:
			kinds[i] = C.GW_ATTR_I64
			i64 = append(i64, C.longlong(v))
		case []float64:
			if len(v) == 0 {
				return fmt.Errorf("attribute %s: empty array attribute", a.Name)
			}
			kinds[i], lens[i] = C.GW_ATTR_F64_ARRAY, C.longlong(len(v))
			for _, x := range v {
				f64 = append(f64, C.double(x))
			}
		default:
			return fmt.Errorf("attribute %s: unsupported attribute type %T", a.Name, a.Value)
		}
	}
	// The slices hold no Go pointers, so C may read them in place; a last
	// zero gives each one an element to point at when no attribute needs it.
	f64 = append(f64, 0)
	i64 = append(i64, 0)
	n := C.gw_write_attrs(C.hid_t(loc), C.int(len(attrs)), &kinds[0], &lens[0],
		(*C.char)(unsafe.Pointer(&text[0])), &f64[0], &i64[0])
	if int(n) < len(attrs) {
		return fmt.Errorf("attribute %s: cannot write it", attrs[n].Name)
	}
	return nil
}

// storedTypes maps a stored numeric type (class, size, signed) to the Go
// slice type that reads it.
type storedType struct {
	cls    C.int
	size   int
	signed bool
}

var storedTypes = map[storedType]reflect.Type{
	{C.H5T_FLOAT, 8, false}:   reflect.TypeFor[[]float64](),
	{C.H5T_FLOAT, 4, false}:   reflect.TypeFor[[]float32](),
	{C.H5T_INTEGER, 1, true}:  reflect.TypeFor[[]int8](),
	{C.H5T_INTEGER, 2, true}:  reflect.TypeFor[[]int16](),
	{C.H5T_INTEGER, 4, true}:  reflect.TypeFor[[]int32](),
	{C.H5T_INTEGER, 8, true}:  reflect.TypeFor[[]int64](),
	{C.H5T_INTEGER, 1, false}: reflect.TypeFor[[]uint8](),
	{C.H5T_INTEGER, 2, false}: reflect.TypeFor[[]uint16](),
	{C.H5T_INTEGER, 4, false}: reflect.TypeFor[[]uint32](),
	{C.H5T_INTEGER, 8, false}: reflect.TypeFor[[]uint64](),
}

// makeSlice returns a pointer to a new slice of n values of a stored type.
func makeSlice(st storedType, n int) (reflect.Value, error) {
	t, ok := storedTypes[st]
	if !ok {
		return reflect.Value{}, fmt.Errorf("%w (class %d, %d bytes)", ErrUnsupportedType, st.cls, st.size)
	}
	p := reflect.New(t)
	p.Elem().Set(reflect.MakeSlice(t, n, n))
	return p, nil
}
