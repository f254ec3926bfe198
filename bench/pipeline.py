"""The archiving pipeline written the plain Python way, for comparison with
gwwatchd in `make bench`: for each .npy file, numpy reads it, hashlib hashes
it, scipy.signal.welch makes the ASD and the spectrogram, h5py writes one
HDF5 file with the same datasets and provenance attributes, and the file is
fsynced. Prints one JSON line with the timings. With --asd-only, the
spectrogram is left out: the way of the tutorial "Reproducible Metadata
Management with HDF5".

usage: pipeline.py [--asd-only] OUTDIR FILE.npy...
"""
import hashlib
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone

import h5py
import numpy as np
import scipy
from scipy import signal

FFTLENGTH, OVERLAP, METHOD = 4.0, 2.0, "median"
STRIDE, SFFT, SOVER = 8.0, 2.0, 1.0


def asd(x, fs, fftlength, overlap):
    nfft = int(round(fftlength * fs))
    nover = int(round(overlap * fs))
    f, p = signal.welch(x, fs, window="hann", nperseg=nfft, noverlap=nover,
                        average=METHOD, detrend="constant", scaling="density")
    return f, np.sqrt(p), nfft, nover


def archive(src, outdir, fs=16384.0, spectrogram=True):
    created = datetime.now(timezone.utc).isoformat()
    raw = open(src, "rb").read()
    sha = hashlib.sha256(raw).hexdigest()
    x = np.load(src)
    prov = {"gwwatchd_version": "python-reference", "numpy_version": np.__version__,
            "scipy_version": scipy.__version__, "h5py_version": h5py.__version__,
            "hdf5_version": h5py.version.hdf5_version, "hostname": platform.node(),
            "created_utc": created}
    f, a, nfft, nover = asd(x, fs, FFTLENGTH, OVERLAP)
    products = [("asd_values", a, {"fftlength": FFTLENGTH, "overlap": OVERLAP, "nfft": nfft, "noverlap": nover}),
                ("asd_frequencies", f, {"fftlength": FFTLENGTH, "overlap": OVERLAP})]
    if spectrogram:
        n = int(round(STRIDE * fs))
        rows = [asd(x[i * n:(i + 1) * n], fs, SFFT, SOVER)[1] for i in range(len(x) // n)]
        products.append(("spectrogram", np.array(rows), {"stride": STRIDE, "fftlength": SFFT, "overlap": SOVER}))
    out = os.path.join(outdir, os.path.basename(src)[:-4] + ".h5")
    with h5py.File(out, "w") as h:
        h.attrs.update({"format": "python-reference", "source_path": src, "source_sha256": sha})
        d = h.create_dataset("raw/K1:LSC-DARM_OUT_DQ", data=x)
        d.attrs.update(prov)
        d.attrs.update({"t0": 1300000000.0, "dt": 1 / fs, "unit": "ct", "name": "K1:LSC-DARM_OUT_DQ",
                        "data_sha256": hashlib.sha256(x.astype("<f8").tobytes()).hexdigest(),
                        "params_json": json.dumps({"sample_rate": fs})})
        for name, data, params in products:
            p = h.create_dataset("processed/K1:LSC-DARM_OUT_DQ/" + name, data=data)
            p.attrs.update(prov)
            p.attrs.update({"parent_dataset": "/raw/K1:LSC-DARM_OUT_DQ", "params_json": json.dumps(params),
                            "data_sha256": hashlib.sha256(data.astype("<f8").tobytes()).hexdigest()})
    fd = os.open(out, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def main():
    args = sys.argv[1:]
    spectrogram = True
    if args and args[0] == "--asd-only":
        spectrogram, args = False, args[1:]
    outdir, files = args[0], args[1:]
    os.makedirs(outdir, exist_ok=True)
    t = time.perf_counter()
    for src in files:
        archive(src, outdir, spectrogram=spectrogram)
    total = time.perf_counter() - t
    x = np.load(files[0])
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        asd(x, 16384.0, FFTLENGTH, OVERLAP)
    asd_s = (time.perf_counter() - t) / reps
    print(json.dumps({"files": len(files), "seconds": total, "asd_seconds": asd_s}))


if __name__ == "__main__":
    main()
