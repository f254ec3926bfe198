// The C side of package h5, declared and described in h5shim.h.

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "h5shim.h"

// Errors.

static __thread gw_err_t gw_last;

// gw_walk_cb keeps, in the gw_err_t at data, entry e of an error stack
// walked from the innermost entry out.
static herr_t gw_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  gw_err_t *g = data;
  const char *d = e->desc ? e->desc : "";
  if (g->n < GW_ERR_ENTRIES) {
    g->maj[g->n] = e->maj_num;
    g->min[g->n] = e->min_num;
    strncpy(g->desc[g->n], d, sizeof g->desc[0] - 1);
    g->desc[g->n][sizeof g->desc[0] - 1] = 0;
    g->n++;
  }
  if (g->sys_errno == 0) {
    const char *p = strstr(d, "errno = ");
    if (p != NULL) g->sys_errno = atoi(p + 8);
    const char *q = strstr(d, "error message = '");
    if (q != NULL) {
      q += strlen("error message = '");
      const char *end = strchr(q, '\'');
      size_t len = end ? (size_t)(end - q) : strlen(q);
      if (len >= sizeof g->sys_msg) len = sizeof g->sys_msg - 1;
      memcpy(g->sys_msg, q, len);
      g->sys_msg[len] = 0;
    }
  }
  return 0;
}

// gw_capture replaces libhdf5's printing of its error stack: it is
// called as a failing API call returns, and keeps what the stack says.
static herr_t gw_capture(hid_t estack, void *unused) {
  (void)unused;
  memset(&gw_last, 0, sizeof gw_last);
  H5Ewalk2(estack, H5E_WALK_UPWARD, gw_walk_cb, &gw_last);
  return 0;
}

void gw_quiet(void) {
  H5Eset_auto2(H5E_DEFAULT, gw_capture, NULL);
  memset(&gw_last, 0, sizeof gw_last);
}

gw_err_t *gw_last_error(void) { return &gw_last; }

void gw_clear(void) { H5Eclear2(H5E_DEFAULT); }

void gw_msg(hid_t id, char *buf, size_t n) {
  buf[0] = 0;
  if (H5Eget_msg(id, NULL, buf, n) < 0) buf[0] = 0;
}

int gw_cloexec(hid_t f) {
  hid_t fapl = H5Fget_access_plist(f);
  if (fapl < 0) return -1;
  hid_t driver = H5Pget_driver(fapl);
  H5Pclose(fapl);
  // The sec2 driver, libhdf5's default and the only one used here, holds
  // one POSIX descriptor.
  if (driver != H5FD_SEC2) return -1;
  void *h = NULL;
  if (H5Fget_vfd_handle(f, H5P_DEFAULT, &h) < 0 || h == NULL) return -1;
  int fd = *(int *)h;
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return -1;
  return 0;
}

// Writing.

int gw_write_attrs(hid_t loc, int n, const int *kinds, const long long *lens, const char *text,
                   const double *f64, const long long *i64) {
  // One string type and one scalar dataspace serve every attribute.
  hid_t str = H5Tcopy(H5T_C_S1), scalar = H5Screate(H5S_SCALAR);
  int i = 0;
  if (str < 0 || scalar < 0 || H5Tset_size(str, H5T_VARIABLE) < 0 || H5Tset_cset(str, H5T_CSET_UTF8) < 0) goto out;
  for (; i < n; i++) {
    const char *name = text;
    text += strlen(text) + 1;
    hid_t type, space = scalar, a;
    const void *buf;
    const char *value;
    switch (kinds[i]) {
    case GW_ATTR_STRING:
      value = text;
      text += strlen(text) + 1;
      type = str, buf = &value;
      break;
    case GW_ATTR_F64:
      type = H5T_NATIVE_DOUBLE, buf = f64++;
      break;
    case GW_ATTR_I64:
      type = H5T_NATIVE_INT64, buf = i64++;
      break;
    case GW_ATTR_F64_ARRAY: {
      hsize_t dims[1] = {(hsize_t)lens[i]};
      space = H5Screate_simple(1, dims, NULL);
      if (space < 0) goto out;
      type = H5T_NATIVE_DOUBLE, buf = f64;
      f64 += lens[i];
      break;
    }
    default:
      goto out;
    }
    a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, buf) >= 0;
    if (a >= 0 && H5Aclose(a) < 0) ok = 0;
    if (space != scalar) H5Sclose(space);
    if (!ok) goto out;
  }
out:
  if (scalar >= 0) H5Sclose(scalar);
  if (str >= 0) H5Tclose(str);
  return i;
}

hid_t gw_create_image(const char *name, size_t increment) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return -1;
  hid_t f = -1;
  if (H5Pset_fapl_core(fapl, increment, 0) >= 0) f = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  return f;
}

ssize_t gw_image(hid_t f, void *buf, size_t size) {
  // The flush writes what the library still holds and gives back the
  // space it set aside but did not use, as a close does: the image is
  // the file a close would leave.
  if (H5Fflush(f, H5F_SCOPE_LOCAL) < 0) return -1;
  ssize_t n = H5Fget_file_image(f, NULL, 0);
  if (n < 0 || buf == NULL || (size_t)n > size) return n;
  return H5Fget_file_image(f, buf, (size_t)n);
}

hid_t gw_group(hid_t loc, const char *name) {
  htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
  if (exists < 0) return -1;
  if (exists) return H5Gopen2(loc, name, H5P_DEFAULT);
  return H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

// gw_type returns a new copy of the element type of gw_create_dataset.
static hid_t gw_type(int etype) {
  hid_t part;
  switch (etype) {
  case GW_T_INT8: return H5Tcopy(H5T_NATIVE_INT8);
  case GW_T_INT16: return H5Tcopy(H5T_NATIVE_INT16);
  case GW_T_INT32: return H5Tcopy(H5T_NATIVE_INT32);
  case GW_T_INT64: return H5Tcopy(H5T_NATIVE_INT64);
  case GW_T_UINT8: return H5Tcopy(H5T_NATIVE_UINT8);
  case GW_T_UINT16: return H5Tcopy(H5T_NATIVE_UINT16);
  case GW_T_UINT32: return H5Tcopy(H5T_NATIVE_UINT32);
  case GW_T_UINT64: return H5Tcopy(H5T_NATIVE_UINT64);
  case GW_T_FLOAT: return H5Tcopy(H5T_NATIVE_FLOAT);
  case GW_T_DOUBLE: return H5Tcopy(H5T_NATIVE_DOUBLE);
  case GW_T_COMPLEX64: part = H5T_NATIVE_FLOAT; break;
  case GW_T_COMPLEX128: part = H5T_NATIVE_DOUBLE; break;
  default: return -1;
  }
  size_t size = H5Tget_size(part);
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * size);
  if (t < 0) return -1;
  if (H5Tinsert(t, "r", 0, part) < 0 || H5Tinsert(t, "i", size, part) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

hid_t gw_create_dataset(hid_t loc, const char *name, int etype, int rank, const hsize_t *dims,
                        const hsize_t *chunk, int level, const void *buf) {
  hid_t type = gw_type(etype);
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t d = -1;
  if (type < 0 || space < 0 || dcpl < 0) goto out;
  if (chunk != NULL && (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_deflate(dcpl, (unsigned)level) < 0)) goto out;
  d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d >= 0 && buf != NULL && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    H5Dclose(d);
    d = -1;
  }
out:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return d;
}

hid_t gw_create_view(hid_t file, hid_t loc, const char *name, const char *src) {
  hid_t s = H5Dopen2(file, src, H5P_DEFAULT);
  if (s < 0) return -1;
  hid_t t = H5Dget_type(s), sp = H5Dget_space(s);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t d = -1;
  if (t >= 0 && sp >= 0 && dcpl >= 0 && H5Sselect_all(sp) >= 0 &&
      H5Pset_virtual(dcpl, sp, ".", src, sp) >= 0)
    d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  H5Dclose(s);
  return d;
}

// Reading.

ssize_t gw_link(hid_t g, hsize_t i, char *name, size_t size, int *hard, int *otype, haddr_t *addr) {
  ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, size, H5P_DEFAULT);
  if (n < 0) return -1;
  H5L_info_t li;
  if (H5Lget_info_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &li, H5P_DEFAULT) < 0) return -1;
  *hard = li.type == H5L_TYPE_HARD;
  *otype = -1;
  *addr = 0;
  if (!*hard) return n;
  H5O_info_t oi;
  if (H5Oget_info_by_idx2(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
  *otype = oi.type;
  *addr = oi.addr;
  return n;
}

long long gw_nlinks(hid_t g) {
  H5G_info_t gi;
  if (H5Gget_info(g, &gi) < 0) return -1;
  return (long long)gi.nlinks;
}

int gw_view_source(hid_t d, char *buf, size_t n) {
  hid_t p = H5Dget_create_plist(d);
  if (p < 0) return -1;
  int rc = 0;
  size_t count = 0;
  char file[8];
  if (H5Pget_virtual_count(p, &count) < 0) rc = -1;
  else if (count == 1 && H5Pget_virtual_filename(p, 0, file, sizeof file) == 1 && file[0] == '.') {
    ssize_t l = H5Pget_virtual_dsetname(p, 0, buf, n);
    rc = (l > 0 && (size_t)l < n) ? 1 : 0;
  }
  H5Pclose(p);
  return rc;
}

int gw_dset_storage(hid_t d, int *layout, int *external, int *nfilters, int *filters,
                    long long *chunk_elems, long long *storage, long long *nchunks) {
  hid_t p = H5Dget_create_plist(d);
  if (p < 0) return -1;
  int rc = -1;
  *layout = H5Pget_layout(p);
  if (*layout < 0) goto out;
  *external = H5Pget_external_count(p);
  if (*external < 0) goto out;
  *nfilters = H5Pget_nfilters(p);
  if (*nfilters < 0) goto out;
  for (int i = 0; i < *nfilters && i < 8; i++) {
    unsigned flags = 0, cd[8], fc = 0;
    size_t nelmts = 8;
    char name[64];
    filters[i] = H5Pget_filter2(p, (unsigned)i, &flags, &nelmts, cd, sizeof name, name, &fc);
  }
  *chunk_elems = 0;
  *nchunks = 0;
  if (*layout == H5D_CHUNKED) {
    hsize_t cdims[H5S_MAX_RANK];
    int r = H5Pget_chunk(p, H5S_MAX_RANK, cdims);
    if (r < 0) goto out;
    long long e = 1;
    for (int i = 0; i < r; i++) {
      if (cdims[i] == 0 || e > (long long)(((unsigned long long)1 << 62) / cdims[i])) { e = -1; break; }
      e *= (long long)cdims[i];
    }
    *chunk_elems = e;
    hid_t s = H5Dget_space(d);
    if (s < 0) goto out;
    hsize_t n = 0;
    herr_t nr = H5Dget_num_chunks(d, s, &n);
    H5Sclose(s);
    if (nr < 0) goto out;
    *nchunks = (long long)n;
  }
  *storage = (long long)H5Dget_storage_size(d);
  rc = 0;
out:
  H5Pclose(p);
  return rc;
}

int gw_dset_rank(hid_t d, int *rank, hsize_t *dims, int *null_space) {
  hid_t s = H5Dget_space(d);
  if (s < 0) return -1;
  *null_space = H5Sget_simple_extent_type(s) == H5S_NULL;
  *rank = H5Sget_simple_extent_dims(s, dims, NULL);
  H5Sclose(s);
  return *rank < 0 ? -1 : 0;
}

herr_t gw_read_complex(hid_t dset, int etype, void *buf) {
  if (etype != GW_T_COMPLEX64 && etype != GW_T_COMPLEX128) return -1;
  hid_t t = gw_type(etype);
  if (t < 0) return -1;
  herr_t rc = H5Dread(dset, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  H5Tclose(t);
  return rc;
}

long long gw_num_attrs(hid_t obj) {
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
  return (long long)info.num_attrs;
}

typedef struct {
  char *buf;
  size_t size, used;
} gw_names;

static herr_t gw_add_name(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
  (void)loc;
  (void)info;
  gw_names *n = op;
  size_t l = strlen(name) + 1;
  if (n->used + l <= n->size) memcpy(n->buf + n->used, name, l);
  n->used += l;
  return 0;
}

long long gw_attr_names(hid_t obj, char *buf, size_t size) {
  gw_names n = {buf, size, 0};
  hsize_t idx = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, gw_add_name, &n) < 0) return -1;
  return (long long)n.used;
}

static int gw_type_info2(hid_t type, int *cls, size_t *size, int *sign, int *vlen) {
  *cls = H5Tget_class(type);
  *size = H5Tget_size(type);
  *sign = (*cls == H5T_INTEGER) ? (H5Tget_sign(type) == H5T_SGN_2) : 0;
  *vlen = (*cls == H5T_STRING) ? H5Tis_variable_str(type) : 0;
  return *cls < 0 ? -1 : 0;
}

int gw_attr_info(hid_t attr, int *cls, size_t *size, int *sign, int *vlen, int *rank, long long *npoints) {
  hid_t t = H5Aget_type(attr);
  if (t < 0) return -1;
  int rc = gw_type_info2(t, cls, size, sign, vlen);
  H5Tclose(t);
  hid_t s = H5Aget_space(attr);
  if (s < 0) return -1;
  *rank = H5Sget_simple_extent_ndims(s);
  *npoints = H5Sget_simple_extent_npoints(s);
  H5Sclose(s);
  return rc;
}

int gw_dset_type(hid_t dset, int *cls, size_t *size, int *sign, int *vlen) {
  hid_t t = H5Dget_type(dset);
  if (t < 0) return -1;
  int rc = gw_type_info2(t, cls, size, sign, vlen);
  H5Tclose(t);
  return rc;
}

// gw_complex_size returns the size of each part of a complex type
// stored the way h5py and numpy store one, a compound of floats "r" and
// "i", or 0 for any other type.
static int gw_complex_size(hid_t type) {
  if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2) return 0;
  const char *want[2] = {"r", "i"};
  size_t sizes[2];
  for (unsigned i = 0; i < 2; i++) {
    char *name = H5Tget_member_name(type, i);
    int ok = name != NULL && strcmp(name, want[i]) == 0;
    if (name != NULL) H5free_memory(name);
    hid_t mt = H5Tget_member_type(type, i);
    if (mt < 0) return 0;
    ok = ok && H5Tget_class(mt) == H5T_FLOAT;
    sizes[i] = H5Tget_size(mt);
    H5Tclose(mt);
    if (!ok || H5Tget_member_offset(type, i) != i * sizes[0]) return 0;
  }
  if (sizes[0] != sizes[1] || (sizes[0] != 4 && sizes[0] != 8)) return 0;
  return (int)sizes[0];
}

int gw_dset_complex_size(hid_t dset) {
  hid_t t = H5Dget_type(dset);
  if (t < 0) return 0;
  int n = gw_complex_size(t);
  H5Tclose(t);
  return n;
}

char *gw_read_string(hid_t attr) {
  hid_t ft = H5Aget_type(attr);
  if (ft < 0) return NULL;
  char *out = NULL;
  if (H5Tis_variable_str(ft) > 0) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *p = NULL;
    if (H5Aread(attr, mt, &p) >= 0 && p != NULL) {
      out = strdup(p);
      H5free_memory(p);
    }
    H5Tclose(mt);
  } else {
    size_t n = H5Tget_size(ft);
    hid_t mt = H5Tcopy(ft);
    out = calloc(n + 1, 1);
    if (out != NULL && H5Aread(attr, mt, out) < 0) {
      free(out);
      out = NULL;
    }
    H5Tclose(mt);
  }
  H5Tclose(ft);
  return out;
}

herr_t gw_attr_read(hid_t attr, hid_t memtype, void *buf) { return H5Aread(attr, memtype, buf); }
hid_t gw_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t gw_native_int64(void) { return H5T_NATIVE_INT64; }
