// BenchmarkDotNet entry point: `dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*'`.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
