#!/usr/bin/python3
"""Times one torch.nn.LSTM layer forward and forward + backward on the CPU, the shapes of LstmLayerBenchmarks.

    /usr/bin/python3 benchmarks/pytorch/bench_lstm.py [--threads 2] [--repeats 30] [--bidirectional] [--json]

batch 64, 32 steps, 128 input features, 256 hidden units, float32, time-major, full-length sequences. forward_backward
zeroes the parameter gradients, runs the layer and backpropagates a fixed output gradient into the parameters and the
input (as the C# benchmark does). Prints the median and the minimum of --repeats timed runs after 3 warm-up runs,
in milliseconds, and the useful GFLOP/s of forward + backward (GEMM work only: 2 T B 4H (E + H) forward, twice that
backward).
"""
import argparse
import json
import statistics
import time

import torch

BATCH, STEPS, INPUT, HIDDEN = 64, 32, 128, 256


def timed(function, repeats):
    for _ in range(3):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(INPUT, HIDDEN, bidirectional=args.bidirectional)
    directions = 2 if args.bidirectional else 1
    x = (2 * torch.rand(STEPS, BATCH, INPUT) - 1).requires_grad_(True)
    d_output = 2 * torch.rand(STEPS, BATCH, directions * HIDDEN) - 1

    def forward():
        with torch.no_grad():
            lstm(x)

    def forward_backward():
        lstm.zero_grad(set_to_none=False)
        x.grad = None
        output, _ = lstm(x)
        output.backward(d_output)

    forward_ms, forward_min = timed(forward, args.repeats)
    step_ms, step_min = timed(forward_backward, args.repeats)
    flops = 3 * 2 * STEPS * BATCH * 4 * HIDDEN * (INPUT + HIDDEN) * directions
    row = {"engine": "pytorch", "torch": torch.__version__, "threads": args.threads, "bidirectional": args.bidirectional,
           "batch": BATCH, "steps": STEPS, "input": INPUT, "hidden": HIDDEN,
           "forward_ms_median": round(forward_ms, 3), "forward_ms_min": round(forward_min, 3),
           "forward_backward_ms_median": round(step_ms, 3), "forward_backward_ms_min": round(step_min, 3),
           "gflops": round(flops / (step_ms * 1e6), 2)}
    if args.json:
        print(json.dumps(row))
    else:
        for key, value in row.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
