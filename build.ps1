# Windows mirror of build.sh with the same verbs: build, test, bench, train. The logic lives in build.sh;
# this script only forwards to the same dotnet commands.
param([Parameter(Position = 0)][string]$Verb = "build", [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = "1"; $env:DOTNET_NOLOGO = "1"
switch ($Verb) {
  "build" { dotnet build Vae.sln -c Release @Rest; exit $LASTEXITCODE }
  "test" {
    dotnet build Vae.sln -c Release; if ($LASTEXITCODE) { exit $LASTEXITCODE }
    # Windows has no fetch-ptxas.sh: set VAE_PTXAS to a ptxas.exe to check the .ptx files (else they say it is missing).
    $lines = @(); $code = 0
    $gpu = (dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll info --json 2>$null) -match '"available":true'
    foreach ($proj in @("tests/Vae.Tests/Vae.Tests.csproj", "tests/Vae.PtxInterpreter.Tests/Vae.PtxInterpreter.Tests.csproj")) {
      $extra = @()
      if (-not $Rest -and -not $gpu -and $proj -like "*Vae.Tests.csproj") { $extra = @("--filter", "Category!=Gpu") }
      dotnet test $proj -c Release --no-build @extra @Rest 2>&1 | Tee-Object -Variable part | Out-Host
      if ($LASTEXITCODE) { $code = $LASTEXITCODE }
      $lines += $part
    }
    $p = 0; $f = 0; $s = 0
    foreach ($l in $lines) {
      if ("$l" -match 'Passed: +(\d+)') { $p += [int]$Matches[1] }
      if ("$l" -match 'Failed: +(\d+)') { $f += [int]$Matches[1] }
      if ("$l" -match 'Skipped: +(\d+)') { $s += [int]$Matches[1] }
    }
    if ($code -ne 0 -and $f -eq 0) { $f = 1 }
    Write-Output "$p passed, $f failed, $s skipped"; exit $code
  }
  "bench" {
    dotnet build Vae.sln -c Release; if ($LASTEXITCODE) { exit $LASTEXITCODE }
    dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll bench gemm --json
    if ($Rest) { dotnet run -c Release --no-build --project benchmarks/Vae.Benchmarks -- @Rest }
    exit $LASTEXITCODE
  }
  "publish" {
    dotnet publish src/Vae.Cli/Vae.Cli.csproj -c Release -r win-x64 --self-contained -p:PublishTrimmed=true -o out/vae-win-x64 @Rest
    exit $LASTEXITCODE
  }
  "train" {
    # Windows has no dataset package: pass --data DIR with the four Fashion-MNIST IDX files.
    dotnet build src/Vae.Cli/Vae.Cli.csproj -c Release -v quiet -nologo; if ($LASTEXITCODE) { exit $LASTEXITCODE }
    $trainArgs = $Rest
    if (-not $Rest -and (Test-Path runs/vae/vae.safetensors)) { $trainArgs = @("--resume") }
    dotnet src/Vae.Cli/bin/Release/net10.0/vae.dll train @trainArgs
    exit $LASTEXITCODE
  }
  default { Write-Error "usage: ./build.ps1 build|test|bench [BenchmarkDotNet args]|publish|train"; exit 2 }
}
