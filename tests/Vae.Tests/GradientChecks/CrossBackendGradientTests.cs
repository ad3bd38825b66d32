// Whole-model gradients must agree across backends: the CUDA backend (its kernels on the PTX interpreter, GEMM on the
// CPU; and on a real GPU when this machine has one) against the CPU backend, for random configurations, batch sizes
// and seeds, within GradientCheck's stated tolerance (every gradient within 1e-4 of the largest gradient magnitude,
// the loss within 1e-5 relative). The reference backend against the CPU backend shows the same tolerance holds
// between two host implementations.
using Vae.Cpu;
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.GradientChecks;

public sealed class CrossBackendGradientTests(ITestOutputHelper output)
{
    /// <summary>Random small configurations: 1-3 hidden layers, both reconstruction losses, batch 1-9, a beta.</summary>
    public static TheoryData<int> Seeds() => [1, 2, 3, 4, 5, 6];

    static (VaeConfig config, int batch) Draw(int seed)
    {
        var rng = new System.Random(seed * 7919);
        int input = rng.Next(4, 40);
        var hidden = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(3, 33)).ToArray();
        var config = new VaeConfig(input, hidden, rng.Next(1, 9), rng.Next(2) == 0 ? ReconstructionLoss.Bce : ReconstructionLoss.Mse, (float)(rng.NextDouble() * 3));
        return (config, rng.Next(1, 10));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Interpreted_cuda_gradients_match_the_cpu_backend(int seed)
    {
        var (config, batch) = Draw(seed);
        using var cpu = new CpuBackend();
        using var cuda = Backends.Create("cuda-interpreted");
        var r = GradientCheck.CrossBackend(cpu, cuda, config, batch, seed);
        output.WriteLine($"{r.Configuration}: worst {r.WorstAt}, {r.WorstError:G3} x tolerance");
        Assert.True(r.Passed, $"{r.Check}, {r.Configuration}: worst {r.WorstAt}, {r.WorstError:G3} x its tolerance");
    }

    [GpuTheory]
    [MemberData(nameof(Seeds))]
    public void Gpu_gradients_match_the_cpu_backend(int seed)
    {
        var (config, batch) = Draw(seed);
        using var cpu = new CpuBackend();
        using var cuda = Backends.Create("cuda");
        var r = GradientCheck.CrossBackend(cpu, cuda, config, batch, seed);
        Assert.True(r.Passed, $"{r.Check}, {r.Configuration}: worst {r.WorstAt}, {r.WorstError:G3} x its tolerance");
    }

    [Fact]
    public void The_reference_backend_agrees_with_the_cpu_backend_within_the_same_tolerance()
    {
        var (config, batch) = Draw(11);
        using var cpu = new CpuBackend();
        using var reference = new ReferenceBackend();
        var r = GradientCheck.CrossBackend(cpu, reference, config, batch, 11);
        Assert.True(r.Passed, $"{r.Check}: worst {r.WorstAt}, {r.WorstError:G3} x its tolerance");
    }
}
