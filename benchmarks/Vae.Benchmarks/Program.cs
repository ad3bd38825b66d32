// BenchmarkDotNet entry point: `dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*'`;
// `-- lstm [--repeats N] [--bidirectional]` is the quick LSTM layer timing of LstmTiming instead.
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "lstm") return Vae.Benchmarks.LstmTiming.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
