#!/usr/bin/env python3
"""Generates the golden values of the op table (tests/op_table_test.cpp).

Each op gets tests/golden/ops/<op>.bundle: a sequence of records
  u32 name length, name (utf-8), u64 payload length, payload (a .npy file)
named "<case>/in0", "<case>/in1", ..., "<case>/args" (int64 parameters the C++ row
reads), "<case>/out". References come from numpy / scipy / jax in float64 and are
rounded to the output dtype (correctly rounded where the math is exact).

Run:  python3 -m venv .venv && .venv/bin/pip install numpy scipy jax
      .venv/bin/python tests/golden/generate.py
"""
import io
import os
import struct
import sys

import ml_dtypes
import numpy as np
import scipy.special as sp

BF16 = ml_dtypes.bfloat16
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops")
RNG = np.random.default_rng(20261125)

DT = {"bool": np.bool_, "u8": np.uint8, "u32": np.uint32, "i32": np.int32, "i64": np.int64,
      "f16": np.float16, "bf16": BF16, "f32": np.float32, "f64": np.float64}
FLOATS = ["f32", "f64", "f16", "bf16"]
INTS = ["u8", "u32", "i32", "i64"]
NUMERIC = INTS + FLOATS
ALL = ["bool"] + NUMERIC


def is_float(t): return t in FLOATS
def is_int(t): return t in INTS
def size(t): return np.dtype(DT[t]).itemsize


def promote(a, b):
    if a == b: return a
    if a == "bool": return b
    if b == "bool": return a
    if is_float(a) and is_float(b):
        if {a, b} == {"f16", "bf16"}: return "f32"
        return a if size(a) >= size(b) else b
    if is_float(a): return a
    if is_float(b): return b
    ua, ub = a[0] == "u", b[0] == "u"
    if ua == ub: return a if size(a) >= size(b) else b
    s, u = (b, a) if ua else (a, b)
    return s if size(s) > size(u) else "i64"


def to_float(t): return t if is_float(t) else "f32"


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, np.array(arr, order="C"), allow_pickle=False)
    return buf.getvalue()


class Bundle:
    def __init__(self, op):
        self.op, self.records, self.names = op, [], set()

    def add(self, case, inputs, out, args=()):
        assert case not in self.names, (self.op, case)
        self.names.add(case)
        for i, x in enumerate(inputs):
            self.records.append((f"{case}/in{i}", x))
        self.records.append((f"{case}/args", np.asarray(list(args), dtype=np.int64)))
        self.records.append((f"{case}/out", out))

    def write(self):
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, self.op + ".bundle"), "wb") as f:
            for name, arr in self.records:
                n, p = name.encode(), npy_bytes(arr)
                f.write(struct.pack("<I", len(n)) + n + struct.pack("<Q", len(p)) + p)


def cast(x, t):
    """float64/int reference -> dtype t with our conversion rules for float->int."""
    x = np.asarray(x)
    if t == "bool": return x.astype(np.bool_)
    if is_float(t): return x.astype(np.float64).astype(DT[t]) if t != "bf16" else x.astype(np.float32).astype(BF16)
    if x.dtype.kind == "f":
        info = np.iinfo(DT[t])
        y = np.nan_to_num(np.trunc(x), nan=0, posinf=0, neginf=0)
        big, small = (x >= float(info.max)), (x <= float(info.min))
        mid = np.where(big | small, 0, y).astype(DT[t])
        return np.where(big, info.max, np.where(small, info.min, mid)).astype(DT[t])
    return x.astype(np.int64).astype(DT[t]) if t != "u32" or x.dtype != np.uint64 else x.astype(DT[t])


def sample(t, shape, lo=-3.0, hi=3.0, specials=False, nonzero=False):
    """Random values of dtype t (exactly representable), optionally with NaN/Inf/0/-0."""
    if t == "bool":
        return RNG.random(shape) < 0.5
    if is_int(t):
        info = np.iinfo(DT[t])
        l, h = max(int(lo), int(info.min)), min(int(hi), int(info.max))
        x = RNG.integers(l, h + 1, size=shape).astype(DT[t])
        if nonzero: x[x == 0] = 1
        return x
    x = RNG.uniform(lo, hi, size=shape)
    if nonzero: x[np.abs(x) < 0.1] = 0.5
    x = cast(x, t)
    if specials and x.size >= 6:
        flat = x.reshape(-1)
        flat[:6] = cast(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]), t)
    return x


def ref(x):
    """Reference operand: integers as int64 (so results wrap like the dtype), else float64."""
    x = np.asarray(x)
    return x.astype(np.int64) if x.dtype.kind in "ui" else f64(x)


def f64(x):
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype != np.uint64 else x


SHAPES_UNARY = {"scalar": (), "empty": (0, 3), "one": (1,), "rank4": (2, 3, 1, 2), "vec": (7,)}
SHAPES_BINARY = {"same": ((2, 3), (2, 3)), "scalar": ((), (2, 3)), "bcast": ((3, 1), (1, 4)),
                 "empty": ((0, 3), (1, 3)), "rank4": ((2, 1, 3, 1), (1, 2, 1, 2)), "one": ((1,), (5,))}


# ---- unary ----
def unary_float(name, fn, lo=-3.0, hi=3.0):
    b = Bundle(name)
    for t in FLOATS + ["i32"]:
        out_t = to_float(t)
        for sname, shape in SHAPES_UNARY.items():
            x = sample(t, shape, lo, hi)
            with np.errstate(all="ignore"):
                b.add(f"{t}/{sname}", [x], cast(fn(f64(x)), out_t))
        if is_float(t):
            x = sample(t, (3, 4), lo, hi, specials=True)
            with np.errstate(all="ignore"):
                b.add(f"{t}/special", [x], cast(fn(f64(x)), out_t))
    b.write()


def unary_same(name, fn, dtypes, lo=-20, hi=20):
    b = Bundle(name)
    for t in dtypes:
        for sname, shape in SHAPES_UNARY.items():
            x = sample(t, shape, lo, hi)
            with np.errstate(all="ignore"):
                b.add(f"{t}/{sname}", [x], np.asarray(fn(x, t)).astype(DT[t]))
        if is_float(t):
            x = sample(t, (3, 4), lo, hi, specials=True)
            with np.errstate(all="ignore"):
                b.add(f"{t}/special", [x], np.asarray(fn(x, t)).astype(DT[t]))
    b.write()


def unary_pred(name, fn, dtypes):
    b = Bundle(name)
    for t in dtypes:
        for sname, shape in list(SHAPES_UNARY.items()) + [("special", (3, 4))]:
            if sname == "special" and not is_float(t): continue
            x = sample(t, shape, -3, 3, specials=sname == "special")
            b.add(f"{t}/{sname}", [x], np.asarray(fn(f64(x) if t != "bool" else x)).astype(np.bool_))
    b.write()


def bits(t): return size(t) * 8


def clz(x, t):
    u = x.astype(np.int64) & ((1 << bits(t)) - 1) if t != "i64" else x.view(np.uint64)
    out = []
    for v in np.asarray(u).reshape(-1):
        v = int(v)
        out.append(bits(t) - v.bit_length())
    return np.array(out, dtype=np.int64).reshape(np.shape(x))


def popcount(x, t):
    u = x.astype(np.int64) & ((1 << bits(t)) - 1) if t != "i64" else x.view(np.uint64)
    return np.array([bin(int(v)).count("1") for v in np.asarray(u).reshape(-1)], dtype=np.int64).reshape(np.shape(x))


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def gen_unary():
    F = unary_float
    F("exp", np.exp)
    F("expm1", np.expm1)
    F("log", np.log, 0.01, 10)
    F("log1p", np.log1p, -0.9, 10)
    F("sqrt", np.sqrt, 0, 10)
    F("rsqrt", lambda x: 1 / np.sqrt(x), 0.01, 10)
    F("cbrt", np.cbrt, -10, 10)
    F("sin", np.sin, -6, 6)
    F("cos", np.cos, -6, 6)
    F("tan", np.tan, -1.4, 1.4)
    F("asin", np.arcsin, -1, 1)
    F("acos", np.arccos, -1, 1)
    F("atan", np.arctan, -10, 10)
    F("sinh", np.sinh)
    F("cosh", np.cosh)
    F("tanh", np.tanh)
    F("asinh", np.arcsinh, -10, 10)
    F("acosh", np.arccosh, 1, 10)
    F("atanh", np.arctanh, -0.99, 0.99)
    F("sigmoid", sp.expit, -10, 10)
    F("erf", sp.erf)
    F("erfc", sp.erfc)
    F("erf_inv", sp.erfinv, -0.99, 0.99)
    signed = ["i32", "i64"] + FLOATS
    unary_same("negate", lambda x, t: -x, signed + ["u8", "u32"])
    unary_same("abs", lambda x, t: np.abs(x), signed + ["u8", "u32"])
    unary_same("sign", lambda x, t: np.sign(x), signed + ["u8", "u32"])
    unary_same("floor", lambda x, t: np.floor(x), FLOATS + ["i32"])
    unary_same("ceil", lambda x, t: np.ceil(x), FLOATS + ["i32"])
    unary_same("round", lambda x, t: round_half_away(f64(x)), FLOATS)
    unary_same("bitwise_not", lambda x, t: ~x, INTS + ["bool"])
    unary_same("count_leading_zeros", clz, INTS, lo=-1000, hi=100000)
    unary_same("population_count", popcount, INTS, lo=-1000, hi=100000)
    unary_pred("is_nan", np.isnan, FLOATS + ["i32"])
    unary_pred("is_infinity", np.isinf, FLOATS + ["i32"])
    unary_pred("logical_not", lambda x: np.logical_not(x), ALL)


# ---- binary ----
def binary(name, fn, dtypes, lo=-5, hi=5, out=None, nonzero=False, specials=True, mixed=()):
    b = Bundle(name)
    for t in dtypes:
        ot = out(t) if out else t
        for sname, (sa, sb) in SHAPES_BINARY.items():
            x, y = sample(t, sa, lo, hi), sample(t, sb, lo, hi, nonzero=nonzero)
            with np.errstate(all="ignore"):
                b.add(f"{t}/{sname}", [x, y], cast(fn(ref(x), ref(y)), ot))
        if specials and is_float(t):
            x, y = sample(t, (4, 3), lo, hi, specials=True), sample(t, (4, 3), lo, hi, specials=True)
            y = y.reshape(-1)[::-1].reshape(4, 3).copy()
            with np.errstate(all="ignore"):
                b.add(f"{t}/special", [x, y], cast(fn(f64(x), f64(y)), ot))
    for ta, tb in mixed:
        common = promote(ta, tb)
        ot = out(common) if out else common
        x, y = sample(ta, (2, 3), lo, hi), sample(tb, (2, 3), lo, hi, nonzero=nonzero)
        with np.errstate(all="ignore"):
            b.add(f"{ta}_{tb}/promote", [x, y], cast(fn(f64(x), f64(y)), ot))
    b.write()


def int_quotient(x, y):
    q = np.trunc(x / np.where(y == 0, 1, y))
    return np.where(y == 0, -1, q)


def int_remainder(x, y):
    return np.where(y == 0, x, np.fmod(x, np.where(y == 0, 1, y)))


def shift(x, y, t, left):
    n = bits(t)
    out = []
    x, y = np.broadcast_arrays(x, y)
    for a, s in zip(x.reshape(-1).tolist(), y.reshape(-1).tolist()):
        a, s = int(a), int(s)
        if s < 0 or s >= n:
            r = 0 if left or t[0] == "u" or a >= 0 else -1
        elif left:
            r = (a << s) & ((1 << n) - 1)
            if t[0] == "i" and r >= 1 << (n - 1): r -= 1 << n
        else:
            r = a >> s  # arithmetic for signed, logical for unsigned (a >= 0 there)
        out.append(r)
    return np.array(out, dtype=np.int64).reshape(np.broadcast_shapes(np.shape(x), np.shape(y)))


def gen_binary():
    num_mixed = [("i32", "f32"), ("u8", "i32"), ("u32", "i32"), ("f16", "bf16"), ("bool", "i32"), ("f32", "f64")]
    binary("add", np.add, NUMERIC, mixed=num_mixed)
    binary("subtract", np.subtract, NUMERIC, mixed=num_mixed[:3])
    binary("multiply", np.multiply, NUMERIC, mixed=num_mixed[:3])
    binary("divide", np.divide, FLOATS + ["i32"], out=to_float, nonzero=True, mixed=[("i32", "f64")])
    binary("quotient", int_quotient, INTS, lo=-20, hi=20, nonzero=True)
    binary("remainder", lambda x, y: np.fmod(x, y), FLOATS, nonzero=True)
    b = Bundle("remainder_int")
    for t in INTS:
        x, y = sample(t, (3, 4), -20, 20), sample(t, (3, 4), -7, 7)
        b.add(f"{t}/same", [x, y], cast(int_remainder(x.astype(np.int64), y.astype(np.int64)), t))
    b.write()
    binary("pow", np.power, ["f32", "f64"], lo=0.1, hi=3)
    b = Bundle("pow_int")
    for t in ["i32", "i64", "u8"]:
        x, y = sample(t, (3, 4), -4, 4), sample(t, (3, 4), 0, 5)
        b.add(f"{t}/same", [x, y], cast(np.power(x.astype(np.int64), y.astype(np.int64)), t))
    b.write()
    binary("max", np.maximum, NUMERIC + ["bool"])
    binary("min", np.minimum, NUMERIC + ["bool"])
    binary("atan2", np.arctan2, FLOATS + ["i32"], out=to_float)
    for name, fn in [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                     ("less_equal", np.less_equal), ("greater", np.greater), ("greater_equal", np.greater_equal)]:
        binary(name, fn, ALL, out=lambda t: "bool", mixed=[("i32", "f32"), ("u8", "i64")])
    for name, fn in [("logical_and", np.logical_and), ("logical_or", np.logical_or),
                     ("logical_xor", np.logical_xor)]:
        binary(name, fn, ALL, lo=-1, hi=1, out=lambda t: "bool", mixed=[("i32", "f32")])
    for name, fn in [("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                     ("bitwise_xor", np.bitwise_xor)]:
        binary(name, lambda x, y: fn(x.astype(np.int64), y.astype(np.int64)), INTS + ["bool"], lo=-100, hi=100)
    for name, left in [("left_shift", True), ("right_shift", False)]:
        b = Bundle(name)
        for t in INTS:
            x = sample(t, (4, 5), -1000, 1000)
            y = sample(t, (4, 5), 0, bits(t) - 1)
            y.reshape(-1)[:3] = [bits(t), bits(t) + 3, 0]  # out-of-range shifts: 0 (or -1 for negative >>)
            b.add(f"{t}/same", [x, y], cast(shift(x, y, t, left), t))
            x1 = sample(t, (), -50, 50)
            b.add(f"{t}/scalar", [x1, y], cast(shift(x1, y, t, left), t))
        b.write()


# ---- select / as_type / bitcast / iota-like creation ----
def gen_misc():
    b = Bundle("select")
    for t in ALL:
        for sname, (sp_, sa, sb) in {"same": ((2, 3), (2, 3), (2, 3)), "bcast": ((3, 1), (1, 4), ()),
                                     "empty": ((0, 2), (0, 2), (1, 2))}.items():
            p, x, y = sample("bool", sp_), sample(t, sa), sample(t, sb)
            b.add(f"{t}/{sname}", [p, x, y], np.where(p, x, y).astype(DT[t]))
    b.write()
    b = Bundle("as_type")
    for ta in ALL:
        for tb in ALL:
            x = sample(ta, (4, 5), -300, 300, specials=True)
            if is_float(ta) and not is_float(tb) and tb != "bool":
                x.reshape(-1)[6:9] = cast(np.array([1e10, -1e10, 2.5]), ta)  # saturation, truncation
            expect = cast(f64(x), tb) if ta != "bool" else x.astype(DT[tb])
            if tb == "bool": expect = (f64(x) != 0) if ta != "bool" else x
            if not is_float(ta) and not is_float(tb) and tb != "bool":  # integer -> integer wraps
                expect = x.astype(np.int64).astype(DT[tb]) if ta != "u32" else x.astype(DT[tb])
            b.add(f"{ta}_{tb}/convert", [x], np.asarray(expect).astype(DT[tb]), [ALL.index(tb)])
    b.write()
    b = Bundle("bitcast")
    for ta, tb in [("f32", "i32"), ("i32", "f32"), ("f32", "u32"), ("f64", "i64"), ("f16", "bf16")]:
        x = sample(ta, (2, 3), -5, 5) if ta != "u8" else np.array([[0, 1, 1], [0, 0, 1]], np.uint8)
        b.add(f"{ta}_{tb}/bits", [x], x.view(DT[tb]), [ALL.index(tb)])
    b.write()


# ---- reductions ----
def axes_cases(rank):
    cases = {"all": None, "keep_all": None}
    if rank >= 1: cases["axis0"] = [0]
    if rank >= 2: cases["last"] = [rank - 1]
    if rank >= 4: cases["axes13"] = [1, 3]
    return cases


def lowest(t): return -np.inf if is_float(t) else int(np.iinfo(DT[t]).min)
def highest(t): return np.inf if is_float(t) else int(np.iinfo(DT[t]).max)


def reduce_op(name, fn, dtypes, out, specials=True, initial=None):
    b = Bundle(name)
    for t in dtypes:
        for shape in [(), (0, 3), (1,), (2, 3), (2, 3, 1, 4)]:
            rank = len(shape)
            for cname, axes in axes_cases(rank).items():
                keep = cname.startswith("keep")
                x = sample(t, shape, -3, 3, specials=specials and is_float(t) and rank == 2)
                ax = tuple(range(rank)) if axes is None else tuple(axes)
                with np.errstate(all="ignore"):
                    kw = {"initial": initial(t)} if initial else {}
                    r = fn(f64(x) if t != "bool" else x, axis=ax, keepdims=keep, **kw)
                args = [int(keep)] + (list(axes) if axes is not None else [])
                b.add(f"{t}/{'x'.join(map(str, shape)) or 'scalar'}/{cname}", [x], cast(r, out(t)), args)
    b.write()


def sum_type(t): return {"bool": "i64", "i32": "i64", "u8": "u32"}.get(t, t)


def arg_op(name, fn):
    b = Bundle(name)
    for t in NUMERIC + ["bool"]:
        for shape in [(1,), (2, 3), (2, 3, 1, 4), (0,)]:
            for axis in dict.fromkeys([None, 0, len(shape) - 1]):
                for keep in [False, True]:
                    if 0 in shape and axis is None: continue
                    x = sample(t, shape, -2, 2, specials=is_float(t) and shape == (2, 3, 1, 4))
                    if 0 in shape and x.shape[axis] == 0: continue
                    if axis is None:
                        r = np.asarray(fn(x.reshape(-1)))
                        if keep: r = r.reshape((1,) * len(shape))
                    else:
                        r = fn(x, axis=axis, keepdims=keep)
                    args = [int(keep)] + ([] if axis is None else [axis])
                    b.add(f"{t}/{'x'.join(map(str, shape))}/{axis}/{int(keep)}", [x], np.asarray(r).astype(np.int64),
                          args)
    # ties: the first index wins
    b.add("tie/first", [np.array([1, 3, 3, 0, 3], np.float32)], np.array(fn(np.array([1, 3, 3, 0, 3])), np.int64), [0])
    b.write()


def cumulative(name, fn, dtypes, out):
    b = Bundle(name)
    for t in dtypes:
        for shape, axis in [((5,), 0), ((2, 3, 4), 1), ((2, 3, 4), 2), ((0, 3), 0), ((3, 4), 0)]:
            for rev in [False, True]:
                x = sample(t, shape, -2, 3, specials=is_float(t) and shape == (3, 4))
                xf = f64(x) if t != "bool" else x.astype(np.int64)
                with np.errstate(all="ignore"):
                    r = np.flip(fn(np.flip(xf, axis), axis=axis), axis) if rev else fn(xf, axis=axis)
                b.add(f"{t}/{'x'.join(map(str, shape))}/{axis}/{int(rev)}", [x], cast(r, out(t)), [axis, int(rev)])
    b.write()


def gen_reduce():
    reduce_op("sum", np.sum, NUMERIC + ["bool"], sum_type)
    reduce_op("product", np.prod, NUMERIC + ["bool"], sum_type)
    reduce_op("reduce_max", np.max, NUMERIC, lambda t: t, initial=lowest)
    reduce_op("reduce_min", np.min, NUMERIC, lambda t: t, initial=highest)
    reduce_op("all", np.all, ALL, lambda t: "bool")
    reduce_op("any", np.any, ALL, lambda t: "bool")
    arg_op("argmax", np.argmax)
    arg_op("argmin", np.argmin)
    cum_t = lambda t: "i64" if t == "bool" else t
    cumulative("cumulative_sum", np.cumsum, NUMERIC, cum_t)
    cumulative("cumulative_product", np.cumprod, ["f32", "f64", "i32", "i64"], cum_t)
    cumulative("cumulative_max", np.maximum.accumulate, NUMERIC, cum_t)
    cumulative("cumulative_min", np.minimum.accumulate, NUMERIC, cum_t)


# ---- shape ops (args: lists encoded as [len, items..., len, items...]) ----
def enc(*lists):
    out = []
    for l in lists:
        l = list(l)
        out += [len(l)] + l
    return out


def gen_shape():
    types = ["f32", "i64", "bool", "bf16"]
    b = Bundle("reshape")
    for t in types:
        for s_in, s_out in [((2, 3, 4), (4, 6)), ((6,), (1, 2, 1, 3)), ((), (1, 1)), ((0, 4), (2, 0, 2)), ((2, 3), (3, 2))]:
            x = sample(t, s_in)
            b.add(f"{t}/{s_in}->{s_out}", [x], x.reshape(s_out), enc(s_out))
    b.write()
    b = Bundle("transpose")
    for t in types:
        for shape, perm in [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 1, 3, 2), (3, 1, 0, 2)), ((0, 2), (1, 0)), ((), ())]:
            x = sample(t, shape)
            b.add(f"{t}/{shape}/{perm}", [x], np.transpose(x, perm), enc(perm))
    b.write()
    b = Bundle("broadcast")
    for t in types:
        for s_in, s_out, axes in [((3,), (2, 3), ()), ((), (2, 2), ()), ((3, 1), (2, 3, 4), ()), ((3,), (3, 2), (0,)),
                                  ((2, 1), (2, 5, 3), (0, 2)), ((0,), (2, 0), ())]:
            x = sample(t, s_in)
            if axes:
                shape = [1] * len(s_out)
                for i, a in enumerate(axes): shape[a] = s_in[i]
                r = np.broadcast_to(x.reshape(shape), s_out)
            else:
                r = np.broadcast_to(x, s_out)
            b.add(f"{t}/{s_in}/{s_out}/{axes}", [x], np.array(r, order="C"), enc(s_out, axes))
    b.write()
    b = Bundle("squeeze")
    for t in types:
        for shape, axes in [((1, 3, 1), None), ((1, 3, 1), (0,)), ((2, 1, 1, 2), (1, 2)), ((1,), None)]:
            x = sample(t, shape)
            r = np.squeeze(x) if axes is None else np.squeeze(x, axis=axes)
            b.add(f"{t}/{shape}/{axes}", [x], r, [] if axes is None else list(axes))
    b.write()
    b = Bundle("new_axis")
    for t in types:
        for shape, axis in [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((), 0)]:
            x = sample(t, shape)
            b.add(f"{t}/{shape}/{axis}", [x], np.expand_dims(x, axis), [axis])
    b.write()
    b = Bundle("slice")
    for t in types:
        for shape, starts, lengths, strides in [((5,), (1,), (3,), (1,)), ((4, 6), (1, 0), (2, 6), (1, 2)),
                                                ((4, 6), (3, 5), (2, 3), (1, 1)),  # starts clamp to fit
                                                ((2, 3, 4, 5), (0, 1, 1, 0), (2, 2, 3, 5), (2, 1, 2, 3)),
                                                ((3, 0), (0, 0), (2, 0), (1, 1))]:
            x = sample(t, shape)
            st = [min(s, d - l) for s, d, l in zip(starts, shape, lengths)]
            idx = tuple(slice(s, s + l, k) for s, l, k in zip(st, lengths, strides))
            b.add(f"{t}/{shape}/{starts}/{lengths}/{strides}", [x], x[idx], enc(starts, lengths, strides))
    b.write()
    b = Bundle("put_slice")
    for t in types:
        for shape, ushape, starts in [((5,), (2,), (1,)), ((4, 6), (2, 3), (1, 2)), ((4, 6), (2, 3), (3, 5)),
                                      ((2, 3), (0, 3), (1, 0))]:
            x, u = sample(t, shape), sample(t, ushape)
            st = [max(0, min(s, d - l)) for s, d, l in zip(starts, shape, ushape)]
            r = x.copy()
            r[tuple(slice(s, s + l) for s, l in zip(st, ushape))] = u
            b.add(f"{t}/{shape}/{ushape}/{starts}", [x, u], r, list(starts))
    b.write()
    b = Bundle("pad")
    for t in types:
        for shape, cfg in [((3,), [(1, 2, 0)]), ((2, 3), [(0, 1, 1), (2, 0, 2)]), ((4, 5), [(-1, 1, 0), (1, -2, 1)]),
                           ((0, 2), [(1, 1, 0), (0, 0, 3)]), ((), [])]:
            x, v = sample(t, shape), sample(t, ())
            r = x
            for ax, (lo, hi, interior) in enumerate(cfg):
                n = r.shape[ax]
                m = n + max(n - 1, 0) * interior
                shp = list(r.shape)
                shp[ax] = m
                y = np.full(shp, v, dtype=r.dtype)
                idx = [slice(None)] * r.ndim
                idx[ax] = slice(0, m, interior + 1)
                y[tuple(idx)] = r
                padshape = list(y.shape)
                padshape[ax] = max(lo, 0) + m + max(hi, 0)
                z = np.full(padshape, v, dtype=r.dtype)
                idx[ax] = slice(max(lo, 0), max(lo, 0) + m)
                z[tuple(idx)] = y
                idx[ax] = slice(max(-lo, 0), padshape[ax] - max(-hi, 0))
                r = z[tuple(idx)]
            b.add(f"{t}/{shape}/{cfg}", [x, v], np.array(r, order="C"), [c for l in cfg for c in l])
    b.write()
    b = Bundle("concatenate")
    for t in types:
        for shapes, axis in [([(2, 3), (1, 3)], 0), ([(2, 1), (2, 3), (2, 2)], 1), ([(0, 2), (3, 2)], 0), ([(2, 2, 1, 2)] * 2, 2)]:
            xs = [sample(t, s) for s in shapes]
            b.add(f"{t}/{shapes}/{axis}", xs, np.concatenate(xs, axis), [axis])
    b.write()
    b = Bundle("stack")
    for t in types:
        for shape, n, axis in [((2, 3), 2, 0), ((2, 3), 3, 2), ((), 4, 0), ((0,), 2, 1)]:
            xs = [sample(t, shape) for _ in range(n)]
            b.add(f"{t}/{shape}/{n}/{axis}", xs, np.stack(xs, axis), [axis])
    b.write()
    b = Bundle("reverse")
    for t in types:
        for shape, axes in [((5,), (0,)), ((2, 3, 4), (0, 2)), ((2, 3), ()), ((0, 3), (1,))]:
            x = sample(t, shape)
            b.add(f"{t}/{shape}/{axes}", [x], np.flip(x, axes) if axes else x, enc(axes))
    b.write()
    b = Bundle("tile")
    for t in types:
        for shape, reps in [((2, 3), (2, 1)), ((3,), (2, 2)), ((2, 1, 2), (1, 3, 1)), ((0, 2), (2, 2))]:
            x = sample(t, shape)
            b.add(f"{t}/{shape}/{reps}", [x], np.tile(x, reps), list(reps))
    b.write()


# ---- indexing ----
def gen_index():
    types = ["f32", "f64", "i32", "bf16", "u8"]
    b = Bundle("take")
    for t in types:
        for shape, ishape, axis in [((5,), (3,), 0), ((4, 3), (2, 2), 0), ((4, 3), (5,), 1), ((3, 4), (), 1), ((3, 2), (0,), 0)]:
            x = sample(t, shape)
            idx = RNG.integers(-1, shape[axis] + 1, size=ishape).astype(np.int64)  # out of range: clamped
            b.add(f"{t}/{shape}/{ishape}/{axis}", [x, idx], np.take(x, np.clip(idx, 0, shape[axis] - 1), axis), [axis])
    b.write()
    b = Bundle("take_along_axis")
    for t in types:
        for shape, ishape, axis in [((4, 3), (2, 3), 0), ((4, 3), (4, 5), 1), ((2, 3, 4), (2, 3, 2), 2)]:
            x = sample(t, shape)
            idx = RNG.integers(0, shape[axis], size=ishape).astype(np.int64)
            b.add(f"{t}/{shape}/{ishape}/{axis}", [x, idx], np.take_along_axis(x, idx, axis), [axis])
    b.write()
    b = Bundle("gather")
    for t in types:
        for shape, ishape, axes in [((4, 3), (5, 1), (0,)), ((4, 3, 2), (2, 2), (0, 1)), ((4, 3, 2), (3, 1), (2,)),
                                    ((4, 3), (2, 3, 2), (0, 1)), ((4, 3), (0, 1), (1,))]:
            x = sample(t, shape)
            k = ishape[-1]
            idx = np.stack([RNG.integers(-1, shape[axes[j]] + 1, size=ishape[:-1]) for j in range(k)], -1).astype(np.int64)
            cl = np.stack([np.clip(idx[..., j], 0, shape[axes[j]] - 1) for j in range(k)], -1) if idx.size else idx
            rest = [d for d in range(len(shape)) if d not in axes]
            out = np.empty(ishape[:-1] + tuple(shape[d] for d in rest), dtype=x.dtype)
            for pos in np.ndindex(*ishape[:-1]):
                sel = [slice(None)] * len(shape)
                for j, a in enumerate(axes): sel[a] = cl[pos][j]
                out[pos] = x[tuple(sel)]
            b.add(f"{t}/{shape}/{ishape}/{axes}", [x, idx], out, list(axes))
    b.write()
    for name, add in [("indexed_add", True), ("indexed_put", False)]:
        b = Bundle(name)
        for t in types:
            for shape, ishape, axes in [((5,), (4, 1), (0,)), ((4, 3), (3, 2), (0, 1)), ((4, 3), (3, 1), (0,)),
                                        ((4, 3, 2), (2, 1), (1,)), ((4, 3), (0, 1), (0,))]:
                x = sample(t, shape, -3, 3)
                k = ishape[-1]
                idx = np.stack([RNG.integers(0, shape[axes[j]], size=ishape[:-1]) for j in range(k)], -1).astype(np.int64)
                if not add and idx.size:  # puts with duplicate indices are order dependent: keep unique
                    idx = np.stack([np.arange(ishape[0]) % shape[axes[j]] for j in range(k)], -1).astype(np.int64)
                rest = [d for d in range(len(shape)) if d not in axes]
                u = sample(t, ishape[:-1] + tuple(shape[d] for d in rest), -3, 3)
                out = f64(x).copy() if t != "u8" else x.astype(np.int64)
                for pos in np.ndindex(*ishape[:-1]):
                    sel = [slice(None)] * len(shape)
                    for j, a in enumerate(axes): sel[a] = idx[pos][j]
                    val = u[pos].astype(np.int64) if t == "u8" else f64(u[pos])
                    if add: out[tuple(sel)] += val
                    else: out[tuple(sel)] = val
                b.add(f"{t}/{shape}/{ishape}/{axes}", [x, idx, u], cast(out, t), list(axes))
        b.write()


def gen_dot():
    b = Bundle("dot_general")
    for t in ["f32", "f64", "i32", "i64", "f16", "bf16", "u8"]:
        for sa, sb, ca, cb, ba, bb in [((3, 4), (4, 5), [1], [0], [], []), ((4,), (4,), [0], [0], [], []),
                                       ((2, 3, 4), (2, 4, 5), [2], [1], [0], [0]), ((3, 4), (5, 4), [1], [1], [], []),
                                       ((2, 3, 4, 2), (4, 2, 5), [2, 3], [0, 1], [], []), ((0, 3), (3, 2), [1], [0], [], []),
                                       ((2, 3), (3, 0), [1], [0], [], []), ((3, 2), (4,), [], [], [], [])]:
            x, y = sample(t, sa, -3, 3), sample(t, sb, -3, 3)
            # Reference: batch dims, then x free, then y free.
            xa = np.moveaxis(f64(x), ba + ca, list(range(len(ba))) + list(range(len(sa) - len(ca), len(sa))))
            ya = np.moveaxis(f64(y), bb + cb, list(range(len(bb) + len(cb))))
            nb, nc = len(ba), len(ca)
            fx = xa.shape[nb:len(sa) - nc]
            fy = ya.shape[nb + nc:]
            X = xa.reshape(xa.shape[:nb] + (int(np.prod(fx)), int(np.prod(xa.shape[len(sa) - nc:]))))
            Y = ya.reshape(ya.shape[:nb] + (int(np.prod(ya.shape[nb:nb + nc])), int(np.prod(fy))))
            r = (X @ Y).reshape(xa.shape[:nb] + tuple(fx) + tuple(fy))
            b.add(f"{t}/{sa}/{sb}/{ca}{cb}{ba}{bb}", [x, y], cast(r, t), enc(ca, cb, ba, bb))
    b.write()


# ---- composites ----
def gen_composites():
    b = Bundle("mean")
    for t in ["f32", "f64", "i32", "f16"]:
        for shape, axes, keep in [((2, 3), None, False), ((2, 3, 4), [0, 2], True), ((5,), [0], False), ((0, 3), [1], False)]:
            x = sample(t, shape)
            r = np.mean(f64(x), axis=None if axes is None else tuple(axes), keepdims=keep)
            b.add(f"{t}/{shape}/{axes}/{keep}", [x], cast(r, to_float(t)), [int(keep)] + (axes or []))
    b.write()
    for name, fn in [("variance", np.var), ("standard_deviation", np.std)]:
        b = Bundle(name)
        for t in ["f32", "f64"]:
            for shape, axes, keep, ddof in [((2, 3), None, False, 0), ((4, 3, 2), [0, 2], True, 1), ((6,), [0], False, 1)]:
                x = sample(t, shape)
                r = fn(f64(x), axis=None if axes is None else tuple(axes), keepdims=keep, ddof=ddof)
                b.add(f"{t}/{shape}/{axes}/{keep}/{ddof}", [x], cast(r, t), [int(keep), ddof] + (axes or []))
        b.write()
    b = Bundle("logsumexp")
    for t in ["f32", "f64"]:
        for shape, axes, keep in [((2, 3), None, False), ((3, 4), [1], True), ((2, 3, 4), [0, 2], False)]:
            x = sample(t, shape, -50, 50)
            r = sp.logsumexp(f64(x), axis=None if axes is None else tuple(axes), keepdims=keep)
            b.add(f"{t}/{shape}/{axes}/{keep}", [x], cast(r, t), [int(keep)] + (axes or []))
        x = np.array([[-np.inf, -np.inf], [1000.0, 1000.0]], DT[t])
        b.add(f"{t}/inf", [x], cast(sp.logsumexp(f64(x), axis=1), t), [0, 1])
    b.write()
    for name, fn in [("softmax", sp.softmax), ("log_softmax", sp.log_softmax)]:
        b = Bundle(name)
        # (f16 log_softmax is left out: x - logsumexp(x) cancels to within an f16 ulp of |x|.)
        for t in ["f32", "f64", "f16"] if name == "softmax" else ["f32", "f64"]:
            for shape, axis in [((2, 5), -1), ((3, 4), 0), ((2, 3, 4), 1), ((4,), 0)]:
                x = sample(t, shape, -20, 20)
                b.add(f"{t}/{shape}/{axis}", [x], cast(fn(f64(x), axis=axis), t), [axis])
        b.write()
    b = Bundle("clip")
    for t in ["f32", "i32", "f64"]:
        x = sample(t, (3, 4), -5, 5, specials=is_float(t))
        lo, hi = sample(t, (), -2, -1), sample(t, (4,), 1, 2)
        b.add(f"{t}/bcast", [x, lo, hi], np.minimum(np.maximum(x, lo), hi).astype(DT[t]))
    b.write()
    b = Bundle("outer")
    for t in ["f32", "i32"]:
        x, y = sample(t, (3,)), sample(t, (2, 2))
        b.add(f"{t}/flat", [x, y], np.outer(x, y).astype(DT[t]))
    b.write()
    b = Bundle("matmul")
    for t in ["f32", "f64", "i64"]:
        for sa, sb in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4, 1))]:
            x, y = sample(t, sa), sample(t, sb)
            b.add(f"{t}/{sa}/{sb}", [x, y], cast(np.matmul(f64(x), f64(y)), t))
    b.write()
    b = Bundle("one_hot")
    for t in ["i64", "i32", "u8"]:
        x = sample(t, (2, 3), 0, 5)
        x.reshape(-1)[0] = 9  # out of range: an all-zero row
        b.add(f"{t}/5", [x], (x[..., None] == np.arange(5)).astype(np.float32), [5])
    b.write()
    b = Bundle("einsum")
    for i, (spec, sa, sb) in enumerate([("ij,jk->ik", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
                                        ("ij,ij->", (2, 3), (2, 3)), ("i,j->ij", (3,), (2,)), ("ij->ji", (2, 3), None),
                                        ("ijk->j", (2, 3, 4), None), ("ij,kj", (2, 3), (4, 3)), ("bhqd,bhkd->bhqk", (1, 2, 3, 4), (1, 2, 5, 4)),
                                        ("ik,kj->", (2, 3), (3, 2)), ("abc,cd->abd", (2, 1, 3), (3, 2))]):
        ins = [sample("f32", sa)] + ([sample("f32", sb)] if sb else [])
        b.add(f"f32/{i}", ins, np.einsum(spec, *[f64(v) for v in ins]).astype(np.float32), [i])
    b.write()


# ---- convolution, windows, sorting (references from jax.lax in float64) ----
def jax64():
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


PAD_MODES = {"explicit": 0, "valid": 1, "same": 2}


def gen_conv():
    jax = jax64()
    lax = jax.lax
    specs = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"), 3: ("NCDHW", "OIDHW", "NCDHW")}
    b = Bundle("conv")
    cases = [  # (input, kernel, strides, padding, lhs_dil, rhs_dil, feature groups, batch groups)
        ((2, 3, 7), (4, 3, 3), (1,), "valid", (1,), (1,), 1, 1),
        ((1, 2, 6, 5), (3, 2, 3, 2), (2, 1), "same", (1, 1), (1, 1), 1, 1),
        ((2, 2, 5, 5), (2, 2, 3, 3), (1, 2), [(1, 2), (0, 1)], (1, 1), (2, 1), 1, 1),
        ((1, 2, 4, 4), (3, 2, 2, 2), (1, 1), [(-1, 1), (1, 0)], (2, 1), (1, 1), 1, 1),
        ((2, 4, 5, 5), (4, 1, 3, 3), (1, 1), "same", (1, 1), (1, 1), 4, 1),   # depthwise
        ((2, 4, 5, 5), (6, 2, 3, 3), (1, 1), "valid", (1, 1), (1, 1), 2, 1),
        ((4, 2, 5, 5), (6, 2, 3, 3), (1, 1), "valid", (1, 1), (1, 1), 1, 2),  # batch groups
        ((1, 2, 4, 4, 4), (2, 2, 2, 2, 2), (2, 1, 1), "valid", (1, 1, 1), (1, 1, 2), 1, 1),
        ((0, 2, 5, 5), (3, 2, 3, 3), (1, 1), "valid", (1, 1), (1, 1), 1, 1),
    ]
    for t in ["f32", "f64", "i32", "f16"]:
        for i, (si, sk, st, pad, ld, rd, fg, bg) in enumerate(cases):
            x, k = sample(t, si, -3, 3), sample(t, sk, -3, 3)
            nd = len(si) - 2
            if isinstance(pad, str):
                eff = [(sk[2 + d] - 1) * rd[d] + 1 for d in range(nd)]
                pads = lax.padtype_to_pads(si[2:], eff, st, pad.upper())
                mode = PAD_MODES[pad]
            else:
                pads, mode = pad, 0
            r = lax.conv_general_dilated(f64(x), f64(k), st, list(pads), ld, rd, specs[nd],
                                         feature_group_count=fg, batch_group_count=bg,
                                         precision=lax.Precision.HIGHEST)
            lo = [p[0] for p in pads] if mode == 0 else []
            hi = [p[1] for p in pads] if mode == 0 else []
            b.add(f"{t}/{i}", [x, k], cast(np.asarray(r), t), enc(st, lo, hi, ld, rd, [fg, bg, mode]))
    b.write()


WINDOW_CASES = [  # (shape, window, strides, padding, window dilation)
    ((6,), (2,), (2,), "valid", (1,)),
    ((1, 1, 5, 5), (1, 1, 2, 2), (1, 1, 2, 2), "valid", (1, 1, 1, 1)),
    ((2, 3, 5, 4), (1, 1, 3, 3), (1, 1, 1, 1), "same", (1, 1, 1, 1)),
    ((2, 5, 6), (1, 2, 3), (1, 2, 1), [(0, 0), (1, 1), (2, 0)], (1, 2, 1)),
    ((3, 4), (2, 2), (1, 1), "valid", (1, 1)),
    ((0, 4), (1, 2), (1, 1), "valid", (1, 1)),
]


def gen_window():
    jax = jax64()
    lax = jax.lax
    ops = {"window_sum": (lax.add, lambda t: 0), "window_product": (lax.mul, lambda t: 1),
           "window_max": (lax.max, lowest), "window_min": (lax.min, highest)}
    cases = WINDOW_CASES
    for name, (fn, init) in ops.items():
        b = Bundle(name)
        for t in ["f32", "f64", "i32", "bf16"] + (["u8"] if name != "window_product" else []):
            for i, (shape, win, st, pad, wd) in enumerate(cases):
                lo_, hi_ = (-2, 3) if name != "window_product" else (1, 2)
                x = sample(t, shape, lo_, hi_, specials=is_float(t) and shape == (3, 4) and name != "window_product")
                if isinstance(pad, str):
                    eff = [(w - 1) * d + 1 for w, d in zip(win, wd)]
                    pads, mode = lax.padtype_to_pads(shape, eff, st, pad.upper()), PAD_MODES[pad]
                else:
                    pads, mode = pad, 0
                xr = f64(x) if is_float(t) else x.astype(np.int64)
                ini = float(init(t)) if is_float(t) else int(init("i64" if t != "u8" else "u8"))
                if not is_float(t) and name in ("window_max", "window_min"):
                    ini = int(init(t))
                r = lax.reduce_window(xr, np.asarray(ini, xr.dtype), fn, win, st, list(pads), window_dilation=wd)
                lo = [p[0] for p in pads] if mode == 0 else []
                hi = [p[1] for p in pads] if mode == 0 else []
                b.add(f"{t}/{i}", [x], cast(np.asarray(r), t), enc(win, st, lo, hi, wd, [mode]))
        b.write()


def window_scatter_ref(x, src, init, win, st, pads, wd, is_max):
    """window_scatter_max/min by definition: src[o] added at its window's first in-range
    extreme of x, a NaN counting as the extreme."""
    acc = np.full(x.shape, init, dtype=np.float64 if np.issubdtype(x.dtype, np.floating) or x.dtype == BF16 else np.int64)
    xv = f64(x)
    for o in np.ndindex(*src.shape):
        best, bv = None, None
        for k in np.ndindex(*win):
            idx = tuple(o[d] * st[d] + k[d] * wd[d] - pads[d][0] for d in range(x.ndim))
            if any(i < 0 or i >= n for i, n in zip(idx, x.shape)):
                continue
            v = xv[idx]
            if best is None or (not np.isnan(bv) and (np.isnan(v) or (v > bv if is_max else v < bv))):
                best, bv = idx, v
        if best is not None:
            acc[best] += f64(src)[o] if acc.dtype == np.float64 else int(src[o])
    return acc


def gen_window_scatter():
    jax = jax64()
    lax = jax.lax
    cases = WINDOW_CASES  # the (3, 4) case has NaN/inf
    for name, is_max in [("window_scatter_max", True), ("window_scatter_min", False)]:
        b = Bundle(name)
        for t in ["f32", "f64", "i32"]:
            for i, (shape, win, st, pad, wd) in enumerate(cases):
                x = sample(t, shape, -2, 3, specials=is_float(t) and shape == (3, 4))
                if not is_float(t):
                    x = cast(np.round(f64(x) / 2), t)  # ties
                if isinstance(pad, str):
                    eff = [(w - 1) * d + 1 for w, d in zip(win, wd)]
                    pads, mode = lax.padtype_to_pads(shape, eff, st, pad.upper()), PAD_MODES[pad]
                else:
                    pads, mode = pad, 0
                out_shape = np.asarray(lax.reduce_window(f64(x), -np.inf, lax.max, win, st, list(pads),
                                                         window_dilation=wd)).shape
                src = sample(t, out_shape, -3, 3)
                init = cast(np.asarray(1.5 if is_float(t) else 2), t)
                r = window_scatter_ref(x, src, f64(init) if is_float(t) else int(init), win, st, pads, wd, is_max)
                lo = [p[0] for p in pads] if mode == 0 else []
                hi = [p[1] for p in pads] if mode == 0 else []
                b.add(f"{t}/{i}", [x, src, init], cast(r, t), enc(win, st, lo, hi, wd, [mode]))
        b.write()


def gen_sort():
    jax = jax64()
    jnp = jax.numpy
    for name in ["sort", "argsort"]:
        b = Bundle(name)
        for t in ["f32", "f64", "i32", "u8", "bf16", "bool", "i64"]:
            for shape, axis in [((7,), -1), ((3, 5), 0), ((2, 3, 4), 1), ((4, 0), 0), ((), -1)]:
                if shape == () : continue
                for desc in [False, True]:
                    x = sample(t, shape, -3, 3, specials=is_float(t) and shape == (3, 5))
                    if is_int(t) or t == "bool":
                        pass
                    else:
                        x = cast(np.round(f64(x)), t) if shape == (7,) else x  # ties
                    xr = jnp.asarray(f64(x) if is_float(t) else x)
                    if name == "sort":
                        r = np.asarray(jnp.sort(xr, axis=axis, descending=desc, stable=True))
                        out = cast(r, t) if t != "bool" else r.astype(np.bool_)
                    else:
                        out = np.asarray(jnp.argsort(xr, axis=axis, descending=desc, stable=True)).astype(np.int64)
                    b.add(f"{t}/{shape}/{axis}/{int(desc)}", [x], out, [axis, int(desc)])
        b.write()
    for name, part in [("top_k", 0), ("top_k_indices", 1)]:
        b = Bundle(name)
        for t in ["f32", "f64", "i32", "bf16"]:
            for shape, k in [((7,), 3), ((3, 5), 5), ((2, 3, 4), 1), ((3, 4), 0)]:
                x = sample(t, shape, -3, 3)
                x = cast(np.round(f64(x)), t)  # ties: lower index first
                r = jax.lax.top_k(jnp.asarray(f64(x)), k)[part]
                out = cast(np.asarray(r), t) if part == 0 else np.asarray(r).astype(np.int64)
                b.add(f"{t}/{shape}/{k}", [x], out, [k])
        b.write()


# ---- linear algebra (numpy/scipy in float64) ----
def spd(batch, n, t):
    a = RNG.uniform(-1, 1, size=batch + (n, n))
    return cast(a @ np.swapaxes(a, -1, -2) + n * np.eye(n), t)


def sign_fix(v):
    """Columns scaled so the largest-magnitude component (first on ties) is positive."""
    idx = np.argmax(np.abs(v), axis=-2)
    s = np.sign(np.take_along_axis(v, idx[..., None, :], axis=-2))
    return v * np.where(s == 0, 1, s)


def batched(fn, *xs):
    xs = [np.asarray(x) for x in xs]
    if xs[0].ndim == 2: return fn(*xs)
    return np.stack([batched(fn, *[x[i] for x in xs]) for i in range(xs[0].shape[0])])


def gen_linalg():
    import scipy.linalg as sl
    types = ["f32", "f64"]
    def bundle(name, cases):
        b = Bundle(name)
        for t in types:
            for cname, ins, out, args in cases(t):
                b.add(f"{t}/{cname}", ins, cast(out, t), args)
        b.write()
    def chol(t):
        for batch, n in [((), 3), ((2,), 4), ((2, 1), 2), ((), 1)]:
            a = spd(batch, n, t)
            yield f"{batch}/{n}", [a], np.linalg.cholesky(f64(a)), []
    bundle("cholesky", chol)
    def trisolve(t):
        for left in [1, 0]:
            for lower in [1, 0]:
                for trans in [0, 1]:
                    a = spd((2,), 3, t)
                    a = cast(np.tril(f64(a)) if lower else np.triu(f64(a)), t)
                    bb = sample(t, (2, 3, 2) if left else (2, 2, 3))
                    A = np.swapaxes(f64(a), -1, -2) if trans else f64(a)
                    x = np.linalg.solve(A, f64(bb)) if left else np.swapaxes(
                        np.linalg.solve(np.swapaxes(A, -1, -2), np.swapaxes(f64(bb), -1, -2)), -1, -2)
                    yield f"{left}{lower}{trans}", [a, bb], x, [left, lower, trans]
        a = cast(np.tril(f64(spd((), 3, t))), t)
        v = sample(t, (3,))
        yield "vector", [a, v], np.linalg.solve(f64(a), f64(v)), [1, 1, 0]
    bundle("triangular_solve", trisolve)
    def solve(t):
        for batch, n, k in [((), 3, 2), ((2,), 4, 1), ((3,), 2, 3)]:
            a = cast(RNG.uniform(-2, 2, size=batch + (n, n)) + 3 * np.eye(n), t)
            bb = sample(t, batch + (n, k))
            yield f"{batch}/{n}/{k}", [a, bb], np.linalg.solve(f64(a), f64(bb)), []
        a = cast(RNG.uniform(-2, 2, size=(3, 3)) + 3 * np.eye(3), t)
        v = sample(t, (3,))
        yield "vector", [a, v], np.linalg.solve(f64(a), f64(v)), []
    bundle("solve", solve)
    mats = [((), (3, 3)), ((2,), (4, 3)), ((), (3, 5)), ((2, 1), (2, 2))]
    for part, name in [(0, "qr_q"), (1, "qr_r")]:
        def qr(t, part=part):
            for batch, (m, n) in mats:
                for mode in ["reduced", "complete"]:
                    a = sample(t, batch + (m, n))
                    r = batched(lambda x: np.linalg.qr(x, mode=mode)[part], f64(a))
                    yield f"{batch}/{m}x{n}/{mode}", [a], r, [int(mode == "complete")]
        bundle(name, qr)
    def eigh_w(t):
        for batch, n in [((), 3), ((2,), 4), ((), 1)]:
            a = spd(batch, n, t)
            yield f"{batch}/{n}", [a], np.linalg.eigh(f64(a))[0], []
    bundle("eigh_values", eigh_w)
    def eigh_v(t):
        for batch, n in [((), 3), ((2,), 4)]:
            a = spd(batch, n, t)
            yield f"{batch}/{n}", [a], sign_fix(np.linalg.eigh(f64(a))[1]), []
    bundle("eigh_vectors", eigh_v)
    def svd_s(t):
        for batch, (m, n) in mats:
            a = sample(t, batch + (m, n))
            yield f"{batch}/{m}x{n}", [a], np.linalg.svd(f64(a), compute_uv=False), []
    bundle("svd_values", svd_s)
    def svd_u(t):
        for batch, (m, n) in [((), (3, 3)), ((2,), (4, 3)), ((), (2, 4))]:
            a = sample(t, batch + (m, n))
            u = np.linalg.svd(f64(a), full_matrices=False)[0]
            yield f"{batch}/{m}x{n}", [a], sign_fix(u), []
    bundle("svd_u", svd_u)
    def inv(t):
        for batch, n in [((), 3), ((2,), 2), ((), 1)]:
            a = cast(RNG.uniform(-2, 2, size=batch + (n, n)) + 3 * np.eye(n), t)
            yield f"{batch}/{n}", [a], np.linalg.inv(f64(a)), []
    bundle("invert", inv)
    def det(t):
        for batch, n in [((), 3), ((2,), 4), ((3,), 1), ((), 2)]:
            a = sample(t, batch + (n, n))
            yield f"{batch}/{n}", [a], np.linalg.det(f64(a)), []
        yield "singular", [cast(np.array([[1.0, 2.0], [2.0, 4.0]]), t)], np.array(0.0), []
    bundle("determinant", det)
    for part, name in [(0, "lu_p"), (1, "lu_l"), (2, "lu_u")]:
        def lu(t, part=part):
            for batch, (m, n) in mats:
                a = sample(t, batch + (m, n))
                yield f"{batch}/{m}x{n}", [a], batched(lambda x: sl.lu(x)[part], f64(a)), []
        bundle(name, lu)
    def lstsq(t):
        for m, n, k in [(5, 3, 2), (3, 3, 1), (2, 4, 2)]:
            a, bb = sample(t, (m, n)), sample(t, (m, k))
            yield f"{m}x{n}/{k}", [a, bb], np.linalg.lstsq(f64(a), f64(bb), rcond=None)[0], []
        a = cast(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), t)  # rank deficient
        bb = sample(t, (3,))
        yield "rank1", [a, bb], np.linalg.lstsq(f64(a), f64(bb), rcond=None)[0], []
    bundle("least_squares", lstsq)
    def norm(t):
        # args: ord code (0 default, 1 number p, 2 fro, 3 nuc), p*1000, keep, axes...
        v = sample(t, (6,))
        for p in [1, 2, 3, 0]:
            yield f"vec/{p}", [v], np.linalg.norm(f64(v), ord=p), [1, p * 1000, 0]
        yield "vec/inf", [v], np.linalg.norm(f64(v), ord=np.inf), [4, 0, 0]
        yield "vec/-inf", [v], np.linalg.norm(f64(v), ord=-np.inf), [5, 0, 0]
        m = sample(t, (3, 4))
        yield "mat/default", [m], np.linalg.norm(f64(m)), [0, 0, 0]
        yield "mat/fro", [m], np.linalg.norm(f64(m), "fro"), [2, 0, 0]
        yield "mat/nuc", [m], np.linalg.norm(f64(m), "nuc"), [3, 0, 0]
        for p in [1, -1, 2, -2]:
            yield f"mat/{p}", [m], np.linalg.norm(f64(m), ord=p), [1, p * 1000, 0]
        yield "mat/inf", [m], np.linalg.norm(f64(m), ord=np.inf), [4, 0, 0]
        x = sample(t, (2, 3, 4))
        yield "axis/keep", [x], np.linalg.norm(f64(x), axis=2, keepdims=True), [0, 0, 1, 2]
        yield "axes/fro", [x], np.linalg.norm(f64(x), ord="fro", axis=(1, 2)), [2, 0, 0, 1, 2]
    bundle("norm", norm)


def gen_random():
    jax = jax64()
    jr = jax.random
    seeds = [0, 42, 2**31 - 1]
    cases = {
        "random_bits": lambda k, sh: np.asarray(jr.bits(k, sh, np.uint32)),
        "random_uniform": lambda k, sh: np.asarray(jr.uniform(k, sh, np.float32)),
        "random_randint": lambda k, sh: np.asarray(jr.randint(k, sh, -5, 17, np.int32)),
        "random_bernoulli": lambda k, sh: np.asarray(jr.bernoulli(k, 0.3, sh)),
        "random_split": lambda k, sh: np.asarray(jr.split(k, sh[0] if sh else 2)),
        "random_shuffle": lambda k, sh: np.asarray(jr.permutation(k, np.arange(int(np.prod(sh))).reshape(sh))),
    }
    for name, fn in cases.items():
        b = Bundle(name)
        for seed in seeds:
            key = jr.PRNGKey(seed)
            for sh in [(3, 4), (7,), (0, 2), (2, 3, 2)]:
                if name == "random_split" and len(sh) != 1: continue
                b.add(f"{seed}/{sh}", [np.asarray(key).astype(np.uint32)], fn(key, sh), list(sh))
        b.write()


def gen_stop_grad():
    b = Bundle("stop_grad")  # the identity in the forward pass
    for t in ["f32", "f64", "i32", "bf16"]:
        for sname, shape in SHAPES_UNARY.items():
            x = sample(t, shape)
            b.add(f"{t}/{sname}", [x], x)
    b.write()


def gen_control():
    b = Bundle("while_loop")  # x = 2x + 1 while sum(x) < 100
    for t in ["f32", "f64", "i32", "i64"]:
        for shape in [(3,), (2, 2), (), (0,)]:
            x = sample(t, shape, 0, 3)
            if x.size and np.sum(x) <= 0: x = x + 1
            r = x.astype(np.float64)
            while r.sum() < 100 and r.size and r.sum() > 0: r = 2 * r + 1
            if not x.size: continue  # sum of empty is 0 < 100 forever
            b.add(f"{t}/{shape}", [x], cast(r, t))
    b.write()
    b = Bundle("cond")  # p ? 2x : -x
    for t in ["f32", "i32"]:
        for p in [True, False]:
            x = sample(t, (2, 3))
            b.add(f"{t}/{p}", [np.array(p), x], (2 * x if p else -x).astype(DT[t]))
    b.write()


if __name__ == "__main__":
    gen_unary()
    gen_binary()
    gen_misc()
    gen_reduce()
    gen_shape()
    gen_index()
    gen_dot()
    gen_composites()
    gen_conv()
    gen_window()
    gen_sort()
    gen_control()
    gen_linalg()
    gen_random()
    gen_stop_grad()
    gen_window_scatter()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} bundles, {total / 1e6:.2f} MB", file=sys.stderr)
