#!/usr/bin/env bash
# One entry point for building, testing, benchmarking and training. build.ps1 mirrors these verbs.
#   ./build.sh build   compile everything (Release)
#   ./build.sh test    run the test suite; ends with a line "N passed, N failed"
#   ./build.sh bench   GEMM throughput report (vae bench gemm --json), then BenchmarkDotNet suites (pass a filter)
#   ./build.sh publish self-contained linux-x64 builds for machines without .NET: the trimmed CLI in out/vae-linux-x64
#                      (~25 MB), and out/gpu-bundle (~42 MB): vae-tests, a test runner for the CUDA/GPU tests that also
#                      runs the CLI (`vae-tests cli info`); on a GPU machine: bash benchmarks/gpu/verify.sh out/gpu-bundle
#   ./build.sh train   the main job: install Fashion-MNIST if missing, build, train the default VAE (10 epochs) and
#                      write its checkpoint and pictures to runs/vae/ (extra arguments go to `vae train`)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

verb="${1:-build}"
shift || true

# Installs Debian packages that are missing (as root, or through sudo when available).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "build.sh: please install these Debian packages as root: ${missing[*]}" >&2; return 1
    fi
  fi
  echo "build.sh: installing ${missing[*]} (apt-get)" >&2
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET SDK 10 is required (dotnet not found on PATH); install it from Microsoft's Debian packages." >&2
    exit 1
  fi
}

case "$verb" in
  build)
    need_dotnet
    dotnet build Vae.sln -c Release "$@"
    ;;
  test)
    need_dotnet
    # Real data (Fashion-MNIST; the fortunes corpus of the text VAE) and numpy (for the cross-language checkpoint
    # test); tests that need them say so when they are missing.
    apt_install dataset-fashion-mnist fortunes python3-numpy || echo "build.sh: continuing without them" >&2
    # ptxas (NVIDIA's PTX assembler) checks that every hand-written .ptx assembles for sm_80 and sm_90; fetched once
    # into ~/.cache/vae/ptxas. Without it those checks pass with a message, except on CI, where they fail.
    if [ -z "${VAE_PTXAS:-}" ]; then
      VAE_PTXAS=$(tests/tools/fetch-ptxas.sh) && export VAE_PTXAS || echo "build.sh: ptxas unavailable; PTX assembly checks will say so" >&2
    fi
    dotnet build Vae.sln -c Release
    log=$(mktemp)
    set +e
    status=0
    # The primitive suite on a real GPU (Category=Gpu) runs only where `vae info` finds one; other GPU tests report
    # themselves as skipped with the reason.
    gpu_filter=()
    if [ "$#" -eq 0 ] && ! dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll info --json 2>/dev/null | grep -q '"available":true'; then
      echo "build.sh: no CUDA GPU on this machine: the Category=Gpu tests are excluded (their code runs on the PTX interpreter instead)"
      gpu_filter=(--filter "Category!=Gpu")
    fi
    for project in tests/Vae.Tests/Vae.Tests.csproj tests/Vae.PtxInterpreter.Tests/Vae.PtxInterpreter.Tests.csproj; do
      if [ "$project" = tests/Vae.Tests/Vae.Tests.csproj ]; then extra=("${gpu_filter[@]}"); else extra=(); fi
      dotnet test "$project" -c Release --no-build "${extra[@]}" "$@" 2>&1 | tee -a "$log"
      code=${PIPESTATUS[0]}
      [ "$code" -ne 0 ] && status=$code
    done
    set -e
    # dotnet test prints "Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" per test assembly.
    passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
    failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
    skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
    rm -f "$log"
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    echo "$passed passed, $failed failed, $skipped skipped"
    exit "$status"
    ;;
  bench)
    need_dotnet
    dotnet build Vae.sln -c Release
    dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll bench gemm --json
    if [ "$#" -gt 0 ]; then
      dotnet run -c Release --no-build --project benchmarks/Vae.Benchmarks -- "$@"
    fi
    ;;
  publish)
    need_dotnet
    dotnet publish src/Vae.Cli/Vae.Cli.csproj -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -o out/vae-linux-x64 "$@"
    dotnet publish tests/Vae.TestRunner/Vae.TestRunner.csproj -c Release -p:GpuBundle=true -o out/gpu-bundle "$@"
    du -sh out/vae-linux-x64 out/gpu-bundle
    ;;
  train)
    need_dotnet
    if [ ! -d /usr/share/datasets/fashion-mnist ]; then apt_install dataset-fashion-mnist; fi
    dotnet build src/Vae.Cli/Vae.Cli.csproj -c Release -v quiet -nologo
    args=("$@")
    # Run twice, the second run continues the first (or just redraws its pictures when it is complete).
    if [ "$#" -eq 0 ] && [ -f runs/vae/vae.safetensors ]; then args=(--resume); fi
    dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll train "${args[@]}"
    ;;
  *)
    echo "usage: ./build.sh build|test|bench [BenchmarkDotNet args]|publish|train" >&2
    exit 2
    ;;
esac
