// Warp collectives against models written from the PTX ISA: shfl.sync in all four modes with the clamp/segment
// operand c and the predicate output, shfl.sync under a partial member mask, vote.sync, redux.sync, %activemask and
// bar.warp.sync.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class WarpCollectiveTests
{
    private static PtxModule Module => TestKernels.Load("execution/warp_collectives.ptx");

    /// <summary>
    /// shfl.sync per the PTX ISA: bval = b[4:0], cval = c[4:0], segmask = c[12:8];
    /// maxLane = (lane &amp; segmask) | (cval &amp; ~segmask), minLane = lane &amp; segmask;
    /// up: j = lane - bval, p = j &gt;= maxLane; down: j = lane + bval, p = j &lt;= maxLane;
    /// bfly: j = lane ^ bval, p = j &lt;= maxLane; idx: j = minLane | (bval &amp; ~segmask), p = j &lt;= maxLane;
    /// if !p then j = lane. Returns the source lane and p.
    /// </summary>
    internal static (int Source, bool InRange) ShuffleSource(string mode, int lane, uint b, uint c)
    {
        int bval = (int)(b & 31), cval = (int)(c & 31), segmask = (int)((c >> 8) & 31);
        int maxLane = (lane & segmask) | (cval & ~segmask);
        int minLane = lane & segmask;
        int j;
        bool p;
        switch (mode)
        {
            case "up": j = lane - bval; p = j >= maxLane; break;
            case "down": j = lane + bval; p = j <= maxLane; break;
            case "bfly": j = lane ^ bval; p = j <= maxLane; break;
            case "idx": j = minLane | (bval & ~segmask); p = j <= maxLane; break;
            default: throw new ArgumentOutOfRangeException(nameof(mode));
        }
        return (p ? j : lane, p);
    }

    [Theory]
    [InlineData(1u, 0x1Fu)]
    [InlineData(3u, 0x1Fu)]
    [InlineData(16u, 0x1Fu)]
    [InlineData(0u, 0x1Fu)]
    [InlineData(31u, 0x1Fu)]
    [InlineData(1u, 0x0u)]        // the c that __shfl_up_sync uses for width 32
    [InlineData(5u, 0x1C1Fu)]     // segments of 4 lanes (width 4)
    [InlineData(4u, 0x1C1Fu)]     // bfly across the segment boundary: only the upper half of each pair stays in range
    [InlineData(2u, 0x1800u)]     // width 8, as __shfl_up_sync packs it
    [InlineData(7u, 0x181Fu)]     // width 8, as the other modes pack it
    [InlineData(1u, 0x0010u)]     // no segments, clamp at lane 16
    [InlineData(2u, 0x1C01u)]     // width 4, clamp 1 inside each segment
    [InlineData(3u, 0x0004u)]     // up with clamp 4
    public void Shfl_sync_all_four_modes_follow_the_isa_source_lane_rule(uint b, uint c)
    {
        const int n = 64;   // two warps: lanes only ever read their own warp
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(8 * 4 * n);

        gpu.Launch(Module, "shfl_modes", new Dim3(1), new Dim3(n), 0, output, b, c);

        uint[] got = gpu.Read<uint>(output, 8 * n);
        string[] modes = { "up", "down", "bfly", "idx" };
        for (int t = 0; t < n; t++)
        {
            int warpBase = t / 32 * 32, lane = t % 32;
            for (int k = 0; k < 4; k++)
            {
                (int source, bool inRange) = ShuffleSource(modes[k], lane, b, c);
                uint expectedValue = (uint)(1000 * (warpBase + source) + 7);
                Assert.True(expectedValue == got[8 * t + 2 * k],
                    $"shfl.{modes[k]} b={b} c=0x{c:x} lane {lane}: d = {got[8 * t + 2 * k]}, expected {expectedValue} (from lane {source})");
                Assert.True((inRange ? 1u : 0u) == got[8 * t + 2 * k + 1],
                    $"shfl.{modes[k]} b={b} c=0x{c:x} lane {lane}: p = {got[8 * t + 2 * k + 1]}, expected {inRange}");
            }
        }
    }

    [Fact]
    public void Shfl_sync_with_a_partial_member_mask_in_divergent_code()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(2 * 4 * 32);
        gpu.Memset32(output, 0xEEEEEEEE, 64);

        gpu.Launch(Module, "shfl_partial_mask", new Dim3(1), new Dim3(32), 0, output);

        uint[] got = gpu.Read<uint>(output, 64);
        static uint A(int lane) => (uint)(11 * lane + 5);
        for (int lane = 0; lane < 32; lane++)
        {
            if (lane >= 16)
            {
                Assert.Equal(0xEEEEEEEEu, got[2 * lane]);
                Assert.Equal(0xEEEEEEEEu, got[2 * lane + 1]);
                continue;
            }
            Assert.Equal(A(ShuffleSource("idx", lane, 3, 0x1F).Source), got[2 * lane]);
            Assert.Equal(A(ShuffleSource("down", lane, 1, 0x0F).Source), got[2 * lane + 1]);
        }
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(32u)]
    [InlineData(40u)]
    [InlineData(48u)]
    public void Vote_sync_all_any_uni_and_ballot_over_full_and_partial_warps(uint k)
    {
        const int n = 48;   // warps of 32 and 16 lanes; the member mask is %activemask
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(6 * 4 * n);

        gpu.Launch(Module, "vote_kernel", new Dim3(1), new Dim3(n), 0, output, k);

        uint[] got = gpu.Read<uint>(output, 6 * n);
        for (int t = 0; t < n; t++)
        {
            int warpBase = t / 32 * 32;
            int lanes = Math.Min(32, n - warpBase);
            uint members = lanes == 32 ? 0xFFFFFFFF : (1u << lanes) - 1;
            uint ballot = 0;
            for (int lane = 0; lane < lanes; lane++)
                if (warpBase + lane < k)
                    ballot |= 1u << lane;
            uint[] expected =
            {
                members,
                ballot == members ? 1u : 0u,
                ballot != 0 ? 1u : 0u,
                ballot == members || ballot == 0 ? 1u : 0u,
                ballot,
                members & ~ballot,
            };
            uint[] actual = got.AsSpan(6 * t, 6).ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"k={k} thread {t}: expected [{string.Join(",", expected.Select(v => $"0x{v:x}"))}], got [{string.Join(",", actual.Select(v => $"0x{v:x}"))}]");
        }
    }

    [Theory]
    [InlineData(48, 51)]
    [InlineData(64, 52)]
    [InlineData(7, 53)]
    public void Redux_sync_add_min_max_and_or_xor_over_the_active_lanes(int n, int seed)
    {
        var rng = new Random(seed);
        var values = new int[n];
        for (int i = 0; i < n; i++)
            values[i] = rng.Next(int.MinValue, int.MaxValue);
        values[0] = -1;   // the largest u32 and a negative s32
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(9 * 4 * n);

        gpu.Launch(Module, "redux_kernel", new Dim3(1), new Dim3(n), 0, gpu.Upload<int>(values), output);

        uint[] got = gpu.Read<uint>(output, 9 * n);
        for (int t = 0; t < n; t++)
        {
            int warpBase = t / 32 * 32;
            int[] warp = values[warpBase..Math.Min(n, warpBase + 32)];
            uint sum = 0, minU = uint.MaxValue, maxU = 0, and = 0xFFFFFFFF, or = 0, xor = 0;
            int minS = int.MaxValue, maxS = int.MinValue;
            foreach (int v in warp)
            {
                uint u = unchecked((uint)v);
                sum = unchecked(sum + u);
                minU = Math.Min(minU, u);
                maxU = Math.Max(maxU, u);
                minS = Math.Min(minS, v);
                maxS = Math.Max(maxS, v);
                and &= u;
                or |= u;
                xor ^= u;
            }
            uint[] expected = { sum, minU, maxU, sum, unchecked((uint)minS), unchecked((uint)maxS), and, or, xor };
            uint[] actual = got.AsSpan(9 * t, 9).ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"thread {t}: expected [{string.Join(",", expected.Select(v => $"0x{v:x}"))}], got [{string.Join(",", actual.Select(v => $"0x{v:x}"))}]");
        }
    }

    [Fact]
    public void Bar_warp_sync_orders_shared_memory_within_a_warp()
    {
        const int n = 64;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4 * n);

        gpu.Launch(Module, "warp_sync_exchange", new Dim3(1), new Dim3(n), 0, output);

        uint[] got = gpu.Read<uint>(output, n);
        for (int t = 0; t < n; t++)
        {
            int source = (t & ~31) | ((t + 1) & 31);
            Assert.Equal((uint)(5 * source + 1), got[t]);
        }
    }
}
