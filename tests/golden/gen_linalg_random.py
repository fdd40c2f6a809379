#!/usr/bin/env python3
"""Golden data for tests/linalg_test.cpp and tests/random_test.cpp.

linalg: inputs are random matrices (numpy RandomState(seed)); expected results come from
numpy/scipy in f64. eigh/svd vectors are put in nx's sign convention (each u/eigenvector
column's largest-magnitude entry positive) so they can be compared directly; qr and lu are
left as LAPACK gives them (nx matches those signs and pivots).

random: JAX's default PRNG (threefry2x32, jax_threefry_partitionable=True, the default of
this JAX) with jax_enable_x64 so that i64 seeds and randint(int64) are covered; f32 values
are emitted as bit patterns for bitwise comparison.

Writes tests/golden/linalg_random/{linalg,random}_cases.inc (C++ definitions included by
the tests). Run:  python3 -m venv .venv && .venv/bin/pip install numpy scipy jax && .venv/bin/python tests/golden/gen_linalg_random.py
"""
import math
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

assert jax.config.jax_threefry_partitionable, "nx matches the partitionable threefry mode"
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
from cpp_emit import golden, num  # noqa: E402,F401
import scipy.linalg as sla  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg_random")


# ---- C++ formatting ----
def ints(name, ctype, a):
    a = np.asarray(a).ravel()
    suffix = {"uint32_t": "u", "uint64_t": "ull", "uint16_t": "u", "int64_t": "ll", "int32_t": ""}[ctype]

    def lit(v):
        v = int(v)
        if ctype == "int64_t" and v == -2**63:
            return "std::numeric_limits<int64_t>::min()"
        return f"{v}{suffix}"

    return f"const std::vector<{ctype}> {name} = {{{', '.join(lit(v) for v in a)}}};\n"


# ---- linalg ----
def spd(rng, *shape):
    n = shape[-1]
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def sym(rng, *shape):
    x = rng.standard_normal(shape)
    return (x + np.swapaxes(x, -1, -2)) / 2


def f32(x):
    """The f32-rounded input, back in f64: expected values for f32 tests."""
    return np.asarray(x, np.float32).astype(np.float64)


def sign_fix_cols(u, paired=None):
    """nx's convention: each column's largest-|.| entry positive (first within 1e-8)."""
    u = u.copy()
    flips = np.ones(u.shape[:-2] + (u.shape[-1],))
    for idx in np.ndindex(*u.shape[:-2]):
        for j in range(u.shape[-1]):
            col = u[idx][:, j]
            big = np.abs(col).max()
            i = int(np.argmax(np.abs(col) >= big * (1 - 1e-8)))
            if col[i] < 0:
                u[idx + (slice(None), j)] *= -1
                flips[idx + (j,)] = -1
    return u, flips


def svd_fixed(a, full):
    u, s, vt = np.linalg.svd(a, full_matrices=full)
    u, flips = sign_fix_cols(u)
    k = s.shape[-1]
    vt = vt.copy()
    vt[..., :k, :] *= flips[..., :k, None]
    # vt's rows beyond k (full_matrices, wide a) have no partner: fix them alone.
    if vt.shape[-2] > k:
        rest, _ = sign_fix_cols(np.swapaxes(vt[..., k:, :], -1, -2))
        vt[..., k:, :] = np.swapaxes(rest, -1, -2)
    return u, s, vt


def linalg_cases():
    out = []
    g = lambda name, a: out.append(golden(name, a))  # noqa: E731

    rng = np.random.RandomState(0)
    a = spd(rng, 2, 3, 3)
    g("chol_a", a)
    g("chol_l", np.linalg.cholesky(a))
    a = f32(spd(rng, 4, 4))
    g("chol32_a", a)
    g("chol32_l", np.linalg.cholesky(a))

    # triangular_solve: a well-conditioned triangle (both triangles filled: nx must ignore
    # the other one), every combination of left_side / lower / transpose.
    rng = np.random.RandomState(1)
    a = rng.standard_normal((2, 3, 3)) + 4 * np.eye(3)
    bl = rng.standard_normal((2, 3, 2))
    br = rng.standard_normal((2, 2, 3))
    g("tri_a", a)
    g("tri_b_left", bl)
    g("tri_b_right", br)
    for left in (True, False):
        for lower in (True, False):
            for trans in (False, True):
                t = np.tril(a) if lower else np.triu(a)
                op = np.swapaxes(t, -1, -2) if trans else t
                x = np.linalg.solve(op, bl) if left else np.swapaxes(
                    np.linalg.solve(np.swapaxes(op, -1, -2), np.swapaxes(br, -1, -2)), -1, -2)
                g(f"tri_x_{'l' if left else 'r'}{'lo' if lower else 'up'}{'t' if trans else 'n'}", x)
    # Cross-check one case against scipy (LAPACK trtrs).
    x0 = sla.solve_triangular(a[0], bl[0], lower=True, trans="T")
    assert np.allclose(x0, np.linalg.solve(np.tril(a[0]).T, bl[0]))

    rng = np.random.RandomState(2)
    a = rng.standard_normal((2, 3, 3))
    b = rng.standard_normal((2, 3, 2))
    v = rng.standard_normal((2, 3))
    g("solve_a", a)
    g("solve_b", b)
    g("solve_v", v)
    g("solve_x", np.linalg.solve(a, b))
    g("solve_xv", np.linalg.solve(a, v[..., None])[..., 0])
    g("inv_a", np.linalg.inv(a))
    g("det_a", np.linalg.det(a))
    a4 = rng.standard_normal((4, 4))
    g("det4_a", a4)
    g("det4", np.linalg.det(a4))

    rng = np.random.RandomState(3)
    a = rng.standard_normal((2, 4, 3))
    w = rng.standard_normal((3, 5))
    g("qr_a", a)
    q, r = np.linalg.qr(a, mode="reduced")
    g("qr_q", q)
    g("qr_r", r)
    q, r = np.linalg.qr(a, mode="complete")
    g("qr_qc", q)
    g("qr_rc", r)
    g("qr_w", w)
    q, r = np.linalg.qr(w)
    g("qr_wq", q)
    g("qr_wr", r)
    a32 = f32(a)
    q, r = np.linalg.qr(a32)
    g("qr32_q", q)
    g("qr32_r", r)

    rng = np.random.RandomState(4)
    a = sym(rng, 2, 4, 4)
    # Only the lower triangle is read: put junk in the strict upper one.
    junk = a + np.triu(rng.standard_normal((2, 4, 4)), 1)
    g("eigh_a", junk)
    wv, vv = np.linalg.eigh(a)
    g("eigh_w", wv)
    g("eigh_v", sign_fix_cols(vv)[0])

    rng = np.random.RandomState(5)
    a = rng.standard_normal((2, 4, 3))
    wide = rng.standard_normal((3, 5))
    g("svd_a", a)
    for tag, m, full in (("f", a, True), ("t", a, False), ("wf", wide, True), ("wt", wide, False)):
        u, s, vt = svd_fixed(m, full)
        g(f"svd_{tag}_u", u)
        g(f"svd_{tag}_s", s)
        g(f"svd_{tag}_vt", vt)
    g("svd_wide", wide)

    rng = np.random.RandomState(6)
    for tag, shape in (("sq", (2, 3, 3)), ("tall", (4, 3)), ("wide", (3, 4))):
        a = rng.standard_normal(shape)
        g(f"lu_{tag}_a", a)
        if a.ndim == 3:
            p, l, u = zip(*(sla.lu(m) for m in a))
            p, l, u = np.stack(p), np.stack(l), np.stack(u)
        else:
            p, l, u = sla.lu(a)
        g(f"lu_{tag}_p", p)
        g(f"lu_{tag}_l", l)
        g(f"lu_{tag}_u", u)

    rng = np.random.RandomState(7)
    a = rng.standard_normal((2, 5, 3))
    b = rng.standard_normal((2, 5, 2))
    v = rng.standard_normal((2, 5))
    g("lsq_a", a)
    g("lsq_b", b)
    g("lsq_v", v)
    g("lsq_x", np.stack([np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(2)]))
    g("lsq_xv", np.stack([np.linalg.lstsq(a[i], v[i], rcond=None)[0] for i in range(2)]))
    # Rank-deficient (third column = first + second) and underdetermined.
    d = rng.standard_normal((4, 2))
    d = np.concatenate([d, d[:, :1] + d[:, 1:]], axis=1)
    db = rng.standard_normal(4)
    g("lsq_def_a", d)
    g("lsq_def_b", db)
    g("lsq_def_x", np.linalg.lstsq(d, db, rcond=None)[0])
    u = rng.standard_normal((2, 4))
    ub = rng.standard_normal(2)
    g("lsq_under_a", u)
    g("lsq_under_b", ub)
    g("lsq_under_x", np.linalg.lstsq(u, ub, rcond=None)[0])

    rng = np.random.RandomState(8)
    vec = rng.standard_normal(7)
    vec[3] = 0.0
    g("norm_v", vec)
    vec_ords = [("none", None), ("1", 1), ("2", 2), ("inf", np.inf), ("neg_inf", -np.inf), ("0", 0),
                ("3", 3), ("half", 0.5), ("neg1", -1)]
    with np.errstate(divide="ignore"):  # ord -1 with a zero entry: sum(inf)^-1 = 0
        for tag, o in vec_ords:
            g(f"norm_v_{tag}", np.linalg.norm(vec, ord=o))
    m = rng.standard_normal((3, 4))
    g("norm_m", m)
    mat_ords = [("none", None), ("fro", "fro"), ("nuc", "nuc"), ("1", 1), ("neg1", -1), ("2", 2),
                ("neg2", -2), ("inf", np.inf), ("neg_inf", -np.inf)]
    for tag, o in mat_ords:
        g(f"norm_m_{tag}", np.linalg.norm(m, ord=o))
    t = rng.standard_normal((2, 3, 4))
    g("norm_t", t)
    g("norm_t_all", np.linalg.norm(t))
    g("norm_t_ax1", np.linalg.norm(t, axis=1))
    g("norm_t_ax1_inf_keep", np.linalg.norm(t, ord=np.inf, axis=1, keepdims=True))
    g("norm_t_ax21_1", np.linalg.norm(t, ord=1, axis=(2, 1)))
    g("norm_t_ax02_2_keep", np.linalg.norm(t, ord=2, axis=(0, 2), keepdims=True))
    g("norm_t_ax12_nuc", np.linalg.norm(t, ord="nuc", axis=(1, 2)))
    return "".join(out)


# ---- random ----
def u32bits(x):
    return np.asarray(x).view(np.uint32)


def random_cases():
    out = []
    r = jax.random
    k0, k42 = r.PRNGKey(0), r.PRNGKey(42)
    out.append(ints("key_0", "uint32_t", k0))
    out.append(ints("key_42", "uint32_t", k42))
    out.append(ints("key_big", "uint32_t", r.PRNGKey(2**40 + 5)))
    out.append(ints("key_neg1", "uint32_t", r.PRNGKey(-1)))
    out.append(ints("split_0_3", "uint32_t", r.split(k0, 3)))
    out.append(ints("split_42", "uint32_t", r.split(k42)))
    out.append(ints("fold_0_7", "uint32_t", r.fold_in(k0, 7)))
    out.append(ints("fold_42_max", "uint32_t", r.fold_in(k42, 2**32 - 1)))
    out.append(ints("bits_0_5", "uint32_t", r.bits(k0, (5,), jnp.uint32)))
    out.append(ints("bits_42_2x3", "uint32_t", r.bits(k42, (2, 3), jnp.uint32)))

    out.append(ints("uniform_0_f32", "uint32_t", u32bits(r.uniform(k0, (8,), jnp.float32))))
    out.append(ints("uniform_42_f32_range", "uint32_t",
                    u32bits(r.uniform(k42, (2, 3), jnp.float32, minval=-2.0, maxval=3.0))))
    mins = np.array([0.0, 10.0, -1.0], np.float32)
    maxs = np.array([1.0, 20.0, 1.0], np.float32)
    out.append(ints("uniform_7_f32_vec", "uint32_t",
                    u32bits(r.uniform(r.PRNGKey(7), (2, 3), jnp.float32, minval=mins, maxval=maxs))))
    out.append(ints("uniform_0_f64", "uint64_t", np.asarray(r.uniform(k0, (6,), jnp.float64)).view(np.uint64)))
    out.append(ints("uniform_0_f16", "uint16_t", np.asarray(r.uniform(k0, (6,), jnp.float16)).view(np.uint16)))
    out.append(ints("uniform_0_bf16", "uint16_t",
                    np.asarray(r.uniform(k0, (6,), jnp.bfloat16)).view(np.uint16)))

    for name, dt in (("f16", jnp.float16), ("bf16", jnp.bfloat16)):
        v = r.uniform(k42, (2, 3), dt, minval=-2.0, maxval=3.0)
        out.append(ints(f"uniform_42_{name}_range", "uint16_t", np.asarray(v).view(np.uint16)))
    # f64 with bounds: XLA's FMA cannot be reproduced with f64 ops; compared to a few ulps.
    out.append(golden("uniform_42_f64_range", r.uniform(k42, (2, 3), jnp.float64, minval=-2.0, maxval=3.0)))
    out.append(golden("normal_0_f32", r.normal(k0, (8,), jnp.float32)))
    out.append(golden("normal_42_f64", r.normal(k42, (2, 3), jnp.float64)))

    out.append(ints("randint_0_i32", "int32_t", r.randint(k0, (10,), 0, 10, jnp.int32)))
    out.append(ints("randint_42_i32_neg", "int32_t", r.randint(k42, (2, 4), -5, 5, jnp.int32)))
    out.append(ints("randint_1_i32_vec", "int32_t",
                    r.randint(r.PRNGKey(1), (2, 3), jnp.array([0, 100, -7]), jnp.array([3, 1000, -7]), jnp.int32)))
    out.append(ints("randint_2_i32_wide", "int32_t",
                    r.randint(r.PRNGKey(2), (6,), -2**31, 2**31 - 1, jnp.int32)))
    out.append(ints("randint_3_u8", "int32_t", r.randint(r.PRNGKey(3), (8,), 0, 256, jnp.uint8)))
    out.append(ints("randint_4_u32", "int64_t", r.randint(r.PRNGKey(4), (6,), 5, 2**32 - 3, jnp.uint32)))
    out.append(ints("randint_0_i64", "int64_t", r.randint(k0, (10,), 0, 10, jnp.int64)))
    out.append(ints("randint_5_i64_big", "int64_t", r.randint(r.PRNGKey(5), (6,), -2**40, 2**50, jnp.int64)))
    out.append(ints("randint_6_i64_full", "int64_t",
                    r.randint(r.PRNGKey(6), (6,), -2**63, 2**63 - 1, jnp.int64)))
    out.append(ints("randint_8_i64_top", "int64_t",
                    r.randint(r.PRNGKey(8), (6,), -3, 2**63 - 1, jnp.int64)))

    out.append(ints("bernoulli_3", "int32_t", r.bernoulli(r.PRNGKey(3), 0.3, (10,))))
    out.append(ints("bernoulli_4_vec", "int32_t",
                    r.bernoulli(r.PRNGKey(4), jnp.array([0.1, 0.5, 0.9], jnp.float32), (2, 3))))

    out.append(ints("perm_0_10", "int64_t", r.permutation(k0, 10)))
    x = np.arange(12).reshape(3, 4)
    out.append(ints("perm_1_axis1", "int64_t", r.permutation(r.PRNGKey(1), x, axis=1)))
    out.append(ints("perm_1_axis1_indep", "int64_t", r.permutation(r.PRNGKey(1), x, axis=1, independent=True)))
    out.append(ints("perm_2_axis0", "int64_t", r.permutation(r.PRNGKey(2), x, axis=0)))
    out.append(ints("perm_5_2000", "int64_t", r.permutation(r.PRNGKey(5), 2000)))
    return "".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    head = "// Generated by tests/golden/gen_linalg_random.py; do not edit.\n"
    with open(os.path.join(OUT, "linalg_cases.inc"), "w") as f:
        f.write(head + linalg_cases())
    with open(os.path.join(OUT, "random_cases.inc"), "w") as f:
        f.write(head + random_cases())


if __name__ == "__main__":
    main()
