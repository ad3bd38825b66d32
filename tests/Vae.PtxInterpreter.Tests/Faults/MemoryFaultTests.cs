// Faults of bad memory accesses: global reads and writes one past the end, before the start and far away, shared and
// dynamic shared accesses past the end of the block's shared memory, and a misaligned .v4 load.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using static Vae.PtxInterpreter.Tests.Faults.FaultAssert;

namespace Vae.PtxInterpreter.Tests.Faults;

public class MemoryFaultTests
{
    private const string OutOfBoundsFile = "faults/out_of_bounds.ptx";

    [Fact]
    public void Global_read_one_past_the_end_faults_in_the_last_thread()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(64 * 4);
        DevicePointer input = gpu.Upload<uint>(new uint[63]);   // 64 threads over 2 blocks read 64 words; allocated last
        PtxModule module = TestKernels.Load(OutOfBoundsFile);

        PtxFaultException ex = Throws(() => gpu.Launch(module, "copy_plus_one", new Dim3(2), new Dim3(32), 0, input, output));

        Matches(ex, PtxFaultKind.OutOfBounds, "copy_plus_one", LineOf(OutOfBoundsFile, "copy_plus_one read"),
            "ld.global", block: new Dim3(1, 0, 0), thread: new Dim3(31, 0, 0));
    }

    [Fact]
    public void Global_write_one_past_the_end_faults_in_the_last_thread()
    {
        var gpu = new PtxMachine();
        DevicePointer input = gpu.Upload<uint>(new uint[64]);
        DevicePointer output = gpu.Allocate(63 * 4);   // allocated last, so nothing follows it
        PtxModule module = TestKernels.Load(OutOfBoundsFile);

        PtxFaultException ex = Throws(() => gpu.Launch(module, "copy_plus_one", new Dim3(2), new Dim3(32), 0, input, output));

        Matches(ex, PtxFaultKind.OutOfBounds, "copy_plus_one", LineOf(OutOfBoundsFile, "copy_plus_one write"),
            "st.global", block: new Dim3(1, 0, 0), thread: new Dim3(31, 0, 0));
    }

    [Fact]
    public void Fault_in_a_2d_grid_of_2d_blocks_names_the_threads_and_blocks_coordinates()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(128 * 4);
        DevicePointer input = gpu.Upload<uint>(new uint[127]);   // 4 blocks of 8x4 threads read 128 words

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(OutOfBoundsFile), "copy_plus_one_2d",
            new Dim3(2, 2), new Dim3(8, 4), 0, input, output));

        // Linear index 127 is the last thread (7,3) of the last block (1,1).
        Matches(ex, PtxFaultKind.OutOfBounds, "copy_plus_one_2d", LineOf(OutOfBoundsFile, "copy_plus_one_2d"),
            "ld.global", block: new Dim3(1, 1, 0), thread: new Dim3(7, 3, 0));
    }

    [Theory]
    [InlineData(108L)]          // thread 5 reads word 32 of 32: one past the end
    [InlineData(-24L)]          // the word just before the allocation
    [InlineData(64L << 20)]     // 64 MiB away, past every allocation
    public void Global_read_outside_the_allocation_faults(long offset)
    {
        // The other allocation goes on the far side of the bad address (allocations are assumed to ascend).
        var gpu = new PtxMachine();
        DevicePointer input, output;
        if (offset < 0)
        {
            input = gpu.Upload<uint>(new uint[32]);
            output = gpu.Allocate(32 * 4);
        }
        else
        {
            output = gpu.Allocate(32 * 4);
            input = gpu.Upload<uint>(new uint[32]);
        }
        PtxModule module = TestKernels.Load(OutOfBoundsFile);

        PtxFaultException ex = Throws(() => gpu.Launch(module, "read_with_offset", new Dim3(1), new Dim3(32), 0,
            input, output, 5u, unchecked((ulong)offset)));

        Matches(ex, PtxFaultKind.OutOfBounds, "read_with_offset", LineOf(OutOfBoundsFile, "read_with_offset"),
            "ld.global", block: new Dim3(0, 0, 0), thread: new Dim3(5, 0, 0));
    }

    [Theory]
    [InlineData(4L)]
    [InlineData(8L)]
    public void V4_load_from_an_address_not_16_byte_aligned_faults(long offset)
    {
        var gpu = new PtxMachine();
        DevicePointer input = gpu.Upload<float>(new float[4 * 32 + 4]);
        DevicePointer output = gpu.Allocate(32 * 4);
        PtxModule module = TestKernels.Load(OutOfBoundsFile);

        PtxFaultException ex = Throws(() => gpu.Launch(module, "load_v4", new Dim3(1), new Dim3(32), 0,
            input, output, 2u, (ulong)offset));

        Matches(ex, PtxFaultKind.Misaligned, "load_v4", LineOf(OutOfBoundsFile, "load_v4"),
            "ld.global.v4", block: new Dim3(0, 0, 0), thread: new Dim3(2, 0, 0));
    }

    [Fact]
    public void The_same_v4_load_aligned_runs()
    {
        var input = new float[4 * 32];
        for (int i = 0; i < input.Length; i++)
            input[i] = i * 0.5f;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(32 * 4);

        gpu.Launch(TestKernels.Load(OutOfBoundsFile), "load_v4", new Dim3(1), new Dim3(32), 0,
            gpu.Upload<float>(input), output, 2u, 0UL);

        float[] got = gpu.Read<float>(output, 32);
        for (int t = 0; t < 32; t++)
            Assert.Equal(input[4 * t] + input[4 * t + 1] + input[4 * t + 2] + input[4 * t + 3], got[t]);
    }

    [Fact]
    public void Shared_store_one_past_the_only_shared_array_faults()
    {
        const string file = "faults/shared_oob.ptx";
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(file), "shared_write_past_end", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        Matches(ex, PtxFaultKind.OutOfBounds, "shared_write_past_end", LineOf(file, "shared_write_past_end"),
            "st.shared", block: new Dim3(0, 0, 0), thread: new Dim3(31, 0, 0));
    }

    [Fact]
    public void Dynamic_shared_store_past_the_launch_size_faults()
    {
        const string file = "faults/dynamic_shared_oob.ptx";
        var gpu = new PtxMachine();

        // 128 dynamic bytes hold 32 words; thread 32 stores the 33rd.
        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(file), "dynamic_shared_store", new Dim3(1),
            new Dim3(40), 128, gpu.Allocate(40 * 4)));

        Matches(ex, PtxFaultKind.OutOfBounds, "dynamic_shared_store", LineOf(file, "dynamic_shared_store"),
            "st.shared", block: new Dim3(0, 0, 0), thread: new Dim3(32, 0, 0));
    }

    [Fact]
    public void Dynamic_shared_store_within_the_launch_size_runs()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(40 * 4);

        gpu.Launch(TestKernels.Load("faults/dynamic_shared_oob.ptx"), "dynamic_shared_store", new Dim3(1),
            new Dim3(40), 160, output);

        Assert.Equal(Enumerable.Range(0, 40).Select(t => (uint)t).ToArray(), gpu.Read<uint>(output, 40));
    }
}
