// The C side of package h5: what the Go code cannot say through cgo
// alone (libhdf5's macros, callbacks, out-parameters and several calls
// that must be made together), defined in h5shim.c.

#ifndef GWWATCHD_H5SHIM_H
#define GWWATCHD_H5SHIM_H

#include <hdf5.h>

// Errors (errors.go).

// What the innermost entries of the last failing call's error stack
// said, kept per thread: libhdf5 keeps its error stack and its
// automatic error handler per thread.
#define GW_ERR_ENTRIES 4
typedef struct {
  int n;                                  // entries kept, innermost first
  hid_t maj[GW_ERR_ENTRIES], min[GW_ERR_ENTRIES];
  char desc[GW_ERR_ENTRIES][512];
  int sys_errno;                          // from "errno = N" in a description, or 0
  char sys_msg[128];                      // from "error message = '...'", or ""
} gw_err_t;

// gw_quiet installs on the calling thread a handler that keeps what a
// failing call's error stack says instead of printing it, and forgets
// any earlier failure.
void gw_quiet(void);

// gw_last_error is what the last failing call on this thread said.
gw_err_t *gw_last_error(void);

// gw_clear clears this thread's error stack.
void gw_clear(void);

// gw_msg writes into buf the text of error message id, or "".
void gw_msg(hid_t id, char *buf, size_t n);

// gw_cloexec marks the descriptor libhdf5 holds file f open by as closed
// on exec. It returns 0, or -1 if the descriptor cannot be had or marked.
int gw_cloexec(hid_t f);

// Writing (h5.go).

// Attribute kinds of gw_write_attrs.
enum { GW_ATTR_STRING, GW_ATTR_F64, GW_ATTR_I64, GW_ATTR_F64_ARRAY };

// gw_write_attrs creates the n attributes of loc in order, in one call:
// attribute i is of kinds[i]. text holds, one after the other, each
// attribute's NUL-terminated name and, for a string, its NUL-terminated
// value (a scalar variable-length UTF-8 string). The numbers of the
// numeric ones follow one another in f64 (a scalar, or lens[i] values for
// a one-dimensional array) and i64 (a scalar). It returns n when all were
// written, else the index of the attribute that failed.
int gw_write_attrs(hid_t loc, int n, const int *kinds, const long long *lens, const char *text,
                   const double *f64, const long long *i64);

// gw_create_image creates an HDF5 file held in memory only, to be had
// with gw_image: libhdf5's core driver without a backing store. name is
// the file's name in the library, which tells open files apart.
hid_t gw_create_image(const char *name, size_t increment);

// gw_image flushes file f, created by gw_create_image, and copies its
// image into buf when size is large enough. It returns the size of the
// image, or a negative value.
ssize_t gw_image(hid_t f, void *buf, size_t size);

// gw_group opens the group name in loc, creating it when loc has no link
// of that name.
hid_t gw_group(hid_t loc, const char *name);

// Native element types of gw_create_dataset; the complex ones are the
// compound types of two floats named "r" and "i" that numpy and h5py
// store complex values as.
enum {
  GW_T_INT8, GW_T_INT16, GW_T_INT32, GW_T_INT64,
  GW_T_UINT8, GW_T_UINT16, GW_T_UINT32, GW_T_UINT64,
  GW_T_FLOAT, GW_T_DOUBLE, GW_T_COMPLEX64, GW_T_COMPLEX128
};

// gw_create_dataset creates dataset name in loc, of element type etype
// and of shape dims (rank values), chunked by chunk and deflated at level
// when chunk is not NULL, and writes buf into it when buf is not NULL. It
// returns the open dataset, or a negative value.
hid_t gw_create_dataset(hid_t loc, const char *name, int etype, int rank, const hsize_t *dims,
                        const hsize_t *chunk, int level, const void *buf);

// gw_create_view makes name in loc a virtual dataset that maps the whole
// of the dataset src (a path in the same file) and has its type and
// shape: a second view of the same samples, stored once.
hid_t gw_create_view(hid_t file, hid_t loc, const char *name, const char *src);


// Reading (read.go).

// gw_link describes link i of group g, in name order: its name (the
// length of which is returned, or -1), whether it is a hard link, and
// for a hard link the type and address of the object it leads to.
ssize_t gw_link(hid_t g, hsize_t i, char *name, size_t size, int *hard, int *otype, haddr_t *addr);

// gw_nlinks returns the number of links in group g, or -1.
long long gw_nlinks(hid_t g);

// gw_view_source writes into buf the dataset a virtual dataset maps,
// when it maps exactly one dataset of its own file ("."), and returns
// 1; else 0, or -1 on failure.
int gw_view_source(hid_t d, char *buf, size_t n);

// gw_dset_storage describes how a dataset is stored: layout, external
// files, filters (up to 8 of their ids), elements per chunk, bytes
// allocated in the file and chunks allocated.
int gw_dset_storage(hid_t d, int *layout, int *external, int *nfilters, int *filters,
                    long long *chunk_elems, long long *storage, long long *nchunks);

// gw_dset_rank gives the rank and dimensions of a dataset's dataspace
// (dims must hold H5S_MAX_RANK) and whether it is a null dataspace.
int gw_dset_rank(hid_t d, int *rank, hsize_t *dims, int *null_space);

// gw_read_complex reads the whole of dset into buf as values of etype,
// GW_T_COMPLEX64 or GW_T_COMPLEX128 (see gw_create_dataset).
herr_t gw_read_complex(hid_t dset, int etype, void *buf);

// gw_num_attrs returns the number of attributes of obj, or -1.
long long gw_num_attrs(hid_t obj);

// gw_attr_names writes into buf the names of obj's attributes in name
// order, each ending in a NUL, in one pass over them, and returns the
// bytes they take, or -1. When that exceeds size, buf holds the names
// that fit.
long long gw_attr_names(hid_t obj, char *buf, size_t size);

// gw_attr_info describes an attribute's type (class, size, whether
// signed, whether a variable-length string) and its dataspace (rank and
// number of elements).
int gw_attr_info(hid_t attr, int *cls, size_t *size, int *sign, int *vlen, int *rank, long long *npoints);

// gw_dset_type describes a dataset's type as gw_attr_info does an
// attribute's.
int gw_dset_type(hid_t dset, int *cls, size_t *size, int *sign, int *vlen);

// gw_dset_complex_size returns the size of each part of a dataset's
// values when they are complex numbers stored as h5py and numpy store
// them, or 0.
int gw_dset_complex_size(hid_t dset);

// gw_read_string returns a string attribute's value, fixed or variable
// length, in memory the caller frees, or NULL.
char *gw_read_string(hid_t attr);

// gw_attr_read reads the whole of attr into buf as memtype.
herr_t gw_attr_read(hid_t attr, hid_t memtype, void *buf);

// gw_native_double and gw_native_int64 are H5T_NATIVE_DOUBLE and
// H5T_NATIVE_INT64, macros cgo cannot use.
hid_t gw_native_double(void);
hid_t gw_native_int64(void);

#endif
