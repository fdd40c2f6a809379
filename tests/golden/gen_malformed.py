#!/usr/bin/env python3
"""Malformed files that every nx++ reader must refuse with an nx::Error (never a crash).

Writes tests/golden/malformed/<format>/<case> for npy, npz, safetensors, checkpoint, idx
and csv: truncated files, huge declared shapes, overflowing size products, overlapping or
out-of-range offsets, bad JSON, wrong magic, unsupported dtypes. tests/malformed_files_test.cpp
feeds each to its decoder; scripts/fuzz.sh also uses them as seeds. Files are deterministic.
Run:  python3 -m venv .venv && .venv/bin/pip install numpy && .venv/bin/python tests/golden/gen_malformed.py
"""
import gzip
import io
import json
import os
import shutil
import struct
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed")


def put(fmt, name, data):
    d = os.path.join(OUT, fmt)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def npy_with_header(header, payload=b"", version=(1, 0)):
    h = header.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(h)) + h + payload


def npy_cases():
    good = npy_bytes(np.arange(6, dtype=np.float32).reshape(2, 3))
    put("npy", "wrong_magic", b"\x93NUMPX" + good[6:])
    put("npy", "truncated_header", good[:20])
    put("npy", "truncated_data", good[:-5])
    put("npy", "header_length_past_end", good[:8] + struct.pack("<H", 60000) + good[10:])
    put("npy", "unknown_version", good[:6] + b"\x09\x00" + good[8:])
    put("npy", "object_dtype", npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16))
    put("npy", "complex_dtype", npy_with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", b"\0" * 16))
    put("npy", "unbalanced_braces", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ",
                                                    np.arange(6, dtype="<f4").tobytes()))
    put("npy", "huge_shape", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
    put("npy", "overflowing_shape",
        npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 3), }"))
    put("npy", "negative_dim", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"))
    put("npy", "shape_not_a_tuple", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': 7, }", b"\0" * 28))
    put("npy", "no_descr", npy_with_header("{'fortran_order': False, 'shape': (1,), }", b"\0" * 4))
    put("npy", "rank_9", npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", b"\0"))
    put("npy", "empty_file", b"")


def zip_of(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return bytearray(buf.getvalue())


def npz_cases():
    a = npy_bytes(np.arange(4, dtype=np.int64))
    good = zip_of([("a.npy", a)])
    put("npz", "not_a_zip", b"PK\x05\x06" + b"\0" * 10)
    put("npz", "truncated", bytes(good[: len(good) // 2]))
    put("npz", "member_not_npy", bytes(zip_of([("a.txt", b"hello")])))
    put("npz", "member_bad_npy", bytes(zip_of([("a.npy", b"\x93NUMPY\x01\x00garbage")])))
    bad_crc = bytearray(good)
    off = bad_crc.find(a)
    bad_crc[off + len(a) - 1] ^= 0xFF
    put("npz", "bad_crc", bytes(bad_crc))
    # Central directory entry claiming a huge uncompressed size.
    huge = bytearray(zip_of([("a.npy", a)], zipfile.ZIP_DEFLATED))
    cd = huge.rfind(b"PK\x01\x02")
    huge[cd + 24 : cd + 28] = struct.pack("<I", 0xFFFFFFF0)
    lh = huge.find(b"PK\x03\x04")
    huge[lh + 22 : lh + 26] = struct.pack("<I", 0xFFFFFFF0)
    put("npz", "huge_uncompressed_size", bytes(huge))
    enc = bytearray(good)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = enc.find(sig)
        enc[i + flag_at] |= 1  # "encrypted"
    put("npz", "encrypted", bytes(enc))
    put("npz", "duplicate_names", bytes(zip_of([("a.npy", a), ("a.npy", a)])))
    eocd = bytearray(good)
    e = eocd.rfind(b"PK\x05\x06")
    eocd[e + 16 : e + 20] = struct.pack("<I", 0x7FFFFFFF)  # central directory offset past the end
    put("npz", "directory_offset_past_end", bytes(eocd))
    method = bytearray(good)
    for sig, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = method.find(sig)
        method[i + at : i + at + 2] = struct.pack("<H", 14)  # LZMA
    put("npz", "unsupported_method", bytes(method))


def safetensors(header, data=b"", raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def safetensors_cases():
    f32 = lambda shape, b, e: {"dtype": "F32", "shape": shape, "data_offsets": [b, e]}
    put("safetensors", "header_length_past_end", struct.pack("<Q", 1000) + b"{}")
    put("safetensors", "header_length_huge", struct.pack("<Q", 1 << 62) + b"{}")
    put("safetensors", "too_short", b"\x02\0\0")
    put("safetensors", "bad_json", safetensors(None, b"", raw_header=b'{"a": {"dtype": "F32",'))
    put("safetensors", "not_an_object", safetensors(None, b"", raw_header=b"[1, 2]"))
    put("safetensors", "unknown_dtype", safetensors({"a": {"dtype": "I8", "shape": [2], "data_offsets": [0, 2]}}, b"\0\0"))
    put("safetensors", "overlapping_offsets", safetensors({"a": f32([2], 0, 8), "b": f32([2], 4, 12)}, b"\0" * 12))
    put("safetensors", "hole_between_tensors", safetensors({"a": f32([1], 0, 4), "b": f32([1], 8, 12)}, b"\0" * 12))
    put("safetensors", "offsets_past_end", safetensors({"a": f32([4], 0, 16)}, b"\0" * 8))
    put("safetensors", "size_mismatch", safetensors({"a": f32([3], 0, 8)}, b"\0" * 8))
    put("safetensors", "reversed_offsets", safetensors({"a": f32([0], 8, 0)}, b"\0" * 8))
    put("safetensors", "huge_shape", safetensors({"a": f32([1 << 32, 1 << 32, 1 << 32], 0, 4)}, b"\0" * 4))
    put("safetensors", "negative_shape", safetensors({"a": f32([-1], 0, 4)}, b"\0" * 4))
    put("safetensors", "metadata_not_strings", safetensors({"__metadata__": {"k": 3}}))
    put("safetensors", "duplicate_key", safetensors(None, b"\0" * 4, raw_header=(
        b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
        b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}')))
    put("safetensors", "deep_nesting", safetensors(None, b"", raw_header=b"[" * 5000 + b"]" * 5000))
    put("safetensors", "bad_utf8_name", safetensors(None, b"\0" * 4, raw_header=(
        b'{"\xff\xfe": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}')))


def checkpoint_cases():
    t = {"params.w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    meta = {"nx.format": "nx-checkpoint-1", "nx.step": "3", "nx.checksum": "0123456789abcdef"}
    put("checkpoint", "wrong_checksum", safetensors({**t, "__metadata__": meta}, b"\0" * 4))
    put("checkpoint", "not_a_checkpoint", safetensors({**t}, b"\0" * 4))
    put("checkpoint", "step_not_a_number", safetensors({**t, "__metadata__": {**meta, "nx.step": "x"}}, b"\0" * 4))
    put("checkpoint", "truncated", safetensors({**t, "__metadata__": meta}, b"\0" * 4)[:30])


def idx_cases():
    def idx(type_byte, dims, payload):
        return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload
    put("idx", "wrong_magic", b"\x01\x02" + idx(8, [2], b"\0\0")[2:])
    put("idx", "unknown_type", idx(0x0A, [2], b"\0\0"))
    put("idx", "truncated_data", idx(8, [3, 3], b"\0" * 5))
    put("idx", "truncated_dims", idx(8, [3, 3], b"")[:7])
    put("idx", "huge_dims", idx(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b"\0" * 8))
    put("idx", "rank_too_large", bytes([0, 0, 8, 200]) + b"\0\0\0\1" * 200)
    put("idx", "gzip_truncated", gzip.compress(idx(8, [64], b"\1" * 64), mtime=0)[:25])
    put("idx", "gzip_garbage", b"\x1f\x8b\x08\x00" + b"\xff" * 30)


def csv_cases():
    put("csv", "ragged_rows", b"a,b\n1,2\n3\n")
    put("csv", "not_a_number", b"a,b\n1,2\n3,seven\n")
    put("csv", "unterminated_quote", b'a,b\n1,"2\n3,4\n')
    put("csv", "missing_value", b"a,b\n1,\n3,4\n")
    put("csv", "text_after_quote", b'a,b\n1,"2"x\n')


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    npy_cases()
    npz_cases()
    safetensors_cases()
    checkpoint_cases()
    idx_cases()
    csv_cases()
    for fmt in sorted(os.listdir(OUT)):
        print(fmt, len(os.listdir(os.path.join(OUT, fmt))))


if __name__ == "__main__":
    main()
