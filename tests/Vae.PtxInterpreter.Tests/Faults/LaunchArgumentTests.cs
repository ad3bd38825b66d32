// Launches whose arguments do not match the kernel's .param declarations (count, size, kind, array length), name no
// kernel, or ask for an impossible configuration (too many threads per block, too much shared memory) fail with
// ArgumentException before anything runs.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Faults;

public class LaunchArgumentTests
{
    // saxpy_grid_stride(.u64 p_x, .u64 p_y, .f32 p_a, .u32 p_n)
    private static void AssertRejected(Func<DevicePointer, DevicePointer, object[]> arguments, string? namesParameter = null)
    {
        var gpu = new PtxMachine();
        float[] y = { 1f, 2f, 3f, 4f };
        DevicePointer dx = gpu.Upload<float>(new[] { 1f, 1f, 1f, 1f }), dy = gpu.Upload<float>(y);
        PtxModule module = TestKernels.Load("execution/saxpy_grid_stride.ptx");

        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() =>
            gpu.Launch(module, "saxpy_grid_stride", new Dim3(1), new Dim3(32), 0, arguments(dx, dy)));

        if (namesParameter is not null)
            Assert.Contains(namesParameter, ex.Message, StringComparison.Ordinal);
        Assert.Equal(y, gpu.Read<float>(dy, 4));   // nothing ran
    }

    [Fact]
    public void Too_few_arguments_are_rejected() => AssertRejected((x, y) => new object[] { x, y, 2f });

    [Fact]
    public void Too_many_arguments_are_rejected() => AssertRejected((x, y) => new object[] { x, y, 2f, 4u, 4u });

    [Fact]
    public void A_32_bit_integer_for_a_pointer_parameter_is_rejected() =>
        AssertRejected((x, y) => new object[] { 0u, y, 2f, 4u }, "p_x");

    [Fact]
    public void A_double_for_an_f32_parameter_is_rejected() =>
        AssertRejected((x, y) => new object[] { x, y, 2.0, 4u }, "p_a");

    [Fact]
    public void A_64_bit_integer_for_a_u32_parameter_is_rejected() =>
        AssertRejected((x, y) => new object[] { x, y, 2f, 4L }, "p_n");

    [Fact]
    public void An_unsupported_argument_type_is_rejected() =>
        AssertRejected((x, y) => new object[] { x, y, 2f, "4" }, "p_n");

    [Fact]
    public void A_byte_array_of_the_wrong_length_for_a_b8_array_parameter_is_rejected()
    {
        var gpu = new PtxMachine();
        PtxModule module = TestKernels.Load("execution/memory_spaces.ptx");

        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => gpu.Launch(module, "param_reads", new Dim3(1),
            new Dim3(1), 0, gpu.Allocate(13 * 4), 1u, 2UL, 3f, 4.0, (ushort)5, new byte[15]));

        Assert.Contains("p_blob", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kernel_name_is_rejected()
    {
        var gpu = new PtxMachine();
        PtxModule module = TestKernels.Load("execution/saxpy_grid_stride.ptx");

        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => gpu.Launch(module, "saxpy", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(16), gpu.Allocate(16), 2f, 4u));

        Assert.Contains("saxpy_grid_stride", ex.Message, StringComparison.Ordinal);   // lists the kernels there are
    }

    [Theory]
    [InlineData(1025, 1, 1)]
    [InlineData(32, 32, 2)]
    [InlineData(0, 1, 1)]
    public void A_block_of_no_threads_or_more_than_1024_is_rejected(int x, int y, int z)
    {
        var gpu = new PtxMachine();
        PtxModule module = TestKernels.Load("execution/saxpy_grid_stride.ptx");

        Assert.ThrowsAny<ArgumentException>(() => gpu.Launch(module, "saxpy_grid_stride", new Dim3(1), new Dim3(x, y, z),
            0, gpu.Allocate(16), gpu.Allocate(16), 2f, 0u));
    }

    [Fact]
    public void Dynamic_shared_memory_over_the_per_block_limit_is_rejected()
    {
        var gpu = new PtxMachine();
        PtxModule module = TestKernels.Load("execution/memory_spaces.ptx");

        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => gpu.Launch(module, "dynamic_shared_reverse",
            new Dim3(1), new Dim3(32), gpu.Options.MaxSharedBytesPerBlock + 4, gpu.Allocate(128), gpu.Allocate(128)));

        Assert.Contains("dynamic_shared_reverse", ex.Message, StringComparison.Ordinal);
    }
}
