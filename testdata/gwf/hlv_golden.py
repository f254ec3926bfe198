#!/usr/bin/python3
"""Write hlv_golden.json: the facts ingest/gwf's tests compare its decode of
HLV-HW100916-968654552-1.gwf against, taken from the HDF5 copy of the same
channels (HLV-HW100916-968654552-1.hdf).

Run from the repository root with a Python that has numpy and h5py:

    /usr/bin/python3 testdata/gwf/hlv_golden.py ../shared/testdata/gwf/HLV-HW100916-968654552-1.hdf

For each channel it records the SHA-256 of the samples as little-endian
float64 bytes, a few samples as exact hex bit patterns, and the attributes.
"""
import hashlib
import json
import sys

import h5py
import numpy as np


def main(path):
    out = {}
    with h5py.File(path, "r") as f:
        for name in sorted(f):
            d = np.asarray(f[name][()], dtype="<f8")
            picks = [0, 1, len(d) // 2, len(d) - 1]
            out[name] = {
                "n": int(len(d)),
                "sha256": hashlib.sha256(d.tobytes()).hexdigest(),
                "samples": {str(i): d[i : i + 1].view("<u8")[0].item().__format__("016x") for i in picks},
                "x0": float(f[name].attrs["x0"]),
                "dx": float(f[name].attrs["dx"]),
                "unit": str(f[name].attrs["unit"]),
            }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
