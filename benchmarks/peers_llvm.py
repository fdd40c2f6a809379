"""The peers of nx_bench_llvm, in the same run: numpy, PyTorch (eager) and JAX (jit) on
the same workloads, and JAX's compile time for the MLP value_and_grad step. Prints one
JSON object of milliseconds (medians). Two threads, as nx++ uses here.

Run by scripts/bench_llvm.sh; alone: python benchmarks/peers_llvm.py
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")

import numpy as np

from peer_timing import median_ms

N = 16 << 20
ROWS = COLS = 4096


def numpy_results():
    x = np.random.default_rng(1).random(N, dtype=np.float32)
    m = np.random.default_rng(3).standard_normal((ROWS, COLS), dtype=np.float32)

    def softmax():
        e = np.exp(m - m.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return {
        "numpy_tanh_chain": median_ms(lambda: np.tanh(x * 1.5 + 0.25) * 0.75 + x),
        "numpy_softmax": median_ms(softmax),
        "numpy_sum": median_ms(lambda: x.sum()),
    }


def torch_results():
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(2)
    x = torch.rand(N)
    m = torch.randn(ROWS, COLS)
    return {
        "torch_tanh_chain": median_ms(lambda: torch.tanh(x * 1.5 + 0.25) * 0.75 + x),
        "torch_softmax": median_ms(lambda: torch.softmax(m, dim=1)),
        "torch_sum": median_ms(lambda: x.sum()),
    }


def jax_results():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    x = jnp.asarray(np.random.default_rng(1).random(N, dtype=np.float32))
    m = jnp.asarray(np.random.default_rng(3).standard_normal((ROWS, COLS), dtype=np.float32))
    chain = jax.jit(lambda t: jnp.tanh(t * 1.5 + 0.25) * 0.75 + t)
    softmax = jax.jit(lambda t: jax.nn.softmax(t, axis=1))
    total = jax.jit(jnp.sum)
    out = {
        "jax_tanh_chain": median_ms(lambda: chain(x).block_until_ready()),
        "jax_softmax": median_ms(lambda: softmax(m).block_until_ready()),
        "jax_sum": median_ms(lambda: total(x).block_until_ready()),
    }

    # The MLP value_and_grad step (benchmarks/mlp.hpp): trace + lower + XLA compile.
    def loss(p, xb, onehot):
        h = jax.nn.relu(xb @ p["w1"] + p["b1"])
        h = jax.nn.relu(h @ p["w2"] + p["b2"])
        logits = h @ p["w3"] + p["b3"]
        return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(logits), axis=1))

    rng = np.random.default_rng(5)
    shapes = {"w1": (784, 512), "b1": (512,), "w2": (512, 512), "b2": (512,), "w3": (512, 10), "b3": (10,)}
    params = {k: jnp.asarray(rng.standard_normal(s, dtype=np.float32)) for k, s in shapes.items()}
    xb = jnp.asarray(rng.random((128, 784), dtype=np.float32))
    onehot = jax.nn.one_hot(rng.integers(0, 10, 128), 10)
    t = time.perf_counter()
    compiled = jax.jit(jax.value_and_grad(loss)).lower(params, xb, onehot).compile()
    out["jax_mlp_compile"] = (time.perf_counter() - t) * 1e3
    out["jax_mlp_value_and_grad"] = median_ms(lambda: jax.block_until_ready(compiled(params, xb, onehot)))
    return out


if __name__ == "__main__":
    results = {}
    for part in (numpy_results, torch_results, jax_results):
        results.update(part())
    json.dump(results, sys.stdout)
    print()
