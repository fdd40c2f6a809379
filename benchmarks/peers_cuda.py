"""PyTorch on the same GPU as nx_bench_cuda, the same workloads, one JSON object per line
as that program prints ({"name", "ms", "bytes" or "flops"}), names prefixed "torch_":
the device-to-device copy of 256 MiB, y = tanh(a*x+b)*c+x over 64M f32 (eager, and
torch.compile when it works), f32 4096^3 (TF32 off, as nx++'s default) and bf16 8192^3
products, row softmax of 4096 x 4096 f32, an eager add of 1024 f32, and the Adam step at batch 128 of the MLP
784-512-512-10 and the CNN c32-p-c64-p-fc128-fc10 (benchmarks/train_models.hpp) in eager
mode. Times are medians over repeats of CUDA-event-timed batches, after warm-up; inputs
random. Run by scripts/gpu_check.sh; alone: python3 benchmarks/peers_cuda.py
"""
import json
import statistics
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")


def median_ms(f, repeats=15, inner=5):
    f()
    f()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            f()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / inner)
    return statistics.median(times)


def report(name, ms, unit, amount):
    print(json.dumps({"name": "torch_" + name, "ms": ms, unit: amount}), flush=True)


def train_step_ms(model, shape):
    x = torch.rand(shape, device=dev)
    y = torch.randint(0, 10, (shape[0],), device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    return median_ms(step, repeats=10, inner=16)


def main():
    n = 64 << 20
    src = torch.randn(n, device=dev)
    dst = torch.empty_like(src)
    report("copy", median_ms(lambda: dst.copy_(src)), "bytes", 2.0 * n * 4)
    chain = lambda v: torch.tanh(v * 1.5 + 0.25) * 0.5 + v
    report("chain", median_ms(lambda: chain(src)), "bytes", 2.0 * n * 4)
    try:
        compiled = torch.compile(chain)
        report("chain_compiled", median_ms(lambda: compiled(src)), "bytes", 2.0 * n * 4)
    except Exception as e:  # no Triton, or a compiler failure: eager stands alone
        print("torch.compile failed: %r" % (e,), file=sys.stderr)
    del src, dst
    a, b = torch.randn(4096, 4096, device=dev), torch.randn(4096, 4096, device=dev)
    report("matmul_f32", median_ms(lambda: a @ b), "flops", 2.0 * 4096**3)
    a, b = (torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16) for _ in range(2))
    report("matmul_bf16", median_ms(lambda: a @ b), "flops", 2.0 * 8192**3)
    x = torch.randn(4096, 4096, device=dev)
    report("softmax", median_ms(lambda: torch.softmax(x, dim=-1)), "bytes", 2.0 * 4096 * 4096 * 4)
    a, b = torch.randn(1024, device=dev), torch.randn(1024, device=dev)

    def adds():
        c = a
        for _ in range(100):
            c = c + b

    report("eager_add", median_ms(adds) / 100, "ops", 1)
    nn = torch.nn
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).to(dev)
    report("mlp_step", train_step_ms(mlp, (128, 784)), "examples", 128)
    cnn = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                        nn.Linear(128, 10)).to(dev)
    report("cnn_step", train_step_ms(cnn, (128, 1, 28, 28)), "examples", 128)


if __name__ == "__main__":
    main()
