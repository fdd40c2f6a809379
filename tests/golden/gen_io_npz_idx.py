"""Interop files for npz_test.cpp and idx_test.cpp, written by numpy and Python's zipfile/gzip.

  .venv/bin/python tests/golden/gen_io_npz_idx.py              # rewrites tests/golden/io/
  .venv/bin/python tests/golden/gen_io_npz_idx.py --check DIR  # numpy reads what npz_test wrote

For --check, run the tests first with NX_IO_CHECK_DIR=DIR: npz_test then saves
nx_stored.npz and nx_compressed.npz (the arrays of expected() below) into DIR.
"""
import argparse
import gzip
import os
import sys
import zipfile

import ml_dtypes
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io")


def expected():
    """The arrays every interop .npz holds; npz_test.cpp spells out the same values."""
    return {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([True, False, True]),
        "c": np.array([-1, 2**40, 3], dtype=np.int64),
        "d": np.array([1.5, -2.0], dtype=ml_dtypes.bfloat16),
        "e": np.array(7, dtype=np.uint8),
        "f": np.zeros((0, 3), dtype=np.float16),
        "g": np.arange(6, dtype=np.int32).reshape(2, 3),
        "h": np.array([4000000000], dtype=np.uint32),
        "i": np.array([np.pi, -np.inf]),
        "layer1/weight": np.array([[1, 2], [3, 4]], dtype=np.float32),
        "naïve": np.array([0.5], dtype=np.float16),
    }


def numpy_flavoured():
    """expected() with the layouts numpy can write and nx never does: Fortran order, big-endian."""
    arrays = expected()
    arrays["g"] = np.asfortranarray(arrays["g"])
    arrays["c"] = arrays["c"].astype(">i8")
    return arrays


def generate():
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "numpy_savez.npz"), **numpy_flavoured())
    np.savez_compressed(os.path.join(OUT, "numpy_savez_compressed.npz"), **numpy_flavoured())
    # zip64 records normally appear only past 2 GiB; lowering zipfile's limit makes it write
    # them (central-directory extras and the zip64 end record) for a small file.
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        np.savez(os.path.join(OUT, "numpy_zip64.npz"), **numpy_flavoured())
    finally:
        zipfile.ZIP64_LIMIT = limit
    # IDX: type 0x0B (i16), rank 2, dims (2, 3), big-endian data, gzip'd by Python.
    shorts = np.array([[-2, -1, 0], [1, 2, 300]], dtype=">i2")
    idx = bytes([0, 0, 0x0B, 2]) + np.array([2, 3], dtype=">u4").tobytes() + shorts.tobytes()
    with open(os.path.join(OUT, "idx_i16.idx.gz"), "wb") as f:
        f.write(gzip.compress(idx, mtime=0))


def check(directory):
    total = 0
    for name in ("nx_stored.npz", "nx_compressed.npz"):
        failures = 0
        path = os.path.join(directory, name)
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()  # reads every member and checks its CRC-32
            if bad is not None:
                print(f"{name}: member {bad} is corrupt")
                failures += 1
        with np.load(path) as got:
            want = expected()
            if sorted(got.files) != sorted(want):
                print(f"{name}: members {sorted(got.files)}, want {sorted(want)}")
                failures += 1
                want = {k: w for k, w in want.items() if k in got.files}
            for key, w in want.items():
                g = got[key]
                if w.dtype == ml_dtypes.bfloat16:
                    g = g.view(ml_dtypes.bfloat16)  # .npy stores bf16 as raw '<V2'
                if g.dtype != w.dtype or g.shape != w.shape or not np.array_equal(g, w):
                    print(f"{name}[{key}]: got {g.dtype}{g.shape} {g}, want {w.dtype}{w.shape} {w}")
                    failures += 1
        print(f"{name}: {'ok' if not failures else 'FAILED'}")
        total += failures
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="DIR", help="verify the .npz files npz_test wrote into DIR")
    args = parser.parse_args()
    if args.check:
        sys.exit(1 if check(args.check) else 0)
    generate()


if __name__ == "__main__":
    main()
