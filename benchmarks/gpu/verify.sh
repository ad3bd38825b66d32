#!/usr/bin/env bash
# The GPU verification of the CUDA backend, for a machine with an NVIDIA GPU and no .NET SDK (the workplace's GPU
# machine). Build the bundle here first:              ./build.sh publish      (writes out/gpu-bundle, ~42 MB)
# then, on the GPU machine, from the repository root: bash benchmarks/gpu/verify.sh [out/gpu-bundle]
# It prints: the GPU (vae info), the CUDA and GPU tests (the primitive property suite on the GPU, CUDA vs CPU
# gradients, graph replay vs eager, the allocation-free step), the gradient checks (vae gradcheck --backend all),
# the training-step time on the CPU, on CUDA with a replayed graph and eagerly, PyTorch eager CUDA on the same GPU
# (when python3 has torch with CUDA), and one epoch of Fashion-MNIST on CUDA when the dataset is present.
set -uo pipefail
bundle="${1:-out/gpu-bundle}"
runner="$bundle/vae-tests"
[ -x "$runner" ] || { echo "verify.sh: $runner not found; run ./build.sh publish on a machine with the .NET SDK first" >&2; exit 2; }
vae() { "$runner" cli "$@"; }
status=0
echo "== vae info"; vae info || status=1
echo "== CUDA and GPU tests"; "$runner" Cuda Gpu || status=1
echo "== vae gradcheck --backend all"; vae gradcheck --backend all || status=1
for args in "--backend cpu" "--backend cuda" "--backend cuda --no-graph" "--backend cuda --batch 4096 --steps 50"; do
  echo "== vae bench train $args --json"; vae bench train $args --json || status=1
done
python=$(command -v python3 || true)
if [ -n "$python" ] && "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "== PyTorch eager CUDA, same recipe"; "$python" benchmarks/pytorch/vae_recipe.py bench --device cuda --json || status=1
  "$python" benchmarks/pytorch/vae_recipe.py bench --device cuda --batch 4096 --steps 50 --json || status=1
else
  echo "== PyTorch with CUDA not available here: skipped"
fi
if [ -d /usr/share/datasets/fashion-mnist ] || [ -n "${VAE_DATA:-}" ]; then
  echo "== one epoch on CUDA"; vae train --backend cuda --epochs 1 --force --out /tmp/vae-gpu-run ${VAE_DATA:+--data "$VAE_DATA"} || status=1
fi
exit $status
