// Smoke tests of the interpreter as a whole: a grid-stride saxpy matches C#'s fused multiply-add bit for bit over
// 100000 elements and over grids smaller than the data; the module's structure (parameters, offsets) is parsed.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests;

public sealed class BasicsTests
{
    [Theory]
    [InlineData(100_000, 391, 256)]
    [InlineData(1000, 3, 96)]   // grid-stride: each thread handles several elements; 96 threads = 3 warps
    [InlineData(37, 1, 33)]     // a partial last warp and a bounds check
    public void SaxpyMatchesFusedMultiplyAdd(int n, int blocks, int threads)
    {
        var rng = new Random(n);
        var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        const float a = 1.7f;
        var gpu = new PtxMachine();
        var dx = gpu.Upload(x);
        var dy = gpu.Upload(y);
        var stats = gpu.Launch(TestKernels.Load("basics/saxpy.ptx"), "saxpy", new Dim3(blocks), new Dim3(threads), 0, dx, dy, a, (uint)n);
        var result = gpu.Read<float>(dy, n);
        for (int i = 0; i < n; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(MathF.FusedMultiplyAdd(a, x[i], y[i])), BitConverter.SingleToInt32Bits(result[i]));
        Assert.Equal(blocks, stats.Blocks);
        Assert.True(stats.ThreadInstructions >= 10L * n, $"{stats.ThreadInstructions} thread instructions for {n} elements");
    }

    [Fact]
    public void ParametersAreLaidOutAtTheirAlignedOffsets()
    {
        var k = TestKernels.Load("basics/saxpy.ptx").GetKernel("saxpy");
        Assert.Equal(["x", "y", "a", "n"], k.Parameters.Select(p => p.Name));
        Assert.Equal([0, 8, 16, 20], k.Parameters.Select(p => p.Offset));
        Assert.Equal(24, k.ParameterBytes);
    }

    [Fact]
    public void WrongArgumentsAreRejectedBeforeRunning()
    {
        var module = TestKernels.Load("basics/saxpy.ptx");
        var gpu = new PtxMachine();
        var p = gpu.Upload(new float[4]);
        var e = Assert.Throws<ArgumentException>(() => gpu.Launch(module, "saxpy", new Dim3(1), new Dim3(32), 0, p, p, 1f));
        Assert.Contains("takes 4 argument(s)", e.Message);
        e = Assert.Throws<ArgumentException>(() => gpu.Launch(module, "saxpy", new Dim3(1), new Dim3(32), 0, p, p, 1.0, 4u));
        Assert.Contains("(a)", e.Message);
        e = Assert.Throws<ArgumentException>(() => gpu.Launch(module, "saxpy", new Dim3(1), new Dim3(32), 0, p, p, 1, 4u));
        Assert.Contains("declared .f32", e.Message);
    }
}

public sealed class BlockSumTests
{
    [Theory]
    [InlineData(100_000, 256)]
    [InlineData(1000, 64)]
    [InlineData(5, 128)]
    public void BlockSumsAddUpToTheTotal(int n, int threads)
    {
        var rng = new Random(7);
        // Small integers: every partial sum is exact in float, so the order of additions does not matter.
        var x = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-8, 9)).ToArray();
        var gpu = new PtxMachine();
        var dx = gpu.Upload(x);
        var dout = gpu.Upload(new float[1]);
        int blocks = (n + threads - 1) / threads;
        var stats = gpu.Launch(TestKernels.Load("basics/block_sum.ptx"), "block_sum", new Dim3(blocks), new Dim3(threads), 0, dx, dout, (uint)n);
        Assert.Equal(x.Sum(), gpu.Read<float>(dout, 1)[0]);
        Assert.True(stats.BarriersCompleted >= blocks, $"{stats.BarriersCompleted} barriers for {blocks} blocks");
    }
}
