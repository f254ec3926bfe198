"""The filters, resampling and trends of gwwatchd's processing chain done
the plain Python way, for comparison with the processor benchmarks in
`make bench`: scipy.signal.butter and sosfiltfilt, resample_poly, and
numpy reshape statistics on one 64 s file at 16384 Hz, with the
parameters of processor/bench_test.go. Prints one JSON line: the best of
REPS seconds per operation.

usage: chains.py FILE.npy
"""
import json
import sys
import time

import numpy as np
from scipy import signal

FS = 16384.0
REPS = 5


def trend(x, stride):
    n = int(round(stride * FS))
    whole = len(x) // n * n
    rows = x[:whole].reshape(-1, n)
    out = [rows.mean(axis=1), rows.min(axis=1), rows.max(axis=1), np.sqrt((rows ** 2).mean(axis=1))]
    if whole < len(x):
        tail = x[whole:]
        out = [np.append(o, v) for o, v in
               zip(out, [tail.mean(), tail.min(), tail.max(), np.sqrt((tail ** 2).mean())])]
    return out


def best(fn):
    fn()
    t = []
    for _ in range(REPS):
        s = time.perf_counter()
        fn()
        t.append(time.perf_counter() - s)
    return min(t)


def main():
    x = np.load(sys.argv[1])
    bp4 = signal.butter(4, [30, 300], "bandpass", fs=FS, output="sos")
    bp8 = signal.butter(8, [30, 300], "bandpass", fs=FS, output="sos")
    hp = signal.butter(8, 10, "highpass", fs=FS, output="sos")
    print(json.dumps({
        "bandpass4": best(lambda: signal.sosfiltfilt(bp4, x)),
        "bandpass8": best(lambda: signal.sosfiltfilt(bp8, x)),
        "highpass8": best(lambda: signal.sosfiltfilt(hp, x)),
        "resample4096": best(lambda: signal.resample_poly(x, 1, 4)),
        "minutetrend": best(lambda: trend(x, 60.0)),
    }))


if __name__ == "__main__":
    main()
