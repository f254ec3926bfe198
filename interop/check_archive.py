"""Read a gwwatchd archive the way a collaborator would (h5py, numpy,
scipy) and report, as JSON on stdout, how it compares with the source and
with scipy's Welch estimate computed here from the archived samples.

usage: check_archive.py ARCHIVE [SOURCE]

SOURCE, when given, is the .npy the archive was made from, or an HDF5 file
holding the expected series the way gwpy writes them (a dataset per
channel): raw_equal says whether the archived samples equal it exactly.
"""
import hashlib
import json
import sys

import h5py
import numpy as np
from scipy import signal


def from_hdf5(dset):
    """The seed's reader: samples plus t0, dt, unit, name."""
    a = dset.attrs
    return {
        "data": dset[()],
        "t0": float(a["t0"]),
        "dt": float(a["dt"]),
        "unit": str(a["unit"]),
        "name": str(a["name"]),
    }


def max_rel(got, want):
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return float("inf")
    den = np.maximum(np.abs(got), np.abs(want))
    rel = np.where(den == 0, 0.0, np.abs(got - want) / np.where(den == 0, 1, den))
    return float(rel.max()) if rel.size else 0.0


def max_rel_floor(got, want, floor=1e-3):
    """max_rel, with each bin's scale at least floor times its spectrum's
    peak (row by row for a spectrogram). Bins many decades below the peak
    hold little more than the rounding error of the FFT, which is relative
    to the peak, so two correct implementations differ there in relative
    terms; the floor keeps the comparison to bins that carry signal."""
    got = np.atleast_2d(np.asarray(got, dtype=float))
    want = np.atleast_2d(np.asarray(want, dtype=float))
    if got.shape != want.shape:
        return float("inf")
    peak = np.abs(want).max(axis=1, keepdims=True)
    den = np.maximum(np.maximum(np.abs(got), np.abs(want)), floor * peak)
    rel = np.where(den == 0, 0.0, np.abs(got - want) / np.where(den == 0, 1, den))
    return float(rel.max()) if rel.size else 0.0


def sha_ok(dset):
    """data_sha256 is the SHA-256 of the values in little-endian order."""
    d = dset[()]
    le = d.astype(d.dtype.newbyteorder("<")).tobytes()
    return hashlib.sha256(le).hexdigest() == dset.attrs["data_sha256"]


def welch_asd(x, p):
    fs = p["sample_rate"]
    f, pxx = signal.welch(
        x, fs, window="hann", nperseg=p["nfft"], noverlap=p["noverlap"],
        average=p["method"], detrend="constant", scaling="density",
        return_onesided=True)
    return f, np.sqrt(pxx)


def main():
    path = sys.argv[1]
    out = {"datasets": {}}
    with h5py.File(path, "r") as f:
        out["format"] = str(f.attrs["format"])
        out["format_version"] = int(f.attrs["format_version"])
        out["source_sha256"] = str(f.attrs["source_sha256"])
        json.loads(f.attrs["prov_json"])
        for name, dset in f["raw"].items():
            ts = from_hdf5(dset)
            with np.errstate(invalid="ignore"):
                x = ts["data"].real.astype(float)
            rep = {
                "t0": ts["t0"], "dt": ts["dt"], "unit": ts["unit"], "name": ts["name"],
                "dtype": ts["data"].dtype.str, "n": int(ts["data"].size),
                "params": json.loads(dset.attrs["params_json"]),
                "sha_ok": sha_ok(dset),
            }
            src = None
            if len(sys.argv) > 2 and sys.argv[2].endswith(".npy"):
                src = np.load(sys.argv[2])
            elif len(sys.argv) > 2 and sys.argv[2].endswith((".hdf", ".h5", ".hdf5")):
                with h5py.File(sys.argv[2], "r") as ref:
                    src = ref[name][()] if name in ref else None
            if src is not None:
                rep["raw_equal"] = bool(
                    src.dtype.newbyteorder("=") == ts["data"].dtype.newbyteorder("=")
                    and np.array_equal(src.reshape(-1), ts["data"], equal_nan=src.dtype.kind == "f"))
            grp = f.get("processed/" + name)
            if grp is not None and "asd_values" in grp:
                asd = grp["asd_values"]
                p = json.loads(asd.attrs["params_json"])
                fr, want = welch_asd(x, p)
                rep["asd"] = {
                    "parent": str(asd.attrs["parent_dataset"]),
                    "parent_ok": asd.attrs["parent_dataset"] in f,
                    "step": str(asd.attrs["processing_step"]),
                    "unit": str(asd.attrs["unit"]),
                    "nfft": p["nfft"], "noverlap": p["noverlap"], "method": p["method"],
                    "max_rel": max_rel(asd[()], want),
                    "max_rel_floor": max_rel_floor(asd[()], want),
                    "freq_max_rel": max_rel(grp["asd_frequencies"][()], fr),
                    "freq_parent": str(grp["asd_frequencies"].attrs["parent_dataset"]),
                    "sha_ok": sha_ok(asd) and sha_ok(grp["asd_frequencies"]),
                }
            if grp is not None and "spectrogram" in grp:
                sg = grp["spectrogram"]
                p = json.loads(sg.attrs["params_json"])
                nstride = int(round(p["stride"] * p["sample_rate"]))
                if p.get("chunks") == "gwpy":
                    # gwpy's chunks of a stride and an overlap, each a PSD.
                    size, x0, step, starts = nstride + p["noverlap"], 0, nstride - p["noverlap"] // 2, []
                    while x0 + nstride <= len(x):
                        if x0 + size >= len(x):
                            x0 = len(x) - size
                        starts.append(x0)
                        x0 += step
                        step = nstride
                    rows = [welch_asd(x[s0:s0 + size], p)[1] ** 2 for s0 in starts]
                else:
                    rows = [welch_asd(x[i * nstride:(i + 1) * nstride], p)[1]
                            for i in range(len(x) // nstride)]
                rep["spectrogram"] = {
                    "values": str(sg.attrs.get("values", "asd")),
                    "unit": str(sg.attrs["unit"]),
                    "shape": list(sg.shape),
                    "parent": str(sg.attrs["parent_dataset"]),
                    "max_rel": max_rel(sg[()], np.array(rows)),
                    "max_rel_floor": max_rel_floor(sg[()], np.array(rows)),
                    "dt": float(sg.attrs["dt"]),
                    "sha_ok": sha_ok(sg),
                }
            out["datasets"][name] = rep
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
