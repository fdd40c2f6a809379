#!/usr/bin/env python3
"""Golden trajectories for tests/optim_test.cpp (nx::optim against PyTorch and optax).

The problem: three parameters a (2, 3), b (4,) and c () with the loss
    sum_k sum(w_k * (p_k - t_k)^2) + sum(sin(p_k)),
so the gradient is 2 w (p - t) + cos(p). Starting values, targets t and weights w come
from numpy's default_rng(SEED) and are rounded to f32, so one starting point serves the
f32 and the f64 test. Each case runs STEPS updates, computing the gradient from the
current parameters (a closed loop, as training is).

References, run in f64 (torch.set_default_dtype(float64), jax_enable_x64):
  - torch.optim (single-tensor path, foreach=False) for sgd, adam, adamw, adamax, nadam,
    radam, rmsprop, adagrad, adadelta; a learning-rate schedule is applied by setting the
    param group's lr to the optax schedule's value at the step count before each step;
  - optax for lamb, adabelief, the clipping transforms, chains and the schedules.
The same cases also run in f32 (torch f32, optax with f32 arrays), and the script asserts
those trajectories stay within F32_MARGIN of the f32 tolerance of the test (TOL_F32), so
the tolerance is known to be reachable by an ordinary f32 implementation.

Writes tests/golden/optim/optim_golden.npz with
  problem.p0 / problem.t / problem.w   (11,)   a, b, c flattened and concatenated
  traj.<case>                          (STEPS + 1, 11)   parameters after each step
  sched.<name>                         (SCHED_STEPS + 1,)   schedule values at 0, 1, ...
The case names and settings are mirrored in tests/optim_test.cpp (kCases, kSchedules).
Run:
  python3 -m venv venv && venv/bin/pip install numpy torch jax optax
  venv/bin/python tests/golden/gen_optim.py
"""
import math
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim", "optim_golden.npz")
SEED = 20240601
STEPS = 20
SCHED_STEPS = 40
SHAPES = [("a", (2, 3)), ("b", (4,)), ("c", ())]
# The test's f32 tolerance, |got - want| <= atol + rtol * |want|; keep in sync with the test.
TOL_F32 = (2e-5, 2e-5)  # rtol, atol
F32_MARGIN = 0.5


def f32(x):
    return np.asarray(x, np.float32).astype(np.float64)


rng = np.random.default_rng(SEED)
P0 = f32(rng.normal(0.0, 1.0, 11))
TARGET = f32(rng.normal(0.0, 1.0, 11))
WEIGHT = f32(rng.uniform(0.5, 2.0, 11))


def split(flat):
    out, at = [], 0
    for _, shape in SHAPES:
        n = int(np.prod(shape, dtype=np.int64))
        out.append(np.asarray(flat[at:at + n]).reshape(shape))
        at += n
    return out


def flat(parts):
    return np.concatenate([np.asarray(x, np.float64).reshape(-1) for x in parts])


# ---- schedules (optax), also used as learning rates ----
def warmup(steps, after, start):
    return optax.join_schedules([optax.linear_schedule(start, after(0), steps), after], [steps])


SCHEDULES = {
    "constant": optax.constant_schedule(0.3),
    "exponential": optax.exponential_decay(1.0, transition_steps=5, decay_rate=0.5),
    "exponential_staircase": optax.exponential_decay(1.0, transition_steps=5, decay_rate=0.5, staircase=True),
    "exponential_begin_end": optax.exponential_decay(1.0, transition_steps=4, decay_rate=0.5, transition_begin=3,
                                                     end_value=0.2),
    "exponential_growth": optax.exponential_decay(0.5, transition_steps=10, decay_rate=1.5, end_value=1.0),
    "polynomial": optax.polynomial_schedule(1.0, 0.1, power=2, transition_steps=20, transition_begin=5),
    "linear": optax.polynomial_schedule(0.0, 1.0, power=1, transition_steps=30),
    "cosine": optax.cosine_decay_schedule(0.5, decay_steps=30),
    "cosine_alpha_exponent": optax.cosine_decay_schedule(0.5, decay_steps=30, alpha=0.1, exponent=2.0),
    "warmup_cosine": warmup(10, optax.cosine_decay_schedule(1.0, decay_steps=20), 0.1),
    "piecewise": optax.piecewise_constant_schedule(1.0, {5: 0.5, 10: 0.1, 15: 2.0}),
}


# ---- cases ----
# torch cases: (constructor, kwargs, lr schedule or None); optax cases: a transformation.
def T(cls, lr_schedule=None, **kw):
    return ("torch", cls, kw, lr_schedule)


def O(make):
    return ("optax", make)


CASES = {
    # nx::optim::sgd defaults to lr 1e-2 (Polaris' default; torch.optim.SGD's is 1e-3 in current PyTorch).
    "sgd_default": T(torch.optim.SGD, lr=1e-2),
    "sgd": T(torch.optim.SGD, lr=0.05),
    "sgd_momentum": T(torch.optim.SGD, lr=0.05, momentum=0.9),
    "sgd_dampening": T(torch.optim.SGD, lr=0.05, momentum=0.9, dampening=0.3),
    "sgd_nesterov": T(torch.optim.SGD, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_weight_decay": T(torch.optim.SGD, lr=0.05, momentum=0.5, weight_decay=0.1),
    "sgd_warmup": T(torch.optim.SGD, lr_schedule=warmup(5, optax.exponential_decay(0.1, 4, 0.7), 0.01),
                    lr=0.0, momentum=0.9),
    "adam_default": T(torch.optim.Adam),
    "adam": T(torch.optim.Adam, lr=0.05),
    "adam_amsgrad": T(torch.optim.Adam, lr=0.05, betas=(0.8, 0.9), amsgrad=True),
    "adam_weight_decay": T(torch.optim.Adam, lr=0.05, weight_decay=0.1),
    "adam_cosine": T(torch.optim.Adam, lr_schedule=optax.cosine_decay_schedule(0.1, 20), lr=0.0),
    "adamw": T(torch.optim.AdamW, lr=0.05, weight_decay=0.1),
    "adamw_default": T(torch.optim.AdamW),
    "adamw_amsgrad": T(torch.optim.AdamW, lr=0.05, weight_decay=0.2, amsgrad=True),
    "adamax_default": T(torch.optim.Adamax),
    "adamax": T(torch.optim.Adamax, lr=0.05),
    "adamax_weight_decay": T(torch.optim.Adamax, lr=0.05, betas=(0.8, 0.95), weight_decay=0.1),
    "nadam_default": T(torch.optim.NAdam),
    "nadam": T(torch.optim.NAdam, lr=0.05),
    "nadam_weight_decay": T(torch.optim.NAdam, lr=0.05, weight_decay=0.1, momentum_decay=0.01),
    "nadam_decoupled": T(torch.optim.NAdam, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "radam_default": T(torch.optim.RAdam),
    "radam": T(torch.optim.RAdam, lr=0.05),
    "radam_weight_decay": T(torch.optim.RAdam, lr=0.05, weight_decay=0.1),
    "radam_decoupled": T(torch.optim.RAdam, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "rmsprop_default": T(torch.optim.RMSprop),
    "rmsprop_centered": T(torch.optim.RMSprop, lr=1e-2, centered=True),
    "rmsprop_centered_momentum": T(torch.optim.RMSprop, lr=1e-2, alpha=0.9, centered=True, momentum=0.9),
    "rmsprop_weight_decay": T(torch.optim.RMSprop, lr=1e-2, momentum=0.5, weight_decay=0.1),
    "adagrad_default": T(torch.optim.Adagrad),
    "adagrad": T(torch.optim.Adagrad, lr=0.1),
    "adagrad_options": T(torch.optim.Adagrad, lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5,
                         eps=1e-8),
    "adadelta_default": T(torch.optim.Adadelta),
    "adadelta_options": T(torch.optim.Adadelta, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1),
    "lamb_default": O(lambda: optax.lamb(1e-3)),  # optax has no default learning rate
    "lamb": O(lambda: optax.lamb(0.05)),
    "lamb_weight_decay": O(lambda: optax.lamb(0.05, b1=0.8, eps=1e-4, eps_root=1e-6, weight_decay=0.1)),
    "adabelief_default": O(lambda: optax.adabelief(1e-3)),
    "adabelief": O(lambda: optax.adabelief(0.05)),
    "adabelief_nesterov": O(lambda: optax.adabelief(0.05, b2=0.99, eps=1e-8, eps_root=1e-10, nesterov=True)),
    "chain_clip_sgd": O(lambda: optax.chain(optax.clip(0.5), optax.sgd(0.05))),
    "chain_global_norm_adam": O(lambda: optax.chain(optax.clip_by_global_norm(1.0), optax.adam(0.05))),
    "chain_decay_scale": O(lambda: optax.chain(optax.add_decayed_weights(0.1), optax.scale(-0.05))),
    "chain_clip_schedule": O(lambda: optax.chain(optax.clip(1.0), optax.scale_by_schedule(
        lambda c: -SCHEDULES["cosine"](c)))),
}


def grad_of(p, t, w, xp):
    return 2.0 * w * (p - t) + xp.cos(p)


def run_torch(cls, kw, lr_schedule, dtype):
    torch.set_default_dtype(dtype)
    ps = [torch.tensor(x, dtype=dtype) for x in split(P0)]
    ts = [torch.tensor(x, dtype=dtype) for x in split(TARGET)]
    ws = [torch.tensor(x, dtype=dtype) for x in split(WEIGHT)]
    opt = cls(ps, foreach=False, **kw)
    traj = [flat([p.detach().numpy() for p in ps])]
    for step in range(STEPS):
        if lr_schedule is not None:
            opt.param_groups[0]["lr"] = float(lr_schedule(step))
        for p, t, w in zip(ps, ts, ws):
            p.grad = grad_of(p.detach(), t, w, torch)
        opt.step()
        traj.append(flat([p.detach().numpy() for p in ps]))
    torch.set_default_dtype(torch.float64)
    return np.stack(traj)


def run_optax(make, dtype):
    tx = make()
    ps = [jnp.asarray(x, dtype) for x in split(P0)]
    ts = [jnp.asarray(x, dtype) for x in split(TARGET)]
    ws = [jnp.asarray(x, dtype) for x in split(WEIGHT)]
    state = tx.init(ps)
    traj = [flat(ps)]
    for _ in range(STEPS):
        grads = [grad_of(p, t, w, jnp) for p, t, w in zip(ps, ts, ws)]
        updates, state = tx.update(grads, state, ps)
        ps = optax.apply_updates(ps, updates)
        for p in ps:
            assert p.dtype == dtype, (p.dtype, dtype)
        traj.append(flat(ps))
    return np.stack(traj)


def run(case, dtype):
    kind = case[0]
    if kind == "torch":
        return run_torch(case[1], case[2], case[3], torch.float64 if dtype == np.float64 else torch.float32)
    return run_optax(case[1], dtype)


def main():
    out = {"problem.p0": P0, "problem.t": TARGET, "problem.w": WEIGHT}
    rtol, atol = TOL_F32
    worst = 0.0
    for name, case in CASES.items():
        want = run(case, np.float64)
        got32 = run(case, np.float32)
        assert np.all(np.isfinite(want)), name
        moved = np.max(np.abs(want[-1] - want[0]))
        assert moved > 1e-3, f"{name}: the parameters barely move ({moved})"
        ratio = np.max(np.abs(got32 - want) / (atol + rtol * np.abs(want)))
        worst = max(worst, ratio)
        print(f"{name:28s} moved {moved:8.4f}  f32 reference error / tolerance {ratio:6.3f}")
        assert ratio <= F32_MARGIN, f"{name}: the f32 reference is not well inside the test's tolerance"
        out["traj." + name] = want
    for name, fn in SCHEDULES.items():
        out["sched." + name] = np.array([float(fn(s)) for s in range(SCHED_STEPS + 1)], np.float64)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes); worst f32 reference error / tolerance {worst:.3f}")


if __name__ == "__main__":
    sys.exit(main())
