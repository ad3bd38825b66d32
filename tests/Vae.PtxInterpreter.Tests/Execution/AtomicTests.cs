// Atomics and reductions across warps and blocks: add (u32, f32 on global and shared, u64), min/max (u32, s32),
// exch, cas on each thread's own slot, inc/dec with a wrap limit, red.global.add. Results are checked against
// sequential sums; returned old values are checked to form one consistent serial order.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class AtomicTests
{
    private const int Blocks = 3, BlockSize = 96, N = Blocks * BlockSize;

    private static PtxModule Module => TestKernels.Load("execution/atomics.ptx");

    private static void Launch(PtxMachine gpu, string kernel, params object[] args) =>
        gpu.Launch(Module, kernel, new Dim3(Blocks), new Dim3(BlockSize), 0, args);

    /// <summary>Multiples of 1/4 in [-2.75, 2.75]: every partial sum of a few hundred of them is exact in float.</summary>
    private static float[] QuarterValues(int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = (i * 37 % 23 - 11) * 0.25f;
        return a;
    }

    [Fact]
    public void Atom_global_add_u32_totals_the_sequential_sum_and_returns_a_serial_order_of_olds()
    {
        var gpu = new PtxMachine();
        DevicePointer counter = gpu.Upload<uint>(new[] { 5u });
        DevicePointer olds = gpu.Allocate(4 * N);

        Launch(gpu, "atom_add_u32", counter, olds);

        uint final = gpu.Read<uint>(counter, 1)[0];
        Assert.Equal(5u + (uint)(N * (N + 1) / 2), final);
        // Each thread i added i + 1 and saw the value before its addition: sorted by that value, every addition must
        // start where the previous one ended.
        uint[] got = gpu.Read<uint>(olds, N);
        var order = Enumerable.Range(0, N).OrderBy(i => got[i]).ToArray();
        uint expected = 5;
        foreach (int i in order)
        {
            Assert.True(got[i] == expected, $"thread {i} saw {got[i]}, expected {expected} in the serial order");
            expected += (uint)(i + 1);
        }
        Assert.Equal(final, expected);
    }

    [Fact]
    public void Atom_shared_add_u32_and_f32_from_every_warp_of_each_block()
    {
        float[] values = QuarterValues(N);
        var gpu = new PtxMachine();
        DevicePointer counts = gpu.Allocate(4 * Blocks), sums = gpu.Allocate(4 * Blocks);

        Launch(gpu, "atom_shared_add", gpu.Upload<float>(values), counts, sums);

        uint[] gotCounts = gpu.Read<uint>(counts, Blocks);
        float[] gotSums = gpu.Read<float>(sums, Blocks);
        for (int b = 0; b < Blocks; b++)
        {
            Assert.Equal((uint)(BlockSize * (BlockSize + 1) / 2), gotCounts[b]);
            float expected = 0;
            for (int t = 0; t < BlockSize; t++)
                expected += values[b * BlockSize + t];
            Assert.Equal(expected, gotSums[b]);
        }
    }

    [Fact]
    public void Atom_global_add_f32_from_every_block()
    {
        float[] values = QuarterValues(N);
        var gpu = new PtxMachine();
        DevicePointer total = gpu.Upload<float>(new[] { 0.5f });

        Launch(gpu, "atom_add_f32", gpu.Upload<float>(values), total);

        Assert.Equal(0.5f + values.Sum(), gpu.Read<float>(total, 1)[0]);
    }

    [Fact]
    public void Atom_global_min_max_compare_as_unsigned_or_signed_by_type()
    {
        var rng = new Random(61);
        var values = new int[N];
        for (int i = 0; i < N; i++)
            values[i] = rng.Next(-1_000_000, 1_000_000);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Upload<uint>(new[] { uint.MaxValue, 0u, (uint)int.MaxValue, unchecked((uint)int.MinValue) });

        Launch(gpu, "atom_min_max", gpu.Upload<int>(values), output);

        uint[] got = gpu.Read<uint>(output, 4);
        Assert.Equal(values.Select(v => unchecked((uint)v)).Min(), got[0]);
        Assert.Equal(values.Select(v => unchecked((uint)v)).Max(), got[1]);
        Assert.Equal(values.Min(), unchecked((int)got[2]));
        Assert.Equal(values.Max(), unchecked((int)got[3]));
    }

    [Fact]
    public void Atom_exch_on_one_word_loses_no_value()
    {
        var values = new uint[N];
        for (int i = 0; i < N; i++)
            values[i] = (uint)(3 * i + 100);
        var gpu = new PtxMachine();
        DevicePointer location = gpu.Upload<uint>(new[] { 0xABCDEFu });
        DevicePointer olds = gpu.Allocate(4 * N);

        Launch(gpu, "atom_exch", location, gpu.Upload<uint>(values), olds);

        // Every value written is either returned to a later exchange or still in memory, as is the initial one.
        uint[] seen = gpu.Read<uint>(olds, N).Append(gpu.Read<uint>(location, 1)[0]).Order().ToArray();
        uint[] given = values.Append(0xABCDEFu).Order().ToArray();
        Assert.Equal(given, seen);
    }

    [Fact]
    public void Atom_cas_on_own_slot_swaps_only_where_the_comparison_holds()
    {
        var initial = new uint[N];
        for (int i = 0; i < N; i++)
            initial[i] = (uint)(2 * i);
        var gpu = new PtxMachine();
        DevicePointer slots = gpu.Upload<uint>(initial);
        DevicePointer olds = gpu.Allocate(4 * N);

        Launch(gpu, "atom_cas_own_slot", slots, olds);

        uint[] gotSlots = gpu.Read<uint>(slots, N), gotOlds = gpu.Read<uint>(olds, N);
        for (int i = 0; i < N; i++)
        {
            Assert.Equal(initial[i], gotOlds[i]);
            Assert.Equal(i % 2 == 0 ? (uint)(i + 1000) : initial[i], gotSlots[i]);
        }
    }

    [Fact]
    public void Atom_inc_and_dec_wrap_at_their_limit()
    {
        var gpu = new PtxMachine();
        DevicePointer counters = gpu.Upload<uint>(new[] { 0u, 0u });

        Launch(gpu, "atom_inc_dec", counters);

        // inc: old >= 10 ? 0 : old + 1; dec: old == 0 || old > 10 ? 10 : old - 1 (PTX ISA atom.inc/.dec).
        uint inc = 0, dec = 0;
        for (int i = 0; i < N; i++)
        {
            inc = inc >= 10 ? 0 : inc + 1;
            dec = dec == 0 || dec > 10 ? 10 : dec - 1;
        }
        uint[] got = gpu.Read<uint>(counters, 2);
        Assert.Equal(inc, got[0]);
        Assert.Equal(dec, got[1]);
    }

    [Fact]
    public void Red_global_add_u32_and_f32()
    {
        float[] values = QuarterValues(N);
        var gpu = new PtxMachine();
        DevicePointer totalU = gpu.Upload<uint>(new[] { 1u }), totalF = gpu.Upload<float>(new[] { -3f });

        Launch(gpu, "red_add", gpu.Upload<float>(values), totalU, totalF);

        Assert.Equal(1u + (uint)(N * (N - 1) / 2), gpu.Read<uint>(totalU, 1)[0]);
        Assert.Equal(-3f + values.Sum(), gpu.Read<float>(totalF, 1)[0]);
    }

    [Fact]
    public void Atom_and_red_add_u64_carry_past_32_bits()
    {
        var gpu = new PtxMachine();
        DevicePointer totals = gpu.Upload<ulong>(new[] { 7UL, 9UL });

        Launch(gpu, "atom_add_u64", totals);

        ulong added = (ulong)N * (1UL << 33) + (ulong)N * (N - 1) / 2;
        ulong[] got = gpu.Read<ulong>(totals, 2);
        Assert.Equal(7UL + added, got[0]);
        Assert.Equal(9UL + added, got[1]);
    }
}
