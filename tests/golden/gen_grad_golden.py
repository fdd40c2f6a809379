#!/usr/bin/env python3
"""Golden values and gradients for tests/grad_golden_test.cpp.

Each case is a scalar loss built from composites (softmax, log_softmax, logsumexp with
large inputs, softmax cross-entropy, a layer norm, a tanh MLP over a parameter dict, a
small CNN: conv + relu + 2x2 max-pool + dense + cross-entropy). Inputs come from
numpy RandomState(seed) and are rounded to f32, so one set of inputs serves both the f32
and the f64 test. The loss value and jax.value_and_grad gradients are computed by JAX in
f64 (jax_enable_x64, CPU) and are the expected values for both dtypes.

The same losses are also run by JAX in f32, and the script asserts those results lie well
inside the f32 tolerance of the test (TOL_F32 below), so the tolerance is known to be
reachable by an ordinary f32 implementation. The CNN inputs are checked so that nothing
depends on max-pool tie-breaking or on relu's kink: a pooling window is either all clearly
negative before relu (its ties at 0 get relu's zero gradient) or has a unique, clearly
positive maximum.

Writes tests/golden/grads/grad_cases.inc (C++ definitions included by the test). Run:
  python3 -m venv .venv && .venv/bin/pip install numpy jax && .venv/bin/python tests/golden/gen_grad_golden.py
"""
import math
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from cpp_emit import golden, num  # noqa: E402,F401
from jax import lax  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grads")

# The tests' tolerances (|got - want| <= atol + rtol * |want|); keep in sync with the test.
TOL_F32 = (1e-4, 1e-5)  # rtol, atol
TOL_F64 = (1e-10, 1e-12)
# JAX's own f32 results must stay within this fraction of the f32 tolerance.
F32_MARGIN = 0.25


# ---- C++ formatting ----
def labels(name, a):
    a = np.asarray(a).ravel()
    return f"const std::vector<int64_t> {name} = {{{', '.join(str(int(v)) for v in a)}}};\n"


def f32(x):
    """x rounded to f32, back in f64: exactly representable in both test dtypes."""
    return np.asarray(x, np.float32).astype(np.float64)


# ---- the losses (mirrored in tests/grad_golden_test.cpp) ----
def cross_entropy(logits, y):
    oh = jax.nn.one_hot(y, logits.shape[-1], dtype=logits.dtype)
    return jnp.mean(-jnp.sum(oh * jax.nn.log_softmax(logits, axis=-1), axis=-1))


# Every float input is an argument (so the f32 run stays f32); labels are closed over.
def softmax_loss(x, w):
    return jnp.sum(jax.nn.softmax(x, axis=-1) * w)


def log_softmax_loss(x, w):
    return jnp.sum(jax.nn.log_softmax(x, axis=-1) * w)


def logsumexp_loss(x, w):
    return jnp.sum(jax.nn.logsumexp(x, axis=-1) * w)


def layer_norm_loss(x, gamma, beta, w):
    m = jnp.mean(x, axis=-1, keepdims=True)
    v = jnp.var(x, axis=-1, keepdims=True)
    y = (x - m) / jnp.sqrt(v + 1e-5) * gamma + beta
    return jnp.sum(y * w)


def mlp_loss(y):
    def f(p, x):
        h1 = jnp.tanh(jnp.dot(x, p["w1"]) + p["b1"])
        h2 = jnp.tanh(jnp.dot(h1, p["w2"]) + p["b2"])
        return cross_entropy(jnp.dot(h2, p["w3"]) + p["b3"], y)
    return f


def cnn_conv(x, k, cb):
    c = lax.conv_general_dilated(x, k, window_strides=(1, 1), padding=((1, 1), (1, 1)),
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                 precision=lax.Precision.HIGHEST)
    return c + cb.reshape(1, -1, 1, 1)


def cnn_loss(y):
    def f(x, k, cb, dw, db):
        r = jnp.maximum(cnn_conv(x, k, cb), 0)
        p = lax.reduce_window(r, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        flat = p.reshape(x.shape[0], -1)
        return cross_entropy(jnp.dot(flat, dw) + db, y)
    return f


# ---- evaluation ----
def cast(tree, dtype):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), tree)


def check_f32(tag, got32, want64):
    rtol, atol = TOL_F32
    got32 = np.asarray(got32, np.float64)
    want64 = np.asarray(want64, np.float64)
    err = np.abs(got32 - want64) / (atol + rtol * np.abs(want64))
    worst = float(err.max()) if err.size else 0.0
    assert worst <= F32_MARGIN, f"{tag}: JAX f32 uses {worst:.3f} of the f32 tolerance"
    return worst


def run(prefix, loss, args, argnums, out, report):
    """Emits args (name -> array, or for a dict arg name -> {key: array}), the f64 value and
    gradients; argnums: the differentiated positions (gradients named <prefix>_grad_<arg>)."""
    names = list(args)
    vals = [args[n] for n in names]
    vg = jax.value_and_grad(loss, argnums=argnums)
    v64, g64 = vg(*cast(vals, jnp.float64))
    v32, g32 = vg(*cast(vals, jnp.float32))
    worst = check_f32(f"{prefix} value", v32, v64)
    for n, a in zip(names, vals):
        if isinstance(a, dict):
            for k in sorted(a):
                out.append(golden(f"{prefix}_{n}_{k}", a[k]))
        else:
            out.append(golden(f"{prefix}_{n}", a))
    out.append(golden(f"{prefix}_value", v64))
    for i, pos in enumerate(argnums):
        n = names[pos]
        g, gs = g64[i], g32[i]
        if isinstance(g, dict):
            for k in sorted(g):
                worst = max(worst, check_f32(f"{prefix} grad {n}.{k}", gs[k], g[k]))
                out.append(golden(f"{prefix}_grad_{n}_{k}", g[k]))
        else:
            worst = max(worst, check_f32(f"{prefix} grad {n}", gs, g))
            out.append(golden(f"{prefix}_grad_{n}", g))
    report.append(f"{prefix}: value {float(v64):.6g}, JAX f32 uses {worst:.3g} of the f32 tolerance")


def cases():
    out, report = [], []

    # softmax / log_softmax / logsumexp over the last axis of a (4, 7) input.
    rng = np.random.RandomState(0)
    x = f32(rng.standard_normal((4, 7)) * 2)
    w = f32(rng.standard_normal((4, 7)))
    run("softmax", softmax_loss, {"x": x, "w": w}, (0,), out, report)

    rng = np.random.RandomState(1)
    x = f32(rng.standard_normal((4, 7)) * 2)
    w = f32(rng.standard_normal((4, 7)))
    run("log_softmax", log_softmax_loss, {"x": x, "w": w}, (0,), out, report)

    # Rows: ordinary, around +300, around -200, and a spread from -100 to 900 (exp overflows
    # without the max shift; the spread row's gradient is essentially one-hot).
    rng = np.random.RandomState(2)
    x = np.stack([
        rng.standard_normal(7) * 2,
        300 + rng.standard_normal(7) * 3,
        -200 + rng.standard_normal(7),
        np.array([-100.0, 0.0, 250.0, 899.0, 900.0, 897.5, 500.0]) + rng.uniform(0, 0.5, 7),
    ])
    x = f32(x)
    w = f32(rng.standard_normal(4))
    run("logsumexp", logsumexp_loss, {"x": x, "w": w}, (0,), out, report)

    # Softmax cross-entropy: logits (5, 6), integer labels.
    rng = np.random.RandomState(3)
    logits = f32(rng.standard_normal((5, 6)) * 2)
    y = rng.randint(0, 6, size=5).astype(np.int64)
    out.append(labels("xent_labels", y))
    run("xent", lambda lg: cross_entropy(lg, y), {"logits": logits}, (0,), out, report)

    # Layer norm over the last axis of (4, 8); rows with different offsets and scales.
    rng = np.random.RandomState(4)
    x = f32(rng.standard_normal((4, 8)) * np.array([[1.0], [3.0], [0.5], [2.0]])
            + np.array([[0.0], [5.0], [-2.0], [1.0]]))
    gamma = f32(1 + 0.3 * rng.standard_normal(8))
    beta = f32(0.2 * rng.standard_normal(8))
    w = f32(rng.standard_normal((4, 8)))
    run("layer_norm", layer_norm_loss, {"x": x, "gamma": gamma, "beta": beta, "w": w}, (0, 1, 2), out,
        report)

    # MLP 8-16-16-4 with tanh, batch 5, softmax cross-entropy; parameters as a dict.
    rng = np.random.RandomState(5)
    sizes = [8, 16, 16, 4]
    p = {}
    for i in range(3):
        p[f"w{i + 1}"] = f32(rng.standard_normal((sizes[i], sizes[i + 1])) / math.sqrt(sizes[i]))
        p[f"b{i + 1}"] = f32(0.1 * rng.standard_normal(sizes[i + 1]))
    x = f32(rng.standard_normal((5, 8)))
    y = rng.randint(0, 4, size=5).astype(np.int64)
    out.append(labels("mlp_labels", y))
    run("mlp", mlp_loss(y), {"params": p, "x": x}, (0,), out, report)

    # CNN: x (2, 2, 6, 6) NCHW, kernel (3, 2, 3, 3) OIHW, padding 1 -> (2, 3, 6, 6), relu,
    # 2x2/2 max-pool -> (2, 3, 3, 3), flatten 27 -> dense 4, cross-entropy.
    rng = np.random.RandomState(27)
    x = f32(rng.standard_normal((2, 2, 6, 6)))
    k = f32(0.4 * rng.standard_normal((3, 2, 3, 3)))
    cb = f32(0.1 * rng.standard_normal(3))
    dw = f32(rng.standard_normal((27, 4)) / math.sqrt(27))
    db = f32(0.1 * rng.standard_normal(4))
    y = rng.randint(0, 4, size=2).astype(np.int64)
    # No result may depend on tie-breaking or on which side of relu's kink a value falls
    # in f32 vs f64: a window whose maximum is positive has a unique maximum (gap); in a
    # window whose pre-relu values are all clearly negative the relu'd values tie at 0, but
    # relu's gradient is 0 whichever element max-pool picks.
    c = np.asarray(cnn_conv(*cast([x, k, cb], jnp.float64)))
    win = c.reshape(2, 3, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 3, 4)
    top2 = np.sort(np.maximum(win, 0), axis=-1)[..., -2:]
    wmax = win.max(axis=-1)
    live = wmax > 0
    dead = int((~live).sum())
    margin = min(float(np.abs(wmax).min()), float((top2[..., 1] - top2[..., 0])[live].min()))
    assert margin > 1e-3 and 0 < dead < live.sum(), (margin, dead)
    report.append(f"cnn: {dead} of {wmax.size} pool windows all-negative, margin {margin:.3g}")
    out.append(labels("cnn_labels", y))
    run("cnn", cnn_loss(y), {"x": x, "kernel": k, "conv_b": cb, "dense_w": dw, "dense_b": db},
        (1, 2, 3, 4), out, report)
    return "".join(out), report


def main():
    os.makedirs(OUT, exist_ok=True)
    body, report = cases()
    head = "// Generated by tests/golden/gen_grad_golden.py; do not edit.\n"
    with open(os.path.join(OUT, "grad_cases.inc"), "w") as f:
        f.write(head + body)
    for line in report:
        print(line)


if __name__ == "__main__":
    main()
