#!/usr/bin/env bash
# Side by side on this machine: whole training steps of the text VAE (V 10004, E 128, H 256, Z 32, one bidirectional
# encoder layer; batch 64 sentences of 24 words; word dropout 0.25, Adam 1e-3, clip 5) and of its language model
# (--latent 0), the C# `vae bench train --model text` on the CPU backend against PyTorch (bench_text_vae.py) at the same
# thread count. The two engines alternate for several rounds, so that both see the same load on a shared machine; the
# table gives, per model and engine, the median of the rounds' medians, the minimum over all runs, the tokens per
# second at that median (words and <eos> predicted), and the speed-up PyTorch ms / C# ms of both.
#
#   benchmarks/pytorch/compare_text.sh [--rounds R] [--steps N] [--warmup W] [--threads T] [--batch B] [--length L] [--no-build] [--out DIR]
#
#   --rounds R    alternations of the two engines (default 3)
#   --steps N     timed training steps per engine, model and round (default 50)
#   --warmup W    untimed steps before them (default 10)
#   --threads T   threads of both engines (default: the number of cores)
#   --batch B     sentences per step (default 64)
#   --length L    words per sentence (default 24)
#   --no-build    use the vae.dll already built (src/Vae.Cli/bin/Release/net10.0)
#   --out DIR     where the logs go (default out/compare_text)
# PYTHON (default /usr/bin/python3, Debian's torch) runs the PyTorch half.
set -euo pipefail
cd "$(dirname "$0")/../.."

python="${PYTHON:-/usr/bin/python3}"
vae_dll="src/Vae.Cli/bin/Release/net10.0/vae.dll"
rounds=3 steps=50 warmup=10 threads="$(nproc)" batch=64 length=24 build=1 out="out/compare_text"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift ;;
    --steps) steps="${2:?--steps needs a number}"; shift ;;
    --warmup) warmup="${2:?--warmup needs a number}"; shift ;;
    --threads) threads="${2:?--threads needs a number}"; shift ;;
    --batch) batch="${2:?--batch needs a number}"; shift ;;
    --length) length="${2:?--length needs a number}"; shift ;;
    --no-build) build=0 ;;
    --out) out="${2:?--out needs a folder}"; shift ;;
    -h|--help) usage ;;
    *) echo "compare_text.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done

if [ ! -x "$python" ] || ! "$python" -c 'import torch' 2>/dev/null; then
  echo "compare_text.sh: $python cannot import torch; install python3-torch or set PYTHON=..." >&2
  exit 1
fi
mkdir -p "$out"
if [ "$build" -eq 1 ]; then
  dotnet build -c Release src/Vae.Cli > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
fi
if [ ! -f "$vae_dll" ]; then
  echo "compare_text.sh: $vae_dll not found; build src/Vae.Cli (or drop --no-build)." >&2
  exit 1
fi

common=(--batch "$batch" --length "$length" --steps "$steps" --warmup "$warmup" --threads "$threads" --json)
: > "$out/timings.jsonl"
for round in $(seq 1 "$rounds"); do
  for latent in 32 0; do
    echo "== round $round of $rounds, latent $latent ==" >&2
    dotnet "$vae_dll" bench train --model text --latent "$latent" "${common[@]}" | tee -a "$out/timings.jsonl"
    "$python" benchmarks/pytorch/bench_text_vae.py --latent "$latent" "${common[@]}" | tee -a "$out/timings.jsonl"
  done
done

OUT="$out" "$python" - <<'EOF'
import json, os, statistics
rows = [json.loads(l) for l in open(os.path.join(os.environ["OUT"], "timings.jsonl")) if l.strip().startswith("{")]
print(f"{'model':<15} {'engine':<8} {'median ms/step':>14} {'min ms/step':>12} {'tokens/s':>9} {'GFLOP/s':>8}   "
      f"{'speed-up (pytorch/vae) median':>29} {'min':>5}")
for variant, name in (("vae", "VAE (Z 32)"), ("lm", "language model")):
    picked = {}
    for engine in ("vae", "pytorch"):
        runs = [r for r in rows if r["engine"] == engine and r["variant"] == variant]
        median = statistics.median(r["step_ms_median"] for r in runs)
        minimum = min(r["step_ms_min"] for r in runs)
        tokens = runs[0]["tokens_per_step"] / (median * 1e-3)
        gflops = runs[0]["gflops"] * runs[0]["step_ms_median"] / median   # the same useful flops per step, at the median
        picked[engine] = (median, minimum)
        print(f"{name:<15} {engine:<8} {median:>14.2f} {minimum:>12.2f} {tokens:>9.0f} {gflops:>8.1f}", end="")
        if engine == "pytorch":
            (vm, vmin), (pm, pmin) = picked["vae"], picked["pytorch"]
            print(f"   {pm / vm:>29.2f} {pmin / vmin:>5.2f}")
        else:
            print()
r = rows[0]
peak = [x["peak_gflops"] for x in rows if x["engine"] == "vae" and x.get("peak_gflops")]
alloc = max(x["alloc_bytes_per_step"] for x in rows if x["engine"] == "vae")
print(f"({len([x for x in rows if x['engine'] == 'vae']) // 2} rounds; batch {r['batch']} sentences of {r['length']} words, "
      f"{r['tokens_per_step']} predicted tokens per step; vae on {r['threads']} threads, pytorch "
      f"{[x for x in rows if x['engine'] == 'pytorch'][0]['torch']} on {[x for x in rows if x['engine'] == 'pytorch'][0]['threads']}; "
      f"vae's measured FMA peak {statistics.median(peak):.1f} GFLOP/s, at most {alloc:g} managed bytes allocated per step; "
      f"speed-up above 1 means vae is faster)")
EOF
