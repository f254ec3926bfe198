"""Reference Welch ASDs from scipy for the processor package tests.

Usage: welch_ref.py SPEC.json

SPEC is a JSON list of cases, each with keys
  input     path of the series, raw little-endian float64
  output    path to write the result to, raw little-endian float64
  fs        sample rate, Hz
  nfft      samples per segment
  noverlap  overlap, samples
  method    "median" or "mean"
  nstride   samples per spectrogram stride, or 0 for a single ASD
For a spectrogram the rows (one ASD per stride) are written consecutively.
"""

import json
import sys

import numpy as np
from scipy.signal import welch


def asd(x, c):
    _, psd = welch(x, c["fs"], window="hann", nperseg=c["nfft"],
                   noverlap=c["noverlap"], average=c["method"],
                   detrend="constant", scaling="density",
                   return_onesided=True)
    return np.sqrt(psd)


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    for c in cases:
        x = np.fromfile(c["input"], dtype="<f8")
        n = c.get("nstride", 0)
        if n:
            rows = [asd(x[i * n:(i + 1) * n], c) for i in range(len(x) // n)]
            out = np.concatenate(rows)
        else:
            out = asd(x, c)
        out.astype("<f8").tofile(c["output"])


if __name__ == "__main__":
    main()
