#!/usr/bin/python3
"""PyTorch baseline of the seed VAE on Fashion-MNIST: the same model, loss and recipe as the C# `vae` tool.

Recipe: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), batch 128 reshuffled every epoch with the last partial batch
kept, 10 epochs, default nn.Linear init, pixels = byte / 255, loss per image in nats = recon + beta * kl.
Test loss = mean over the 10000 test images of the per-image loss with one posterior sample per image.

    python3 vae_recipe.py train [--data DIR] [--epochs 10] [--batch 128] [--hidden 400,400] [--latent 20] [--lr 1e-3]
                                [--seed 1] [--threads N] [--save FILE] [--json]
    python3 vae_recipe.py eval --checkpoint FILE [--data DIR] [--json]
    python3 vae_recipe.py bench [--batch 128] [--threads 1,2] [--steps 200] [--warmup 20] [--device cpu|cuda] [--json]
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vae_checkpoint import load_vae, save_vae  # noqa: E402
from vae_model import VAE, step_gemm_flops, vae_loss  # noqa: E402

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
EVAL_SEED = 12345
EVAL_BATCH = 1000


def read_idx_images(path):
    """A gzipped IDX3 image file -> float32 array (count, rows * cols) of byte / 255."""
    with gzip.open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 16:
        raise ValueError(f"'{path}' holds {len(blob)} bytes after gunzip, fewer than the 16-byte IDX3 header.")
    magic, count, rows, cols = struct.unpack(">IIII", blob[:16])
    if magic != 0x00000803:
        raise ValueError(f"'{path}' has IDX magic 0x{magic:08x}, expected 0x00000803 (unsigned bytes, 3 dimensions).")
    expected = 16 + count * rows * cols
    if len(blob) != expected:
        raise ValueError(f"'{path}' should hold {expected} bytes for {count} images of {rows}x{cols} but holds "
                         f"{len(blob)}; the file is truncated or corrupt.")
    pixels = np.frombuffer(blob, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    return (pixels.astype(np.float32) / np.float32(255.0))


def load_split(data_dir, split):
    name = {"train": "train-images-idx3-ubyte.gz", "test": "t10k-images-idx3-ubyte.gz"}[split]
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"'{path}' not found; pass --data DIR with the Fashion-MNIST gz IDX files.")
    return torch.from_numpy(read_idx_images(path))


@torch.no_grad()
def evaluate(model, images, recon, beta, seed=EVAL_SEED):
    """Per-image means (loss, recon, kl) over images, one posterior sample per image, eps from a fixed seed."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    totals = np.zeros(3)
    for start in range(0, images.shape[0], EVAL_BATCH):
        x = images[start:start + EVAL_BATCH]
        mu, logvar = model.encode(x)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * eps
        parts = vae_loss(model.decode(z), x, mu, logvar, recon, beta)
        totals += [float(p) * x.shape[0] for p in parts]
    model.train()
    return totals / images.shape[0]


def parse_int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers, e.g. 400,400") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}' must list positive integers, e.g. 400,400")
    return values


def cmd_train(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_images = load_split(args.data, "train")
    test_images = load_split(args.data, "test")
    model = VAE(train_images.shape[1], args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    shuffle = torch.Generator().manual_seed(args.seed)
    count = train_images.shape[0]
    recon_kind, beta = "bce", 1.0
    if not args.json:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {count} train / "
              f"{test_images.shape[0]} test images, hidden {args.hidden}, latent {args.latent}, batch {args.batch}")
        print(f"{'epoch':>5} {'train':>10} {'recon':>10} {'kl':>8} {'test':>10} {'seconds':>8}")
    test_loss = float("nan")
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(count, generator=shuffle)
        sums = np.zeros(3)
        for start in range(0, count, args.batch):
            x = train_images[order[start:start + args.batch]]
            optimizer.zero_grad(set_to_none=True)
            logits, mu, logvar = model(x)
            loss, recon, kl = vae_loss(logits, x, mu, logvar, recon_kind, beta)
            loss.backward()
            optimizer.step()
            sums += [loss.item() * x.shape[0], recon.item() * x.shape[0], kl.item() * x.shape[0]]
        seconds = time.perf_counter() - started
        train_loss, train_recon, train_kl = sums / count
        test_loss, test_recon, test_kl = evaluate(model, test_images, recon_kind, beta)
        if args.json:
            print(json.dumps({"epoch": epoch, "train_loss": train_loss, "train_recon": train_recon,
                              "train_kl": train_kl, "test_loss": test_loss, "test_recon": test_recon,
                              "test_kl": test_kl, "seconds": round(seconds, 3)}), flush=True)
        else:
            print(f"{epoch:>5} {train_loss:>10.3f} {train_recon:>10.3f} {train_kl:>8.3f} {test_loss:>10.3f} "
                  f"{seconds:>8.2f}", flush=True)
    if args.save:
        save_vae(model, args.save, {"recon": recon_kind, "beta": beta, "epochs": args.epochs, "batch": args.batch,
                                    "lr": args.lr, "seed": args.seed})
    if args.json:
        print(json.dumps({"final_test_loss": test_loss}))
    else:
        print(f"final test loss {test_loss:.4f}" + (f", saved {args.save}" if args.save else ""))
    return 0


def cmd_eval(args):
    model = load_vae(args.checkpoint)
    config = model.checkpoint_config
    images = load_split(args.data, "test")
    if images.shape[1] != model.input_size:
        raise ValueError(f"'{args.checkpoint}' expects {model.input_size} inputs but the test images have "
                         f"{images.shape[1]} pixels.")
    loss, recon, kl = evaluate(model, images, config.get("recon", "bce"), float(config.get("beta", 1.0)))
    if args.json:
        print(json.dumps({"test_loss": loss, "recon": recon, "kl": kl}))
    else:
        print(f"{args.checkpoint}: test loss {loss:.4f} nats/image (recon {recon:.4f}, kl {kl:.4f}) "
              f"over {images.shape[0]} images")
    return 0


def cmd_bench(args):
    """Full training steps (zero_grad, forward, loss, backward, Adam step) on random [0, 1] data. On --device cuda
    (eager PyTorch, the data resident on the GPU) each timed step ends with torch.cuda.synchronize()."""
    hidden, latent, input_size = args.hidden, args.latent, 784
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("vae_recipe.py: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
        return 1
    for threads in (args.threads if device.type == "cpu" else [torch.get_num_threads()]):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = VAE(input_size, hidden, latent).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        x = torch.rand(args.batch, input_size, device=device)
        # Useful GEMM flops per step = 2*B*(3*sum(in*out) - in0*out0): forward, weight grads and input grads of
        # every Linear except the first layer's input grad (665.6 MFLOP at 784-400-400-20, B = 128).
        flops = step_gemm_flops([(l.in_features, l.out_features) for l in model.linear_layers()], args.batch)
        times = []
        for step in range(args.warmup + args.steps):
            started = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            logits, mu, logvar = model(x)
            loss, _, _ = vae_loss(logits, x, mu, logvar)
            loss.backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - started
            if step >= args.warmup:
                times.append(elapsed)
        median = statistics.median(times)
        result = {"model": "vae", "backend": "pytorch" if device.type == "cpu" else "pytorch-cuda",
                  "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
                  "threads": torch.get_num_threads(), "batch": args.batch,
                  "step_ms_median": round(median * 1e3, 4), "step_ms_min": round(min(times) * 1e3, 4),
                  "images_per_s": round(args.batch / median, 1), "gflops": round(flops / median / 1e9, 3),
                  "flops_per_step": flops, "torch": torch.__version__}
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"threads {result['threads']}: step {result['step_ms_median']:.3f} ms median "
                  f"({result['step_ms_min']:.3f} min), {result['images_per_s']:.0f} images/s, "
                  f"{result['gflops']:.2f} GFLOP/s", flush=True)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train on Fashion-MNIST and report per-epoch losses")
    train.add_argument("--data", default=DEFAULT_DATA)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch", type=int, default=128)
    train.add_argument("--hidden", type=parse_int_list, default=[400, 400])
    train.add_argument("--latent", type=int, default=20)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--seed", type=int, default=1)
    train.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's choice)")
    train.add_argument("--save", help="write a vae-checkpoint safetensors file here after training")
    train.add_argument("--json", action="store_true")
    train.set_defaults(run=cmd_train)

    evaluate_cmd = commands.add_parser("eval", help="test loss of a vae-checkpoint file")
    evaluate_cmd.add_argument("--checkpoint", required=True)
    evaluate_cmd.add_argument("--data", default=DEFAULT_DATA)
    evaluate_cmd.add_argument("--json", action="store_true")
    evaluate_cmd.set_defaults(run=cmd_eval)

    bench = commands.add_parser("bench", help="time full training steps per thread count")
    bench.add_argument("--batch", type=int, default=128)
    bench.add_argument("--threads", type=parse_int_list, default=[1, 2])
    bench.add_argument("--steps", type=int, default=200)
    bench.add_argument("--warmup", type=int, default=20)
    bench.add_argument("--hidden", type=parse_int_list, default=[400, 400])
    bench.add_argument("--latent", type=int, default=20)
    bench.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv):
    args = build_parser().parse_args(argv)
    for name in ("epochs", "batch", "latent", "steps"):
        if getattr(args, name, 1) <= 0:
            print(f"vae_recipe.py: --{name} must be positive, got {getattr(args, name)}", file=sys.stderr)
            return 2
    try:
        return args.run(args)
    except (OSError, ValueError) as e:
        print(f"vae_recipe.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
