"""The peers of scripts/bench_speed.sh, in the same run: numpy's 1-element add, JAX's and
torch.compile's cached call on 1 element, PyTorch's conv2d forward (N128 C32 28x28, K64
3x3, padding 1) and numpy's f32 matmul at 1024 and 2048. Prints one JSON object: times in
microseconds (the fixed costs), milliseconds (the rest). Two threads, as nx++ uses here.

Run by scripts/bench_speed.sh; alone: python benchmarks/peers_speed.py
"""
import json
import os
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")

import numpy as np

from peer_timing import median_ms


def per_call_us(stmt, env, number=200000):
    t = timeit.Timer(stmt, globals=env)
    return min(t.repeat(number=number, repeat=5)) / number * 1e6


def numpy_results():
    a, b = np.array([1.0], np.float32), np.array([2.0], np.float32)
    out = {"numpy_add_1_us": per_call_us("a + b", {"a": a, "b": b})}
    for n in (1024, 2048):
        x = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
        out[f"numpy_sgemm_{n}_ms"] = median_ms(lambda: x @ x)
    return out


def jax_results():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    f = jax.jit(lambda a, b: a + b)
    a, b = jnp.ones((1,), jnp.float32), jnp.ones((1,), jnp.float32)
    f(a, b).block_until_ready()
    return {"jax_jit_hit_us": per_call_us("f(a, b).block_until_ready()", {"f": f, "a": a, "b": b}, number=20000)}


def torch_results():
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(2)
    out = {}
    x = torch.rand(128, 32, 28, 28)
    conv = torch.nn.Conv2d(32, 64, 3, padding=1, bias=False)
    with torch.no_grad():
        out["torch_conv2d_fwd_ms"] = median_ms(lambda: conv(x), repeat=11)
    try:
        f = torch.compile(lambda a, b: a + b)
        a, b = torch.ones(1), torch.ones(1)
        f(a, b)
        out["torch_compile_hit_us"] = per_call_us("f(a, b)", {"f": f, "a": a, "b": b}, number=20000)
    except Exception:  # torch.compile needs a C compiler; leave the column empty without one
        pass
    return out


if __name__ == "__main__":
    results = {}
    for part in (numpy_results, jax_results, torch_results):
        results.update(part())
    print(json.dumps(results, indent=1))
