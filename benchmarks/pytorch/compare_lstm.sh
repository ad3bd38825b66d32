#!/usr/bin/env bash
# Side by side on this machine: one LSTM layer (batch 64, 32 steps, 128 inputs, 256 hidden; unidirectional and
# bidirectional), forward and forward + backward, the C# Nn/Lstm on the CPU backend (BenchmarkDotNet,
# LstmLayerBenchmarks, every core) against PyTorch's nn.LSTM (bench_lstm.py) at the same thread count, in one run.
#
#   benchmarks/pytorch/compare_lstm.sh [--threads N] [--job short|medium] [--out DIR]
#
#   --threads N   PyTorch threads (default: the number of cores, which the C# CPU backend uses)
#   --job J       BenchmarkDotNet job (default short)
#   --out DIR     where the logs and BenchmarkDotNet's results go (default out/compare_lstm)
# PYTHON (default /usr/bin/python3, Debian's torch) runs the PyTorch half.
set -euo pipefail
cd "$(dirname "$0")/../.."

python="${PYTHON:-/usr/bin/python3}"
threads="$(nproc)" job="short" out="out/compare_lstm"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --threads) threads="${2:?--threads needs a number}"; shift ;;
    --job) job="${2:?--job needs short or medium}"; shift ;;
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
rm -rf "$out/results"

echo "== vae: BenchmarkDotNet LstmLayerBenchmarks (job $job) =="
dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*LstmLayerBenchmarks*' --job "$job" \
  --exporters json --artifacts "$out" > "$out/vae_bench.log" 2>&1 || { tail -n 30 "$out/vae_bench.log" >&2; exit 1; }
grep -E '^\|' "$out/vae_bench.log" || true

echo "== pytorch: bench_lstm.py, $threads threads =="
{
  "$python" benchmarks/pytorch/bench_lstm.py --threads "$threads" --json
  "$python" benchmarks/pytorch/bench_lstm.py --threads "$threads" --json --bidirectional
} | tee "$out/pytorch_bench.log"

OUT="$out" "$python" - <<'EOF'
import glob, json, os
out = os.environ["OUT"]
files = glob.glob(os.path.join(out, "results", "*LstmLayerBenchmarks*report*.json"))
if not files:
    raise SystemExit(f"compare_lstm.sh: no BenchmarkDotNet JSON report under {out}/results; see {out}/vae_bench.log")
vae = {}
for b in json.load(open(files[0]))["Benchmarks"]:
    bidirectional = "Bidirectional=True" in b["Parameters"]
    vae[(b["Method"], bidirectional)] = b["Statistics"]["Median"] / 1e6
torch_rows = [json.loads(l) for l in open(os.path.join(out, "pytorch_bench.log")) if l.strip().startswith("{")]
print(f"{'layer':<15} {'pass':<17} {'vae ms':>9} {'pytorch ms':>11} {'pytorch / vae':>14}")
for row in torch_rows:
    bidirectional = row["bidirectional"]
    layer = "bidirectional" if bidirectional else "unidirectional"
    for method, key in (("Forward", "forward_ms_median"), ("ForwardBackward", "forward_backward_ms_median")):
        ours = vae[(method, bidirectional)]
        print(f"{layer:<15} {method:<17} {ours:>9.2f} {row[key]:>11.2f} {row[key] / ours:>14.2f}")
print(f"(batch {torch_rows[0]['batch']}, {torch_rows[0]['steps']} steps, input {torch_rows[0]['input']}, hidden "
      f"{torch_rows[0]['hidden']}; medians; above 1 means vae is faster)")
EOF
