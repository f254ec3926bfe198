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

// LibVersion returns the version of the HDF5 library in use.
func LibVersion() string {
	version := "unknown"
	run(func() error {
		if v, err := hdf5.LibVersion(); err == nil {
			version = v.String()
		}
		return nil
	})
	return version
}

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
	f    *hdf5.File
	comp Compression
	err  error
}

// Create starts writing an HDF5 file into the empty file at path, which
// the caller created and holds open, as WriteInto does.
func Create(path string, comp Compression) (*Writer, error) {
	return create(path, comp, hdf5.F_ACC_TRUNC)
}

func create(path string, comp Compression, flag int) (*Writer, error) {
	w := &Writer{comp: comp}
	err := run(func() error {
		f, err := createFile(path, flag)
		w.f = f
		return fail("write archive", err)
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
	if w.f == nil {
		return w.err
	}
	err := run(func() error {
		err := w.err
		if err == nil {
			if aerr := writeRootAttrs(w.f, attrs); aerr != nil {
				err = fail("write archive", fmt.Errorf("root attributes: %w", aerr))
			}
		}
		// A write that failed may fail again as the file is closed and
		// flushed: the first failure is the one to report.
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = fail("write archive", cerr)
		}
		return err
	})
	w.f = nil
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func writeRootAttrs(f *hdf5.File, attrs []Attr) error {
	root, err := f.OpenGroup("/")
	if err != nil {
		return err
	}
	defer root.Close()
	return writeAttrs(root.ID(), attrs)
}

func writeDataset(f *hdf5.File, d *Dataset, comp Compression) error {
	parent, name, err := ensureParent(f, d.Path)
	if err != nil {
		return err
	}
	defer parent.Close()
	if d.Virtual != "" {
		cname, csrc := C.CString(name), C.CString(d.Virtual)
		defer C.free(unsafe.Pointer(cname))
		defer C.free(unsafe.Pointer(csrc))
		id := C.gw_create_view(C.hid_t(f.ID()), C.hid_t(parent.ID()), cname, csrc)
		if id < 0 {
			return fmt.Errorf("view of %s: cannot create the virtual dataset", d.Virtual)
		}
		err := writeAttrs(int64(id), d.Attrs)
		if C.H5Dclose(id) < 0 && err == nil {
			err = fmt.Errorf("view of %s: cannot close the virtual dataset", d.Virtual)
		}
		return err
	}
	elem, n, err := sliceInfo(d.Data)
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
	part := complexPart(d.Data)
	var dtype *hdf5.Datatype
	if part > 0 {
		dtype, err = complexType(part)
	} else {
		dtype, err = hdf5.NewDatatypeFromValue(elem)
	}
	if err != nil {
		return err
	}
	defer dtype.Close()
	space, err := hdf5.CreateSimpleDataspace(dims, nil)
	if err != nil {
		return err
	}
	defer space.Close()
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if comp.Gzip && n > 0 {
		if err := dcpl.SetChunk(chunkDims(dims, int(dtype.Size()))); err != nil {
			return err
		}
		if err := dcpl.SetDeflate(comp.Level); err != nil {
			return err
		}
	}
	ds, err := parent.CreateDatasetWith(name, dtype, space, dcpl)
	if err != nil {
		return err
	}
	defer ds.Close()
	if n > 0 && part > 0 {
		if C.gw_dset_io(C.hid_t(ds.ID()), C.hid_t(dtype.ID()), reflect.ValueOf(d.Data).UnsafePointer(), 1) < 0 {
			return errors.New("cannot write complex values")
		}
	} else if n > 0 {
		// The HDF5 binding takes the address of the slice header, so it
		// needs a pointer to an addressable slice.
		ptr := reflect.New(reflect.TypeOf(d.Data))
		ptr.Elem().Set(reflect.ValueOf(d.Data))
		if err := ds.Write(ptr.Interface()); err != nil {
			return err
		}
	}
	return writeAttrs(ds.ID(), d.Attrs)
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

type group interface {
	OpenGroup(string) (*hdf5.Group, error)
	CreateGroup(string) (*hdf5.Group, error)
	LinkExists(string) bool
}

// ensureParent creates the groups above a dataset path and returns the
// innermost one with the dataset's own name.
func ensureParent(f *hdf5.File, path string) (*hdf5.Group, string, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	g, err := f.OpenGroup("/")
	if err != nil {
		return nil, "", err
	}
	for _, p := range parts[:len(parts)-1] {
		var next *hdf5.Group
		if g.LinkExists(p) {
			next, err = g.OpenGroup(p)
		} else {
			next, err = g.CreateGroup(p)
		}
		g.Close()
		if err != nil {
			return nil, "", fmt.Errorf("group %s: %w", p, err)
		}
		g = next
	}
	return g, parts[len(parts)-1], nil
}

// complexPart returns the size of the real part of the values of a
// complex slice, or 0 for any other data.
func complexPart(data any) int {
	switch data.(type) {
	case []complex64:
		return 4
	case []complex128:
		return 8
	}
	return 0
}

// complexType returns the compound type numpy and h5py store complex
// values as: floats of part bytes named "r" and "i".
func complexType(part int) (*hdf5.Datatype, error) {
	f := hdf5.T_NATIVE_DOUBLE
	if part == 4 {
		f = hdf5.T_NATIVE_FLOAT
	}
	ct, err := hdf5.NewCompoundType(2 * part)
	if err != nil {
		return nil, err
	}
	if err := ct.Insert("r", 0, f); err != nil {
		ct.Close()
		return nil, err
	}
	if err := ct.Insert("i", part, f); err != nil {
		ct.Close()
		return nil, err
	}
	return &ct.Datatype, nil
}

// sliceInfo returns a zero element and the length of a numeric slice.
func sliceInfo(data any) (elem any, n int, err error) {
	rv := reflect.ValueOf(data)
	if rv.Kind() == reflect.Slice {
		switch et := rv.Type().Elem(); et.Kind() {
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return reflect.Zero(et).Interface(), rv.Len(), nil
		}
	}
	return nil, 0, fmt.Errorf("unsupported data type %T", data)
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
