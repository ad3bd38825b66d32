// CTA barriers: bar.sync 0 and barrier.sync 0 ordering shared memory between warps, barriers after whole warps or
// some lanes have exited (no deadlock: exited threads no longer count), and a bar.arrive / bar.sync producer and
// consumer on named barrier 1 with a thread count.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class BarrierTests
{
    private static PtxModule Module => TestKernels.Load("execution/barriers.ptx");

    private static uint[] Run(string kernel, int threads)
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4L * threads);
        gpu.Memset32(output, 0xEEEEEEEE, threads);
        gpu.Launch(Module, kernel, new Dim3(1), new Dim3(threads), 0, output);
        return gpu.Read<uint>(output, threads);
    }

    [Theory]
    [InlineData("bar_sync_rotate", 37)]
    [InlineData("barrier_sync_rotate", 91)]
    public void Barrier_makes_every_warps_shared_writes_visible_to_all(string kernel, int rotation)
    {
        uint[] got = Run(kernel, 128);
        for (int t = 0; t < 128; t++)
            Assert.Equal((uint)(3 * ((t + rotation) % 128) + 1), got[t]);
    }

    [Fact]
    public void Bar_sync_after_whole_warps_exited_does_not_deadlock()
    {
        uint[] got = Run("bar_sync_after_warps_exit", 128);
        for (int t = 0; t < 128; t++)
            Assert.Equal(t < 64 ? (uint)(63 - t + 5) : 0xEEEEEEEE, got[t]);
    }

    [Fact]
    public void Barrier_sync_after_some_lanes_exited_does_not_deadlock()
    {
        uint[] got = Run("barrier_sync_after_lanes_exit", 64);
        for (int t = 0; t < 64; t++)
            Assert.Equal(t % 32 < 24 ? (uint)(2 * (t ^ 32) + 9) : 0xEEEEEEEE, got[t]);
    }

    [Fact]
    public void Bar_arrive_and_bar_sync_with_a_thread_count_hand_data_from_producer_to_consumer()
    {
        uint[] got = Run("producer_consumer", 64);
        for (int i = 0; i < 32; i++)
            Assert.Equal((uint)(i * i + 3 + 1), got[i]);
        for (int i = 32; i < 64; i++)
            Assert.Equal(0xEEEEEEEEu, got[i]);
    }
}
