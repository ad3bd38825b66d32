// BenchmarkDotNet suite for the CPU backend's GEMM at the VAE's layer shapes (batch 128), 1 and 2 threads, one Gemm
// call per invocation, with the naive triple loop as the baseline for ratios.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*Gemm*' --job short
using BenchmarkDotNet.Attributes;
using Vae.Cpu;
using Vae.Cpu.Gemm;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
public class GemmBenchmarks
{
    /// <summary>One GEMM of a linear layer: op is the step it implements, m, n, k the GEMM's own dimensions.</summary>
    public sealed record GemmShape(string Op, bool TransA, bool TransB, int M, int N, int K, float Beta)
    {
        /// <summary>Short enough for BenchmarkDotNet's parameter column: fwd, bwd_in or bwd_w, then m x k x n.</summary>
        public override string ToString() => $"{Op switch { "forward" => "fwd", "backward_input" => "bwd_in", _ => "bwd_w" }} {M}x{K}x{N}";
    }

    /// <summary>
    /// For each forward (m, k, n) = (batch, in, out): forward Gemm(false, false, m, n, k); backward_input dX = dY W^T,
    /// Gemm(false, true, m, k, n); backward_weight dW += X^T dY, Gemm(true, false, k, n, m) with beta 1.
    /// </summary>
    public static IEnumerable<GemmShape> Shapes()
    {
        (int M, int K, int N)[] forward = [(128, 784, 400), (128, 400, 400), (128, 400, 20), (128, 20, 400), (128, 400, 784)];
        foreach (var (m, k, n) in forward)
        {
            yield return new GemmShape("forward", false, false, m, n, k, 0f);
            yield return new GemmShape("backward_input", false, true, m, k, n, 0f);
            yield return new GemmShape("backward_weight", true, false, k, n, m, 1f);
        }
    }

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    CpuBackend backend = null!;
    DeviceBuffer bufferA = null!, bufferB = null!, bufferC = null!;
    DeviceSpan<float> a, b, c;
    float[] hostA = [], hostB = [], hostC = [];

    [GlobalSetup]
    public void Setup()
    {
        var s = Shape;
        backend = new CpuBackend(Threads);
        var rng = new System.Random(7);
        hostA = RandomValues(rng, s.M * s.K);
        hostB = RandomValues(rng, s.K * s.N);
        hostC = RandomValues(rng, s.M * s.N);
        bufferA = backend.Allocate((long)hostA.Length * sizeof(float));
        bufferB = backend.Allocate((long)hostB.Length * sizeof(float));
        bufferC = backend.Allocate((long)hostC.Length * sizeof(float));
        a = new DeviceSpan<float>(bufferA, 0, hostA.Length);
        b = new DeviceSpan<float>(bufferB, 0, hostB.Length);
        c = new DeviceSpan<float>(bufferC, 0, hostC.Length);
        backend.Upload<float>(hostA, a);
        backend.Upload<float>(hostB, b);
        backend.Upload<float>(hostC, c);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        bufferA.Dispose();
        bufferB.Dispose();
        bufferC.Dispose();
        backend.Dispose();
    }

    /// <summary>The readable triple loop (single thread, double accumulation) the packed GEMM is measured against.</summary>
    [Benchmark(Baseline = true)]
    public void Naive() => NaiveGemm.Multiply(Shape.TransA, Shape.TransB, Shape.M, Shape.N, Shape.K, 1f, hostA, hostB, Shape.Beta, hostC);

    /// <summary>The CPU backend's packed GEMM on <see cref="Threads"/> threads.</summary>
    [Benchmark]
    public void Packed() => backend.Gemm(Shape.TransA, Shape.TransB, Shape.M, Shape.N, Shape.K, 1f, a, b, Shape.Beta, c);

    static float[] RandomValues(System.Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * 1e-3f;
        return values;
    }
}
