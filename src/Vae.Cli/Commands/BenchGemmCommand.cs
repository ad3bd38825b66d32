// `vae bench gemm [--threads N] [--json]`: GEMM throughput of the CPU backend at the VAE's layer shapes, against the
// FMA peak measured in the same run, with the managed bytes allocated per call.
using System.Diagnostics;
using System.Globalization;
using Vae.Cpu;
using Vae.Cpu.Gemm;

namespace Vae.Cli.Commands;

public static class BenchGemmCommand
{
    public const string Help = """
usage: vae bench gemm [--threads N] [--json]

Times the CPU backend's GEMM at the shapes of the seed VAE's linear layers (batch 128): for each layer the forward
product, the input gradient and the weight gradient (accumulating, beta 1). Prints the best GFLOP/s of 10 batches
per shape against the FMA peak measured in the same run (per core times threads) and the managed bytes allocated
per call; --json prints one JSON object per GEMM instead of the table.
  --threads N        CPU worker threads (default: all cores)
""";

    /// <summary>Forward shapes (m, k, n) = (batch, in, out) of the VAE's linear layers, batch 128.</summary>
    static readonly (int M, int K, int N)[] ForwardShapes = [(128, 784, 400), (128, 400, 400), (128, 400, 20), (128, 20, 400), (128, 400, 784)];

    static readonly TimeSpan TimePerShape = TimeSpan.FromMilliseconds(300);
    const int Batches = 10;

    /// <summary>One GEMM as run: op is the linear-layer step it implements; m, n, k are the GEMM's own dimensions.</summary>
    readonly record struct GemmCase(string Op, bool TransA, bool TransB, int M, int N, int K, float Beta);

    readonly record struct Result(GemmCase Case, int Threads, double Gflops, double PeakGflops, double AllocBytesPerCall);

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        int threads = cli.Int("threads", Environment.ProcessorCount, min: 1, max: 4096);
        bool json = cli.Flag("json");
        cli.RejectUnknown();

        double peakPerCore = FmaPeak.MeasureGflops(TimeSpan.FromMilliseconds(100), repetitions: 5);
        using var backend = new CpuBackend(threads);
        var results = new List<Result>();
        foreach (var gemm in Cases())
        {
            var (gflops, alloc) = Measure(backend, gemm);
            var result = new Result(gemm, threads, gflops, peakPerCore * threads, alloc);
            results.Add(result);
            if (json) Console.WriteLine(ToJson(result));
        }
        if (!json) PrintTable(results, peakPerCore);
        return 0;
    }

    /// <summary>
    /// For each forward (m, k, n) the three GEMMs of a linear layer y = x W with x (m, k) = (batch, in), W (k, n):
    ///   forward          y (m, n)   = x (m, k) * W (k, n)           Gemm(transA: false, transB: false, m, n, k), beta 0
    ///   backward_input   dx (m, k)  = dy (m, n) * W^T (n, k)        Gemm(transA: false, transB: true,  m, k, n), beta 0
    ///                    GEMM dimensions m' = m, n' = k, k' = n
    ///   backward_weight  dW (k, n) += x^T (k, m) * dy (m, n)        Gemm(transA: true,  transB: false, k, n, m), beta 1
    ///                    GEMM dimensions m' = k, n' = n, k' = m
    /// </summary>
    static IEnumerable<GemmCase> Cases()
    {
        foreach (var (m, k, n) in ForwardShapes)
        {
            yield return new GemmCase("forward", false, false, m, n, k, 0f);
            yield return new GemmCase("backward_input", false, true, m, k, n, 0f);
            yield return new GemmCase("backward_weight", true, false, k, n, m, 1f);
        }
    }

    /// <summary>Warms up, then runs batches of calls for about TimePerShape; returns the best batch's GFLOP/s and bytes allocated per timed call.</summary>
    static (double Gflops, double AllocBytesPerCall) Measure(CpuBackend backend, GemmCase g)
    {
        using var bufA = backend.Allocate((long)g.M * g.K * sizeof(float));
        using var bufB = backend.Allocate((long)g.K * g.N * sizeof(float));
        using var bufC = backend.Allocate((long)g.M * g.N * sizeof(float));
        var a = new DeviceSpan<float>(bufA, 0, g.M * g.K);
        var b = new DeviceSpan<float>(bufB, 0, g.K * g.N);
        var c = new DeviceSpan<float>(bufC, 0, g.M * g.N);
        var rng = new System.Random(42);
        backend.Upload<float>(RandomValues(rng, a.Length, 1f), a);
        backend.Upload<float>(RandomValues(rng, b.Length, 1f), b);
        // beta = 1 accumulates into c over many calls: keep its entries small so they stay far from overflow
        backend.Upload<float>(RandomValues(rng, c.Length, 1e-3f), c);
        float alpha = g.Beta == 0f ? 1f : 1e-6f;

        double flopsPerCall = 2.0 * g.M * g.N * g.K;
        // warm-up: tier-up of the kernels and sizing a batch to about TimePerShape / Batches
        long start = Stopwatch.GetTimestamp();
        long warmCalls = 0;
        while (warmCalls < 50 || Stopwatch.GetElapsedTime(start).TotalMilliseconds < 100)
        {
            backend.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, alpha, a, b, g.Beta, c);
            warmCalls++;
        }
        double secondsPerCall = Stopwatch.GetElapsedTime(start).TotalSeconds / warmCalls;
        int callsPerBatch = (int)Math.Clamp(TimePerShape.TotalSeconds / Batches / secondsPerCall, 1, 1_000_000);

        double best = 0;
        long calls = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int batch = 0; batch < Batches; batch++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < callsPerBatch; i++) backend.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, alpha, a, b, g.Beta, c);
            long t1 = Stopwatch.GetTimestamp();
            calls += callsPerBatch;
            best = Math.Max(best, flopsPerCall * callsPerBatch / ((t1 - t0) / (double)Stopwatch.Frequency) / 1e9);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return (best, (double)allocated / calls);
    }

    static float[] RandomValues(System.Random rng, int count, float scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = scale * (float)(rng.NextDouble() * 2 - 1);
        return values;
    }

    static string ToJson(Result r) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"op\":\"{r.Case.Op}\",\"m\":{r.Case.M},\"k\":{r.Case.K},\"n\":{r.Case.N},\"transA\":{Bool(r.Case.TransA)},\"transB\":{Bool(r.Case.TransB)}," +
        $"\"threads\":{r.Threads},\"gflops\":{r.Gflops:F1},\"peak_gflops\":{r.PeakGflops:F1},\"alloc_bytes\":{r.AllocBytesPerCall:0.##}}}");

    static string Bool(bool value) => value ? "true" : "false";

    static void PrintTable(List<Result> results, double peakPerCore)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"FMA peak {peakPerCore:F1} GFLOP/s per core (measured); GEMM m x k x n, best of {Batches} batches over {TimePerShape.TotalSeconds:0.0} s"));
        Console.WriteLine(string.Create(inv, $"{"op",-16} {"m",5} {"k",5} {"n",5} {"transA",6} {"transB",6} {"threads",7} {"GFLOP/s",8} {"peak",7} {"% peak",7} {"alloc B/call",12}"));
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(inv,
                $"{r.Case.Op,-16} {r.Case.M,5} {r.Case.K,5} {r.Case.N,5} {Bool(r.Case.TransA),6} {Bool(r.Case.TransB),6} {r.Threads,7} " +
                $"{r.Gflops,8:F1} {r.PeakGflops,7:F1} {100 * r.Gflops / r.PeakGflops,6:F1}% {r.AllocBytesPerCall,12:0.##}"));
        }
    }
}
