#!/usr/bin/env python3
"""Golden data for tests/conv_test.cpp, window_test.cpp and sort_test.cpp.

Computes expected results with JAX (lax.conv_general_dilated, lax.reduce_window,
jnp.argsort(stable=True), lax.top_k) and writes C++ initializer entries into
tests/golden/conv_window_sort/{conv,window,sort,top_k}_cases.inc.

Run:  python3 -m venv .venv && .venv/bin/pip install numpy jax && .venv/bin/python tests/golden/gen_conv_window_sort.py

Inputs of conv/window cases come from small integer formulas (repeated in the C++ tests)
so that every dtype gives exact results; one conv case embeds random floats.
"""
import math
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

import cpp_emit  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_window_sort")

DTYPES = {
    "f16": np.float16, "bf16": ml_dtypes.bfloat16, "f32": np.float32, "f64": np.float64,
    "i32": np.int32, "i64": np.int64, "u8": np.uint8, "u32": np.uint32, "bool": np.bool_,
}
CPP_DTYPE = {k: "nx::" + ("boolean" if k == "bool" else k) for k in DTYPES}


# ---- the input formulas (mirrored in the C++ tests) ----
def conv_input(n):  # x[i] = (7i + 3) mod 11 - 5
    return np.array([(7 * i + 3) % 11 - 5 for i in range(n)], dtype=np.float64)


def conv_kernel(n):  # w[i] = (5i + 1) mod 7 - 3
    return np.array([(5 * i + 1) % 7 - 3 for i in range(n)], dtype=np.float64)


def window_input(n, unsigned):  # v[i] = (3i + 1) mod 5 - 2, +2 for unsigned types
    return np.array([(3 * i + 1) % 5 - (0 if unsigned else 2) for i in range(n)], dtype=np.float64)


# ---- C++ formatting ----
def num(v):  # integers print as "3.0", the rest as cpp_emit does
    v = float(v)
    if math.isfinite(v) and v == int(v) and abs(v) < 2**53:
        return "-0.0" if v == 0 and math.copysign(1, v) < 0 else str(int(v)) + ".0"
    return cpp_emit.num(v)


def nums(a):
    return "{" + ", ".join(num(v) for v in np.asarray(a, dtype=np.float64).ravel()) + "}"


def ints(a):
    return "{" + ", ".join(str(int(v)) for v in np.asarray(a).ravel()) + "}"


def pairs(p):
    return "{" + ", ".join("{%d, %d}" % (lo, hi) for lo, hi in p) + "}"


def pad_mode(mode):
    return {"valid": "nx::PaddingMode::valid", "same": "nx::PaddingMode::same",
            "explicit": "nx::PaddingMode::explicit_"}[mode]


# ---- padding rule (documented in include/nx/ops.hpp and src/window_shape.hpp) ----
def dilate(n, d):
    return 0 if n == 0 else (n - 1) * d + 1


def same_pads(ins, wins, strides):
    """ceil(in / stride) outputs with the least padding, odd unit high (TF/JAX rule)."""
    pads = []
    for n, w, s in zip(ins, wins, strides):
        out = -(-n // s)
        total = max((out - 1) * s + w - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


# ---- conv ----
CONV = [
    # name, dtype, x shape, k shape, options
    ("conv1d_valid", "f32", (2, 3, 7), (4, 3, 3), {}),
    ("conv1d_stride_same", "f32", (1, 2, 10), (3, 2, 4), dict(strides=[3], padding="same")),
    ("conv2d_explicit_stride", "f32", (2, 3, 6, 5), (4, 3, 3, 2),
     dict(strides=[2, 1], padding=[(1, 2), (0, 1)])),
    ("conv2d_negative_padding", "f64", (1, 2, 7, 6), (2, 2, 2, 3), dict(padding=[(-1, 2), (1, -2)])),
    ("conv2d_both_dilations", "f32", (1, 2, 5, 6), (3, 2, 2, 3),
     dict(input_dilation=[2, 1], kernel_dilation=[1, 2], padding=[(1, 1), (2, 0)])),
    ("conv2d_same_kernel_dilation_strides", "f32", (2, 2, 7, 8), (2, 2, 3, 3),
     dict(kernel_dilation=[2, 2], strides=[2, 3], padding="same")),
    ("conv2d_same_input_dilation", "f32", (1, 1, 4, 3), (1, 1, 3, 2),
     dict(input_dilation=[2, 3], padding="same")),
    ("conv2d_depthwise", "f32", (2, 4, 5, 5), (8, 1, 3, 3), dict(feature_group_size=4, padding="same")),
    ("conv2d_feature_groups_i32", "i32", (1, 6, 5, 4), (4, 3, 2, 2), dict(feature_group_size=2)),
    ("conv2d_batch_groups", "f32", (4, 3, 5, 5), (6, 3, 2, 2), dict(batch_group_size=2)),
    ("conv2d_batch_groups_same_f64", "f64", (6, 2, 4, 4), (3, 2, 3, 3),
     dict(batch_group_size=3, padding="same", strides=[2, 1])),
    ("conv3d", "f32", (1, 2, 4, 5, 3), (3, 2, 2, 3, 2),
     dict(strides=[1, 2, 1], padding=[(1, 0), (0, 1), (1, 1)])),
    ("conv2d_f16_same", "f16", (1, 2, 5, 5), (2, 2, 3, 3), dict(padding="same")),
    ("conv2d_bf16", "bf16", (1, 1, 4, 4), (1, 1, 2, 2), dict(strides=[2, 2])),
    ("conv1d_i32_dilations_stride", "i32", (2, 2, 9), (3, 2, 3),
     dict(kernel_dilation=[3], input_dilation=[2], strides=[2], padding=[(2, 3)])),
    ("conv1d_i64_groups_stride", "i64", (1, 4, 8), (2, 2, 2), dict(feature_group_size=2, strides=[3])),
    ("conv2d_random_f32", "f32", (2, 2, 4, 4), (3, 2, 2, 2), dict(padding=[(1, 0), (0, 1)], random=True)),
    ("conv1d_kernel_larger_than_input", "f32", (1, 1, 2), (1, 1, 3), {}),
]


def conv_case(name, dt, xs, ks, o):
    ns = len(xs) - 2
    strides = o.get("strides", [1] * ns)
    ldil = o.get("input_dilation", [1] * ns)
    rdil = o.get("kernel_dilation", [1] * ns)
    fg, bg = o.get("feature_group_size", 1), o.get("batch_group_size", 1)
    padding = o.get("padding", "valid")
    if o.get("random"):
        rng = np.random.default_rng(7)
        x = rng.standard_normal(int(np.prod(xs))).astype(np.float32).astype(np.float64)
        w = rng.standard_normal(int(np.prod(ks))).astype(np.float32).astype(np.float64)
    else:
        x, w = conv_input(int(np.prod(xs))), conv_kernel(int(np.prod(ks)))
    if padding == "valid":
        pads, mode = [(0, 0)] * ns, "valid"
    elif padding == "same":
        mode = "same"
        pads = same_pads([dilate(n, d) for n, d in zip(xs[2:], ldil)],
                         [dilate(k, d) for k, d in zip(ks[2:], rdil)], strides)
    else:
        pads, mode = padding, "explicit"
    npdt = DTYPES[dt]
    xa = jnp.asarray(x.reshape(xs).astype(npdt))
    wa = jnp.asarray(w.reshape(ks).astype(npdt))
    kw = dict(window_strides=strides, lhs_dilation=ldil, rhs_dilation=rdil,
              feature_group_count=fg, batch_group_count=bg,
              precision=lax.Precision.HIGHEST)
    y = lax.conv_general_dilated(xa, wa, padding=pads, **kw)
    if mode == "same" and ldil == [1] * ns:
        # Without input dilation our 'same' is JAX's 'SAME'.
        y2 = lax.conv_general_dilated(xa, wa, padding="SAME", **kw)
        assert np.array_equal(np.asarray(y, np.float64), np.asarray(y2, np.float64)), name
    embedded = o.get("random", False)
    return ('{"%s", %s, %s, %s, %s, %s, %s, %s, %s, %d, %d,\n %s,\n %s,\n %s, %s},'
            % (name, CPP_DTYPE[dt], ints(xs), ints(ks), ints(strides), pad_mode(mode),
               pairs(pads if mode == "explicit" else []), ints(ldil), ints(rdil), fg, bg,
               nums(x) if embedded else "{}", nums(w) if embedded else "{}",
               ints(y.shape), nums(np.asarray(y, np.float64))))


# ---- window reductions ----
WINDOW = [
    # name, op, dtype, shape, window, options
    ("sum2d_strides_valid", "sum", "f32", (4, 7), (2, 3), dict(strides=[1, 2])),
    ("max2d_same_strides_nan", "max", "f32", (5, 6), (3, 2), dict(strides=[2, 2], padding="same", nan_at=[7])),
    ("min1d_explicit_dilation_i32", "min", "i32", (9,), (3,), dict(padding=[(2, 1)], window_dilations=[2])),
    ("product2d_explicit_f64", "product", "f64", (3, 4), (2, 2), dict(padding=[(1, 0), (0, 1)])),
    ("max4d_pool_same", "max", "f32", (2, 3, 4, 5), (1, 1, 2, 2), dict(strides=[1, 1, 2, 2], padding="same")),
    ("sum1d_u8_same_stride", "sum", "u8", (8,), (3,), dict(strides=[2], padding="same")),
    ("max1d_i64_negative_padding", "max", "i64", (7,), (2,), dict(padding=[(-1, 1)])),
    ("sum2d_f16_dilation", "sum", "f16", (5, 4), (2, 2), dict(window_dilations=[2, 1])),
    ("min2d_bf16_same", "min", "bf16", (3, 5), (2, 3), dict(padding="same")),
    ("max2d_same_dilation_strides", "max", "f64", (6, 7), (2, 3),
     dict(padding="same", window_dilations=[2, 2], strides=[2, 1])),
    ("min2d_nan_all_padding", "min", "f32", (2, 3), (2, 2), dict(padding=[(0, 2), (3, 0)], nan_at=[4])),
    ("product3d_i32_strides", "product", "i32", (2, 3, 4), (2, 2, 2), dict(strides=[1, 1, 2], padding="same")),
]

INIT = {"sum": (0, lax.add), "product": (1, lax.mul)}


def window_case(name, op, dt, shape, win, o):
    r = len(shape)
    strides = o.get("strides", [1] * r)
    dil = o.get("window_dilations", [1] * r)
    padding = o.get("padding", "valid")
    npdt = DTYPES[dt]
    x = window_input(int(np.prod(shape)), dt in ("u8", "u32"))
    for i in o.get("nan_at", []):
        x[i] = np.nan
    if padding == "valid":
        pads, mode = [(0, 0)] * r, "valid"
    elif padding == "same":
        pads, mode = same_pads(shape, [dilate(w, d) for w, d in zip(win, dil)], strides), "same"
    else:
        pads, mode = padding, "explicit"
    xa = jnp.asarray(x.reshape(shape).astype(npdt))
    if op in INIT:
        init, fn = INIT[op]
        init = np.array(init, npdt)
    else:
        floating = np.issubdtype(npdt, np.floating) or npdt is ml_dtypes.bfloat16
        if op == "max":
            init = np.array(-np.inf, npdt) if floating else np.array(np.iinfo(npdt).min, npdt)
            fn = lax.max
        else:
            init = np.array(np.inf, npdt) if floating else np.array(np.iinfo(npdt).max, npdt)
            fn = lax.min
    y = lax.reduce_window(xa, init, fn, win, strides, pads, window_dilation=dil)
    return ('{"%s", nx::Op::Window%s, %s, %s, %s, %s, %s, %s, %s, %s,\n %s, %s},'
            % (name, op.capitalize(), CPP_DTYPE[dt], ints(shape), ints(win), ints(strides), pad_mode(mode),
               pairs(pads if mode == "explicit" else []), ints(dil), ints(o.get("nan_at", [])),
               ints(y.shape), nums(np.asarray(y, np.float64))))


# ---- sort / argsort ----
NAN, INF = float("nan"), float("inf")
SORT = [
    # name, dtype, shape, axis, data
    ("f32_nan_ties_signed_zero", "f32", (11,), -1, [3, NAN, -1, 0.0, 3, -INF, -0.0, NAN, 2.5, INF, -1]),
    ("f64_3d_axis0", "f64", (3, 2, 2), 0, [2, 1, 1, 0, 2, 5, -1, 0, 0, 1, 1, 3]),
    ("i32_2d_axis1", "i32", (2, 5), 1, [4, -2, 4, 7, -2, 0, 0, 0, 1, -9]),
    ("u8_2d_axis0", "u8", (3, 2), 0, [200, 3, 7, 3, 200, 0]),
    ("bool", "bool", (6,), 0, [1, 0, 1, 1, 0, 0]),
    ("f16_nan_ties", "f16", (2, 4), -1, [1.5, NAN, 1.5, -2, 0.0, -0.0, NAN, 0.0]),
    ("bf16_ties", "bf16", (7,), 0, [1, 3, 1, INF, NAN, -3, 3]),
    ("i64_3d_axis1", "i64", (2, 3, 2), 1, [5, 1, -5, 1, 5, 0, 2, 2, 2, 2, -7, 9]),
    ("u32_single", "u32", (1, 3), 0, [4, 2, 9]),
]


def sort_case(name, dt, shape, axis, data):
    npdt = DTYPES[dt]
    x = jnp.asarray(np.array(data, np.float64).reshape(shape).astype(npdt))
    lines = []
    for desc in (False, True):
        idx = jnp.argsort(x, axis=axis, stable=True, descending=desc)
        vals = jnp.take_along_axis(x, idx, axis=axis)
        # The values agree with jnp.sort (which may order -0.0/0.0 differently).
        ref = jnp.sort(x, axis=axis, descending=desc)
        assert np.array_equal(np.asarray(vals, np.float64), np.asarray(ref, np.float64), equal_nan=True), name
        lines.append('{"%s%s", %s, %s, %d, %s, %s,\n %s,\n %s},'
                     % (name, "_desc" if desc else "", CPP_DTYPE[dt], ints(shape), axis,
                        "nx::Direction::desc" if desc else "nx::Direction::asc",
                        nums(np.asarray(x, np.float64)), ints(idx), nums(np.asarray(vals, np.float64))))
    return "\n".join(lines)


TOP_K = [
    ("f32_ties_nan", "f32", (2, 6), 3, [1, 5, 5, NAN, -1, 5, 0, -0.0, 2, 2, -INF, 7]),
    ("i32_all", "i32", (5,), 5, [3, -1, 3, 8, -1]),
    ("bf16_one", "bf16", (3, 2), 1, [1, 2, 2, 2, -1, -3]),
    ("u8_3d", "u8", (2, 2, 4), 2, [9, 1, 9, 3, 0, 0, 255, 4, 7, 7, 7, 7, 1, 2, 3, 4]),
]


def top_k_case(name, dt, shape, k, data):
    npdt = DTYPES[dt]
    x = jnp.asarray(np.array(data, np.float64).reshape(shape).astype(npdt))
    vals, idx = lax.top_k(x, k)
    # Our definition: the first k of a stable descending argsort.
    mine = jnp.argsort(x, axis=-1, stable=True, descending=True)[..., :k]
    assert np.array_equal(np.asarray(idx), np.asarray(mine)), name
    return ('{"%s", %s, %s, %d, %s,\n %s, %s},'
            % (name, CPP_DTYPE[dt], ints(shape), k, nums(np.asarray(x, np.float64)), ints(idx),
               nums(np.asarray(vals, np.float64))))


def write(fname, entries):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, fname), "w") as f:
        f.write("// Generated by tests/golden/gen_conv_window_sort.py (jax %s). Do not edit.\n" % jax.__version__)
        f.write("\n".join(entries) + "\n")


def main():
    write("conv_cases.inc", [conv_case(*c) for c in CONV])
    write("window_cases.inc", [window_case(*c) for c in WINDOW])
    write("sort_cases.inc", [sort_case(*c) for c in SORT])
    write("top_k_cases.inc", [top_k_case(*c) for c in TOP_K])
    print("wrote", OUT)


if __name__ == "__main__":
    main()
