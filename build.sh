#!/usr/bin/env bash
# One entry point for building, testing, benchmarking and training. build.ps1 mirrors these verbs.
#   ./build.sh build   compile everything (Release)
#   ./build.sh test    run the test suite; ends with a line "N passed, N failed"
#   ./build.sh bench   GEMM throughput report (vae bench gemm --json), then BenchmarkDotNet suites (pass a filter)
#   ./build.sh train   the main job: train the default VAE on Fashion-MNIST (lands with issue 3)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

verb="${1:-build}"
shift || true

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
    dotnet build Vae.sln -c Release
    log=$(mktemp)
    set +e
    dotnet test tests/Vae.Tests/Vae.Tests.csproj -c Release --no-build "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
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
  train)
    need_dotnet
    echo "build.sh: training arrives with issue 3 (the main job); the compute layer it runs on is in place." >&2
    exit 2
    ;;
  *)
    echo "usage: ./build.sh build|test|bench [BenchmarkDotNet args]|train" >&2
    exit 2
    ;;
esac
