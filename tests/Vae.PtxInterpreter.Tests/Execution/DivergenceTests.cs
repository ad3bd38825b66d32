// Divergence and reconvergence: if/else on lane parity, nested if/else (with %activemask inside each branch and after
// the join), a loop whose trip count depends on the thread, an early ret of some lanes followed by the others' work,
// and bra.uni on a block-uniform condition.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class DivergenceTests
{
    private static PtxModule Module => TestKernels.Load("execution/divergence.ptx");

    [Fact]
    public void If_else_on_lane_parity_writes_each_side_its_own_value()
    {
        const int n = 128;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4 * n);

        gpu.Launch(Module, "parity_if_else", new Dim3(2), new Dim3(64), 0, output);

        uint[] got = gpu.Read<uint>(output, n);
        for (int i = 0; i < n; i++)
            Assert.Equal(i % 2 == 1 ? (uint)(3 * i + 1) : (uint)(1000 - i), got[i]);
    }

    private static int NestedBranch(int t) => (t & 3) switch
    {
        0 => 0,
        1 => 1,
        _ => (t & 7) >= 6 ? 2 : 3,
    };

    [Fact]
    public void Nested_divergence_runs_each_branch_with_exactly_its_lanes_and_reconverges()
    {
        const int n = 64;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(3 * 4 * n);

        gpu.Launch(Module, "nested_divergence", new Dim3(1), new Dim3(n), 0, output);

        uint[] got = gpu.Read<uint>(output, 3 * n);
        for (int t = 0; t < n; t++)
        {
            int branch = NestedBranch(t);
            uint branchMask = 0;
            for (int lane = 0; lane < 32; lane++)
                if (NestedBranch(lane) == branch)
                    branchMask |= 1u << lane;
            Assert.Equal((uint)(10 * t + branch), got[3 * t]);
            Assert.True(branchMask == got[3 * t + 1], $"thread {t} (branch {branch}): activemask 0x{got[3 * t + 1]:x8}, expected 0x{branchMask:x8}");
            Assert.True(got[3 * t + 2] == 0xFFFFFFFF, $"thread {t}: activemask after the join 0x{got[3 * t + 2]:x8}");
        }
    }

    [Fact]
    public void Loops_with_per_thread_trip_counts_give_each_thread_its_count_then_reconverge()
    {
        const int blocks = 2, blockSize = 40, n = blocks * blockSize;   // a partial second warp of 8 lanes per block
        var gpu = new PtxMachine();
        DevicePointer steps = gpu.Allocate(4 * n), masks = gpu.Allocate(4 * n);

        gpu.Launch(Module, "collatz_steps", new Dim3(blocks), new Dim3(blockSize), 0, steps, masks);

        uint[] gotSteps = gpu.Read<uint>(steps, n), gotMasks = gpu.Read<uint>(masks, n);
        for (int i = 0; i < n; i++)
        {
            long v = i + 1;
            uint count = 0;
            while (v != 1)
            {
                v = v % 2 == 0 ? v / 2 : 3 * v + 1;
                count++;
            }
            Assert.True(count == gotSteps[i], $"steps[{i}] = {gotSteps[i]}, expected {count}");
            int warp = i % blockSize / 32;
            int lanesInWarp = Math.Min(32, blockSize - warp * 32);
            uint mask = lanesInWarp == 32 ? 0xFFFFFFFF : (1u << lanesInWarp) - 1;
            Assert.True(mask == gotMasks[i], $"mask[{i}] = 0x{gotMasks[i]:x8}, expected 0x{mask:x8}");
        }
    }

    [Fact]
    public void Lanes_that_return_early_leave_the_others_working_with_a_smaller_active_mask()
    {
        const int n = 50;   // warps of 32 and 18 lanes
        var gpu = new PtxMachine();
        DevicePointer exited = gpu.Allocate(4 * n), square = gpu.Allocate(4 * n), mask = gpu.Allocate(4 * n), sum = gpu.Allocate(4 * n);
        foreach (DevicePointer p in new[] { exited, square, mask, sum })
            gpu.Memset32(p, 0xEEEEEEEE, n);

        gpu.Launch(Module, "early_exit", new Dim3(1), new Dim3(n), 0, exited, square, mask, sum);

        uint[] gotExited = gpu.Read<uint>(exited, n), gotSquare = gpu.Read<uint>(square, n);
        uint[] gotMask = gpu.Read<uint>(mask, n), gotSum = gpu.Read<uint>(sum, n);
        for (int t = 0; t < n; t++)
        {
            if (t % 3 == 0)
            {
                Assert.Equal(1u, gotExited[t]);
                Assert.Equal(0xEEEEEEEEu, gotSquare[t]);
                Assert.Equal(0xEEEEEEEEu, gotMask[t]);
                Assert.Equal(0xEEEEEEEEu, gotSum[t]);
                continue;
            }
            uint expectedMask = 0, expectedSum = 0;
            int warpBase = t / 32 * 32;
            for (int u = warpBase; u < Math.Min(n, warpBase + 32); u++)
            {
                if (u % 3 == 0)
                    continue;
                expectedMask |= 1u << (u - warpBase);
                expectedSum += (uint)u;
            }
            Assert.Equal(0xEEEEEEEEu, gotExited[t]);
            Assert.Equal((uint)(t * t), gotSquare[t]);
            Assert.True(expectedMask == gotMask[t], $"thread {t}: activemask 0x{gotMask[t]:x8}, expected 0x{expectedMask:x8}");
            Assert.True(expectedSum == gotSum[t], $"thread {t}: redux.sync.add {gotSum[t]}, expected {expectedSum}");
        }
    }

    [Fact]
    public void Bra_uni_on_a_block_uniform_condition_picks_each_blocks_path()
    {
        const int blocks = 4, blockSize = 32;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4 * blocks * blockSize);

        gpu.Launch(Module, "uniform_branch", new Dim3(blocks), new Dim3(blockSize), 0, output);

        uint[] got = gpu.Read<uint>(output, blocks * blockSize);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < blockSize; t++)
                Assert.Equal(b % 2 == 1 ? (uint)(7777 - t) : (uint)(100 * b + t), got[b * blockSize + t]);
    }
}
