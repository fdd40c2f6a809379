"""Prints scripts/bench_train.sh's results as markdown tables: the Adam training step of the
MLP and the CNN at batch 128 (nx++ beside PyTorch eager, torch.compile and JAX jit, and
the floor of the step's flops at the FMA peak), the whole step's compile time against the
targets (<= 150 ms cold, <= 5 ms from the disk cache) beside JAX's and torch.compile's, and
Fashion-MNIST trained for 5 epochs by examples/fashion_mnist beside PyTorch eager (targets:
>= 91.5% test accuracy in <= 0.8x PyTorch's time).

Usage: python3 benchmarks/report_train.py build/bench-train [--peak-gflops G]

Reads, from that folder (whatever is missing shows as "-"): nx.json (nx_bench_train,
Google Benchmark JSON with aggregates), compile_cold.json and compile_disk.json
(nx_train_compile_latency), peers.json (benchmarks/peers_train.py), fm_nx.txt (the
example's stdout) and fm_torch.json (benchmarks/fashion_mnist_torch.py).

The floor: forward + backward of a step is ~3x the forward's matmul and convolution flops
(the backward computes the input's and the weights' gradients, each as many flops as the
forward; the first layer's input gradient is not needed, so this slightly overcounts);
the update, biases, activations, pooling and the loss are left out. Counting 2 flops per
multiply-add:
  MLP 784-512-512-10: forward 2*128*(784*512 + 512*512 + 512*10) = 171.2 MFLOP, step 513.5 MFLOP;
  CNN: conv1 2*128*32*28*28*(1*9) = 57.8, conv2 2*128*64*14*14*(32*9) = 924.8,
       fc1 2*128*3136*128 = 102.8, fc2 2*128*128*10 = 0.3 MFLOP: forward 1085.7 MFLOP,
       step 3257.2 MFLOP.
The peak (--peak-gflops, default) is 2 cores x FMA flops per cycle (64 with avx512f: two
512-bit FMA units x 16 lanes x 2; 32 with AVX2: two 256-bit units; 16 otherwise) x the
clock /proc/cpuinfo reports ("cpu MHz", the nominal clock under a hypervisor; turbo can
run above it).
"""
import argparse
import json
import math
import re
from pathlib import Path

BATCH = 128


def mlp_forward_flops():
    return 2 * BATCH * (784 * 512 + 512 * 512 + 512 * 10)


def cnn_forward_flops():
    conv1 = 2 * BATCH * 32 * 28 * 28 * (1 * 3 * 3)
    conv2 = 2 * BATCH * 64 * 14 * 14 * (32 * 3 * 3)
    fc1 = 2 * BATCH * (64 * 7 * 7) * 128
    fc2 = 2 * BATCH * 128 * 10
    return conv1 + conv2 + fc1 + fc2


STEP_FLOPS = {"mlp": 3 * mlp_forward_flops(), "cnn": 3 * cnn_forward_flops()}


def cpu_info():
    """(model name, MHz, FMA flops per cycle per core) from /proc/cpuinfo."""
    model, mhz, flags = "unknown CPU", float("nan"), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key == "cpu MHz" and math.isnan(mhz):
                mhz = float(value)
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags and "fma" in flags else 16
    return model, mhz, per_cycle


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def nx_medians(path):
    """Median real time in ms of each benchmark (by its name before the first '/')."""
    data = load_json(path)
    out = {}
    if not data:
        return out
    scale = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") == "median":
            out[b["run_name"].split("/")[0]] = b["real_time"] * scale[b["time_unit"]]
    return out


def parse_fashion_mnist_nx(path):
    """{'images_per_second', 'epochs', 'test_accuracy'} from the example's stdout."""
    try:
        text = path.read_text()
    except OSError:
        return None
    out = {}
    m = re.search(r"Training: ([0-9.eE+-]+) images/s over (\d+) epoch", text)
    if m:
        out["images_per_second"], out["epochs"] = float(m.group(1)), int(m.group(2))
    m = re.search(r"Test accuracy.*:\s*([0-9.eE+-]+)%", text)
    if m:
        out["test_accuracy"] = float(m.group(1)) / 100
    m = re.search(r"Compile of the training step: ([0-9.eE+-]+) ms", text)
    if m:
        out["compile_ms"] = float(m.group(1))
    return out or None


def fmt(v, digits=2, unit=""):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}{unit}"


def ratio(a, b):
    return a / b if a is not None and b else None


def verdict(ok):
    return "-" if ok is None else ("yes" if ok else "**no**")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the folder scripts/bench_train.sh wrote")
    ap.add_argument("--peak-gflops", type=float, default=None,
                    help="FMA peak of the 2 threads in GFLOP/s (default: from /proc/cpuinfo)")
    args = ap.parse_args()
    model, mhz, per_cycle = cpu_info()
    peak = args.peak_gflops if args.peak_gflops else 2 * per_cycle * mhz / 1e3
    peak_note = ("given; scripts/bench_train.sh measures it with nx_bench_gemm's FmaPeak" if args.peak_gflops else
                 f"2 cores x {per_cycle} flops/cycle x {mhz / 1e3:.2f} GHz")

    nx = nx_medians(args.out / "nx.json")
    peers = load_json(args.out / "peers.json") or {}
    cold = load_json(args.out / "compile_cold.json") or {}
    disk = load_json(args.out / "compile_disk.json") or {}

    def peer(key):
        v = peers.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    print(f"CPU: {model}; peak {peak:.1f} GFLOP/s ({peak_note}).")
    if "load_average_1m" in peers:
        print(f"1-minute load average when the peers started: {peers['load_average_1m']:.2f} "
              "(2 threads each; a busy machine slows the OpenMP peers most).")
    versions = ", ".join(f"{k.split('_')[0]} {peers[k]}" for k in ("torch_version", "jax_version") if k in peers)
    if versions:
        print(f"Peers: {versions}; JAX's Adam: {peers.get('jax_adam', '-')}.")
    print()
    print("Adam training step at batch 128 (ms, medians; nx++: nx_bench_train through nx::train's loop, "
          "5 repetitions of 16 steps; peers: benchmarks/peers_train.py)")
    print()
    print("| workload | nx++ | PyTorch eager | torch.compile | JAX jit | nx / best peer | nx / torch eager "
          "| floor (flops at peak) | nx / floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = [("MLP 784-512-512-10", "mlp", "BM_MlpAdamStep"), ("CNN c32-p-c64-p-fc128-fc10", "cnn", "BM_CnnAdamStep")]
    for label, key, bench in rows:
        ours = nx.get(bench)
        eager, comp, jx = (peer(f"{p}_{key}_step") for p in ("torch_eager", "torch_compile", "jax"))
        present = [v for v in (eager, comp, jx) if v is not None]
        best = min(present) if present else None
        floor = STEP_FLOPS[key] / (peak * 1e9) * 1e3
        cells = [fmt(ours), fmt(eager), fmt(comp), fmt(jx), fmt(ratio(ours, best), 2, "x"),
                 fmt(ratio(ours, eager), 2, "x"), f"{floor:.2f} ({STEP_FLOPS[key] / 1e6:.0f} MFLOP)",
                 fmt(ratio(ours, floor), 1, "x")]
        print(f"| {label} | " + " | ".join(cells) + " |")

    print()
    print("Compile of the whole training step, fresh process (ms; nx++: nx_train_compile_latency, trace + "
          "differentiate + optimise + the llvm backend's compile, as JAX's jit(step).lower().compile(); torch.compile: "
          "the first step less the steady median, empty Inductor cache; the last columns: nx++'s first step in the "
          "loop less a later one, first-run costs such as oneDNN creating its primitives included)")
    print()
    print("| step | nx++ cold | target | met | nx++ from disk cache | target | met | JAX | torch.compile "
          "| nx++ first step extra, cold / disk |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, key in (("MLP", "mlp"), ("CNN", "cnn")):
        c, d = cold.get(f"{key}_step_compile_ms"), disk.get(f"{key}_step_compile_ms")
        cells = [fmt(c, 1), "<= 150", verdict(None if c is None else c <= 150), fmt(d, 2), "<= 5",
                 verdict(None if d is None else d <= 5), fmt(peer(f"jax_{key}_compile"), 0),
                 fmt(peer(f"torch_compile_{key}_compile"), 0),
                 f"{fmt(cold.get(f'{key}_first_step_extra_ms'), 1)} / {fmt(disk.get(f'{key}_first_step_extra_ms'), 1)}"]
        print(f"| {label} | " + " | ".join(cells) + " |")

    fm_nx = parse_fashion_mnist_nx(args.out / "fm_nx.txt")
    fm_torch = load_json(args.out / "fm_torch.json")
    if fm_nx or fm_torch:
        fm_nx, fm_torch = fm_nx or {}, fm_torch or {}
        n = fm_torch.get("train_images", 60000)

        def seconds(r):  # the training steps' time at the steady rate (first step left out)
            rate = r.get("images_per_second")
            return r.get("epochs", 0) * n / rate if rate else None

        s_nx, s_torch = seconds(fm_nx), seconds(fm_torch)
        time_ratio = ratio(s_nx, s_torch)
        acc = fm_nx.get("test_accuracy")
        print()
        print(f"Fashion-MNIST, the CNN for {fm_nx.get('epochs', fm_torch.get('epochs', '-'))} epochs at batch 128 "
              f"({n} images per epoch; time = epochs x images / the steady images/s, the first, compiling step "
              "left out, as the example reports it)")
        print()
        print("| | training time (s) | images/s | test accuracy | time / PyTorch's |")
        print("|---|---|---|---|---|")
        print(f"| nx++ (examples/fashion_mnist) | {fmt(s_nx, 1)} | {fmt(fm_nx.get('images_per_second'), 0)} | "
              f"{fmt(None if acc is None else acc * 100, 2, '%')} | {fmt(time_ratio, 2, 'x')} |")
        t_acc = fm_torch.get("test_accuracy")
        print(f"| PyTorch eager (fashion_mnist_torch.py, {fm_torch.get('init', '-')} init) | {fmt(s_torch, 1)} | "
              f"{fmt(fm_torch.get('images_per_second'), 0)} | {fmt(None if t_acc is None else t_acc * 100, 2, '%')} "
              f"| 1.00x |")
        print(f"| target | | | >= 91.5% ({verdict(None if acc is None else acc >= 0.915)}) | <= 0.8x "
              f"({verdict(None if time_ratio is None else time_ratio <= 0.8)}) |")
        if "seconds" in fm_torch:
            print()
            print(f"PyTorch's whole training loop (batch gathering included): {fm_torch['seconds']:.1f} s; "
                  f"nx++'s compile of the training step: {fmt(fm_nx.get('compile_ms'), 0)} ms.")


if __name__ == "__main__":
    main()
