// Package h5 writes and reads the HDF5 files of gwwatchd through libhdf5:
// archives, and series written by other tools. All of the project's cgo
// is here.
package h5

// #cgo linux,!arm64 CFLAGS: -I/usr/include/hdf5/serial
// #cgo linux,!arm64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5
// #cgo linux,arm64 CFLAGS: -I/usr/include/hdf5/serial
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial -lhdf5
// #cgo !linux LDFLAGS: -lhdf5
// #include <stdlib.h>
// #include <string.h>
// #include <hdf5.h>
//
// // gw_write_string_attr writes a scalar variable-length UTF-8 string
// // attribute, the form h5py reads back as str.
// static int gw_write_string_attr(hid_t loc, const char *name, const char *value) {
//   int rc = -1;
//   hid_t t = H5Tcopy(H5T_C_S1);
//   hid_t s = H5Screate(H5S_SCALAR);
//   hid_t a = -1;
//   if (t < 0 || s < 0) goto out;
//   if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) goto out;
//   a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
//   if (a < 0) goto out;
//   if (H5Awrite(a, t, &value) < 0) goto out;
//   rc = 0;
// out:
//   if (a >= 0) H5Aclose(a);
//   if (s >= 0) H5Sclose(s);
//   if (t >= 0) H5Tclose(t);
//   return rc;
// }
//
// static long long gw_num_attrs(hid_t obj) {
//   H5O_info_t info;
//   if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
//   return (long long)info.num_attrs;
// }
//
// static ssize_t gw_attr_name(hid_t obj, hsize_t idx, char *buf, size_t size) {
//   return H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, idx, buf, size, H5P_DEFAULT);
// }
//
// // gw_type_info describes a stored type: class, size in bytes, and
// // whether an integer type is signed.
// static int gw_type_info(hid_t type, int *cls, size_t *size, int *sign, int *vlen) {
//   *cls = H5Tget_class(type);
//   *size = H5Tget_size(type);
//   *sign = (*cls == H5T_INTEGER) ? (H5Tget_sign(type) == H5T_SGN_2) : 0;
//   *vlen = (*cls == H5T_STRING) ? H5Tis_variable_str(type) : 0;
//   return *cls < 0 ? -1 : 0;
// }
//
// static int gw_attr_type_info(hid_t attr, int *cls, size_t *size, int *sign, int *vlen, int *rank, long long *npoints) {
//   hid_t t = H5Aget_type(attr);
//   if (t < 0) return -1;
//   int rc = gw_type_info(t, cls, size, sign, vlen);
//   H5Tclose(t);
//   hid_t s = H5Aget_space(attr);
//   if (s < 0) return -1;
//   *rank = H5Sget_simple_extent_ndims(s);
//   *npoints = H5Sget_simple_extent_npoints(s);
//   H5Sclose(s);
//   return rc;
// }
//
// // gw_complex_size returns the size of each part of a complex type
// // stored the way h5py and numpy store one, a compound of floats "r" and
// // "i", or 0 for any other type.
// static int gw_complex_size(hid_t type) {
//   if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2) return 0;
//   const char *want[2] = {"r", "i"};
//   size_t sizes[2];
//   for (unsigned i = 0; i < 2; i++) {
//     char *name = H5Tget_member_name(type, i);
//     int ok = name != NULL && strcmp(name, want[i]) == 0;
//     if (name != NULL) H5free_memory(name);
//     hid_t mt = H5Tget_member_type(type, i);
//     if (mt < 0) return 0;
//     ok = ok && H5Tget_class(mt) == H5T_FLOAT;
//     sizes[i] = H5Tget_size(mt);
//     H5Tclose(mt);
//     if (!ok || H5Tget_member_offset(type, i) != i * sizes[0]) return 0;
//   }
//   if (sizes[0] != sizes[1] || (sizes[0] != 4 && sizes[0] != 8)) return 0;
//   return (int)sizes[0];
// }
//
// static int gw_dset_complex_size(hid_t dset) {
//   hid_t t = H5Dget_type(dset);
//   if (t < 0) return 0;
//   int n = gw_complex_size(t);
//   H5Tclose(t);
//   return n;
// }
//
// static herr_t gw_dset_io(hid_t dset, hid_t memtype, void *buf, int write) {
//   if (write) return H5Dwrite(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
//   return H5Dread(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
// }
//
// static int gw_dset_type_info(hid_t dset, int *cls, size_t *size, int *sign, int *vlen) {
//   hid_t t = H5Dget_type(dset);
//   if (t < 0) return -1;
//   int rc = gw_type_info(t, cls, size, sign, vlen);
//   H5Tclose(t);
//   return rc;
// }
//
// // gw_read_string_attr reads a scalar string attribute, fixed or variable
// // length, into a malloc'ed buffer that the caller frees.
// static char *gw_read_string_attr(hid_t attr) {
//   hid_t ft = H5Aget_type(attr);
//   if (ft < 0) return NULL;
//   char *out = NULL;
//   if (H5Tis_variable_str(ft) > 0) {
//     hid_t mt = H5Tcopy(H5T_C_S1);
//     H5Tset_size(mt, H5T_VARIABLE);
//     H5Tset_cset(mt, H5Tget_cset(ft));
//     char *p = NULL;
//     if (H5Aread(attr, mt, &p) >= 0 && p != NULL) {
//       out = strdup(p);
//       H5free_memory(p);
//     }
//     H5Tclose(mt);
//   } else {
//     size_t n = H5Tget_size(ft);
//     hid_t mt = H5Tcopy(ft);
//     out = calloc(n + 1, 1);
//     if (out != NULL && H5Aread(attr, mt, out) < 0) {
//       free(out);
//       out = NULL;
//     }
//     H5Tclose(mt);
//   }
//   H5Tclose(ft);
//   return out;
// }
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

func init() {
	// Failures come back as errors; libhdf5's own printing of its error
	// stack to stderr would only duplicate them, out of order.
	hdf5.DisplayErrors(false)
}

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
	v, err := hdf5.LibVersion()
	if err != nil {
		return "unknown"
	}
	return v.String()
}

// Write writes doc as a new HDF5 file at path, which must not exist.
func Write(path string, doc *Doc, comp Compression) (err error) {
	return write(path, doc, comp, hdf5.F_ACC_EXCL)
}

// WriteInto is Write into an empty file the caller created, and holds
// open (to lock it, say).
func WriteInto(path string, doc *Doc, comp Compression) (err error) {
	return write(path, doc, comp, hdf5.F_ACC_TRUNC)
}

func write(path string, doc *Doc, comp Compression, flag int) (err error) {
	f, err := hdf5.CreateFile(path, flag)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	root, err := f.OpenGroup("/")
	if err != nil {
		return err
	}
	defer root.Close()
	if err := writeAttrs(root.ID(), root.CreateAttribute, doc.Attrs); err != nil {
		return fmt.Errorf("root attributes: %w", err)
	}
	for i := range doc.Datasets {
		if err := writeDataset(f, &doc.Datasets[i], comp); err != nil {
			return fmt.Errorf("dataset %s: %w", doc.Datasets[i].Path, err)
		}
	}
	return nil
}

func writeDataset(f *hdf5.File, d *Dataset, comp Compression) error {
	parent, name, err := ensureParent(f, d.Path)
	if err != nil {
		return err
	}
	defer parent.Close()
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
	return writeAttrs(ds.ID(), ds.CreateAttribute, d.Attrs)
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

// readComplex reads a whole dataset of n complex values of part bytes each.
func readComplex(ds *hdf5.Dataset, part, n int) (any, error) {
	mt, err := complexType(part)
	if err != nil {
		return nil, err
	}
	defer mt.Close()
	var data any
	var ptr unsafe.Pointer
	if part == 4 {
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
	if n > 0 && C.gw_dset_io(C.hid_t(ds.ID()), C.hid_t(mt.ID()), ptr, 0) < 0 {
		return nil, errors.New("cannot read complex values")
	}
	return data, nil
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

type attrCreator func(name string, dtype *hdf5.Datatype, dspace *hdf5.Dataspace) (*hdf5.Attribute, error)

func writeAttrs(loc int64, create attrCreator, attrs []Attr) error {
	for _, a := range attrs {
		if err := writeAttr(loc, create, a); err != nil {
			return fmt.Errorf("attribute %s: %w", a.Name, err)
		}
	}
	return nil
}

func writeAttr(loc int64, create attrCreator, a Attr) error {
	var (
		dtype *hdf5.Datatype
		space *hdf5.Dataspace
		err   error
		data  any
	)
	switch v := a.Value.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return errors.New("string holds a NUL byte")
		}
		cname, cval := C.CString(a.Name), C.CString(v)
		defer C.free(unsafe.Pointer(cname))
		defer C.free(unsafe.Pointer(cval))
		if C.gw_write_string_attr(C.hid_t(loc), cname, cval) < 0 {
			return errors.New("cannot write string attribute")
		}
		return nil
	case float64:
		dtype, err = hdf5.NewDatatypeFromValue(v)
		data = &v
	case int64:
		dtype, err = hdf5.NewDatatypeFromValue(v)
		data = &v
	case int:
		w := int64(v)
		dtype, err = hdf5.NewDatatypeFromValue(w)
		data = &w
	case []float64:
		if len(v) == 0 {
			return errors.New("empty array attribute")
		}
		dtype, err = hdf5.NewDatatypeFromValue(float64(0))
		data = &v[0]
		space, err = hdf5.CreateSimpleDataspace([]uint{uint(len(v))}, nil)
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported attribute type %T", a.Value)
	}
	if err != nil {
		return err
	}
	defer dtype.Close()
	if space == nil {
		space, err = hdf5.CreateDataspace(hdf5.S_SCALAR)
		if err != nil {
			return err
		}
	}
	defer space.Close()
	attr, err := create(a.Name, dtype, space)
	if err != nil {
		return err
	}
	defer attr.Close()
	return attr.Write(data, dtype)
}

// Read reads a whole HDF5 file into a Doc: root attributes and every
// dataset with its attributes, in name order.
func Read(path string) (*Doc, error) { return read(path, false) }

// ErrUnsupportedType is wrapped by the error for a dataset whose stored
// type has no Go slice here, such as a compound table or strings.
var ErrUnsupportedType = errors.New("unsupported stored type")

// ReadLenient reads as Read does, but passes over datasets whose type is
// unsupported.
func ReadLenient(path string) (*Doc, error) { return read(path, true) }

// read reads a whole file; when lenient, datasets of unsupported types are
// passed over instead of failing the read.
func read(path string, lenient bool) (*Doc, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	f, root, err := openRoot(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer root.Close()
	doc := &Doc{}
	if doc.Attrs, err = readAttrs(root.ID(), root.OpenAttribute); err != nil {
		return nil, fmt.Errorf("%s: root attributes: %w", path, err)
	}
	if err := walk(root, "", doc, lenient); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

func walk(g *hdf5.Group, prefix string, doc *Doc, lenient bool) error {
	n, err := g.NumObjects()
	if err != nil {
		return err
	}
	for i := uint(0); i < n; i++ {
		name, err := g.ObjectNameByIndex(i)
		if err != nil {
			return err
		}
		typ, err := g.ObjectTypeByIndex(i)
		if err != nil {
			return err
		}
		path := prefix + "/" + name
		switch typ {
		case hdf5.H5G_GROUP:
			sub, err := g.OpenGroup(name)
			if err != nil {
				return err
			}
			err = walk(sub, path, doc, lenient)
			sub.Close()
			if err != nil {
				return err
			}
		case hdf5.H5G_DATASET:
			d, err := readDataset(g, name, path)
			if errors.Is(err, ErrUnsupportedType) && lenient {
				continue
			}
			if err != nil {
				return fmt.Errorf("dataset %s: %w", path, err)
			}
			doc.Datasets = append(doc.Datasets, *d)
		}
	}
	return nil
}

func readDataset(g *hdf5.Group, name, path string) (*Dataset, error) {
	ds, err := g.OpenDataset(name)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	space := ds.Space()
	if space == nil {
		return nil, errors.New("no dataspace")
	}
	dims, _, err := space.SimpleExtentDims()
	space.Close()
	if err != nil {
		return nil, err
	}
	n := 1
	for _, v := range dims {
		n *= int(v)
	}
	if part := int(C.gw_dset_complex_size(C.hid_t(ds.ID()))); part > 0 {
		data, err := readComplex(ds, part, n)
		if err != nil {
			return nil, err
		}
		attrs, err := readAttrs(ds.ID(), ds.OpenAttribute)
		if err != nil {
			return nil, err
		}
		return &Dataset{Path: path, Data: data, Dims: dims, Attrs: attrs}, nil
	}
	var cls, sign, vlen C.int
	var size C.size_t
	if C.gw_dset_type_info(C.hid_t(ds.ID()), &cls, &size, &sign, &vlen) < 0 {
		return nil, errors.New("cannot read its type")
	}
	if cls == C.H5T_FLOAT {
		sign = 0 // the sign flag only describes integers
	}
	data, err := makeSlice(storedType{cls, int(size), sign != 0}, n)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if err := ds.Read(data.Interface()); err != nil {
			return nil, err
		}
	}
	attrs, err := readAttrs(ds.ID(), ds.OpenAttribute)
	if err != nil {
		return nil, err
	}
	return &Dataset{Path: path, Data: data.Elem().Interface(), Dims: dims, Attrs: attrs}, nil
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

type attrOpener func(name string) (*hdf5.Attribute, error)

func readAttrs(id int64, open attrOpener) ([]Attr, error) {
	n := C.gw_num_attrs(C.hid_t(id))
	if n < 0 {
		return nil, errors.New("cannot count attributes")
	}
	attrs := make([]Attr, 0, int(n))
	buf := make([]byte, 1024)
	for i := 0; i < int(n); i++ {
		l := C.gw_attr_name(C.hid_t(id), C.hsize_t(i), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		if l < 0 || int(l) >= len(buf) {
			return nil, fmt.Errorf("cannot read the name of attribute %d", i)
		}
		name := string(buf[:l])
		v, err := readAttr(open, name)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		attrs = append(attrs, Attr{Name: name, Value: v})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	return attrs, nil
}

func readAttr(open attrOpener, name string) (any, error) {
	a, err := open(name)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	id := C.hid_t(a.ID())
	var cls, sign, vlen, rank C.int
	var size C.size_t
	var npoints C.longlong
	if C.gw_attr_type_info(id, &cls, &size, &sign, &vlen, &rank, &npoints) < 0 {
		return nil, errors.New("cannot read its type")
	}
	switch {
	case cls == C.H5T_STRING && npoints == 1:
		p := C.gw_read_string_attr(id)
		if p == nil {
			return nil, errors.New("cannot read string")
		}
		defer C.free(unsafe.Pointer(p))
		return C.GoString(p), nil
	case cls == C.H5T_FLOAT && npoints == 1 && rank == 0:
		var v float64
		err := a.Read(&v, hdf5.T_NATIVE_DOUBLE)
		return v, err
	case cls == C.H5T_FLOAT && rank == 1:
		v := make([]float64, int(npoints))
		if len(v) == 0 {
			return v, nil
		}
		err := a.Read(&v[0], hdf5.T_NATIVE_DOUBLE)
		return v, err
	case cls == C.H5T_INTEGER && npoints == 1 && rank == 0:
		var v int64
		err := a.Read(&v, hdf5.T_NATIVE_INT64)
		return v, err
	}
	return fmt.Sprintf("(unsupported attribute: class %d, %d points)", cls, npoints), nil
}

// asFloat returns a numeric attribute as float64.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return math.NaN(), false
}

// ReadRootAttrs reads only the root attributes of an HDF5 file.
func ReadRootAttrs(path string) ([]Attr, error) {
	f, root, err := openRoot(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer root.Close()
	return readAttrs(root.ID(), root.OpenAttribute)
}

// openRoot opens an HDF5 file for reading, and its root group.
func openRoot(path string) (*hdf5.File, *hdf5.Group, error) {
	if !hdf5.IsHDF5(path) {
		return nil, nil, fmt.Errorf("%s: not an HDF5 file", path)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	root, err := f.OpenGroup("/")
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, root, nil
}
