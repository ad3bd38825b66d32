// Classic kernels with answers computed independently in C#: a shared-memory tree reduction, a warp-shuffle
// reduction, a tiled shared-memory transpose, a grid-stride elementwise kernel (with its launch statistics) and a
// Hillis-Steele prefix scan.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class ClassicKernelTests
{
    private static float[] RandomFloats(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>The kernel's tree order: s[t] += s[t + stride] for stride = 128, 64, ..., 1 over 256 slots.</summary>
    private static float TreeSum(ReadOnlySpan<float> slice)
    {
        var s = new float[256];
        slice.CopyTo(s);
        for (int stride = 128; stride > 0; stride >>= 1)
            for (int t = 0; t < stride; t++)
                s[t] = s[t] + s[t + stride];
        return s[0];
    }

    [Theory]
    [InlineData(1000, 11)]
    [InlineData(256, 12)]
    [InlineData(1, 13)]
    [InlineData(2049, 14)]
    public void Tree_reduction_block_sums_follow_the_tree_order_bit_for_bit(int n, int seed)
    {
        float[] data = RandomFloats(n, seed);
        int blocks = (n + 255) / 256;
        var gpu = new PtxMachine();
        DevicePointer input = gpu.Upload<float>(data);
        DevicePointer blockSums = gpu.Allocate(blocks * 4L);
        DevicePointer total = gpu.Upload<float>(new[] { 0f });

        LaunchStatistics stats = gpu.Launch(TestKernels.Load("execution/reduce_tree.ptx"), "reduce_tree", new Dim3(blocks),
            new Dim3(256), 0, input, blockSums, total, (uint)n);

        // One barrier after the loads and one after each of the 8 levels, in every block.
        Assert.Equal(9L * blocks, stats.BarriersCompleted);
        float[] got = gpu.Read<float>(blockSums, blocks);
        double expectedTotal = 0, magnitude = 0;
        for (int b = 0; b < blocks; b++)
        {
            float expected = TreeSum(data.AsSpan(b * 256, Math.Min(256, n - b * 256)));
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got[b]),
                $"block {b}: expected {expected:R}, got {got[b]:R}");
            expectedTotal += expected;
            magnitude += Math.Abs(expected);
        }
        // The block sums arrive through atom.add.f32 in an unspecified order: allow a rounding error per addition.
        float gotTotal = gpu.Read<float>(total, 1)[0];
        Assert.InRange((double)gotTotal, expectedTotal - 1e-6 * blocks * (magnitude + 1), expectedTotal + 1e-6 * blocks * (magnitude + 1));
    }

    [Fact]
    public void Tree_reduction_total_is_exact_for_exactly_representable_values()
    {
        const int n = 5000;
        var data = new float[n];
        float expected = 0;
        for (int i = 0; i < n; i++)
        {
            data[i] = ((i * 7 % 17) - 8) * 0.25f;   // quarters: every partial sum is exact in any order
            expected += data[i];
        }
        int blocks = (n + 255) / 256;
        var gpu = new PtxMachine();
        DevicePointer total = gpu.Upload<float>(new[] { 10f });

        gpu.Launch(TestKernels.Load("execution/reduce_tree.ptx"), "reduce_tree", new Dim3(blocks), new Dim3(256), 0,
            gpu.Upload<float>(data), gpu.Allocate(blocks * 4L), total, (uint)n);

        Assert.Equal(10f + expected, gpu.Read<float>(total, 1)[0]);
    }

    [Theory]
    [InlineData(1000, 160, 21)]
    [InlineData(1024, 1024, 22)]
    [InlineData(33, 32, 23)]
    public void Warp_shuffle_reduction_matches_the_butterfly_and_tree_orders(int n, int blockSize, int seed)
    {
        float[] data = RandomFloats(n, seed);
        int blocks = (n + blockSize - 1) / blockSize;
        var gpu = new PtxMachine();
        DevicePointer sums = gpu.Allocate(blocks * 4L);

        gpu.Launch(TestKernels.Load("execution/reduce_warp_shuffle.ptx"), "reduce_warp_shuffle", new Dim3(blocks),
            new Dim3(blockSize), 0, gpu.Upload<float>(data), sums, (uint)n);

        float[] got = gpu.Read<float>(sums, blocks);
        int warps = blockSize / 32;
        for (int b = 0; b < blocks; b++)
        {
            var warpSums = new float[32];
            for (int w = 0; w < warps; w++)
            {
                var v = new float[32];
                for (int lane = 0; lane < 32; lane++)
                {
                    int i = b * blockSize + w * 32 + lane;
                    v[lane] = i < n ? data[i] : 0f;
                }
                for (int offset = 16; offset > 0; offset >>= 1)
                {
                    var next = new float[32];
                    for (int lane = 0; lane < 32; lane++)
                        next[lane] = v[lane] + v[lane ^ offset];
                    v = next;
                }
                warpSums[w] = v[0];
            }
            var u = new float[32];
            for (int lane = 0; lane < 32; lane++)
                u[lane] = lane < warps ? warpSums[lane] : 0f;
            for (int offset = 16; offset > 0; offset >>= 1)
            {
                var next = new float[32];
                for (int lane = 0; lane < 32; lane++)
                    next[lane] = u[lane] + (lane + offset <= 31 ? u[lane + offset] : u[lane]);   // out of range: own value
                u = next;
            }
            Assert.True(BitConverter.SingleToInt32Bits(u[0]) == BitConverter.SingleToInt32Bits(got[b]),
                $"block {b}: expected {u[0]:R}, got {got[b]:R}");
        }
    }

    [Theory]
    [InlineData(70, 45)]
    [InlineData(32, 32)]
    [InlineData(33, 1)]
    [InlineData(1, 65)]
    [InlineData(100, 100)]
    public void Tiled_transpose_with_padded_tiles_handles_partial_tiles(int rows, int cols)
    {
        var input = new uint[rows * cols];
        for (int i = 0; i < input.Length; i++)
            input[i] = (uint)(i * 7 + 3);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4L * rows * cols);
        gpu.Memset32(output, 0xDEADBEEF, rows * cols);

        var grid = new Dim3((cols + 31) / 32, (rows + 31) / 32);
        LaunchStatistics s = gpu.Launch(TestKernels.Load("execution/transpose_tiled.ptx"), "transpose_tiled", grid,
            new Dim3(32, 8), 0, gpu.Upload<uint>(input), output, (uint)rows, (uint)cols);

        uint[] got = gpu.Read<uint>(output, rows * cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                Assert.True(input[r * cols + c] == got[c * rows + r], $"out[{c},{r}] = {got[c * rows + r]}, expected {input[r * cols + c]}");
        Assert.Equal(grid.Volume, s.Blocks);
        Assert.Equal(8, s.WarpsPerBlock);
    }

    [Fact]
    public void Grid_stride_saxpy_over_100000_elements_with_sane_statistics()
    {
        const int n = 100_000, blocks = 40, threads = 256;
        const float a = 1.75f;
        float[] x = RandomFloats(n, 31), y = RandomFloats(n, 32);
        var gpu = new PtxMachine();
        DevicePointer dy = gpu.Upload<float>(y);

        LaunchStatistics s = gpu.Launch(TestKernels.Load("execution/saxpy_grid_stride.ptx"), "saxpy_grid_stride",
            new Dim3(blocks), new Dim3(threads), 0, gpu.Upload<float>(x), dy, a, (uint)n);

        float[] got = gpu.Read<float>(dy, n);
        for (int i = 0; i < n; i++)
        {
            float expected = MathF.FusedMultiplyAdd(a, x[i], y[i]);
            if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"y[{i}] = {got[i]:R}, expected fma({a}, {x[i]:R}, {y[i]:R}) = {expected:R}");
        }
        Assert.Equal(blocks, s.Blocks);
        Assert.Equal(threads / 32, s.WarpsPerBlock);
        // Every thread has at least one element (n > blocks * threads): 14 prologue instructions (the last a predicated
        // branch not taken), 10 per element (the last branch of the loop not taken) and ret. Whether predicated-off
        // instructions and ret are counted is the interpreter's choice: between 12 and 15 per thread besides the loops.
        long totalThreads = (long)blocks * threads;
        Assert.InRange(s.ThreadInstructions, 10L * n + 12 * totalThreads, 10L * n + 15 * totalThreads);
        // Full warps that never diverge: one warp instruction for every 32 thread instructions, give or take the
        // predicated-off ones.
        Assert.InRange(s.WarpInstructions, s.ThreadInstructions / 32, s.ThreadInstructions / 32 + 3 * blocks * (threads / 32));
    }

    [Theory]
    [InlineData(537, 200, 41)]
    [InlineData(1024, 1024, 42)]
    [InlineData(5, 64, 43)]
    public void Hillis_Steele_scan_gives_each_block_its_inclusive_prefix_sums(int n, int blockSize, int seed)
    {
        var rng = new Random(seed);
        var input = new int[n];
        for (int i = 0; i < n; i++)
            input[i] = rng.Next(-1000, 1001);
        int blocks = (n + blockSize - 1) / blockSize;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4L * n);

        gpu.Launch(TestKernels.Load("execution/scan_hillis_steele.ptx"), "scan_hillis_steele", new Dim3(blocks),
            new Dim3(blockSize), 2 * blockSize * 4, gpu.Upload<int>(input), output, (uint)n);

        int[] got = gpu.Read<int>(output, n);
        for (int b = 0; b < blocks; b++)
        {
            int running = 0;
            for (int i = b * blockSize; i < Math.Min(n, (b + 1) * blockSize); i++)
            {
                running += input[i];
                Assert.True(running == got[i], $"out[{i}] = {got[i]}, expected {running}");
            }
        }
    }
}
