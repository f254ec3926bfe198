#!/usr/bin/python3
"""Writes the hostile-input corpus and its manifest.json into this directory.

Each file is a few KB: malformed, truncated, bit-flipped, or declaring
sizes it cannot hold. manifest.json lists, for each, what it is, whether
ingest archives or rejects it, and a substring of the reason. Needs numpy
and h5py (/usr/bin/python3 on the development machine). Run it from
anywhere; it rewrites every file it lists.
"""
import json
import os
import struct
import zlib

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "GWW-FAKE-SECRET-7f3a9c"  # must never appear in a reason
entries = []


def add(name, what, outcome, reason="", measure=None):
    """measure: "same" when Measure must refuse the file with ReadAll's
    reason (a size the file cannot hold, or a structure it cannot parse),
    "measured" when only reading the samples or metadata values tells."""
    if measure is None:
        measure = "same" if outcome == "rejected" else "measured"
    entries.append({"file": name, "what": what, "outcome": outcome, "reason": reason, "measure": measure})


def path(name):
    return os.path.join(HERE, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def series(f, name, values, t0=1000000000.0, dt=1 / 16.0, **kw):
    d = f.create_dataset(name, data=values, **kw)
    d.attrs["x0"] = t0
    d.attrs["dx"] = dt
    d.attrs["channel"] = "X1:" + name.strip("/").replace("/", "_").upper()
    return d


# --- HDF5 ---------------------------------------------------------------
with h5py.File(path("h5_chunked_1e12.h5"), "w") as f:
    d = f.create_dataset("bomb", shape=(10**12,), dtype="f8", chunks=(4096,))
    d.attrs["x0"], d.attrs["dx"] = 1e9, 1 / 16384.0
add("h5_chunked_1e12.h5", "chunked series declaring 10^12 float64 samples, no chunk stored", "rejected", "only the fill value would be read")

with h5py.File(path("h5_good_beside_image.h5"), "w") as f:
    series(f, "good", np.arange(4096, dtype="f8"))
    img = f.create_dataset("image", shape=(10**6, 10**6), dtype="u1", chunks=(64, 64))
    img[0:64, 0:64] = 7
add("h5_good_beside_image.h5", "good series beside a 10^6 x 10^6 uint8 image with one chunk stored", "archived")

with h5py.File(path("h5_empty_series.h5"), "w") as f:
    series(f, "empty", np.zeros(0, dtype="f4"))
add("h5_empty_series.h5", "series dataset of length 0", "rejected", "no samples")

with h5py.File(path("h5_fill_only.h5"), "w") as f:
    d = f.create_dataset("unwritten", shape=(10**9,), dtype="i2")
    d.attrs["x0"], d.attrs["dx"] = 1e9, 1e-3
add("h5_fill_only.h5", "contiguous series of 10^9 samples never written (fill value only)", "rejected", "no values stored")

with h5py.File(path("h5_partial_chunks.h5"), "w") as f:
    d = f.create_dataset("sparse", shape=(10**8,), dtype="f8", chunks=(1024,))
    d[0:1024] = 1.0
    d.attrs["x0"], d.attrs["dx"] = 1e9, 1e-3
add("h5_partial_chunks.h5", "chunked series of 10^8 samples with one chunk stored", "rejected", "chunks of 1024 elements stored")

with h5py.File(path("h5_lzf.h5"), "w") as f:
    series(f, "lzf", np.zeros(10000, dtype="f8"), compression="lzf")
add("h5_lzf.h5", "series compressed with the LZF filter, whose expansion is not bounded here", "rejected", "filter 32000 is not supported")

with open(path("h5_external.dat"), "wb") as ext:
    ext.write(np.arange(64, dtype="<f8").tobytes())
with h5py.File(path("h5_external.h5"), "w") as f:
    d = f.create_dataset("ext", shape=(64,), dtype="<f8", external=[("/etc/hostname", 0, 512)])
    d.attrs["x0"], d.attrs["dx"] = 1e9, 1.0
os.remove(path("h5_external.dat"))
add("h5_external.h5", "series stored in an external file (/etc/hostname)", "rejected", "external files")

with h5py.File(path("h5_gzip_zeros.h5"), "w") as f:
    series(f, "zeros", np.zeros(200000, dtype="f8"), compression="gzip", compression_opts=9, shuffle=True, chunks=(50000,))
add("h5_gzip_zeros.h5", "200000 zero samples, shuffled and deflated to a few KB", "archived")

with h5py.File(path("h5_cycle.h5"), "w") as f:
    g = f.create_group("g")
    series(g, "s", np.arange(32, dtype="i4"))
    g["loop"] = g  # a hard link back to the group itself
    g["soft"] = h5py.SoftLink("/g")
    g["ext"] = h5py.ExternalLink("/etc/hostname", "/")
add("h5_cycle.h5", "group holding a hard link to itself, a soft link and an external link", "archived")

with h5py.File(path("h5_t0_huge.h5"), "w") as f:
    series(f, "s", np.arange(16, dtype="f8"), t0=1e300)
add("h5_t0_huge.h5", "series with x0 = 1e300", "rejected", "t0 1e+300 is outside the GPS range", measure="measured")

with h5py.File(path("h5_rate_tiny.h5"), "w") as f:
    series(f, "s", np.arange(16, dtype="f8"), dt=1e300)
add("h5_rate_tiny.h5", "series with dx = 1e300 s", "rejected", "sample_rate 1e-300 Hz is outside", measure="measured")

with h5py.File(path("h5_t0_nan.h5"), "w") as f:
    series(f, "s", np.arange(16, dtype="f8"), t0=float("nan"))
add("h5_t0_nan.h5", "series with x0 = NaN", "rejected", "t0 NaN", measure="measured")

with h5py.File(path("h5_2d_only.h5"), "w") as f:
    d = f.create_dataset("img", data=np.zeros((8, 8)))
    d.attrs["x0"], d.attrs["dx"] = 1e9, 1.0
    f.create_dataset("text", data=MARKER)
add("h5_2d_only.h5", "only a 2-D dataset with time attributes and a string dataset holding a marker", "rejected", "holds no series")

with h5py.File(path("h5_good.h5"), "w") as f:
    series(f, "a", np.arange(64, dtype="f4"))
    series(f, "b", np.arange(64, dtype="i2"))
good_h5 = open(path("h5_good.h5"), "rb").read()
add("h5_good.h5", "two small good series", "archived")

# Three bits flipped in the good file's attribute heap make libhdf5 1.10.8
# (and so h5dump -A and h5py) loop for ever reading the attribute
# "channel" of "a". No reader can be interrupted inside the library, so
# this file is not in the manifest, which ingest's tests read through
# ReadAll: the daemon's end-to-end test shows that it ends in quarantine
# after daemon.max_deaths restarts (daemon.process_timeout).
os.makedirs(path("stuck"), exist_ok=True)
stuck = bytearray(good_h5)
for off, bit in ((2328, 0x04), (4873, 0x10), (5230, 0x20)):
    stuck[off] ^= bit
write(os.path.join("stuck", "h5_attr_loop.h5"), bytes(stuck))

write("h5_truncated.h5", good_h5[: len(good_h5) // 2])
add("h5_truncated.h5", "good file cut in half", "rejected", "unreadable HDF5 file")

flipped = bytearray(good_h5)
for off in range(48, len(flipped), 97):
    flipped[off] ^= 0x5A
write("h5_bitflip.h5", bytes(flipped))
add("h5_bitflip.h5", "good file with every 97th byte after the superblock flipped", "rejected", "")

write("h5_not_hdf5.h5", b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + MARKER.encode() + b"\n-----END OPENSSH PRIVATE KEY-----\n")
add("h5_not_hdf5.h5", "a private-key-like text named .h5, holding a marker", "rejected", "not an HDF5 file")

# --- NumPy ----------------------------------------------------------------
def npy(header, body=b""):
    h = header.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + body


write("npy_huge_shape.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }", b"\0" * 16))
add("npy_huge_shape.npy", "header declaring 10^15 float64 samples, 16 bytes of data", "rejected", "expected 8000000000000000")
write("npy_overflow_shape.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807,), }", b"\0" * 16))
add("npy_overflow_shape.npy", "header declaring 2^63-1 float64 samples", "rejected", "far short")
write("npy_marker_descr.npy", npy("{'descr': '<" + MARKER + "', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16))
add("npy_marker_descr.npy", "descr holding a marker", "rejected", "unknown dtype a 23-byte token")
write("npy_marker_key.npy", npy("{'" + MARKER + "': '<f8', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16))
add("npy_marker_key.npy", "header key holding a marker", "rejected", "unexpected key")
write("npy_marker_garbage.npy", npy("{'descr': '<f8', " + MARKER + " }", b"\0" * 16))
add("npy_marker_garbage.npy", "header with a bare word holding a marker", "rejected", "unparsable header")
good_npy = npy("{'descr': '<i4', 'fortran_order': False, 'shape': (16,), }", np.arange(16, dtype="<i4").tobytes())
write("npy_truncated.npy", good_npy[:40])
add("npy_truncated.npy", "npy cut inside its header", "rejected", "truncated header")
bad = bytearray(good_npy)
bad[1] ^= 0xFF
write("npy_bitflip_magic.npy", bytes(bad))
add("npy_bitflip_magic.npy", "npy with a flipped magic byte", "rejected", "bad magic")
write("H1-GOOD-1000000000-16.npy", good_npy)
add("H1-GOOD-1000000000-16.npy", "good npy, 16 int32 samples, time and rate from the file name", "archived")

# --- raw and sidecars -------------------------------------------------------
raw = np.arange(16, dtype="<f4").tobytes()
def raw_with(name, sidecar_ext, sidecar, data=raw):
    write(name, data)
    write(name.rsplit(".", 1)[0] + sidecar_ext, sidecar.encode())

raw_with("raw_t0_huge.bin", ".json", '{"dtype": "<f4", "t0": 1e300, "sample_rate": 16}')
add("raw_t0_huge.bin", "raw samples, sidecar t0 = 1e300", "rejected", "t0 1e+300 is outside the GPS range")
raw_with("raw_t0_negative.bin", ".json", '{"dtype": "<f4", "t0": -5, "sample_rate": 16}')
add("raw_t0_negative.bin", "raw samples, sidecar t0 before the GPS epoch", "rejected", "t0 -5 is outside the GPS range")
raw_with("raw_rate_tiny.bin", ".json", '{"dtype": "<f4", "t0": 1e9, "sample_rate": 1e-300}')
add("raw_rate_tiny.bin", "raw samples, sidecar sample_rate = 1e-300", "rejected", "sample_rate 1e-300 Hz is outside")
raw_with("raw_t0_nan.bin", ".toml", 'dtype = "<f4"\nt0 = nan\nsample_rate = 16\n')
add("raw_t0_nan.bin", "raw samples, TOML sidecar t0 = nan", "rejected", "t0 NaN")
raw_with("raw_odd_size.bin", ".json", '{"dtype": "<f8", "t0": 1e9, "sample_rate": 16}', raw[:-3])
add("raw_odd_size.bin", "61 bytes of float64 samples", "rejected", "not a multiple of 8")
raw_with("raw_marker_dtype.bin", ".json", '{"dtype": "' + MARKER + '", "t0": 1e9, "sample_rate": 16}')
add("raw_marker_dtype.bin", "sidecar dtype holding a marker", "rejected", "dtype")
raw_with("raw_marker_json.bin", ".json", '{"dtype": "<f4", "t0": 1e9, ' + MARKER + '}')
add("raw_marker_json.bin", "sidecar JSON with a bare marker word", "rejected", "line 1, column")
raw_with("raw_marker_key.bin", ".json", '{"dtype": "<f4", "' + MARKER + '": 1}')
add("raw_marker_key.bin", "sidecar JSON with an unknown key holding a marker", "rejected", "unknown key")
raw_with("raw_marker_toml.bin", ".toml", 'dtype = "<f4"\n' + MARKER + ' = = 3\n')
add("raw_marker_toml.bin", "TOML sidecar with a syntax error around a marker", "rejected", "line 2")
raw_with("raw_marker_toml_key.bin", ".toml", 'dtype = "<f4"\n"' + MARKER + '" = 3\n')
add("raw_marker_toml_key.bin", "TOML sidecar with an unknown key holding a marker", "rejected", "unknown key")
raw_with("raw_good.bin", ".json", '{"dtype": "<f4", "t0": 1000000000, "sample_rate": 16, "channel": "X1:RAW"}')
add("raw_good.bin", "good raw file with a JSON sidecar", "archived")

# --- text -----------------------------------------------------------------
write("text_binary.txt", bytes(range(256)) * 4)
add("text_binary.txt", "1 KB of every byte value", "rejected", "line 1", measure="measured")
write("text_marker.txt", ("1.0\n2.0\n" + MARKER + "\n").encode())
add("text_marker.txt", "numbers then a line holding a marker", "rejected", "line 3: a 22-byte token of printable ASCII is not a number", measure="measured")
write("text_marker_time.txt", ("1000000000,1\n1000000001," + MARKER + "\n").encode())
add("text_marker_time.txt", "two-column text with a marker as a value", "rejected", "line 2", measure="measured")
write("text_nul.txt", b"1\n2\x00\x00\n3\n")
add("text_nul.txt", "text with NUL bytes", "rejected", "line 2", measure="measured")
write("text_t0_huge.txt", b"1e300,1\n1.0000000000000001e300,2\n")
add("text_t0_huge.txt", "time column starting at 1e300", "rejected", "", measure="measured")
write("X1-TEXT-99999999999-4.txt", b"1\n2\n3\n4\n")
add("X1-TEXT-99999999999-4.txt", "file name GPS time 99999999999, beyond the range", "rejected", "t0 99999999999 is outside the GPS range [0, 1e10) s (from filename)", measure="measured")
write("X1-TEXT-1000000000-4.txt", b"1\n2\n3\n4\n")
add("X1-TEXT-1000000000-4.txt", "good text, 4 samples over 4 s from the file name", "archived")


# --- frame files ------------------------------------------------------------
class Frame:
    """A minimal little-endian IGWD version 8 writer without checksums."""

    classes = {"FrameH": 3, "FrAdcData": 4, "FrVect": 5, "FrEndOfFrame": 6, "FrEndOfFile": 7}

    def __init__(self):
        self.b = bytearray(b"IGWD\0" + bytes([8, 0, 2, 4, 8, 4, 8]))
        self.b += struct.pack("<HIQfd", 0x1234, 0x12345678, 0x0123456789ABCDEF, np.pi, np.pi)
        self.b += bytes([1, 0])  # library FrameL, no file checksum
        for name, cid in self.classes.items():
            self.struct(1, 0, self.s(name) + struct.pack("<H", cid) + self.s(""))
        self.frames = 0

    @staticmethod
    def s(text):
        t = text.encode() + b"\0"
        return struct.pack("<H", len(t)) + t

    def struct(self, cls, inst, body, tail=4):
        length = 14 + len(body) + tail
        self.b += struct.pack("<QBBI", length, 0, cls, inst) + body + b"\0" * tail

    def frame(self, gps, vect_body):
        ptr0 = struct.pack("<HI", 0, 0)
        self.struct(3, self.frames, self.s("hostile") + struct.pack("<iIIIIHd", 1, self.frames, 0, gps, 0, 18, 1.0) + ptr0 * 13)
        adc = self.s("X1:ADC") + self.s("") + struct.pack("<IIIff", 0, 0, 16, 0, 1) + self.s("counts")
        adc += struct.pack("<dddfH", 16.0, 0, 0, 0, 0) + struct.pack("<HI", 5, 0) + ptr0 * 2
        self.struct(4, 0, adc)
        self.struct(5, 0, vect_body)
        self.struct(6, 0, struct.pack("<iIII", 1, self.frames, gps, 0))
        self.frames += 1

    def done(self):
        n = len(self.b) + 14 + 24 + 8
        self.struct(7, 0, struct.pack("<IQQI", self.frames, n, 0, 0), tail=8)
        return bytes(self.b)


def vect(compress, typ, ndata, data, dx=1 / 16.0):
    return (Frame.s("X1:ADC") + struct.pack("<HHQQ", compress, typ, ndata, len(data)) + data
            + struct.pack("<IQdd", 1, ndata, dx, 0) + Frame.s("s") + Frame.s("counts") + struct.pack("<HI", 0, 0))


f = Frame()
f.frame(1000000000, vect(256, 1, 16, np.arange(16, dtype="<i2").tobytes()))
good_gwf = f.done()
write("X1-GWF-1000000000-1.gwf", good_gwf)
add("X1-GWF-1000000000-1.gwf", "good frame file, 16 raw int16 samples", "archived")

zs = struct.pack("<H", 65535) + b"\0" * 9000  # blocks of 65535 zero differences
f = Frame()
f.frame(1000000000, vect(256 + 5, 1, 1070000000, zs, dx=1 / 1.07e9))
write("gwf_zero_suppress_bomb.gwf", f.done())
add("gwf_zero_suppress_bomb.gwf", "9 KB zero-suppressed vector declaring 1.07 G int16 samples", "rejected", "zero-suppressed data cannot hold")

gz = zlib.compress(b"\0" * (1 << 20), 9)
f = Frame()
f.frame(1000000000, vect(256 + 1, 2, 1 << 27, gz, dx=1 / (1 << 27)))
write("gwf_gzip_bomb.gwf", f.done())
add("gwf_gzip_bomb.gwf", "1 KB of gzip declaring 2^27 float64 samples", "rejected", "gzip data cannot hold")

f = Frame()
f.frame(1000000000, vect(256, 1, 1 << 40, b"\0" * 64))
write("gwf_raw_ndata.gwf", f.done())
add("gwf_raw_ndata.gwf", "raw vector declaring 2^40 samples in 64 bytes", "rejected", "dimension of 1099511627776 elements")

write("gwf_truncated.gwf", good_gwf[: len(good_gwf) - 30])
add("gwf_truncated.gwf", "good frame file missing its last 30 bytes", "rejected", "truncated")
bad = bytearray(good_gwf)
bad[2] ^= 0x20
write("gwf_bitflip_magic.gwf", bytes(bad))
add("gwf_bitflip_magic.gwf", "frame file with a flipped magic byte", "rejected", "not a frame file")
write("gwf_marker.gwf", b"IGWD" + MARKER.encode() * 4)
add("gwf_marker.gwf", "IGWD then a marker", "rejected", "not a frame file")
f = Frame()
f.frame(4000000000 % (1 << 32), vect(256, 1, 16, np.arange(16, dtype="<i2").tobytes()))
write("gwf_t0_far.gwf", f.done())
add("gwf_t0_far.gwf", "frame at GPS 4000000000, within range", "archived")

with open(path("manifest.json"), "w") as m:
    json.dump({"marker": MARKER, "files": entries}, m, indent=1)
    m.write("\n")
print(len(entries), "files")
