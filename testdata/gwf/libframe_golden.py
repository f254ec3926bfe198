#!/usr/bin/python3
"""Write libframe_golden.json: the samples FrameL's own test file
(libframe-test.gwf, made by FrameL's exampleFull.c) must hold, computed
here from the recipe that program follows rather than read from the file.

exampleFull.c fills its channels from the C library's rand() with the
default seed, and from sin/cos; glibc's rand() and libm are called here
through ctypes so that every value comes out bit for bit as the C program
computed it. Run on a glibc system:

    /usr/bin/python3 testdata/gwf/libframe_golden.py > testdata/gwf/libframe_golden.json

The recipe, per exampleFull.c:
  - fastAdc0, fastAdc1: 2000 int16 samples at 2000 Hz,
    (short)((200.*rand())/RAND_MAX + 200.*cos(phase)), phase += .04 before
    each sample and never reset; fastAdc0 is filled once and written
    unchanged in all ten frames, fastAdc1 is refilled before every frame.
  - fastProc: float32, 2 * fastAdc1 of the same frame.
  - Adc0..Adc3: 200 int16 samples, (short)rand(), filled once.
  - D1: float32 sin(.01*j); Bad_data_(data[0]=nan): float32 .1*j with the
    bit patterns 0x7f800000 (inf) at 0 and 0x7f801000 (nan) at 1.
  - sim1 twice: the second one made holds j as int32, the first one's
    samples are never set (zero). FrameL puts the newer one first in the
    frame's list, so in file order "sim1#0" is j and "sim1#1" is zero.
"""
import ctypes
import hashlib
import json
import math
import struct
import sys

RAND_MAX = 2147483647
FRAMES = 10


def trunc16(x):
    """C's conversion of a double to short: toward zero."""
    v = int(x)  # Python int() truncates toward zero
    assert -32768 <= v <= 32767
    return v


def wrap16(v):
    """C's conversion of an int to short on the usual two's-complement ABI."""
    v &= 0xFFFF
    return v - 0x10000 if v >= 0x8000 else v


def main():
    libc = ctypes.CDLL("libc.so.6")
    libc.rand.restype = ctypes.c_int
    libc.srand(1)  # the seed a C program starts with
    cos = math.cos  # CPython calls libm's cos

    phase = 0.0
    fast = []
    for _ in range(2):
        vals = []
        for _ in range(2000):
            phase += 0.04
            vals.append(trunc16((200.0 * libc.rand()) / RAND_MAX + 200.0 * cos(phase)))
        fast.append(vals)
    adc = [[wrap16(libc.rand()) for _ in range(200)] for _ in range(4)]

    fast1 = []
    for _ in range(FRAMES):
        vals = []
        for _ in range(2000):
            phase += 0.04
            vals.append(trunc16((200.0 * libc.rand()) / RAND_MAX + 200.0 * cos(phase)))
        fast1.append(vals)

    def f32(x):
        return struct.unpack("<f", struct.pack("<f", x))[0]

    d1 = [f32(math.sin(0.01 * j)) for j in range(200)]
    bad = [f32(0.1 * j) for j in range(200)]

    series = {
        "fastAdc0": ("<h", fast[0] * FRAMES),
        "fastAdc1": ("<h", [v for frame in fast1 for v in frame]),
        "fastProc": ("<f", [2.0 * v for frame in fast1 for v in frame]),
        "D1": ("<f", d1 * FRAMES),
        "sim1#0": ("<i", list(range(200)) * FRAMES),
        "sim1#1": ("<i", [0] * 200 * FRAMES),
    }
    for i in range(4):
        series["Adc%d" % i] = ("<h", adc[i] * FRAMES)

    out = {}
    for name, (fmt, vals) in sorted(series.items()):
        raw = b"".join(struct.pack(fmt, v) for v in vals)
        out[name] = {
            "n": len(vals),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "first": vals[:4],
        }
    # The bad-data channel: bit patterns of one frame, with inf and nan.
    raw = bytearray(b"".join(struct.pack("<f", v) for v in bad))
    raw[0:4] = struct.pack("<I", 0x7F800000)
    raw[4:8] = struct.pack("<I", 0x7F801000)
    out["Bad_data_(data[0]=nan)"] = {
        "n": 200 * FRAMES,
        "sha256": hashlib.sha256(bytes(raw) * FRAMES).hexdigest(),
        "first_bits": ["%08x" % struct.unpack("<I", raw[i : i + 4])[0] for i in range(0, 16, 4)],
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
