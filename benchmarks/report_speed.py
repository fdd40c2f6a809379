"""Prints scripts/bench_speed.sh's results as the table of docs/PERFORMANCE.md ("Speed
where the floor is compute or overhead"), with the goals of shared/TARGETS.md.
Usage: python3 benchmarks/report_speed.py build/bench-speed"""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])


def medians(name):
    data = json.loads((out / name).read_text())["benchmarks"]
    return {b["run_name"]: b for b in data if b.get("aggregate_name") == "median"}


gemm, conv, fixed, triad = medians("gemm.json"), medians("conv.json"), medians("dispatch.json"), medians("triad.json")
peers = json.loads((out / "peers.json").read_text())


def seconds(b):
    return b["real_time"] * {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[b["time_unit"]]


def gflops(b):
    return b["GFLOP/s"] / (1e9 if b["GFLOP/s"] > 1e6 else 1)


peak512 = max((gflops(b) for k, b in gemm.items() if k.startswith("BM_FmaPeak/512")), default=0)
peak256 = max((gflops(b) for k, b in gemm.items() if k.startswith("BM_FmaPeak/256")), default=0)
peak = max(peak512, peak256)
print(f"FMA peak measured: {peak:.0f} GFLOP/s ({'AVX-512' if peak512 else 'AVX2'}; AVX2 {peak256:.0f}); "
      f"STREAM triad {triad['BM_Triad']['GB/s'] / 1e9:.1f} GB/s.")
print()
print("| workload | nx++ | reference in the same run | others | goal | met |")
print("|---|---|---|---|---|---|")


def yes(ok):
    return "yes" if ok else "**no**"


for n in (1024, 2048):
    key = f"BM_Gemm/onednn/{n}/{n}/{n}/0/0/real_time"
    ours = gflops(gemm[key])
    raw = gflops(gemm[f"BM_RawDnnlSgemm/{n}/{n}/{n}/0/0/real_time"])
    own = [f"own {k} {gflops(gemm[f'BM_Gemm/{k}/{n}/{n}/{n}/0/0/real_time']):.0f}"
           for k in ("avx512", "avx2") if f"BM_Gemm/{k}/{n}/{n}/{n}/0/0/real_time" in gemm]
    np_ms = peers.get(f"numpy_sgemm_{n}_ms")
    if np_ms:
        own.append(f"numpy {2 * n ** 3 / (np_ms * 1e-3) / 1e9:.0f}")
    print(f"| sgemm {n} (GFLOP/s) | {ours:.0f} ({100 * ours / peak:.0f}% of peak) | raw oneDNN {raw:.0f} | "
          f"{', '.join(own)} | >= 85% of the FMA peak ({0.85 * peak:.0f}) | {yes(ours >= 0.85 * peak)} |")

nx_conv = gflops(conv["BM_NxConv2dOnednn/pass:0/winograd:1"])
nx_direct = gflops(conv["BM_NxConv2dOnednn/pass:0/winograd:0"])
raw = {(f, w): gflops(conv[f"BM_RawDnnlConv2d/pass:0/from_nchw:{f}/winograd:{w}"]) for f in (0, 1) for w in (0, 1)}
torch_conv = peers.get("torch_conv2d_fwd_ms")
torch_cell = f", PyTorch {2 * 128 * 64 * 28 * 28 * 32 * 9 / (torch_conv * 1e-3) / 1e9:.0f}" if torch_conv else ""
print(f"| conv2d fwd N128 C32 28x28 K64 3x3 (GFLOP/s, direct-algorithm flops), NCHW in and out | {nx_conv:.0f} "
      f"(Winograd; direct only: {nx_direct:.0f}) | raw oneDNN direct, preblocked {raw[0, 0]:.0f} | "
      f"raw oneDNN direct from NCHW {raw[1, 0]:.0f}; raw oneDNN Winograd preblocked {raw[0, 1]:.0f}, "
      f"from NCHW {raw[1, 1]:.0f}{torch_cell} | >= raw preblocked | {yes(nx_conv >= raw[0, 0])} |")

add = seconds(fixed["BM_EagerAddOneElement"]) * 1e6
np_add = peers.get("numpy_add_1_us")
print(f"| eager 1-element add (us) | {add:.3f} | numpy {np_add:.3f} | | <= 0.5x numpy ({0.5 * np_add:.3f}) | "
      f"{yes(add <= 0.5 * np_add)} |" if np_add else f"| eager 1-element add (us) | {add:.3f} | - | | | |")
hit = seconds(fixed["BM_JitCacheHitOneElement"]) * 1e6
others = ", ".join(f"{name} {peers[k]:.1f}" for name, k in (("torch.compile", "torch_compile_hit_us"),) if k in peers)
jax_hit = peers.get("jax_jit_hit_us")
print(f"| jit cache hit, 1 element (us) | {hit:.3f} | jax.jit {jax_hit:.1f} | {others} | <= 0.5 | {yes(hit <= 0.5)} |"
      if jax_hit else f"| jit cache hit, 1 element (us) | {hit:.3f} | - | {others} | <= 0.5 | {yes(hit <= 0.5)} |")
