#!/usr/bin/env bash
# The text VAE against its language-model baseline on the fortunes corpus: trains both with the defaults of
# `vae train --model text` (the baseline is --latent 0: the same decoder without z, no word dropout), evaluates both on
# the test split with `vae eval --json --nll K`, and prints one table in nats per predicted token (words + <eos>):
# reconstruction, KL, the ELBO bound and its perplexity, the importance-sampled NLL and its perplexity, active units,
# and the VAE's NLL against the baseline's in percent. Extra arguments go to both training runs.
#
#   benchmarks/text/quality.sh [EPOCHS] [K] [OUT] [-- extra train flags]
#
# EPOCHS defaults to 10, K (importance samples) to 100, OUT to out/text-quality. Needs `fortunes` installed and a
# built vae (./build.sh build); VAE (default: the Release build's vae) can point at another one.
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs="${1:-10}"; k="${2:-100}"; out="${3:-out/text-quality}"
shift $(( $# < 3 ? $# : 3 )) || true
[ "${1:-}" = "--" ] && shift
vae="${VAE:-src/Vae.Cli/bin/Release/net10.0/vae}"
[ -x "$vae" ] || { echo "quality.sh: $vae not found; run ./build.sh build first (or set VAE=...)" >&2; exit 1; }
mkdir -p "$out"

"$vae" train --model text --latent 0 --word-dropout 0 --epochs "$epochs" --out "$out/lm" --force "$@" | tee "$out/lm.log"
"$vae" train --model text --epochs "$epochs" --out "$out/vae" --force "$@" | tee "$out/vae.log"
"$vae" eval --checkpoint "$out/lm/vae.safetensors" --json --nll "$k" > "$out/lm.json"
"$vae" eval --checkpoint "$out/vae/vae.safetensors" --json --nll "$k" > "$out/vae.json"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
lm = json.load(open(f"{out}/lm.json")); vae = json.load(open(f"{out}/vae.json"))
print()
print("| model | recon | KL | bound (ppl) | NLL (ppl) | active units | NLL vs LM |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, r in (("LSTM language model", lm), ("text VAE", vae)):
    rel = (r["nll"] / lm["nll"] - 1) * 100
    au = "-" if r["language_model"] else f'{r["active_units"]}/{r["latent"]}'
    print(f'| {name} | {r["recon"]:.4f} | {r["kl"]:.4f} ({r["kl_sentence"]:.2f}/sentence) | {r["bound"]:.4f} ({r["perplexity"]:.1f}) '
          f'| {r["nll"]:.4f} ({r["nll_perplexity"]:.1f}) | {au} | {rel:+.2f} % |')
print(f'\nnats per predicted token on the {vae["split"]} split ({vae["sentences"]} sentences, {vae["tokens"]} tokens); NLL with K = {vae["nll_k"]}')
PY
