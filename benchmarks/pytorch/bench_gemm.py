#!/usr/bin/python3
"""PyTorch baseline for `vae bench gemm`: the same GEMM shapes and the same JSON lines, timed with torch.mm.

Run with Debian's python3-torch (1.13, CPU) and libopenblas0-openmp installed:
    /usr/bin/python3 benchmarks/pytorch/bench_gemm.py [--threads N]
Each line: op, m, k, n, transA, transB, threads, gflops (best of several timed batches), backend "pytorch".
"""
import argparse
import json
import time

import torch

# M x K x N of the forward GEMMs C(M,N) = A(M,K) B(K,N) of a batch-128 MLP VAE (784-400-400-20 and back).
SHAPES = [(128, 784, 400), (128, 400, 400), (128, 400, 20), (128, 20, 400), (128, 400, 784)]


def forms(m, k, n):
    """C = A B and its two backward GEMMs, as (op, m, k, n, transA, transB) of the GEMM actually run."""
    return [
        ("forward", m, k, n, False, False),    # C(m,n)  = A(m,k) B(k,n)
        ("backward_input", m, n, k, False, True),  # dA(m,k) = dC(m,n) B(k,n)^T   (transposed B)
        ("backward_weight", k, m, n, True, False),  # dB(k,n) = A(m,k)^T dC(m,n)   (transposed A)
    ]


def operands(m, k, n, ta, tb):
    a = torch.randn(k, m) if ta else torch.randn(m, k)
    b = torch.randn(n, k) if tb else torch.randn(k, n)
    return (a.t() if ta else a), (b.t() if tb else b)


def measure(m, k, n, ta, tb, seconds=0.3):
    a, b = operands(m, k, n, ta, tb)
    c = torch.empty(m, n)
    for _ in range(20):
        torch.mm(a, b, out=c)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        reps = 50
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        dt = time.perf_counter() - t0
        best = max(best, 2.0 * m * n * k * reps / dt / 1e9)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for shape in SHAPES:
        for op, m, k, n, ta, tb in forms(*shape):
            g = measure(m, k, n, ta, tb)
            print(json.dumps({"op": op, "m": m, "k": k, "n": n, "transA": ta, "transB": tb,
                              "threads": args.threads, "gflops": round(g, 2), "backend": "pytorch",
                              "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
