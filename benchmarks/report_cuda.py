"""The GPU table of docs/PERFORMANCE.md from nx_bench_cuda's and peers_cuda.py's JSON
lines (one file each): per workload nx++'s median, its reference in the same run, the
ratio, the floor (bytes over the measured copy bandwidth) and the issue's goal.
Usage: python3 benchmarks/report_cuda.py NX_JSONL TORCH_JSONL
"""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                rows[r["name"]] = r
    return rows


def main():
    nx, torch = load(sys.argv[1]), load(sys.argv[2])
    copy = nx.get("copy")
    bandwidth = copy["bytes"] / copy["ms"] / 1e6 if copy else None  # GB/s
    print("| workload | nx++ ms | reference | reference ms | nx++ / reference | floor ms | goal | met |")
    print("|---|---|---|---|---|---|---|---|")

    def row(label, name, ref_label, ref, goal, met):
        mine = nx.get(name)
        if not mine:
            print("| %s | not run | | | | | %s | |" % (label, goal))
            return
        floor = "%.3f" % (mine["bytes"] / bandwidth / 1e6) if bandwidth and "bytes" in mine else ""
        if ref:
            ratio = mine["ms"] / ref["ms"]
            ok = ("yes" if met(mine, ref) else "no") if goal else ""
            print("| %s | %.3f | %s | %.3f | %.2fx | %s | %s | %s |" % (label, mine["ms"], ref_label, ref["ms"], ratio, floor, goal, ok))
        else:
            print("| %s | %.3f | %s | | | %s | %s | |" % (label, mine["ms"], ref_label, floor, goal))

    if copy:
        print("| device-to-device copy, 256 MiB | %.3f | | | | | %.0f GB/s (read + write) | |" % (copy["ms"], bandwidth))
    row("y = tanh(a*x+b)*c+x, 64M f32", "chain", "copy of the same bytes", copy,
        ">= 85% of copy bandwidth", lambda m, r: r["ms"] / m["ms"] * m["bytes"] / r["bytes"] >= 0.85)
    row("same, PyTorch eager", "chain", "torch eager", torch.get("torch_chain"), "", lambda m, r: True)
    row("same, torch.compile", "chain", "torch.compile", torch.get("torch_chain_compiled"), "", lambda m, r: True)
    row("matmul f32 4096^3", "matmul_f32", "cuBLASLt direct", nx.get("lt_f32"), "within 5%", lambda m, r: m["ms"] <= 1.05 * r["ms"])
    row("matmul bf16 8192^3", "matmul_bf16", "cuBLASLt direct", nx.get("lt_bf16"), "within 5%", lambda m, r: m["ms"] <= 1.05 * r["ms"])
    row("row softmax 4096x4096 f32", "softmax", "torch.softmax", torch.get("torch_softmax"), ">= PyTorch", lambda m, r: m["ms"] <= r["ms"])
    row("eager add of 1024 f32 (host cost per op)", "eager_add", "torch eager", torch.get("torch_eager_add"), "", lambda m, r: True)
    row("MLP Adam step, b128", "mlp_step", "torch eager", torch.get("torch_mlp_step"), "faster than PyTorch eager", lambda m, r: m["ms"] < r["ms"])
    row("CNN Adam step, b128", "cnn_step", "torch eager", torch.get("torch_cnn_step"), "faster than PyTorch eager", lambda m, r: m["ms"] < r["ms"])
    row("CNN step, convolutions without cuDNN", "cnn_step_columns", "torch eager", torch.get("torch_cnn_step"), "", lambda m, r: True)
    row("MLP step, CUDA graphs", "mlp_step_graphs", "torch eager", torch.get("torch_mlp_step"), "faster than PyTorch eager", lambda m, r: m["ms"] < r["ms"])
    row("CNN step, CUDA graphs", "cnn_step_graphs", "torch eager", torch.get("torch_cnn_step"), "faster than PyTorch eager", lambda m, r: m["ms"] < r["ms"])
    for name in ("matmul_f32", "matmul_bf16"):
        if name in nx:
            print("\n%s: %.1f TFLOP/s" % (name, nx[name]["flops"] / nx[name]["ms"] / 1e9))


if __name__ == "__main__":
    main()
