#!/usr/bin/env bash
# The VAE family side by side under one training budget: trains each model on Fashion-MNIST for the same number of
# epochs (same batch, learning rate and seed), evaluates it on the test set (negative ELBO and the importance-sampled
# NLL), times its CPU training step, and prints a Markdown table. Usage, from the repository root:
#
#   benchmarks/family/compare.sh [EPOCHS=10] [NLL_K=1000] [OUT=runs/compare] [KIND[:extra flags] ...]
#
# Default kinds: vae, vae with --iwae 5, cvae, hvae, vqvae (each the CLI default shape). Runs already trained in OUT are
# reused (--resume up to EPOCHS), so a table can be redrawn without retraining. JSON of every step is kept in OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-10}; k=${2:-1000}; out=${3:-runs/compare}
shift $(( $# < 3 ? $# : 3 ))
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=("vae" "vae:--iwae 5" "cvae" "hvae" "vqvae")
dotnet build src/Vae.Cli -c Release -v q -nologo >/dev/null
vae() { dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll "$@"; }
mkdir -p "$out"
rows=()
for spec in "${kinds[@]}"; do
  kind=${spec%%:*}; extra=""; [ "$spec" != "$kind" ] && extra=${spec#*:}
  name=$(echo "$spec" | tr -c 'a-zA-Z0-9\n' '_' | sed 's/__*/_/g; s/_$//')
  dir="$out/$name"
  # shellcheck disable=SC2086
  if [ -f "$dir/vae.safetensors" ]; then vae train --out "$dir" --resume --epochs "$epochs" >/dev/null
  else vae train --model "$kind" $extra --epochs "$epochs" --out "$dir" > "$dir.train.log"; fi
  nll_flag=(--nll "$k"); [ "$kind" = vqvae ] && nll_flag=()
  vae eval --checkpoint "$dir/vae.safetensors" --json --threads 1 "${nll_flag[@]}" > "$dir.eval.json"   # one thread: eval is not timed
  # shellcheck disable=SC2086
  vae bench train --model "$kind" $extra --steps 100 --warmup 20 --json > "$dir.bench.json"
  seconds=$(tail -n +2 "$dir/history.csv" | awk -F, '{s += $8} END {printf "%.1f", s / NR}')
  rows+=("$(/usr/bin/env python3 - "$spec" "$dir.eval.json" "$dir.bench.json" "$seconds" <<'PY'
import json, sys
spec, ev, bench, seconds = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), sys.argv[4]
def f(key, fmt="{:.2f}"):
    v = ev.get(key)
    return fmt.format(v) if isinstance(v, (int, float)) else "-"
groups = ev.get("groups")
kl = " / ".join("{}: {:.2f}".format(g["name"], g["kl"]) for g in groups) if groups else f("kl")
active = " / ".join("{}/{}".format(g["active_units"], g["width"]) for g in groups) if groups else f("active_units", "{}")
nll = f("nll") if "nll" in ev else f("nll_bound_prior") + " (fitted prior)" if "nll_bound_prior" in ev else "-"
if "perplexity" in ev:   # a VQ-VAE: its codes instead of Gaussian latents
    active = "codes {}/{}, perplexity {:.1f}".format(ev["codes_used"], ev["codes"], ev["perplexity"])
print(f"| {spec} | {f('test_loss')} | {nll} | {f('recon')} | {kl} | {active} | {bench['step_ms_median']:.2f} | {seconds} |")
PY
)")
done
echo
echo "Fashion-MNIST, $epochs epochs each (batch 128, Adam 1e-3, seed 1); nll: importance-sampled, K = $k; step: CPU median"
echo
echo "| model | test loss (nats) | NLL (nats) | recon | KL | active units | step (ms) | s/epoch |"
echo "|---|---:|---:|---:|---|---|---:|---:|"
printf '%s\n' "${rows[@]}"
