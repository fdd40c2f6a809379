"""Prints scripts/bench_llvm.sh's results as the table in docs/PERFORMANCE.md, with the
ratios TARGETS.md asks for. Usage: python3 benchmarks/report_llvm.py build/bench-llvm"""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
nx = {b["run_name"]: b for b in json.loads((out / "nx.json").read_text())["benchmarks"] if b.get("aggregate_name") == "median"}
peers = json.loads((out / "peers.json").read_text())
cold = json.loads((out / "compile_cold.json").read_text())
disk = json.loads((out / "compile_disk.json").read_text())


def ms(name):
    b = nx[name]
    scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
    return b["real_time"] * scale


def row(label, ours, anchor, anchor_name, others):
    cells = [f"{ours:.2f}", f"{anchor:.2f} ({anchor_name})", f"{ours / anchor:.2f}x"]
    cells += [f"{peers[k]:.2f}" if k in peers else "-" for k in others]
    print(f"| {label} | " + " | ".join(cells) + " |")


print("| workload (ms, medians) | nx++ llvm | anchor | nx / anchor | numpy | PyTorch | JAX jit |")
print("|---|---|---|---|---|---|---|")
row("tanh(a*x+b)*c+x, 16M f32", ms("BM_ChainNx/tanh_llvm"), ms("BM_TanhChainHandWritten"), "hand AVX2",
    ["numpy_tanh_chain", "torch_tanh_chain", "jax_tanh_chain"])
row("row softmax 4096 x 4096", ms("BM_SoftmaxNx/llvm"), ms("BM_SoftmaxHandWritten"), "hand AVX2",
    ["numpy_softmax", "torch_softmax", "jax_softmax"])
row("sum 16M f32", ms("BM_SumNx"), ms("BM_SumHandWritten"), "hand AVX2", ["numpy_sum", "torch_sum", "jax_sum"])
triad_gbs = nx["BM_Triad"]["GB/s"] / 1e9
sum_gbs = nx["BM_SumNx"]["GB/s"] / 1e9
print()
print(f"Eigen tanh chain: {ms('BM_TanhChainEigen'):.2f} ms; std::tanh loop: {ms('BM_TanhChainStdTanh'):.2f} ms; "
      f"exact chain (a*x+b)*c+x: nx {ms('BM_ChainNx/llvm'):.2f} ms vs hand {ms('BM_ChainHandWritten'):.2f} ms.")
print(f"tanh chain vs numpy: {peers.get('numpy_tanh_chain', float('nan')) / ms('BM_ChainNx/tanh_llvm'):.1f}x faster.")
print(f"sum: {sum_gbs:.1f} GB/s = {100 * sum_gbs / triad_gbs:.0f}% of the triad's {triad_gbs:.1f} GB/s.")
fresh = nx["BM_CompileFreshKernel"]
print(f"A fresh 16-op kernel: {ms('BM_CompileFreshKernel'):.1f} ms from trace to first result (emit {fresh['emit_ms']:.2f}, "
      f"optimise {fresh['optimize_ms']:.1f}, code generation {fresh['codegen_ms']:.1f} ms).")
print(f"MLP value_and_grad step, fresh process: trace {cold['trace_ms']:.1f} ms; backend compile cold "
      f"{cold['compile_ms']:.1f} ms ({cold['kernels_compiled']} kernels), from the disk cache {disk['compile_ms']:.1f} ms "
      f"({disk['kernels_loaded']} kernels); JAX lower+compile {peers.get('jax_mlp_compile', float('nan')):.0f} ms.")
