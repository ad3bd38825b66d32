// Shared-memory races between warps of a block: a tree reduction with its in-loop bar.sync removed, a read after
// another warp's write, a write after another warp's read and two warps writing one word, all without a barrier;
// the same kernels with the barrier put back, which must run cleanly and give the right answer; and lanes of one warp
// exchanging data without bar.warp.sync (its fixed twin is WarpCollectiveTests' bar.warp.sync exchange).
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using static Vae.PtxInterpreter.Tests.Faults.FaultAssert;

namespace Vae.PtxInterpreter.Tests.Faults;

public class SharedRaceTests
{
    private const string File = "faults/races.ptx";

    private static float[] Data()
    {
        var rng = new Random(91);
        var a = new float[256];
        for (int i = 0; i < a.Length; i++)
            a[i] = (float)rng.NextDouble();
        return a;
    }

    // Which access of a racing pair comes second (and is reported) depends on the order the warps run in, which the
    // ISA leaves open: either may be named, with the thread that made it.

    private static Access At(string role, string opcode, int firstThread, int lastThread) =>
        new(LineOf(File, role), opcode, firstThread, lastThread);

    [Fact]
    public void Reduction_without_its_barrier_races()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "reduce_racy", new Dim3(1),
            new Dim3(256), 0, gpu.Upload<float>(Data()), gpu.Allocate(4)));

        // Without the barrier a level reads words another thread writes in another level: any thread may be first to
        // find its partner's access (even within a warp, which needs bar.warp.sync without the barrier).
        MatchesRace(ex, "reduce_racy", new Dim3(0, 0, 0), new Dim3(256),
            At("reduce_racy load", "ld.shared", 0, 127), At("reduce_racy store", "st.shared", 0, 127));
    }

    [Fact]
    public void Reduction_with_its_barrier_runs_and_sums_in_tree_order()
    {
        float[] data = Data();
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4);

        gpu.Launch(TestKernels.Load(File), "reduce_fixed", new Dim3(1), new Dim3(256), 0, gpu.Upload<float>(data), output);

        var s = (float[])data.Clone();
        for (int stride = 128; stride > 0; stride >>= 1)
            for (int t = 0; t < stride; t++)
                s[t] += s[t + stride];
        Assert.Equal(BitConverter.SingleToInt32Bits(s[0]), BitConverter.SingleToInt32Bits(gpu.Read<float>(output, 1)[0]));
    }

    [Fact]
    public void Read_of_another_warps_write_without_a_barrier_races()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "read_after_write_racy", new Dim3(1),
            new Dim3(64), 0, gpu.Allocate(32 * 4)));

        MatchesRace(ex, "read_after_write_racy", new Dim3(0, 0, 0), new Dim3(64),
            At("read_after_write_racy write", "st.shared", 0, 31), At("read_after_write_racy read", "ld.shared", 32, 63));
    }

    [Fact]
    public void Read_of_another_warps_write_after_a_barrier_runs()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(32 * 4);

        gpu.Launch(TestKernels.Load(File), "read_after_write_fixed", new Dim3(1), new Dim3(64), 0, output);

        Assert.Equal(Enumerable.Range(1, 32).Select(v => (uint)v).ToArray(), gpu.Read<uint>(output, 32));
    }

    [Fact]
    public void Overwrite_of_a_word_another_warp_read_without_a_barrier_races()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "write_after_read_racy", new Dim3(1),
            new Dim3(64), 0, gpu.Allocate(32 * 4)));

        MatchesRace(ex, "write_after_read_racy", new Dim3(0, 0, 0), new Dim3(64),
            At("write_after_read_racy read", "ld.shared", 0, 31), At("write_after_read_racy write", "st.shared", 32, 63));
    }

    [Fact]
    public void Overwrite_of_a_word_another_warp_read_after_a_barrier_runs()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(32 * 4);

        gpu.Launch(TestKernels.Load(File), "write_after_read_fixed", new Dim3(1), new Dim3(64), 0, output);

        Assert.Equal(Enumerable.Range(32, 32).Select(t => (uint)(2 * t)).ToArray(), gpu.Read<uint>(output, 32));
    }

    [Fact]
    public void Two_warps_writing_one_word_without_a_barrier_race()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "write_write_racy", new Dim3(1),
            new Dim3(64), 0, gpu.Allocate(4)));

        MatchesRace(ex, "write_write_racy", new Dim3(0, 0, 0), new Dim3(64),
            At("write_write_racy first", "st.shared", 0, 0), At("write_write_racy second", "st.shared", 32, 32));
    }

    [Fact]
    public void Two_warps_writing_one_word_separated_by_a_barrier_run_and_the_later_write_wins()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4);

        gpu.Launch(TestKernels.Load(File), "write_write_fixed", new Dim3(1), new Dim3(64), 0, output);

        Assert.Equal(2u, gpu.Read<uint>(output, 1)[0]);
    }

    [Fact]
    public void Lanes_of_one_warp_exchanging_through_shared_memory_without_bar_warp_sync_race()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "warp_exchange_racy", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        MatchesRace(ex, "warp_exchange_racy", new Dim3(0, 0, 0), new Dim3(32),
            At("warp_exchange_racy write", "st.shared", 0, 31), At("warp_exchange_racy read", "ld.shared", 0, 31));
    }
}
