"""Decode the channels of an IGWD frame file with numpy, independently of
gwwatchd's reader, and compare them with an archive or print their hashes.

usage: gwf_decode.py golden GWF...        JSON: file -> dataset -> dtype, n, sha256
       gwf_decode.py compare GWF ARCHIVE  JSON: how the archive's /raw datasets compare

Written from the frame specification (LIGO-T970130) and the facts of
FrameL's reader: structures of 8-byte length, class and instance (version
8: a checksum-type byte, a one-byte class, and a 4-byte checksum closing
each structure); FrSH structures naming the classes; FrAdcData,
FrProcData and FrSimData pointing at their FrVect by instance within the
frame; FrVect compression codes 0 (raw, in the file's byte order), 1
(gzip), 3 (differences, gzip), 5, 8 and 10 (zero suppression of 2, 4
and 8-byte words, then differences), with 256 added when the compressed
data are little-endian.

The sha256 is of the samples as little-endian bytes, as the archive's
data_sha256 is.
"""
import hashlib
import json
import struct
import sys
import zlib

import numpy as np

# FrVect types: numpy dtype (without byte order) and sample size.
VECT_TYPES = {
    0: "i1", 1: "i2", 2: "f8", 3: "f4", 4: "i4", 5: "i8", 6: "c8", 7: "c16",
    9: "u2", 10: "u4", 11: "u8", 12: "u1",
}


class Reader:
    def __init__(self, data):
        if data[:5] != b"IGWD\x00":
            raise ValueError("not an IGWD frame file")
        self.data = data
        self.version = data[5]
        # The 2-byte 0x1234 at offset 12 gives the structures' byte order.
        self.order = "<" if data[12:14] == b"\x34\x12" else ">"

    def structures(self):
        """Yield (class id, instance, body) for every structure."""
        off = 40
        o = self.order
        while off < len(self.data):
            (length,) = struct.unpack_from(o + "Q", self.data, off)
            if self.version >= 8:
                cls = self.data[off + 9]
                (inst,) = struct.unpack_from(o + "I", self.data, off + 10)
                body = self.data[off + 14:off + length - 4]
            else:
                cls, inst = struct.unpack_from(o + "HI", self.data, off + 8)
                body = self.data[off + 14:off + length]
            if length < 14:
                raise ValueError("structure of length %d" % length)
            yield cls, inst, body
            off += length


class Body:
    """Reads the fields of one structure in order."""

    def __init__(self, body, order):
        self.b, self.o, self.p = body, order, 0

    def take(self, fmt):
        v = struct.unpack_from(self.o + fmt, self.b, self.p)
        self.p += struct.calcsize(self.o + fmt)
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take("H")
        s = self.b[self.p:self.p + n].rstrip(b"\x00").decode("latin-1")
        self.p += n
        return s

    def raw(self, n):
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def ptr(self):
        return self.take("HI")


def channel(kind, b, version):
    """Name and data pointer of an FrAdcData, FrProcData or FrSimData."""
    name = b.string()
    b.string()  # comment
    if kind == "adc":
        b.take("III")  # channelGroup, channelNumber, nBits
        b.take("ff")  # bias, slope
        b.string()  # units
        b.take("d")  # sampleRate
        b.take("d")  # timeOffset
        b.take("d")  # fShift
        b.take("f")  # phase
        b.take("H")  # dataValid
    elif kind == "proc":
        b.take("HH")  # type, subType
        b.take("dddf")  # timeOffset, tRange, fShift, phase
        b.take("dd")  # fRange, BW
        n = b.take("H")
        for _ in range(n):
            b.take("d")
        for _ in range(n):
            b.string()
    else:
        b.take("f" if version == 6 else "d")  # sampleRate
        b.take("ddf")  # timeOffset, fShift, phase
    return name, b.ptr()


def zero_expand(payload, word, n):
    """Expand zero-suppressed data: a stream of little-endian words read
    from the least significant bit up; 16 bits of block size, then per
    block a field of 4, 5 or 6 bits (for 2, 4, 8-byte words) giving the
    width w-1 of each value (w 1 meaning 0), then the block's values, each
    stored plus 2**(w-1)-1. Returns n signed words of differences."""
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8), bitorder="little")
    width_bits = {2: 4, 4: 5, 8: 6}[word]
    weights = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))

    def read(pos, count, w):
        if w == 0:
            return np.zeros(count, dtype=np.uint64)
        chunk = bits[pos:pos + count * w].reshape(count, w).astype(np.uint64)
        return (chunk * weights[:w]).sum(axis=1, dtype=np.uint64)

    block = int(read(0, 1, 16)[0])
    pos = 16
    out = []
    got = 0
    while got < n:
        w = 1 + int(read(pos, 1, width_bits)[0])
        pos += width_bits
        if w == 1:
            w = 0
        k = min(block, n - got)
        v = read(pos, k, w)
        pos += k * w
        if w >= 2:
            v = v - np.uint64((1 << (w - 1)) - 1)  # wraps modulo 2**64
        out.append(v)
        got += k
    diffs = np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)
    return diffs.astype(np.dtype("u%d" % word))


def integrate(words):
    """Running sum modulo the word size: the inverse of differences."""
    return np.cumsum(words, dtype=words.dtype)


def vect_samples(b, file_order):
    """The samples of one FrVect, native numpy array of its type."""
    b.string()  # name
    code = b.take("H")
    typ = b.take("H")
    n = b.take("Q")
    nbytes = b.take("Q")
    payload = b.raw(nbytes)
    if typ not in VECT_TYPES:
        raise ValueError("FrVect type %d" % typ)
    t = VECT_TYPES[typ]
    size = np.dtype(t).itemsize
    scheme = code & 0xFF
    order = "<" if code & 0x100 else ">"
    if scheme == 0:
        out = np.frombuffer(payload, dtype=file_order + t, count=n)
    elif scheme in (1, 3):
        raw = zlib.decompress(payload)
        out = np.frombuffer(raw, dtype=order + t, count=n)
        if scheme == 3:
            if t[0] not in "iu":
                raise ValueError("differences of %s" % t)
            out = integrate(out.astype(np.dtype(t)))
    elif scheme in (5, 6, 8, 10):
        word = {5: 2, 6: 2, 8: 4, 10: 8}[scheme]
        if size != word:
            raise ValueError("zero suppression of %d-byte words for %s" % (word, t))
        # Bring the words to little-endian order: the bit stream runs from
        # the least significant bit of each word.
        words = np.frombuffer(payload[:len(payload) // word * word], dtype=order + "u%d" % word)
        le = words.astype("<u%d" % word).tobytes()
        out = integrate(zero_expand(le, word, n)).view(np.dtype(t))
    else:
        raise ValueError("compression %d" % code)
    return np.asarray(out, dtype=np.dtype(t))


def decode(path):
    """dataset name -> samples, every channel's frames joined in order."""
    with open(path, "rb") as f:
        r = Reader(f.read())
    classes = {1: "FrSH", 2: "FrSE"}
    frames = []
    frame = None
    for cls, inst, body in r.structures():
        b = Body(body, r.order)
        name = classes.get(cls)
        if cls == 1:
            sh = b.string()
            classes[b.take("H")] = sh
        elif name == "FrameH":
            b.string()
            b.take("iII")  # run, frame, dataQuality
            gps = b.take("II")
            frame = {"gps": gps, "chans": [], "vects": {}}
        elif name in ("FrAdcData", "FrProcData", "FrSimData") and frame is not None:
            kind = {"FrAdcData": "adc", "FrProcData": "proc", "FrSimData": "sim"}[name]
            frame["chans"].append((kind,) + channel(kind, b, r.version))
        elif name == "FrVect" and frame is not None:
            frame["vects"][inst] = body
        elif name == "FrEndOfFrame":
            frames.append(frame)
            frame = None
    frames.sort(key=lambda fr: fr["gps"])
    vect_class = [k for k, v in classes.items() if v == "FrVect"]
    pieces = {}
    order = []
    for fr in frames:
        dup = {}
        for kind, name, (pcls, pinst) in fr["chans"]:
            if pcls not in vect_class:
                raise ValueError("channel %s has no FrVect" % name)
            k = (kind, name)
            dup[k] = dup.get(k, -1) + 1
            key = (kind, name, dup[k])
            if key not in pieces:
                pieces[key] = []
                order.append(key)
            pieces[key].append(vect_samples(Body(fr["vects"][pinst], r.order), r.order))
    kinds = {}
    for kind, name, _ in order:
        kinds.setdefault(name, set()).add(kind)
    out = {}
    for key in order:
        kind, name, d = key
        ds = name
        if len(kinds[name]) > 1:
            ds += "_" + kind
        if d > 0:
            ds += "#%d" % d
        out[ds.replace("/", "_")] = np.concatenate(pieces[key])
    return out


def le_bytes(a):
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def golden(paths):
    out = {}
    for p in paths:
        chans = decode(p)
        out[p.rsplit("/", 1)[-1]] = {
            name: {"dtype": a.dtype.name, "n": int(a.size), "sha256": hashlib.sha256(le_bytes(a)).hexdigest()}
            for name, a in sorted(chans.items())
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


def units_astropy(units):
    """The units astropy does not parse: with astropy alone, except gwpy's
    own (strain), then with gwpy's units registered."""
    import warnings

    warnings.simplefilter("ignore")
    import astropy.units as u

    bad = []
    for s in units:
        if "strain" in s:
            continue
        try:
            u.Unit(s)
        except ValueError:
            bad.append(s)
    import gwpy.detector.units  # noqa: F401  registers gwpy's units

    for s in units:
        try:
            u.Unit(s)
        except ValueError:
            bad.append(s + " (with gwpy)")
    return bad


def compare(gwf, archive):
    import h5py

    want = decode(gwf)
    rep = {"datasets": {}, "missing": [], "extra": []}
    units = set()
    with h5py.File(archive, "r") as f:
        raw = f["raw"]
        for name, a in want.items():
            if name not in raw:
                rep["missing"].append(name)
                continue
            got = raw[name][()]
            units.add(str(raw[name].attrs["unit"]))
            for p in ("asd_values", "spectrogram"):
                q = "processed/%s/%s" % (name, p)
                if q in f:
                    units.add(str(f[q].attrs["unit"]))
            rep["datasets"][name] = {
                "dtype": a.dtype.name,
                "archived_dtype": got.dtype.name,
                "n": int(a.size),
                "equal": bool(a.dtype.name == got.dtype.name and a.shape == got.shape and le_bytes(a) == le_bytes(got)),
            }
        rep["extra"] = sorted(set(raw) - set(want))
    rep["units"] = sorted(units)
    rep["units_bad"] = units_astropy(sorted(units))
    json.dump(rep, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "golden":
        golden(sys.argv[2:])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
