#!/usr/bin/env python3
"""Golden values for tests/nn_layers_test.cpp: every nx::nn layer against PyTorch.

Each case builds the PyTorch module (or function) that an nx::nn layer mirrors, with fixed
seeds, and writes tests/golden/nn/<case>.npz (numpy.savez_compressed) holding

  x0, x1, ...          the inputs (f32; i64 ids for embedding)
  param.<name>         the parameters under nx::nn's names (f32), as the layer makes them
  state.<name>         batch norm's running statistics before the call
  ct                   a fixed random cotangent shaped like the output (f32)
  y                    the output
  state_out.<name>     batch norm's running statistics after a training call
  grad.x0, ...         d sum(y * ct) / d input (float inputs only)
  grad.param.<name>    d sum(y * ct) / d parameter

Inputs, parameters and the cotangent are drawn in f32; the module is then run in float64
on those exact values, and the f64 results (stored as f32) are the expected values. The
same module is also run in f32, and the script asserts that PyTorch's own f32 results lie
well inside the test's tolerance (TOL below, the same as in the test), so the tolerance is
known to be reachable by an ordinary f32 implementation.

Inputs of piecewise functions (relu's kink, relu6's and hard_sigmoid's corners) are kept
away from the kinks, and max pooling's inputs have no ties, so no value depends on which
side of a kink a rounding error lands.

Run (torch and numpy):  /path/to/venv/bin/python tests/golden/gen_nn.py
"""
import copy
import os
import zlib

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn")

# |got - want| <= RTOL * |want| + ATOL * max(1, max |want|) elementwise; keep in sync with
# the test (Tolerance in tests/nn_layers_test.cpp).
RTOL, ATOL = 1e-4, 1e-5
# PyTorch's f32 results must stay within this fraction of the tolerance.
MARGIN = 0.25

torch.backends.cudnn.enabled = False
torch.set_num_threads(1)


def within(got, want):
    """The largest err / tolerance over the elements (<= 1 passes)."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    if want.size == 0:
        return 0.0
    scale = max(1.0, float(np.max(np.abs(want))))
    tol = RTOL * np.abs(want) + ATOL * scale
    return float(np.max(np.abs(got - want) / tol))


class Case:
    """module: a torch module (or None); forward(module, inputs) -> output;
    params(module) -> {our name: tensor}; states(module) -> {our name: buffer}."""

    def __init__(self, name, inputs, forward, module=None, params=None, states=None, training=False):
        self.name, self.inputs, self.forward, self.module = name, inputs, forward, module
        self.params = params or (lambda m: {})
        self.states = states or (lambda m: {})
        self.training = training


def seed_for(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def normal(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def away_from(x, kinks, gap=0.05):
    """x with every element within `gap` of a kink moved 2 * gap away from it."""
    x = x.astype(np.float64)
    for k in kinks:
        near = np.abs(x - k) < gap
        x = np.where(near, np.where(x >= k, k + 2 * gap, k - 2 * gap), x)
    return x.astype(np.float32)


def run(module, case, dtype, inputs):
    """Output, gradients of sum(y * ct) w.r.t. float inputs and parameters, states after."""
    m = None
    if module is not None:
        m = copy.deepcopy(module).to(dtype)
        m.train(case.training)
    xs = []
    for x in inputs:
        t = torch.from_numpy(x)
        if t.is_floating_point():
            t = t.to(dtype).requires_grad_(True)
        xs.append(t)
    y = case.forward(m, xs)
    return m, xs, y


def generate(case):
    torch.manual_seed(seed_for(case.name))
    module = case.module() if case.module else None
    if module is not None:
        module = module.float()
    # Parameters and states as f32 arrays, under our names.
    params = {k: v.detach().float().numpy().copy() for k, v in case.params(module).items()} if module is not None else {}
    states = {k: v.detach().float().numpy().copy() for k, v in case.states(module).items()} if module is not None else {}

    results = {}
    for dtype in (torch.float64, torch.float32):
        m, xs, y = run(module, case, dtype, case.inputs)
        if dtype == torch.float64:
            rng = np.random.default_rng(seed_for(case.name) + 1)
            ct = normal(rng, *y.shape)
        ours = case.params(m) if m is not None else {}
        (y * torch.from_numpy(ct).to(dtype)).sum().backward()
        r = {"y": y.detach().double().numpy()}
        for i, x in enumerate(xs):
            if x.is_floating_point():
                r[f"grad.x{i}"] = x.grad.double().numpy()
        for k, p in ours.items():
            r[f"grad.param.{k}"] = p.grad.double().numpy()
        if case.training and m is not None:
            for k, s in case.states(m).items():
                r[f"state_out.{k}"] = s.detach().double().numpy()
        results[dtype] = r

    want, f32 = results[torch.float64], results[torch.float32]
    worst = max(within(f32[k], want[k]) for k in want)
    assert worst <= MARGIN, f"{case.name}: PyTorch's f32 results use {worst:.3f} of the tolerance"

    out = {}
    for i, x in enumerate(case.inputs):
        out[f"x{i}"] = x
    for k, v in params.items():
        out[f"param.{k}"] = v
    for k, v in states.items():
        out[f"state.{k}"] = v
    out["ct"] = ct
    for k, v in want.items():
        out[k] = v.astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, case.name + ".npz"), **out)
    return worst


# ---- the cases (mirrored by name in tests/nn_layers_test.cpp) ----
CASES = []


def case(name, inputs, forward, module=None, params=None, states=None, training=False):
    CASES.append(Case(name, inputs, forward, module, params, states, training))


def rng_for(name):
    return np.random.default_rng(seed_for(name))


def weight_bias(m, prefix=""):
    d = {"weight": m.weight}
    if m.bias is not None:
        d["bias"] = m.bias
    return d


def call(m, xs):
    return m(xs[0])


# dense
r = rng_for("dense")
case("dense", [normal(r, 3, 5)], call, lambda: tnn.Linear(5, 4), weight_bias)
r = rng_for("dense_3d_nobias")
case("dense_3d_nobias", [normal(r, 2, 3, 5)], call, lambda: tnn.Linear(5, 4, bias=False), weight_bias)
r = rng_for("dense_silu")
case("dense_silu", [normal(r, 3, 5)], lambda m, xs: F.silu(m(xs[0])), lambda: tnn.Linear(5, 6), weight_bias)


# conv: explicit (lo, hi) padding through F.pad, then the module without padding
def padded(pads):
    """forward for a module given (lo, hi) per spatial axis, first axis first."""
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return lambda m, xs: m(F.pad(xs[0], flat))


r = rng_for("conv1d")
case("conv1d", [normal(r, 2, 3, 12)], padded([(1, 2)]), lambda: tnn.Conv1d(3, 4, 3, stride=2), weight_bias)
r = rng_for("conv1d_same_dilated")
case("conv1d_same_dilated", [normal(r, 2, 3, 10)], call,
     lambda: tnn.Conv1d(3, 2, 4, padding="same", dilation=2), weight_bias)
r = rng_for("conv2d_groups")
case("conv2d_groups", [normal(r, 2, 4, 7, 6)], padded([(1, 1), (0, 1)]),
     lambda: tnn.Conv2d(4, 6, (3, 2), stride=(2, 1), dilation=(1, 2), groups=2), weight_bias)
r = rng_for("conv2d_same_tanh")
case("conv2d_same_tanh", [normal(r, 2, 3, 6, 5)], lambda m, xs: torch.tanh(m(xs[0])),
     lambda: tnn.Conv2d(3, 4, (2, 3), padding="same", dilation=(1, 2)), weight_bias)
r = rng_for("conv3d")
case("conv3d", [normal(r, 1, 2, 5, 4, 6)], padded([(1, 1), (1, 1), (0, 0)]),
     lambda: tnn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), dilation=(2, 1, 1)), weight_bias)
r = rng_for("conv2d_nobias")
case("conv2d_nobias", [normal(r, 2, 2, 5, 5)], call, lambda: tnn.Conv2d(2, 3, 3, bias=False), weight_bias)

# depthwise: a conv with groups = channels
r = rng_for("depthwise_conv2d")
case("depthwise_conv2d", [normal(r, 2, 3, 6, 6)], padded([(1, 1), (1, 1)]),
     lambda: tnn.Conv2d(3, 6, 3, stride=2, groups=3), weight_bias)
r = rng_for("depthwise_conv2d_dilated")
case("depthwise_conv2d_dilated", [normal(r, 1, 2, 7, 6)], call, lambda: tnn.Conv2d(2, 6, (3, 2), dilation=(2, 3), groups=2),
     weight_bias)
r = rng_for("depthwise_conv1d_same")
case("depthwise_conv1d_same", [normal(r, 2, 4, 9)], call, lambda: tnn.Conv1d(4, 4, 3, padding="same", groups=4),
     weight_bias)


# separable: depthwise (no bias) then a 1x1 conv with the bias
class Separable(tnn.Module):
    def __init__(self, c, f, k, stride, dims=2):
        super().__init__()
        conv = tnn.Conv2d if dims == 2 else tnn.Conv1d
        self.depthwise = conv(c, c, k, stride=stride, groups=c, bias=False)
        self.pointwise = conv(c, f, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def separable_params(m):
    return {"depthwise_weight": m.depthwise.weight, "pointwise_weight": m.pointwise.weight, "bias": m.pointwise.bias}


r = rng_for("separable_conv2d")
sep_pad = padded([(1, 1), (1, 1)])
case("separable_conv2d", [normal(r, 2, 3, 6, 5)], sep_pad, lambda: Separable(3, 5, 3, (2, 1)), separable_params)
r = rng_for("separable_conv1d")
case("separable_conv1d", [normal(r, 2, 2, 8)], call, lambda: Separable(2, 3, 3, 1, dims=1), separable_params)

# transposed convolution
r = rng_for("conv_transpose1d")
case("conv_transpose1d", [normal(r, 2, 4, 5)], call,
     lambda: tnn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1), weight_bias)
r = rng_for("conv_transpose2d_groups")
case("conv_transpose2d_groups", [normal(r, 2, 4, 4, 3)], call,
     lambda: tnn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
                                 dilation=(1, 2)), weight_bias)
r = rng_for("conv_transpose3d")
case("conv_transpose3d", [normal(r, 1, 2, 3, 3, 2)], call,
     lambda: tnn.ConvTranspose3d(2, 2, (2, 2, 3), stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 0)),
     weight_bias)
r = rng_for("conv_transpose1d_dilated_outpad")
case("conv_transpose1d_dilated_outpad", [normal(r, 2, 2, 6)], call,
     lambda: tnn.ConvTranspose1d(2, 3, 3, stride=1, padding=1, output_padding=1, dilation=2), weight_bias)
r = rng_for("conv_transpose2d_wide_padding")
case("conv_transpose2d_wide_padding", [normal(r, 1, 2, 5, 4)], call,
     lambda: tnn.ConvTranspose2d(2, 2, (2, 3), stride=(3, 2), padding=(2, 3)), weight_bias)
r = rng_for("conv_transpose2d_plain")
case("conv_transpose2d_plain", [normal(r, 1, 3, 3, 4)], call, lambda: tnn.ConvTranspose2d(3, 2, 2, bias=False),
     weight_bias)


# pooling: inputs without ties (a permutation of distinct values)
def distinct(r, *shape):
    n = int(np.prod(shape))
    return (r.permutation(n).reshape(shape) / n * 4 - 2).astype(np.float32)


def fn(f):
    return lambda m, xs: f(xs[0])


r = rng_for("max_pool1d_dilated")
case("max_pool1d_dilated", [distinct(r, 2, 3, 11)], fn(lambda x: F.max_pool1d(x, 3, stride=2, padding=1, dilation=2)))
r = rng_for("max_pool2d")
case("max_pool2d", [distinct(r, 2, 3, 7, 6)], fn(lambda x: F.max_pool2d(x, (3, 2), padding=(1, 0))))
r = rng_for("max_pool3d")
case("max_pool3d", [distinct(r, 1, 2, 4, 5, 4)], fn(lambda x: F.max_pool3d(x, 2, stride=(2, 1, 2))))
r = rng_for("avg_pool2d_pad")
case("avg_pool2d_pad", [normal(r, 2, 3, 7, 6)], fn(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1)))
r = rng_for("avg_pool2d_pad_exclude")
case("avg_pool2d_pad_exclude", [normal(r, 2, 3, 7, 6)],
     fn(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)))
r = rng_for("avg_pool1d")
case("avg_pool1d", [normal(r, 2, 3, 11)], fn(lambda x: F.avg_pool1d(x, 4, stride=3)))
r = rng_for("avg_pool3d_exclude")
case("avg_pool3d_exclude", [normal(r, 1, 2, 5, 4, 3)],
     fn(lambda x: F.avg_pool3d(x, (3, 2, 3), stride=(2, 2, 1), padding=(1, 1, 1), count_include_pad=False)))
r = rng_for("global_avg_pool")
case("global_avg_pool", [normal(r, 2, 3, 4, 5)], fn(lambda x: x.mean((2, 3))))
r = rng_for("global_max_pool_keep")
case("global_max_pool_keep", [distinct(r, 2, 3, 4, 5)], fn(lambda x: x.amax((2, 3), keepdim=True)))
r = rng_for("global_avg_pool1d_keep")
case("global_avg_pool1d_keep", [normal(r, 2, 3, 6)], fn(lambda x: x.mean(2, keepdim=True)))
r = rng_for("adaptive_avg_pool2d_divisible")
case("adaptive_avg_pool2d_divisible", [normal(r, 2, 3, 8, 6)], fn(lambda x: F.adaptive_avg_pool2d(x, (4, 3))))
r = rng_for("adaptive_avg_pool2d_uneven")
case("adaptive_avg_pool2d_uneven", [normal(r, 2, 3, 7, 5)], fn(lambda x: F.adaptive_avg_pool2d(x, (3, 2))))
r = rng_for("adaptive_avg_pool2d_up")
case("adaptive_avg_pool2d_up", [normal(r, 2, 2, 3, 5)], fn(lambda x: F.adaptive_avg_pool2d(x, (5, 5))))
r = rng_for("adaptive_avg_pool1d_uneven")
case("adaptive_avg_pool1d_uneven", [normal(r, 2, 3, 10)], fn(lambda x: F.adaptive_avg_pool1d(x, 4)))
r = rng_for("adaptive_max_pool2d_divisible")
case("adaptive_max_pool2d_divisible", [distinct(r, 2, 3, 8, 6)], fn(lambda x: F.adaptive_max_pool2d(x, (2, 3))))
r = rng_for("adaptive_max_pool2d_uneven")
case("adaptive_max_pool2d_uneven", [distinct(r, 2, 3, 7, 5)], fn(lambda x: F.adaptive_max_pool2d(x, (3, 2))))
r = rng_for("adaptive_max_pool2d_up")
case("adaptive_max_pool2d_up", [distinct(r, 2, 2, 3, 7)], fn(lambda x: F.adaptive_max_pool2d(x, (4, 3))))
r = rng_for("adaptive_max_pool3d_uneven")
case("adaptive_max_pool3d_uneven", [distinct(r, 1, 2, 5, 4, 7)], fn(lambda x: F.adaptive_max_pool3d(x, (2, 3, 3))))


# normalization: random affine parameters and running statistics
def randomized(make, stats=False):
    def build():
        m = make()
        with torch.no_grad():
            if getattr(m, "weight", None) is not None:
                m.weight.copy_(torch.randn_like(m.weight) * 0.5 + 1.0)
                m.bias.copy_(torch.randn_like(m.bias) * 0.5)
            if stats:
                m.running_mean.copy_(torch.randn_like(m.running_mean))
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
        return m
    return build


def bn_states(m):
    return {"running_mean": m.running_mean, "running_var": m.running_var}


r = rng_for("batch_norm2d_train")
case("batch_norm2d_train", [normal(r, 4, 3, 3, 3, scale=2.0) + 1.0], call, randomized(lambda: tnn.BatchNorm2d(3), True),
     weight_bias, bn_states, training=True)
r = rng_for("batch_norm1d_train")
case("batch_norm1d_train", [normal(r, 6, 4) * 1.5 - 0.5], call, randomized(lambda: tnn.BatchNorm1d(4, momentum=0.3), True),
     weight_bias, bn_states, training=True)
r = rng_for("batch_norm1d_seq_infer")
case("batch_norm1d_seq_infer", [normal(r, 4, 3, 5)], call, randomized(lambda: tnn.BatchNorm1d(3), True), weight_bias,
     bn_states)
r = rng_for("layer_norm")
case("layer_norm", [normal(r, 2, 3, 6, scale=2.0) + 0.5], call, randomized(lambda: tnn.LayerNorm(6)), weight_bias)
r = rng_for("layer_norm_2axes")
case("layer_norm_2axes", [normal(r, 2, 3, 4, 5)], call, randomized(lambda: tnn.LayerNorm([4, 5], eps=1e-3)), weight_bias)
r = rng_for("group_norm2d")
case("group_norm2d", [normal(r, 2, 6, 4, 3)], call, randomized(lambda: tnn.GroupNorm(3, 6)), weight_bias)
r = rng_for("group_norm1d")
case("group_norm1d", [normal(r, 3, 4, 5)], call, randomized(lambda: tnn.GroupNorm(2, 4)), weight_bias)

# embedding: repeated ids, so the weight's gradient accumulates
r = rng_for("embedding")
case("embedding", [r.integers(0, 10, size=(3, 5)).astype(np.int64)], call, lambda: tnn.Embedding(10, 4),
     lambda m: {"weight": m.weight})


# recurrent layers (batch first); reverse runs the reversed sequence and flips the outputs back
def rnn_params(m):
    d = {"weight_ih": m.weight_ih_l0, "weight_hh": m.weight_hh_l0}
    if m.bias:
        d["bias_ih"], d["bias_hh"] = m.bias_ih_l0, m.bias_hh_l0
    return d


def rnn_forward(sequences, reverse, lstm):
    def forward(m, xs):
        x = xs[0].flip(1) if reverse else xs[0]
        out, state = m(x)
        if sequences:
            return out.flip(1) if reverse else out
        h = state[0] if lstm else state
        return h[0]
    return forward


for kind, mod, is_lstm in (("lstm", tnn.LSTM, True), ("gru", tnn.GRU, False)):
    for suffix, seq, rev, bias in (("seq", True, False, True), ("last", False, False, True),
                                   ("reverse_seq", True, True, True), ("reverse_last_nobias", False, True, False)):
        name = f"{kind}_{suffix}"
        r = rng_for(name)
        case(name, [normal(r, 3, 5, 4)], rnn_forward(seq, rev, is_lstm),
             (lambda mod=mod, bias=bias: mod(4, 6, batch_first=True, bias=bias)), rnn_params)

for name, mod, is_lstm, shape, seq in (("lstm_long_last", tnn.LSTM, True, (2, 16, 3), False),
                                       ("gru_long_seq", tnn.GRU, False, (2, 16, 3), True),
                                       ("lstm_one_step", tnn.LSTM, True, (3, 1, 4), True),
                                       ("gru_one_step_last", tnn.GRU, False, (3, 1, 4), False)):
    r = rng_for(name)
    case(name, [normal(r, *shape)], rnn_forward(seq, False, is_lstm),
         (lambda mod=mod, f=shape[2]: mod(f, 4, batch_first=True)), rnn_params)

# multi-head attention (batch first)
def mha_params(m):
    d = {"in_proj_weight": m.in_proj_weight, "out_proj_weight": m.out_proj.weight}
    if m.in_proj_bias is not None:
        d["in_proj_bias"], d["out_proj_bias"] = m.in_proj_bias, m.out_proj.bias
    return d


def randomized_mha(e, heads, bias=True):
    def build():
        m = tnn.MultiheadAttention(e, heads, batch_first=True, bias=bias)
        with torch.no_grad():  # PyTorch starts the biases at zero
            if bias:
                m.in_proj_bias.copy_(torch.randn_like(m.in_proj_bias) * 0.3)
                m.out_proj.bias.copy_(torch.randn_like(m.out_proj.bias) * 0.3)
        return m
    return build


def mha_forward(causal):
    def forward(m, xs):
        q, k, v = (xs * 3) if len(xs) == 1 else xs
        mask = torch.triu(torch.ones(q.shape[1], k.shape[1], dtype=torch.bool), 1) if causal else None
        return m(q, k, v, attn_mask=mask, need_weights=False)[0]
    return forward


r = rng_for("mha_self")
case("mha_self", [normal(r, 2, 5, 8)], mha_forward(False), randomized_mha(8, 2), mha_params)
r = rng_for("mha_cross")
case("mha_cross", [normal(r, 2, 4, 8), normal(r, 2, 6, 8), normal(r, 2, 6, 8)], mha_forward(False),
     randomized_mha(8, 4), mha_params)
r = rng_for("mha_causal")
case("mha_causal", [normal(r, 2, 5, 8)], mha_forward(True), randomized_mha(8, 4), mha_params)
r = rng_for("mha_cross_causal_nobias")
case("mha_cross_causal_nobias", [normal(r, 2, 6, 6), normal(r, 2, 4, 6), normal(r, 2, 4, 6)], mha_forward(True),
     randomized_mha(6, 3, bias=False), mha_params)

# activations: inputs spread over [-8, 8], away from every kink
ACTIVATIONS = {
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "elu": lambda x: F.elu(x, 0.7),
    "selu": F.selu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "softmax_axis1": lambda x: F.softmax(x, dim=1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "linear": lambda x: x,
}
for act, f in ACTIVATIONS.items():
    r = rng_for("act_" + act)
    x = away_from(normal(r, 3, 4, 5, scale=3.0), [-3.0, 0.0, 3.0, 6.0])
    case("act_" + act, [x], fn(f))


def main():
    worst = 0.0
    names = set()
    for c in CASES:
        assert c.name not in names, c.name
        names.add(c.name)
        w = generate(c)
        worst = max(worst, w)
        print(f"{c.name:32s} torch f32 vs f64: {w:.4f} of the tolerance")
    total = sum(os.path.getsize(os.path.join(OUT, n + ".npz")) for n in names)
    print(f"{len(CASES)} cases, {total} bytes; worst f32 use of the tolerance {worst:.4f}")


if __name__ == "__main__":
    main()
