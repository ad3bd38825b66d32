// BenchmarkDotNet: one LSTM layer (Nn/Lstm) over a full batch of sequences, forward alone and forward + backward
// (gradients zeroed, the whole output's gradient given, the input gradient computed), on the CPU backend with every
// core: batch 64, 32 steps, 128 input features, 256 hidden units, unidirectional and bidirectional.
// [MemoryDiagnoser] shows the 0 bytes allocated. LstmTiming times the same calls the way benchmarks/pytorch/bench_lstm.py
// times PyTorch's nn.LSTM (warm-up, then the median and minimum of N runs, one JSON line), so that
// benchmarks/pytorch/compare_lstm.sh can alternate the two engines in one run on a shared machine and print the ratio.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*LstmLayer*'
//      dotnet run -c Release --project benchmarks/Vae.Benchmarks -- lstm [--repeats 30] [--bidirectional]
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Vae.Cpu;
using Vae.Nn;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
public class LstmLayerBenchmarks
{
    public const int Batch = 64, Steps = 32, Input = 128, Hidden = 256;

    CpuBackend backend = null!;
    ParameterStore store = null!;
    Lstm lstm = null!;
    DeviceBuffer data = null!;
    DeviceSpan<float> input, dOutput, dInput;

    [Params(false, true)]
    public bool Bidirectional { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        backend = new CpuBackend();
        var layout = new TensorLayout();
        Lstm.AddParameters(layout, "", Input, Hidden, 1, Bidirectional);
        store = new ParameterStore(backend, layout);
        var host = new float[layout.TotalLength];
        Lstm.Initialize(host, layout, "", Input, Hidden, 1, Bidirectional, seed: 1, firstStream: 0);
        backend.Upload<float>(host, store.Parameters);
        lstm = new Lstm(backend, store, "", Input, Hidden, 1, Bidirectional, Steps, Batch);
        int rows = Steps * Batch;
        data = backend.Allocate((2L * rows * Input + (long)rows * lstm.OutputSize) * sizeof(float));
        var all = data.AsSpan<float>();
        input = all.Slice(0, rows * Input);
        dInput = all.Slice(rows * Input, rows * Input);
        dOutput = all.Slice(2 * rows * Input, rows * lstm.OutputSize);
        var random = new System.Random(2);
        var values = new float[rows * Math.Max(Input, lstm.OutputSize)];
        for (int i = 0; i < values.Length; i++) values[i] = 2 * random.NextSingle() - 1;
        backend.Upload<float>(values.AsSpan(0, input.Length), input);
        backend.Upload<float>(values.AsSpan(0, dOutput.Length), dOutput);
    }

    [Benchmark]
    public void Forward() => lstm.Forward(input, default, default, default, Steps, Batch);

    [Benchmark]
    public void ForwardBackward()
    {
        store.ZeroGradients();
        lstm.Forward(input, default, default, default, Steps, Batch);
        lstm.Backward(dOutput, default, default, dInput, default, default);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        lstm.Dispose();
        data.Dispose();
        store.Dispose();
        backend.Dispose();
    }
}

/// <summary>`lstm [--repeats N] [--bidirectional]`: bench_lstm.py's timing of LstmLayerBenchmarks' calls, as one JSON line.</summary>
public static class LstmTiming
{
    public static int Run(string[] args)
    {
        int repeats = 30;
        bool bidirectional = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--bidirectional") bidirectional = true;
            else if (args[i] == "--repeats" && i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out int n) && n > 0) repeats = n;
            else
            {
                Console.Error.WriteLine($"lstm: unknown or incomplete option '{args[i]}'; usage: lstm [--repeats N] [--bidirectional]");
                return 2;
            }
        }
        var bench = new LstmLayerBenchmarks { Bidirectional = bidirectional };
        bench.Setup();
        try
        {
            var (forward, forwardMin) = Time(bench.Forward, repeats);
            var (step, stepMin) = Time(bench.ForwardBackward, repeats);
            const int b = LstmLayerBenchmarks.Batch, t = LstmLayerBenchmarks.Steps, e = LstmLayerBenchmarks.Input, h = LstmLayerBenchmarks.Hidden;
            double flops = 3.0 * 2 * t * b * 4 * h * (e + h) * (bidirectional ? 2 : 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"engine\": \"vae\", \"threads\": {Environment.ProcessorCount}, \"bidirectional\": {(bidirectional ? "true" : "false")}, " +
                $"\"batch\": {b}, \"steps\": {t}, \"input\": {e}, \"hidden\": {h}, " +
                $"\"forward_ms_median\": {forward:F3}, \"forward_ms_min\": {forwardMin:F3}, " +
                $"\"forward_backward_ms_median\": {step:F3}, \"forward_backward_ms_min\": {stepMin:F3}, \"gflops\": {flops / (step * 1e6):F2}}}"));
        }
        finally
        {
            bench.Cleanup();
        }
        return 0;
    }

    /// <summary>Median and minimum in milliseconds of <paramref name="repeats"/> calls after 3 warm-up calls.</summary>
    static (double Median, double Min) Time(Action call, int repeats)
    {
        for (int i = 0; i < 3; i++) call();
        var samples = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        double median = repeats % 2 == 1 ? samples[repeats / 2] : 0.5 * (samples[repeats / 2 - 1] + samples[repeats / 2]);
        return (median, samples[0]);
    }
}
