"""Regenerate the golden Welch ASDs used by processor/golden_test.go.

Run from anywhere with a Python that has numpy and scipy:

    /usr/bin/python3 testdata/processor/gen_golden.py

It writes small input series and scipy's reference ASDs as raw
little-endian float64 files into testdata/processor/golden/, described by
golden/manifest.json. Durations are in seconds; nfft and noverlap are the
sample counts they round to, recorded so the Go test can check its own
conversion. Spectrogram outputs hold one ASD per stride, row after row.
"""

import json
import os

import numpy as np
from scipy.signal import lfilter, welch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden")


def series(n, fs, seed):
    """Red noise, a resonance, a sine and a DC offset."""
    rng = np.random.default_rng(seed)
    red = lfilter([1.0], [1.0, -0.99], rng.standard_normal(n))
    r, th = 0.995, 2 * np.pi / 8
    res = lfilter([0.05], [1.0, -2 * r * np.cos(th), r * r],
                  rng.standard_normal(n))
    t = np.arange(n) / fs
    return (250 + red + res + 3 * np.sin(2 * np.pi * fs / 9.3 * t)
            + 0.1 * rng.standard_normal(n))


def asd(x, fs, nfft, nover, method):
    _, psd = welch(x, fs, window="hann", nperseg=nfft, noverlap=nover,
                   average=method, detrend="constant", scaling="density",
                   return_onesided=True)
    return np.sqrt(psd)


def samples(seconds, fs):
    return int(np.round(seconds * fs))


INPUTS = {
    # name: (samples, fs, seed)
    "a1024": (8 * 1024, 1024.0, 1),
    "b1024-uneven": (8 * 1024 + 300, 1024.0, 2),
    "c1000": (5000, 1000.0, 3),
    "d4096": (4 * 4096, 4096.0, 4),
}

CASES = [
    # name, input, fftlength, overlap, method, stride (0: ASD)
    ("median-1s-half", "a1024", 1.0, 0.5, "median", 0),
    ("mean-0.5s-none", "a1024", 0.5, 0.0, "mean", 0),
    ("median-2s-0.75", "a1024", 2.0, 1.5, "median", 0),
    ("median-even-segments", "a1024", 1.0, 0.0, "median", 0),
    ("median-single-segment", "a1024", 8.0, 4.0, "median", 0),
    ("median-nfft768-uneven", "b1024-uneven", 0.75, 0.3, "median", 0),
    ("mean-nfft768-uneven", "b1024-uneven", 0.75, 0.3, "mean", 0),
    ("median-odd-nfft127", "c1000", 0.127, 0.05, "median", 0),
    ("mean-odd-nfft127", "c1000", 0.127, 0.0635, "mean", 0),
    ("median-nfft4096", "d4096", 1.0, 0.5, "median", 0),
    ("median-nfft2048", "d4096", 0.5, 0.25, "median", 0),
    ("spectrogram-median", "a1024", 0.5, 0.25, "median", 2.0),
    ("spectrogram-mean-odd", "c1000", 0.127, 0.05, "mean", 1.5),
]


def write_manifest(out, manifest):
    """Write manifest, a list of cases, as out/manifest.json."""
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    data = {}
    for name, (n, fs, seed) in INPUTS.items():
        x = series(n, fs, seed)
        x.astype("<f8").tofile(os.path.join(OUT, name + ".f64"))
        data[name] = (x, fs)
    manifest = []
    for name, inp, fftlength, overlap, method, stride in CASES:
        x, fs = data[inp]
        nfft, nover = samples(fftlength, fs), samples(overlap, fs)
        entry = {
            "name": name, "input": inp + ".f64", "output": name + ".f64",
            "fs": fs, "fftlength": fftlength, "overlap": overlap,
            "method": method, "stride": stride, "nfft": nfft,
            "noverlap": nover,
        }
        if stride:
            ns = samples(stride, fs)
            rows = [asd(x[i * ns:(i + 1) * ns], fs, nfft, nover, method)
                    for i in range(len(x) // ns)]
            out = np.concatenate(rows)
            entry["times"] = len(rows)
            entry["segments"] = (ns - nfft) // (nfft - nover) + 1
        else:
            out = asd(x, fs, nfft, nover, method)
            entry["times"] = 1
            entry["segments"] = (len(x) - nfft) // (nfft - nover) + 1
        out.astype("<f8").tofile(os.path.join(OUT, name + ".f64"))
        manifest.append(entry)
    write_manifest(OUT, manifest)


if __name__ == "__main__":
    main()
