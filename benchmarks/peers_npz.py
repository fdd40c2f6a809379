"""Writes the two .npz files benchmarks/io_npz_bench.cpp loads, and times numpy.load on them.

Usage: python peers_npz.py DIR   (prints one line per file: name, best of 5 in ms)
"""
import sys
import time

import numpy as np

n = 64 << 20  # 256 MiB of 4-byte elements
d = sys.argv[1]
files = {
    "normal": np.random.default_rng(0).standard_normal(n, dtype=np.float32),
    "ramp": np.arange(n, dtype=np.int32) % 1000,
}
for name, a in files.items():
    np.savez_compressed(f"{d}/{name}.npz", w=a)
for name in files:
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        with np.load(f"{d}/{name}.npz") as z:
            z["w"]
        best = min(best, time.perf_counter() - t)
    print(f"numpy.load {name}: {best * 1e3:.0f} ms")
