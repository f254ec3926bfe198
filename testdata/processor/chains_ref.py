"""Reference filters, resampling and trends from scipy and numpy for the
processor package tests (processor/chains_scipy_test.go), and the functions
gen_golden_chains.py stores golden results with.

Usage: chains_ref.py SPEC.json

SPEC is a JSON list of cases. Every case has keys
  kind    "lowpass", "highpass", "bandpass", "resample" or "trend"
  input   path of the series, raw little-endian float64
  output  path to write the result to, raw little-endian float64
and, by kind:
  lowpass, highpass, bandpass:
    fs      sample rate, Hz
    order   Butterworth order N
    wn      critical frequencies, Hz (two for a bandpass)
    sos     path to write scipy's sections to (rows of six float64)
  resample:
    up, down
  trend:
    nstride samples per stride
The output of a trend is its mean, min, max, rms and n columns one after
the other, n as float64.
"""

import json
import sys

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt


def butter_sos(c):
    wn = c["wn"][0] if len(c["wn"]) == 1 else c["wn"]
    return butter(c["order"], wn, btype=c["kind"], fs=c["fs"], output="sos")


def filtfilt(x, sos):
    return sosfiltfilt(sos, x)


def resample(x, c):
    return resample_poly(x, c["up"], c["down"])


def trend(x, nstride):
    """Columns of a trend as numpy computes them: whole strides by
    reshape, and a last partial stride on its own."""
    whole = len(x) // nstride * nstride
    parts = [x[:whole].reshape(-1, nstride)]
    if whole < len(x):
        parts.append(x[whole:].reshape(1, -1))
    cols = [[], [], [], [], []]
    for a in parts:
        cols[0].append(a.mean(axis=1))
        cols[1].append(a.min(axis=1))
        cols[2].append(a.max(axis=1))
        cols[3].append(np.sqrt(np.mean(a**2, axis=1)))
        cols[4].append(np.full(a.shape[0], float(a.shape[1])))
    return np.concatenate([np.concatenate(c) for c in cols])


def run(c, x):
    """The result of case c on series x, and scipy's sections or None."""
    kind = c["kind"]
    if kind in ("lowpass", "highpass", "bandpass"):
        sos = butter_sos(c)
        return filtfilt(x, sos), sos
    if kind == "resample":
        return resample(x, c), None
    if kind == "trend":
        return trend(x, c["nstride"]), None
    raise ValueError("unknown kind %r" % kind)


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    for c in cases:
        x = np.fromfile(c["input"], dtype="<f8")
        out, sos = run(c, x)
        out.astype("<f8").tofile(c["output"])
        if sos is not None:
            sos.astype("<f8").tofile(c["sos"])


if __name__ == "__main__":
    main()
