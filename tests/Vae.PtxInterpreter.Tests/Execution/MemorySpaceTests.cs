// Memory spaces: dynamic shared memory sized at launch, function-scope static shared arrays, generic addressing
// (cvta.shared / cvta.to.shared, plain ld/st on shared, global and local addresses), per-thread .local arrays,
// .param reads of every scalar kind and of a .b8 array parameter, and .v2/.v4 vector accesses.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class MemorySpaceTests
{
    private static PtxModule Module => TestKernels.Load("execution/memory_spaces.ptx");

    [Theory]
    [InlineData(3, 100)]
    [InlineData(2, 64)]
    [InlineData(1, 1024)]
    public void Dynamic_shared_memory_sized_at_launch_reverses_each_block(int blocks, int blockSize)
    {
        int n = blocks * blockSize;
        var input = new uint[n];
        var rng = new Random(71);
        for (int i = 0; i < n; i++)
            input[i] = (uint)rng.Next();
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4L * n);

        gpu.Launch(Module, "dynamic_shared_reverse", new Dim3(blocks), new Dim3(blockSize), 4 * blockSize,
            gpu.Upload<uint>(input), output);

        uint[] got = gpu.Read<uint>(output, n);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < blockSize; t++)
                Assert.Equal(input[b * blockSize + blockSize - 1 - t], got[b * blockSize + t]);
    }

    [Fact]
    public void Static_shared_arrays_in_function_scope_are_distinct_and_counted()
    {
        PtxKernel kernel = Module.Kernels.Single(k => k.Name == "static_shared_arrays");
        Assert.Equal(64 * 4 + 32 * 8, kernel.StaticSharedBytes);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(2 * 4 * 64);

        gpu.Launch(Module, "static_shared_arrays", new Dim3(1), new Dim3(64), 0, output);

        uint[] got = gpu.Read<uint>(output, 128);
        for (int t = 0; t < 64; t++)
        {
            Assert.Equal((uint)(7 * (63 - t)), got[2 * t]);
            Assert.Equal((uint)(5 + t / 2), got[2 * t + 1]);   // low word 5 plus high word t / 2 of b[t / 2]
        }
    }

    [Fact]
    public void Generic_addresses_reach_shared_and_global_memory()
    {
        var input = new uint[32];
        for (int t = 0; t < 32; t++)
            input[t] = (uint)(t * t % 13);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(3 * 4 * 32);

        gpu.Launch(Module, "generic_addressing", new Dim3(1), new Dim3(32), 0, gpu.Upload<uint>(input), output);

        uint[] got = gpu.Read<uint>(output, 96);
        uint Slot(int s) => (uint)(11 * s) + input[s];
        for (int t = 0; t < 32; t++)
        {
            Assert.Equal(Slot(31 - t), got[3 * t]);
            Assert.Equal(Slot((t + 1) % 32), got[3 * t + 1]);
            Assert.Equal(Slot((t + 5) % 32), got[3 * t + 2]);
        }
    }

    [Fact]
    public void Local_arrays_are_private_to_each_thread()
    {
        const int blocks = 2, blockSize = 48, n = blocks * blockSize;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(2 * 4 * n);

        gpu.Launch(Module, "local_array", new Dim3(blocks), new Dim3(blockSize), 0, output);

        uint[] got = gpu.Read<uint>(output, 2 * n);
        for (int i = 0; i < n; i++)
        {
            var buf = new uint[16];
            uint sum = 0;
            for (int k = 0; k < 16; k++)
                buf[k] = (uint)((i + 1) * (k + 1) + k);
            for (int k = 0; k < 16; k++)
                sum += buf[k] * (uint)(16 - k);
            Assert.Equal(sum, got[2 * i]);
            Assert.Equal(buf[3], got[2 * i + 1]);
        }
    }

    [Fact]
    public void Param_reads_of_scalars_and_a_byte_array_parameter()
    {
        const uint a = 0xDEADBEEF;
        const ulong b = 0x0123456789ABCDEF;
        const float c = 3.25f;
        const double d = -1.5e300;
        const ushort h = 0xBEEF;
        var blob = new byte[16];
        BitConverter.GetBytes(0x11223344u).CopyTo(blob, 0);
        blob[4] = 0x55;
        blob[5] = 0xF0;
        blob[6] = 0x85;   // negative as s8
        blob[7] = 0x66;
        BitConverter.GetBytes(0x0A0B0C0D0E0F1011UL).CopyTo(blob, 8);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(13 * 4);

        gpu.Launch(Module, "param_reads", new Dim3(1), new Dim3(1), 0, output, a, b, c, d, h, blob);

        uint[] got = gpu.Read<uint>(output, 13);
        ulong dBits = (ulong)BitConverter.DoubleToInt64Bits(d);
        uint[] expected =
        {
            a, unchecked((uint)b), (uint)(b >> 32),
            (uint)BitConverter.SingleToInt32Bits(c), (uint)BitConverter.SingleToInt32Bits(c + c),
            (uint)dBits, (uint)(dBits >> 32),
            h,
            BitConverter.ToUInt32(blob, 0), blob[5],
            (uint)BitConverter.ToUInt64(blob, 8), (uint)(BitConverter.ToUInt64(blob, 8) >> 32),
            unchecked((uint)(sbyte)blob[6]),
        };
        Assert.Equal(expected, got);
    }

    [Fact]
    public void Vector_loads_and_stores_v2_and_v4_on_global_and_shared()
    {
        const int n = 32;
        var rng = new Random(81);
        var in4 = new float[4 * n];
        for (int i = 0; i < in4.Length; i++)
            in4[i] = (float)rng.NextDouble();
        var in2 = new ulong[2 * n];
        for (int i = 0; i < in2.Length; i++)
            in2[i] = ((ulong)(uint)rng.Next() << 32) | (uint)rng.Next();
        var gpu = new PtxMachine();
        DevicePointer out4 = gpu.Allocate(16 * n), out2 = gpu.Allocate(16 * n), sums = gpu.Allocate(4 * n);

        gpu.Launch(Module, "vector_access", new Dim3(1), new Dim3(n), 0,
            gpu.Upload<float>(in4), out4, gpu.Upload<ulong>(in2), out2, sums);

        float[] got4 = gpu.Read<float>(out4, 4 * n);
        ulong[] got2 = gpu.Read<ulong>(out2, 2 * n);
        uint[] gotSums = gpu.Read<uint>(sums, n);
        for (int t = 0; t < n; t++)
        {
            for (int k = 0; k < 4; k++)
                Assert.Equal(in4[4 * t + 3 - k], got4[4 * t + k]);
            Assert.Equal(in2[2 * t + 1], got2[2 * t]);
            Assert.Equal(in2[2 * t] + 1, got2[2 * t + 1]);
            Assert.Equal((uint)(10 * (t ^ 1)), gotSums[t]);
        }
    }
}
