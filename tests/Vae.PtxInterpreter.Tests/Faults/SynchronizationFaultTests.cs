// Faults of misused synchronisation: a barrier reached by only part of a warp, two warps waiting on different
// barriers (deadlock), and shfl.sync member masks that name exited or absent lanes or omit the executing lane.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using static Vae.PtxInterpreter.Tests.Faults.FaultAssert;

namespace Vae.PtxInterpreter.Tests.Faults;

public class SynchronizationFaultTests
{
    private const string BarrierFile = "faults/barriers.ptx";
    private const string ShuffleFile = "faults/shuffle.ptx";

    [Fact]
    public void Bar_sync_inside_if_tid_below_16_is_a_divergent_barrier()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(BarrierFile), "divergent_barrier", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.DivergentBarrier, "divergent_barrier",
            new[] { LineOf(BarrierFile, "divergent_barrier") }, "bar", new Dim3(0, 0, 0), new Dim3(32), 0, 31);
    }

    [Fact]
    public void Warps_waiting_on_different_barriers_deadlock()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(BarrierFile), "mismatched_barriers", new Dim3(1),
            new Dim3(64), 0, gpu.Allocate(64 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.BarrierDeadlock, "mismatched_barriers",
            new[] { LineOf(BarrierFile, "mismatched_barriers first"), LineOf(BarrierFile, "mismatched_barriers second") },
            "bar", new Dim3(0, 0, 0), new Dim3(64), 0, 63);
    }

    [Fact]
    public void Shfl_sync_whose_mask_names_exited_lanes_faults()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(ShuffleFile), "shuffle_with_exited_lanes",
            new Dim3(1), new Dim3(32), 0, gpu.Allocate(32 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.ShuffleMask, "shuffle_with_exited_lanes",
            new[] { LineOf(ShuffleFile, "shuffle_with_exited_lanes") }, "shfl.sync", new Dim3(0, 0, 0), new Dim3(32), 0, 15);
    }

    [Fact]
    public void Shfl_sync_whose_mask_omits_the_executing_lanes_faults()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(ShuffleFile), "shuffle_mask_omits_self",
            new Dim3(1), new Dim3(32), 0, gpu.Allocate(32 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.ShuffleMask, "shuffle_mask_omits_self",
            new[] { LineOf(ShuffleFile, "shuffle_mask_omits_self") }, "shfl.sync", new Dim3(0, 0, 0), new Dim3(32), 16, 31);
    }

    [Fact]
    public void Shfl_sync_with_a_full_mask_in_a_partial_warp_faults()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(ShuffleFile), "shuffle_full_mask",
            new Dim3(1), new Dim3(20), 0, gpu.Allocate(20 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.ShuffleMask, "shuffle_full_mask",
            new[] { LineOf(ShuffleFile, "shuffle_full_mask") }, "shfl.sync", new Dim3(0, 0, 0), new Dim3(20), 0, 19);
    }

    [Fact]
    public void Shfl_sync_with_a_full_mask_in_a_full_warp_runs()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(64 * 4);

        gpu.Launch(TestKernels.Load(ShuffleFile), "shuffle_full_mask", new Dim3(1), new Dim3(64), 0, output);

        // shfl.down by 1 with c = 0x1f: lane 31 of each warp keeps its own value.
        uint[] got = gpu.Read<uint>(output, 64);
        for (int t = 0; t < 64; t++)
            Assert.Equal((uint)(t % 32 == 31 ? t : t + 1), got[t]);
    }
}
