"""The peers of nx_bench_train and nx_train_compile_latency, in one process: one Adam
training step (forward, loss, backward, update) at batch 128 of the MLP 784-512-512-10 and
the CNN c32-p-c64-p-fc128-fc10 (benchmarks/train_models.hpp), in PyTorch eager,
torch.compile (default mode) and jax.jit (value_and_grad + optax.adam, or an Adam written
in jax when optax is missing). Sparse softmax cross-entropy from logits, mean over the
batch; Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8 (nx::optim::adam's and torch's
defaults). Inputs uniform in [0, 1), labels uniform in 0..9, as bench::fixed_batches.

Prints one JSON object of milliseconds: "<peer>_<model>_step" is the median of --steps
steps after --warmup steps; "<peer>_<model>_compile" is what compiling added, defined as
nx_train_compile_latency does (the first step's time less the steady median) for
torch.compile, and the time of jax.jit(step).lower(...).compile() for JAX. torch.compile
runs with a fresh, empty Inductor cache (TORCHINDUCTOR_CACHE_DIR, unless set), so its
compile is cold. Two threads, as nx++ uses here. A peer that is missing or fails is
skipped (its error goes to stderr). Beside the milliseconds: the peers' versions, which
Adam JAX ran ("optax" or "hand-written") and the 1-minute load average at the start.

Run by scripts/bench_train.sh; alone: python benchmarks/peers_train.py [--steps 30]
"""
import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")
if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:  # a cold compile: a fresh cache, removed at exit
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="peers-train-inductor-")
    atexit.register(shutil.rmtree, os.environ["TORCHINDUCTOR_CACHE_DIR"], True)

import numpy as np

BATCH = 128
SHAPES = {"mlp": (BATCH, 784), "cnn": (BATCH, 1, 28, 28)}
N_BATCHES = 4  # distinct batches, cycled


def batches(model):
    rng = np.random.default_rng(1)
    xs = [rng.random(SHAPES[model], dtype=np.float32) for _ in range(N_BATCHES)]
    ys = [rng.integers(0, 10, BATCH).astype(np.int32) for _ in range(N_BATCHES)]
    return xs, ys


def time_steps(step, n, warmup, args):
    """Runs `warmup` then `n` steps of step(i) (which must block until done); returns
    (first call ms, median of the n timed steps in ms)."""
    t = time.perf_counter()
    step(0)
    first = (time.perf_counter() - t) * 1e3
    for i in range(1, warmup):
        step(i)
    times = []
    for i in range(n):
        t = time.perf_counter()
        step(warmup + i)
        times.append((time.perf_counter() - t) * 1e3)
    return first, statistics.median(times)


def guarded(name, fn, *a):
    try:
        return fn(*a)
    except Exception:  # a broken peer is skipped, never fatal
        print(f"peers_train: {name} skipped:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return {}


# ---------------------------------------------------------------------------- PyTorch

def torch_model(torch, name):
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_one(torch, name, compiled, args):
    torch.manual_seed(0)
    model = torch_model(torch, name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = batches(name)
    xs = [torch.from_numpy(x) for x in xs]
    ys = [torch.from_numpy(y).long() for y in ys]

    def loss_fn(x, y):
        return torch.nn.functional.cross_entropy(model(x), y)

    def update():
        opt.step()

    if compiled:
        # The forward+loss graph (and, through AOTAutograd, its backward) and the Adam
        # update each compiled by Inductor, as PyTorch's tutorials compile a training step.
        loss_fn = torch.compile(loss_fn)
        update = torch.compile(update)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(xs[i % N_BATCHES], ys[i % N_BATCHES])
        loss.backward()
        update()
        return loss.item()

    first, med = time_steps(step, args.steps, args.warmup, args)
    tag = "torch_compile" if compiled else "torch_eager"
    out = {f"{tag}_{name}_step": med}
    if compiled:
        out[f"{tag}_{name}_compile"] = first - med
    return out


def torch_results(args):
    try:
        import torch
    except ImportError:
        print("peers_train: torch not installed, skipped", file=sys.stderr)
        return {}
    torch.set_num_threads(2)
    out = {"torch_version": torch.__version__}
    for name in ("mlp", "cnn"):
        out.update(guarded(f"torch eager {name}", torch_one, torch, name, False, args))
    if not args.no_torch_compile:
        for name in ("mlp", "cnn"):
            out.update(guarded(f"torch.compile {name}", torch_one, torch, name, True, args))
    return out


# ---------------------------------------------------------------------------- JAX

def jax_params(jax, jnp, name):
    """PyTorch's default init (uniform in +-1/sqrt(fan_in)); the values do not change the
    step's time."""
    keys = iter(jax.random.split(jax.random.PRNGKey(0), 16))

    def uni(shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        return jax.random.uniform(next(keys), shape, jnp.float32, -b, b)

    def dense(i, o):
        return {"w": uni((i, o), i), "b": uni((o,), i)}

    def conv(i, o):
        return {"w": uni((o, i, 3, 3), i * 9), "b": uni((o,), i * 9)}

    if name == "mlp":
        return {"d1": dense(784, 512), "d2": dense(512, 512), "d3": dense(512, 10)}
    return {"c1": conv(1, 32), "c2": conv(32, 64), "d1": dense(64 * 7 * 7, 128), "d2": dense(128, 10)}


def jax_forward(jax, jnp, name):
    lax = jax.lax

    def conv(p, x):
        y = lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + p["b"][None, :, None, None]

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def dense(p, x):
        return x @ p["w"] + p["b"]

    relu = jax.nn.relu
    if name == "mlp":
        return lambda p, x: dense(p["d3"], relu(dense(p["d2"], relu(dense(p["d1"], x)))))

    def cnn(p, x):
        h = pool(relu(conv(p["c1"], x)))
        h = pool(relu(conv(p["c2"], h)))
        h = h.reshape(h.shape[0], -1)
        return dense(p["d2"], relu(dense(p["d1"], h)))

    return cnn


def jax_adam(jax, jnp, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as optax.adam (used when optax is missing): init(params), update(grads, state,
    params) -> (updates, state)."""
    tree = jax.tree_util

    def init(params):
        zeros = tree.tree_map(jnp.zeros_like, params)
        return (jnp.zeros((), jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        count, mu, nu = state
        count = count + 1
        mu = tree.tree_map(lambda m, g: b1 * m + (1 - b1) * g, mu, grads)
        nu = tree.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, nu, grads)
        c1 = 1 - b1 ** count.astype(jnp.float32)
        c2 = 1 - b2 ** count.astype(jnp.float32)
        updates = tree.tree_map(lambda m, v: -lr * (m / c1) / (jnp.sqrt(v / c2) + eps), mu, nu)
        return updates, (count, mu, nu)

    return init, update


def jax_one(jax, jnp, name, args):
    forward = jax_forward(jax, jnp, name)
    try:
        import optax
        tx = optax.adam(1e-3)
        opt_init, opt_update, apply = tx.init, tx.update, optax.apply_updates
        which = "optax"
    except ImportError:
        opt_init, opt_update = jax_adam(jax, jnp)
        apply = lambda p, u: jax.tree_util.tree_map(lambda a, b: a + b, p, u)  # noqa: E731
        which = "hand-written"

    def loss_fn(params, x, y):
        logp = jax.nn.log_softmax(forward(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = opt_update(grads, opt_state, params)
        return apply(params, updates), opt_state, loss

    params = jax_params(jax, jnp, name)
    opt_state = opt_init(params)
    xs, ys = batches(name)
    xs = [jnp.asarray(x) for x in xs]
    ys = [jnp.asarray(y) for y in ys]
    t = time.perf_counter()
    compiled = jax.jit(train_step, donate_argnums=(0, 1)).lower(params, opt_state, xs[0], ys[0]).compile()
    compile_ms = (time.perf_counter() - t) * 1e3
    state = [params, opt_state]

    def step(i):
        p, s, loss = compiled(state[0], state[1], xs[i % N_BATCHES], ys[i % N_BATCHES])
        state[0], state[1] = p, s
        return float(loss)

    _, med = time_steps(step, args.steps, args.warmup, args)
    return {f"jax_{name}_step": med, f"jax_{name}_compile": compile_ms, "jax_adam": which}


def jax_results(args):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("peers_train: jax not installed, skipped", file=sys.stderr)
        return {}
    out = {"jax_version": jax.__version__}
    for name in ("mlp", "cnn"):
        out.update(guarded(f"jax {name}", jax_one, jax, jnp, name, args))
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30, help="timed steps per workload (>= 20)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (the first one compiles)")
    ap.add_argument("--no-torch-compile", action="store_true", help="skip torch.compile (its cold compile is long)")
    args = ap.parse_args()
    args.steps = max(args.steps, 20)
    args.warmup = max(args.warmup, 2)
    results = {"load_average_1m": os.getloadavg()[0]}  # the peers expect a quiet machine
    for part in (torch_results, jax_results):
        results.update(part(args))
    json.dump(results, sys.stdout)
    print()
