#!/usr/bin/env bash
# Side by side on this machine: one LSTM layer (batch 64, 32 steps, 128 inputs, 256 hidden; unidirectional and
# bidirectional), forward and forward + backward, the C# Nn/Lstm on the CPU backend (every core; LstmTiming in
# benchmarks/Vae.Benchmarks) against PyTorch's nn.LSTM (bench_lstm.py) at the same thread count. The two engines
# alternate for several rounds, so that both see the same load on a shared machine; the table gives, per engine, the
# median of the rounds' medians and the minimum over all runs, and their ratios.
#
#   benchmarks/pytorch/compare_lstm.sh [--rounds R] [--repeats N] [--threads T] [--bdn] [--out DIR]
#
#   --rounds R    alternations of the two engines (default 3)
#   --repeats N   timed runs per engine and round, after 3 warm-up runs (default 20)
#   --threads T   PyTorch threads (default: the number of cores, which the C# CPU backend uses)
#   --bdn         also run the BenchmarkDotNet suite LstmLayerBenchmarks (short job; allocations included)
#   --out DIR     where the logs go (default out/compare_lstm)
# PYTHON (default /usr/bin/python3, Debian's torch) runs the PyTorch half.
set -euo pipefail
cd "$(dirname "$0")/../.."

python="${PYTHON:-/usr/bin/python3}"
rounds=3 repeats=20 threads="$(nproc)" bdn=0 out="out/compare_lstm"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?--rounds needs a number}"; shift ;;
    --repeats) repeats="${2:?--repeats needs a number}"; shift ;;
    --threads) threads="${2:?--threads needs a number}"; shift ;;
    --bdn) bdn=1 ;;
    --out) out="${2:?--out needs a folder}"; shift ;;
    -h|--help) usage ;;
    *) echo "compare_lstm.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done

if [ ! -x "$python" ] || ! "$python" -c 'import torch' 2>/dev/null; then
  echo "compare_lstm.sh: $python cannot import torch; install python3-torch or set PYTHON=..." >&2
  exit 1
fi
mkdir -p "$out"
dotnet build -c Release benchmarks/Vae.Benchmarks > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
bench_dll="benchmarks/Vae.Benchmarks/bin/Release/net10.0/Vae.Benchmarks.dll"

: > "$out/timings.jsonl"
for round in $(seq 1 "$rounds"); do
  for direction in "" "--bidirectional"; do
    # shellcheck disable=SC2086  # $direction is empty or one flag
    dotnet "$bench_dll" lstm --repeats "$repeats" $direction | tee -a "$out/timings.jsonl"
    # shellcheck disable=SC2086
    "$python" benchmarks/pytorch/bench_lstm.py --threads "$threads" --repeats "$repeats" --json $direction | tee -a "$out/timings.jsonl"
  done
done

OUT="$out" "$python" - <<'EOF'
import json, os, statistics
rows = [json.loads(l) for l in open(os.path.join(os.environ["OUT"], "timings.jsonl")) if l.strip().startswith("{")]
print(f"{'layer':<15} {'pass':<16} {'vae ms':>8} {'pytorch ms':>11} {'ratio':>6}   {'vae min':>8} {'pytorch min':>12} {'ratio':>6}")
for bidirectional in (False, True):
    layer = "bidirectional" if bidirectional else "unidirectional"
    for name, key in (("forward", "forward_ms"), ("forward+backward", "forward_backward_ms")):
        def pick(engine, suffix, combine):
            return combine([r[key + suffix] for r in rows if r["engine"] == engine and r["bidirectional"] == bidirectional])
        ours, theirs = pick("vae", "_median", statistics.median), pick("pytorch", "_median", statistics.median)
        ours_min, theirs_min = pick("vae", "_min", min), pick("pytorch", "_min", min)
        print(f"{layer:<15} {name:<16} {ours:>8.2f} {theirs:>11.2f} {theirs / ours:>6.2f}   "
              f"{ours_min:>8.2f} {theirs_min:>12.2f} {theirs_min / ours_min:>6.2f}")
r = rows[0]
print(f"(batch {r['batch']}, {r['steps']} steps, input {r['input']}, hidden {r['hidden']}; vae on {r['threads']} threads, "
      f"pytorch on {[x for x in rows if x['engine'] == 'pytorch'][0]['threads']}; ratio = pytorch / vae, above 1 means vae is faster)")
EOF

if [ "$bdn" -eq 1 ]; then
  echo "== BenchmarkDotNet LstmLayerBenchmarks (short job) =="
  dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*LstmLayerBenchmarks*' --job short \
    --artifacts "$out" > "$out/bdn.log" 2>&1 || { tail -n 30 "$out/bdn.log" >&2; exit 1; }
  grep -E '^\|' "$out/bdn.log" || true
fi
