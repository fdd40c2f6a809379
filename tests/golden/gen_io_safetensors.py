#!/usr/bin/env python3
"""Golden safetensors files for tests/safetensors_test.cpp, and a checker for files nx wrote.

Writes, with the reference `safetensors` package and numpy / ml_dtypes, into
tests/golden/io_safetensors/:
  reference.safetensors  every dtype nx reads, ranks 0..8, an empty tensor, awkward names
                         and metadata; contents follow the formulas in tensors() (repeated
                         in the C++ test)
  int8.safetensors, u16.safetensors
                         dtypes nx refuses (the test expects an error naming them)

  --check DIR            reads the files tests/safetensors_test.cpp and checkpoint_test.cpp
                         leave in DIR when run with NX_IO_CHECK_DIR=DIR, with the reference
                         reader, and verifies their contents (checkpoint checksum included).

Run:  python3 -m venv .venv && .venv/bin/pip install numpy ml_dtypes safetensors
      .venv/bin/python tests/golden/gen_io_safetensors.py
      NX_IO_CHECK_DIR=/tmp/st build/release/tests/nx_tests --gtest_filter='Safetensors*:Checkpoint*'
      .venv/bin/python tests/golden/gen_io_safetensors.py --check /tmp/st
(torch is not needed.)
"""
import os
import sys

import ml_dtypes
import numpy as np
from safetensors import deserialize, serialize_file, TensorSpec
from safetensors.numpy import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io_safetensors")
DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "U32": np.uint32, "I32": np.int32, "I64": np.int64,
          "F16": np.float16, "BF16": ml_dtypes.bfloat16, "F32": np.float32, "F64": np.float64}
METADATA = {"format": "np", "note": 'h\u00e9llo "world"\n\u2713'}


def tensors():
    """The contents of reference.safetensors (mirrored by ExpectedReference in the C++ test)."""
    a = np.arange
    return {
        "f64": (a(6).reshape(2, 3) * 1.5 - 2).astype(np.float64),
        "f32": (a(24).reshape(2, 3, 4) * 0.25 - 1).astype(np.float32),
        "f16": (a(5) * 0.5).astype(np.float16),
        "bf16": (a(4).reshape(2, 2) * -1.5).astype(ml_dtypes.bfloat16),
        "i64": (a(6) - 3).astype(np.int64) * 1_000_000_000_000,
        "i32": ((a(3) - 1) * 70000).astype(np.int32),
        "u32": np.array([0, 1, 4294967295], np.uint32),
        "u8": np.array([0, 7, 255, 128], np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
        "rank8": a(8, dtype=np.int32).reshape(1, 2, 1, 2, 1, 2, 1, 1),
        "names.with.dots": np.array([1], np.float32),
        "\u00fcn\u00efc\u00f6d\u00e9 \u2713": np.array([2], np.float32),
        'quote"back\\slash': np.array([3], np.float32),
    }


def save_any(path, arrays, metadata=None):
    """save_file, but also for ml_dtypes arrays (safetensors.numpy has no BF16 name)."""
    keep = [v if v.flags.c_contiguous else v.copy() for v in arrays.values()]  # keeps 0-d shapes
    specs = {k: TensorSpec(dtype=v.dtype.name, shape=v.shape, data_ptr=v.ctypes.data, data_len=v.nbytes)
             for k, v in zip(arrays, keep)}
    serialize_file(specs, path, metadata=metadata)


def read(path):
    """name -> numpy array and the metadata, with the reference reader."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    import json
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in deserialize(raw):
        out[name] = np.frombuffer(bytes(info["data"]), DTYPES[info["dtype"]]).reshape(info["shape"])
    return raw, out, header.get("__metadata__", {})


# ---- nx-hash64 (see include/nx/io/checkpoint.hpp) ----
M = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def nx_hash64(data):
    v = [(P3 * (i + 1)) & M for i in range(4)]
    padded = data + b"\0" * (-len(data) % 32)
    words = np.frombuffer(padded, "<u8").reshape(-1, 4) if padded else np.zeros((0, 4), "<u8")
    for row in words.tolist():
        for i in range(4):
            v[i] = (rotl((v[i] + row[i] * P2) & M, 31) * P1) & M
    h = (len(data) * P1) & M
    for i in range(4):
        h = (rotl(h ^ ((rotl((v[i] * P2) & M, 31) * P1) & M), 27) * P1 + P3) & M
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


def expect_equal(what, got, want):
    if got.dtype != want.dtype or got.shape != want.shape or got.tobytes() != want.tobytes():
        sys.exit(f"{what}: got {got.dtype}{got.shape} {got!r}, want {want.dtype}{want.shape} {want!r}")


def nx_written_tensors():
    """What SafetensorsCheck.WritesFilesForTheReferenceReader saves (same formulas there)."""
    out = {}
    for name, dt in DTYPES.items():
        for rank in (0, 1, 3, 8):
            shape = tuple(i % 3 + 1 for i in range(rank))
            out[f"{name.lower()}_r{rank}"] = (np.arange(int(np.prod(shape))) % 7).astype(dt).reshape(shape)
    out["empty"] = np.zeros((2, 0, 3), np.float32)
    return out


def check(d):
    raw, got, meta = read(os.path.join(d, "nx_written.safetensors"))
    want = nx_written_tensors()
    if set(got) != set(want):
        sys.exit(f"nx_written: names {sorted(got)} != {sorted(want)}")
    for k in want:
        expect_equal(f"nx_written[{k}]", got[k], want[k])
    if meta != METADATA:
        sys.exit(f"nx_written: metadata {meta!r}")
    n = int.from_bytes(raw[:8], "little")
    if n % 8 or raw[8] != ord("{"):
        sys.exit("nx_written: header not padded to 8 bytes")

    # One dtype per element size: the reference writer orders the data the same way, so
    # re-saving what it read must give the very same bytes.
    raw, got, meta = read(os.path.join(d, "nx_same_order.safetensors"))
    if save(got, metadata=meta) != raw:
        sys.exit("nx_same_order: the reference writer produces different bytes")

    raw, got, meta = read(os.path.join(d, "nx_checkpoint.safetensors"))
    if meta.get("nx.format") != "nx-checkpoint-1" or meta.get("user.run") != "golden":
        sys.exit(f"nx_checkpoint: metadata {meta!r}")
    step = int(meta["nx.step"])
    stored = meta["nx.checksum"]
    key = b'"nx.checksum":"' + stored.encode() + b'"'
    if raw.count(key) != 1:
        sys.exit("nx_checkpoint: checksum not found exactly once")
    at = raw.index(key) + len(key) - 17
    blank = raw[:at] + b"0" * 16 + raw[at + 16:]
    if f"{nx_hash64(blank):016x}" != stored:
        sys.exit(f"nx_checkpoint: checksum {stored} != computed {nx_hash64(blank):016x}")
    expect_equal("params.w", got["params.w"], (np.arange(6, dtype=np.float32) + step).reshape(2, 3))
    expect_equal("optimizer_state.m", got["optimizer_state.m"], np.full((3,), step, np.int64))
    # Known answers for the C++ Hash64 test.
    for n in (0, 1, 31, 32, 33, 100):
        print(f"nx_hash64(bytes(range({n}))) = 0x{nx_hash64(bytes(range(n))):016x}")
    print("all nx-written files check out")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    save_any(os.path.join(OUT, "reference.safetensors"), tensors(), METADATA)
    save_any(os.path.join(OUT, "int8.safetensors"), {"x": np.array([1, -1], np.int8)})
    save_any(os.path.join(OUT, "u16.safetensors"), {"y": np.array([1, 2], np.uint16)})
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")


if __name__ == "__main__":
    main()
