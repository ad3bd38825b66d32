#!/usr/bin/env bash
# Side by side on this machine: the C# `vae` training step against PyTorch's (same model, batch and optimizer),
# and with --train the 10-epoch Fashion-MNIST test losses of both, plus each side evaluating the other's checkpoint.
#
#   benchmarks/pytorch/compare.sh [--no-build] [--steps N] [--threads 1,2] [--train] [--epochs E] [--out DIR]
#
#   --no-build     skip ./build.sh build (use the vae.dll already built)
#   --steps N      timed training steps per run (default 200)
#   --threads L    PyTorch thread counts to time (default 1,2)
#   --train        also train both for E epochs and compare final test losses
#   --epochs E     epochs for --train (default 10)
#   --out DIR      where logs and checkpoints go (default out/compare)
# PYTHON (default /usr/bin/python3, Debian's torch) runs the PyTorch half.
set -euo pipefail
cd "$(dirname "$0")/../.."

python="${PYTHON:-/usr/bin/python3}"
vae_dll="src/Vae.Cli/bin/Release/net10.0/vae.dll"
recipe="benchmarks/pytorch/vae_recipe.py"
build=1 train=0 steps=200 epochs=10 threads="1,2" out="out/compare"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --train) train=1 ;;
    --steps) steps="${2:?--steps needs a number}"; shift ;;
    --epochs) epochs="${2:?--epochs needs a number}"; shift ;;
    --threads) threads="${2:?--threads needs a list such as 1,2}"; shift ;;
    --out) out="${2:?--out needs a folder}"; shift ;;
    -h|--help) usage ;;
    *) echo "compare.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done

if [ ! -x "$python" ] || ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  echo "compare.sh: $python cannot import torch and numpy; install python3-torch or set PYTHON=..." >&2
  exit 1
fi
if [ "$build" -eq 1 ]; then
  ./build.sh build
fi
if [ ! -f "$vae_dll" ]; then
  echo "compare.sh: $vae_dll not found; run ./build.sh build (or drop --no-build)." >&2
  exit 1
fi
mkdir -p "$out"

# The last line of a command's output that is a JSON object (tools may print progress before it).
last_json() { { grep -E '^[[:space:]]*\{' || true; } | tail -n 1; }

echo "== timing $steps training steps, batch 128 =="
vae_bench=$(dotnet "$vae_dll" bench train --model vae --backend cpu --batch 128 --steps "$steps" --json | tee "$out/vae_bench.log" | last_json)
torch_bench=$("$python" "$recipe" bench --batch 128 --steps "$steps" --threads "$threads" --json | tee "$out/pytorch_bench.log")
if [ -z "$vae_bench" ] || [ -z "$torch_bench" ]; then
  echo "compare.sh: a bench printed no JSON; see $out/vae_bench.log and $out/pytorch_bench.log" >&2
  exit 1
fi

VAE_BENCH="$vae_bench" TORCH_BENCH="$torch_bench" "$python" - <<'EOF'
import json, os
vae = json.loads(os.environ["VAE_BENCH"])
torch_rows = [json.loads(line) for line in os.environ["TORCH_BENCH"].splitlines() if line.strip().startswith("{")]
rows = [vae] + torch_rows
print(f"{'engine':<8} {'backend':<8} {'threads':>7} {'step ms':>9} {'images/s':>10} {'GFLOP/s':>8}")
for r in rows:
    engine = "pytorch" if r.get("backend") == "pytorch" else "vae"
    print(f"{engine:<8} {r.get('backend', '?'):<8} {r.get('threads', '?'):>7} {r['step_ms_median']:>9.3f} "
          f"{r['images_per_s']:>10.0f} {r['gflops']:>8.2f}")
extras = {k: vae[k] for k in ("peak_gflops", "alloc_bytes_per_step") if k in vae}
if extras:
    print("vae: " + ", ".join(f"{k} {v}" for k, v in extras.items()))
best = min(torch_rows, key=lambda r: r["step_ms_median"])
ratio = best["step_ms_median"] / vae["step_ms_median"]
print(f"ratio pytorch_best_step_ms / vae_step_ms = {best['step_ms_median']:.3f} / {vae['step_ms_median']:.3f} "
      f"= {ratio:.3f}  (pytorch best at {best['threads']} threads; above 1 means vae is faster)")
EOF

if [ "$train" -eq 1 ]; then
  echo "== training both for $epochs epochs (logs in $out) =="
  dotnet "$vae_dll" train --out "$out/vae" --epochs "$epochs" 2>&1 | tee "$out/vae_train.log"
  vae_eval=$(dotnet "$vae_dll" eval --checkpoint "$out/vae/vae.safetensors" --json | last_json)
  "$python" "$recipe" train --epochs "$epochs" --json --save "$out/pytorch.safetensors" | tee "$out/pytorch_train.log"
  torch_final=$(grep -F '"final_test_loss"' "$out/pytorch_train.log" | tail -n 1)
  # Weights both ways: PyTorch evaluates the C# checkpoint and the C# tool evaluates PyTorch's.
  # A failure here is reported but does not hide the losses above.
  torch_eval_of_vae=$("$python" "$recipe" eval --checkpoint "$out/vae/vae.safetensors" --json | last_json) \
    || { echo "compare.sh: PyTorch could not evaluate $out/vae/vae.safetensors (see above)" >&2; torch_eval_of_vae=""; }
  vae_eval_of_torch=$(dotnet "$vae_dll" eval --checkpoint "$out/pytorch.safetensors" --json | last_json) \
    || { echo "compare.sh: vae could not evaluate $out/pytorch.safetensors (see above)" >&2; vae_eval_of_torch=""; }
  VAE_EVAL="$vae_eval" TORCH_FINAL="$torch_final" TORCH_EVAL_OF_VAE="$torch_eval_of_vae" \
  VAE_EVAL_OF_TORCH="$vae_eval_of_torch" EPOCHS="$epochs" "$python" - <<'EOF'
import json, os
read = lambda key: json.loads(os.environ[key]) if os.environ[key].strip() else {}
vae, torch_final = read("VAE_EVAL"), read("TORCH_FINAL")
torch_of_vae, vae_of_torch = read("TORCH_EVAL_OF_VAE"), read("VAE_EVAL_OF_TORCH")
epochs = os.environ["EPOCHS"]
print(f"final test loss after {epochs} epochs (nats per image, one posterior sample):")
print(f"  vae      {vae.get('test_loss', float('nan')):.4f}  (recon {vae.get('recon', float('nan')):.4f}, "
      f"kl {vae.get('kl', float('nan')):.4f})")
print(f"  pytorch  {torch_final.get('final_test_loss', float('nan')):.4f}")
print("cross-evaluation of checkpoints:")
print(f"  vae checkpoint scored by pytorch  {torch_of_vae.get('test_loss', float('nan')):.4f}")
print(f"  pytorch checkpoint scored by vae  {vae_of_torch.get('test_loss', float('nan')):.4f}")
EOF
fi
