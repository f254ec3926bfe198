#!/usr/bin/python3
"""Write the golden .npy inputs for the ingest tests.

Run from anywhere with a Python that has NumPy:

    /usr/bin/python3 testdata/ingest/gen.py

Every file is written by NumPy itself so the tests check the Go reader
against real headers. expected.json records, for each good file, the dtype,
byte order, shape and the samples: integers as decimal strings, floats as
the hex bit pattern of the native-width value so comparisons are bitwise.
"""

import json
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))

INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"]
FLOAT_TYPES = ["float32", "float64"]


def int_values(name):
    info = np.iinfo(name)
    vals = [0, 1, 2, 3, info.max, info.min, info.max - 1, info.min + 1, 42, 100]
    if info.min < 0:
        vals += [-1, -2, -42, -100]
    return np.array(vals, dtype=name)


def float_values(name):
    finfo = np.finfo(name)
    vals = np.array(
        [0.0, 1.0, -1.5, 3.141592653589793, 1e-3, -2.5e6, 1 / 3,
         finfo.max, -finfo.max, finfo.tiny, finfo.smallest_subnormal,
         np.inf, -np.inf, np.nan],
        dtype=name,
    )
    # Negative zero and a NaN with a payload must survive bit for bit.
    uint = "uint32" if name == "float32" else "uint64"
    extra = np.array(
        [0x80000000, 0x7FC00123] if name == "float32"
        else [0x8000000000000000, 0x7FF8000000000ABC],
        dtype=uint,
    ).view(name)
    return np.concatenate([vals, extra])


def values(name):
    return float_values(name) if name in FLOAT_TYPES else int_values(name)


def encode(arr):
    flat = arr.reshape(-1)
    if flat.dtype.kind == "f":
        uint = "<u4" if flat.dtype.itemsize == 4 else "<u8"
        native = flat.astype(flat.dtype.newbyteorder("<"))
        return ["0x%x" % v for v in native.view(uint)]
    return [str(int(v)) for v in flat]


expected = {}


def record(fname, arr):
    dt = arr.dtype
    order = {"<": "little", ">": "big", "|": "", "=": "little"}[dt.byteorder]
    if dt.itemsize == 1:
        order = ""
    expected[fname] = {
        "dtype": dt.name,
        "byte_order": order,
        "shape": list(arr.shape),
        "values": encode(arr),
    }


def save(fname, arr, version=None):
    path = os.path.join(HERE, fname)
    with open(path, "wb") as f:
        npformat.write_array(f, arr, version=version, allow_pickle=False)
    back = np.load(path, allow_pickle=False)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes(), fname
    record(fname, arr)


def save_header(fname, arr, header, version=(1, 0)):
    """Write arr's bytes after a header NumPy would not choose itself."""
    path = os.path.join(HERE, fname)
    with open(path, "wb") as f:
        if version == (1, 0):
            npformat.write_array_header_1_0(f, header)
        else:
            npformat.write_array_header_2_0(f, header)
        f.write(arr.tobytes(order="F"))
    back = np.load(path, allow_pickle=False)
    assert back.dtype == arr.dtype and back.shape == arr.shape, fname
    assert np.array_equal(back.view("u1"), np.asfortranarray(arr).view("u1")), fname
    record(fname, arr)


def main():
    for name in INT_TYPES + FLOAT_TYPES:
        save("le_%s.npy" % name, values(name).astype("<" + np.dtype(name).str[1:]))

    for name in INT_TYPES + FLOAT_TYPES:
        if np.dtype(name).itemsize == 1:
            continue
        save("be_%s.npy" % name, values(name).astype(">" + np.dtype(name).str[1:]))

    save("v2_float64.npy", values("float64"), version=(2, 0))
    save("v3_int16.npy", values("int16"), version=(3, 0))
    save("v3_be_float32.npy", values("float32").astype(">f4"), version=(3, 0))

    col = values("float64").reshape(-1, 1)
    save("nx1_float64.npy", col)

    # NumPy marks an N×1 array C-ordered because it is both C- and
    # F-contiguous, so write the Fortran-order header explicitly.
    fcol = values("int32").astype("<i4").reshape(-1, 1)
    save_header("nx1_fortran_int32.npy", fcol,
                {"descr": "<i4", "fortran_order": True, "shape": fcol.shape})
    f1d = values("uint16").astype(">u2")
    save_header("fortran_1d_be_uint16.npy", f1d,
                {"descr": ">u2", "fortran_order": True, "shape": f1d.shape},
                version=(2, 0))

    ramp = np.arange(64, dtype="<f8") * 0.5
    save("ramp64_float64.npy", ramp)

    # Inputs that must be rejected.
    def bad(fname, arr, pickle=False):
        with open(os.path.join(HERE, fname), "wb") as f:
            npformat.write_array(f, arr, allow_pickle=pickle)

    bad("bad_object.npy", np.array([1, "a", None], dtype=object), pickle=True)
    bad("bad_2d.npy", np.zeros((3, 4), dtype="<f8"))
    bad("bad_1xn.npy", np.zeros((1, 4), dtype="<f8"))
    bad("bad_3d.npy", np.zeros((4, 1, 1), dtype="<f8"))
    bad("bad_0d.npy", np.array(1.5, dtype="<f8"))
    bad("bad_complex.npy", np.zeros(4, dtype="<c16"))
    bad("bad_bool.npy", np.zeros(4, dtype="?"))
    bad("bad_float16.npy", np.zeros(4, dtype="<f2"))
    bad("bad_uint64.npy", np.zeros(4, dtype="<u8"))
    bad("bad_str.npy", np.array(["ab", "cd"], dtype="<U2"))
    bad("bad_bytes.npy", np.array([b"ab", b"cd"], dtype="S2"))
    bad("bad_structured.npy", np.zeros(4, dtype=[("t", "<f8"), ("v", "<i2")]))
    bad("bad_empty_array.npy", np.zeros(0, dtype="<f8"))

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
