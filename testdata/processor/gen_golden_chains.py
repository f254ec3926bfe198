"""Regenerate the golden filters, resamplings and trends used by
processor/chains_golden_test.go.

Run from anywhere with a Python that has numpy and scipy:

    /usr/bin/python3 testdata/processor/gen_golden_chains.py

It writes two small input series (coloured noise with a 50 Hz line, as in
the tutorial, and white noise) and the results of chains_ref.py for each
case as raw little-endian float64 files into
testdata/processor/golden/chains/, described by manifest.json, which also
holds scipy's filter sections (JSON numbers, exact). A trend's output is
its mean, min, max, rms and n columns one after the other.
"""

import os

import numpy as np
import scipy
from scipy.signal import lfilter

from chains_ref import run
from gen_golden import write_manifest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden", "chains")

FS = 1024.0
N = 2048


def coloured(n, fs, seed):
    """Red noise, white noise and a sine of amplitude 1 at 50 Hz."""
    rng = np.random.default_rng(seed)
    red = lfilter([1.0], [1.0, -0.995], rng.standard_normal(n))
    t = np.arange(n) / fs
    return 0.2 * red + rng.standard_normal(n) + np.sin(2 * np.pi * 50 * t)


def white(n, seed):
    return np.random.default_rng(seed).standard_normal(n)


INPUTS = {
    "coloured": coloured(N, FS, 1),
    "white": white(N, 2),
    # 150 s at 16 Hz: two whole minutes and a partial one.
    "coloured16": coloured(2400, 16.0, 3),
}

CASES = [
    # name, input, fs, kind, parameters
    ("lowpass-1-100", "coloured", FS, "lowpass", {"order": 1, "wn": [100.0]}),
    ("lowpass-4-10", "coloured", FS, "lowpass", {"order": 4, "wn": [10.0]}),
    ("lowpass-5-500", "white", FS, "lowpass", {"order": 5, "wn": [500.0]}),
    ("highpass-2-5", "coloured", FS, "highpass", {"order": 2, "wn": [5.0]}),
    ("highpass-8-400", "white", FS, "highpass", {"order": 8, "wn": [400.0]}),
    ("bandpass-1-10-400", "white", FS, "bandpass", {"order": 1, "wn": [10.0, 400.0]}),
    ("bandpass-3-40-60", "coloured", FS, "bandpass", {"order": 3, "wn": [40.0, 60.0]}),
    ("bandpass-8-30-300", "coloured", FS, "bandpass", {"order": 8, "wn": [30.0, 300.0]}),
    ("resample-1-2", "coloured", FS, "resample", {"up": 1, "down": 2}),
    ("resample-2-1", "white", FS, "resample", {"up": 2, "down": 1}),
    ("resample-3-2", "coloured", FS, "resample", {"up": 3, "down": 2}),
    ("resample-1-4", "white", FS, "resample", {"up": 1, "down": 4}),
    ("resample-5-3", "coloured", FS, "resample", {"up": 5, "down": 3}),
    ("trend-1s", "coloured", FS, "trend", {"stride": 1.0}),
    ("trend-0.75s", "white", FS, "trend", {"stride": 0.75}),
    ("trend-60s", "coloured16", 16.0, "trend", {"stride": 60.0}),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, x in INPUTS.items():
        x.astype("<f8").tofile(os.path.join(OUT, name + ".f64"))
    manifest = []
    for name, inp, fs, kind, prm in CASES:
        c = dict(prm, kind=kind, fs=fs)
        if kind == "trend":
            c["nstride"] = int(round(prm["stride"] * fs))
        out, sos = run(c, INPUTS[inp])
        out.astype("<f8").tofile(os.path.join(OUT, name + ".f64"))
        entry = dict(c, name=name, input=inp + ".f64", output=name + ".f64",
                     scipy=scipy.__version__)
        if sos is not None:
            entry["sos"] = sos.tolist()
        manifest.append(entry)
    write_manifest(OUT, manifest)


if __name__ == "__main__":
    main()
