"""examples/fashion_mnist.cpp's training in PyTorch eager, for scripts/bench_train.sh: the
same CNN (conv32 3x3 same, relu, maxpool 2, conv64 3x3 same, relu, maxpool 2, flatten,
fc128, relu, fc10), the same data (Fashion-MNIST from the gzipped IDX files, x/255
standardised as (x - 0.2860) / 0.3530, NCHW), batch 128 shuffled each epoch with the last
smaller batch kept, sparse softmax cross-entropy from logits, Adam (lr 1e-3, betas 0.9
and 0.999, eps 1e-8) with the learning rate decayed per step by a cosine to 0 over all
steps (optax.cosine_decay_schedule, as nx::optim::cosine_decay: step t of T uses
lr * 0.5 * (1 + cos(pi * t / T))), test accuracy over the 10,000 test images in batches
of 1000. Initialisation: PyTorch's default (weights and biases uniform in
+-1/sqrt(fan_in)); --init glorot uses nx::nn's (Glorot-uniform kernels, zero biases).
Two threads.

Prints one JSON object: "seconds" is the wall time of the training epochs (batch gathering
and steps; reading and standardising the files and the final test are outside it);
"images_per_second" is the images of the steps after the first over those steps' times,
as the example's "Training: N images/s" counts them (its loop times each step, not the
wait for the next batch, and leaves the first, compiling step out); "test_accuracy" is a
fraction in [0, 1].

Usage: python benchmarks/fashion_mnist_torch.py [--epochs 5] [--train-subset N]
           [--batch-size 128] [--lr 1e-3] [--data /usr/share/datasets/fashion-mnist]
           [--init torch|glorot] [--seed 0]
"""
import argparse
import gzip
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import torch

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    """A gzipped IDX file (u8 data) as a numpy array."""
    raw = gzip.open(path, "rb").read()
    zero, dtype, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of u8 (magic {raw[:4].hex()})")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        raise ValueError(f"{path}: {data.size} bytes of data for dims {dims}")
    return data.reshape(dims)


def images(u8):
    x = u8.astype(np.float32) / 255.0
    return torch.from_numpy(((x - 0.2860) / 0.3530).reshape(-1, 1, 28, 28).astype(np.float32))


def cnn():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-subset", type=int, default=0, help="train on the first N images only (0: all)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default=DEFAULT_DIR)
    ap.add_argument("--init", choices=("torch", "glorot"), default="torch")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    d = Path(args.data)
    train_x = images(load_idx(d / "train-images-idx3-ubyte.gz"))
    train_y = torch.from_numpy(load_idx(d / "train-labels-idx1-ubyte.gz").astype(np.int64))
    test_x = images(load_idx(d / "t10k-images-idx3-ubyte.gz"))
    test_y = torch.from_numpy(load_idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if 0 < args.train_subset < len(train_x):
        train_x, train_y = train_x[:args.train_subset], train_y[:args.train_subset]

    model = cnn()
    if args.init == "glorot":
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)
    n = len(train_x)
    batches = (n + args.batch_size - 1) // args.batch_size  # the last, smaller batch is kept
    total_steps = max(1, args.epochs * batches)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total_steps) / total_steps)))
    loss_fn = torch.nn.CrossEntropyLoss()

    seconds = step_seconds = 0.0
    steady_images = 0
    step = 0
    model.train()
    for epoch in range(args.epochs):
        t_epoch = time.perf_counter()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for b in range(batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            x, y = train_x[idx], train_y[idx]
            t = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            sched.step()
            loss_value = loss.item()
            dt = time.perf_counter() - t
            if step > 0:
                step_seconds += dt
                steady_images += len(idx)
            step += 1
            loss_sum += loss_value * len(idx)
            correct += int((logits.detach().argmax(1) == y).sum())
        seconds += time.perf_counter() - t_epoch
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / n:.4f}, accuracy {correct / n:.4f}, "
              f"{time.perf_counter() - t_epoch:.1f} s", file=sys.stderr)

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(test_x), 1000):
            correct += int((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum())
    accuracy = correct / len(test_x)
    json.dump({
        "seconds": seconds,
        "images_per_second": steady_images / step_seconds if step_seconds > 0 else 0.0,
        "test_accuracy": accuracy,
        "epochs": args.epochs,
        "train_images": n,
        "steps": step,
        "init": args.init,
        "torch_version": torch.__version__,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
