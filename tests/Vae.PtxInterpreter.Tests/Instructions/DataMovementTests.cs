// Data movement (Kernels/instructions/movement.ptx): immediates in every PTX literal form (0f/0d hex floats, hex,
// octal, binary, decimal, negative, U suffix), mov.b64/mov.b32 pack and unpack, sub-word loads with zero/sign
// extension and sub-word stores, ld/st .v2/.v4, ld.global.nc, .const arrays with initialisers, .global variables.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class DataMovementTests
{
    private const string File = "movement.ptx";

    [Fact]
    public void Mov_ImmediatesInEveryLiteralForm()
    {
        PtxModule module = TestKernels.Load("instructions/" + File);
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(28 * 4);
        gpu.Launch(module, "immediates", new Dim3(1), new Dim3(1), 0, output);
        uint[] words = gpu.Read<uint>(output, 28);

        (string Literal, ulong Value, int Words)[] expected =
        [
            ("0f3F800000", 0x3F800000, 1), ("0fBF000000", 0xBF000000, 1), ("0f7F800000", 0x7F800000, 1), ("0f00000001", 0x00000001, 1),
            ("0x7FFFFFFF", 0x7FFFFFFF, 1), ("017 (octal)", 15, 1), ("0b1011", 11, 1), ("-5", 0xFFFFFFFB, 1), ("4294967295", 0xFFFFFFFF, 1),
            ("1.5 (f32)", BitConverter.SingleToUInt32Bits(1.5f), 1), ("0.1 (f32)", BitConverter.SingleToUInt32Bits((float)0.1), 1),
            ("5U", 5, 1), ("-0x10", 0xFFFFFFF0, 1), ("0f80000000", 0x80000000, 1), ("add.u32 0 + 0xFFFF", 0xFFFF, 1),
            ("mul.lo.s32 -3 * -7", 21, 1),
            ("0d400921FB54442D18", 0x400921FB54442D18, 2), ("0dFFF0000000000000", 0xFFF0000000000000, 2),
            ("mov.b64 0x123456789ABCDEF0", 0x123456789ABCDEF0, 2), ("2.5 (f64)", BitConverter.DoubleToUInt64Bits(2.5), 2),
            ("mov.s64 -2", 0xFFFFFFFFFFFFFFFE, 2), ("0d0000000000000001", 1, 2),
        ];
        var check = new Mismatches();
        int word = 0;
        foreach ((string literal, ulong value, int count) in expected)
        {
            ulong got = count == 1 ? words[word] : words[word] | ((ulong)words[word + 1] << 32);
            check.Check(got == value, "mov", () => $"mov {literal}: expected 0x{value:X}, got 0x{got:X}");
            word += count;
        }
        Assert.Equal(28, word);
        check.AssertNone();
    }

    [Fact]
    public void Mov_PacksAndUnpacksVectorBraces_LowElementFirst()
    {
        var random = new Random(801);
        ulong[] a = [0x0123456789ABCDEF, 0xFFFFFFFF00000000, .. Inputs.Many(200, () => Inputs.Long(random))];
        uint[] b = Inputs.Many(a.Length, () => Inputs.Word(random));
        uint[] c = Inputs.Many(a.Length, () => Inputs.Word(random));
        ulong[][] d = InstructionRunner.RunVariants<ulong, uint, uint, ulong>(File, "pack_unpack", 7, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<int, ulong> model)
            => check.Each(name, d[v], model, (x, y) => x == y, i => $"a={Show.U64(a[i])} b={Show.U32(b[i])} c={Show.U32(c[i])}", Show.U64);
        Expect(0, "mov.b64 {lo, hi}, a -> lo", i => (uint)a[i]);
        Expect(1, "mov.b64 {lo, hi}, a -> hi", i => a[i] >> 32);
        Expect(2, "mov.b64 d, {b, c}", i => b[i] | ((ulong)c[i] << 32));
        Expect(3, "mov.b32 {h0, h1}, b -> h0", i => b[i] & 0xFFFF);
        Expect(4, "mov.b32 {h0, h1}, b -> h1", i => b[i] >> 16);
        Expect(5, "mov.b32 d, {h1, h0}", i => (b[i] >> 16) | ((b[i] & 0xFFFF) << 16));
        Expect(6, "mov.b64 d, {hi, lo}", i => (a[i] >> 32) | (a[i] << 32));
        check.AssertNone();
    }

    [Fact]
    public void Ld_SubwordTypesZeroOrSignExtendIntoWiderRegisters()
    {
        byte[] a = [.. Enumerable.Range(0, 256).Select(x => (byte)x), 0x80, 0x7F, 0xFF, 0x00];
        ushort[] b = Enumerable.Range(0, a.Length).Select(x => (ushort)(((uint)x * 2654435761u) >> 16)).ToArray();
        b[0] = 0x8000;
        b[1] = 0x7FFF;
        b[2] = 0xFFFF;
        uint[][] d = InstructionRunner.RunVariants<byte, ushort, ushort, uint>(File, "subword_loads", 6, a, b, b);

        var check = new Mismatches();
        void Expect(int v, string name, Func<int, uint> model)
            => check.Each(name, d[v], model, (x, y) => x == y, i => $"a={Show.U8(a[i])} b={Show.U16(b[i])}", Show.U32);
        Expect(0, "ld.global.u8 -> 32-bit", i => a[i]);
        Expect(1, "ld.global.s8 -> 32-bit", i => (uint)(sbyte)a[i]);
        Expect(2, "ld.global.u16 -> 32-bit", i => b[i]);
        Expect(3, "ld.global.s16 -> 32-bit", i => (uint)(short)b[i]);
        Expect(4, "ld.global.s8 -> 16-bit, cvt.u32.u16", i => (ushort)(sbyte)a[i]);
        Expect(5, "ld.global.u8 -> 16-bit, cvt.s32.s16", i => a[i]);
        check.AssertNone();
    }

    [Fact]
    public void St_SubwordTypesStoreTheLowBitsOnly()
    {
        var random = new Random(802);
        const int n = 130;
        uint[] a = Inputs.Many(n, () => Inputs.Word(random));
        byte[] bytes = InstructionRunner.Run<uint, uint, uint, byte>(File, "subword_stores", n, 3 * n, a, a, a);

        var check = new Mismatches();
        for (int i = 0; i < n; i++)
        {
            int k = i;
            check.Check(bytes[i] == (byte)a[i], "st.global.u8", () => $"st.global.u8 [{k}] a={Show.U32(a[k])}: got {Show.U8(bytes[k])}");
            ushort half = (ushort)(bytes[n + 2 * i] | (bytes[n + 2 * i + 1] << 8));
            check.Check(half == (ushort)a[i], "st.global.b16", () => $"st.global.b16 [{k}] a={Show.U32(a[k])}: got {Show.U16(half)}");
        }
        check.AssertNone();
    }

    [Fact]
    public void LdVectorAndNonCoherent_LoadConsecutiveElementsInOrder()
    {
        var random = new Random(803);
        const int n = 150;
        uint[] a = Inputs.Many(4 * n, () => Inputs.Word(random));
        uint[] b = Inputs.Many(2 * n, () => Inputs.Word(random));
        uint[] c = Inputs.Many(n, () => Inputs.Word(random));
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "vector_loads", 9, n, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<int, uint> model)
            => check.Each(name, d[v], model, (x, y) => x == y, i => $"element {i}", Show.U32);
        string[] lanes = ["x", "y", "z", "w"];
        for (int lane = 0; lane < 4; lane++)
        {
            int l = lane;
            Expect(lane, $"ld.global.v4.u32 .{lanes[lane]}", i => a[4 * i + l]);
        }
        Expect(4, "ld.global.v2.u32 .x", i => b[2 * i]);
        Expect(5, "ld.global.v2.u32 .y", i => b[2 * i + 1]);
        Expect(6, "ld.global.nc.u32", i => c[i]);
        // A load moves bits; NaN patterns among the random words must come back unchanged.
        Expect(7, "ld.global.nc.v2.f32 .x", i => b[2 * i]);
        Expect(8, "ld.global.nc.v2.f32 .y", i => b[2 * i + 1]);
        check.AssertNone();
    }

    [Fact]
    public void StVector_WritesFourConsecutiveWords()
    {
        var random = new Random(804);
        const int n = 100;
        uint[] a = Inputs.Many(n, () => Inputs.Word(random));
        uint[] words = InstructionRunner.Run<uint, uint, uint, uint>(File, "vector_store", n, 4 * n, a, a, a);

        var check = new Mismatches();
        for (int i = 0; i < n; i++)
        {
            uint[] expected = [a[i], unchecked(a[i] + 1), ~a[i], a[i] << 1];
            for (int lane = 0; lane < 4; lane++)
            {
                int k = i;
                int l = lane;
                check.Check(words[4 * i + lane] == expected[lane], "st.global.v4.u32",
                    () => $"st.global.v4.u32 element {k} lane {l}: expected {Show.U32(expected[l])}, got {Show.U32(words[4 * k + l])}");
            }
        }
        check.AssertNone();
    }

    [Fact]
    public void ConstArrays_InitialisersAreReadBackWithLdConst()
    {
        const int n = 70;
        uint[] dummy = new uint[n];
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "const_tables", 8, dummy, dummy, dummy);

        uint[] words = [1, 2, 3, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 1000000, 0xDEADBEEF];
        uint[] floats = [BitConverter.SingleToUInt32Bits(1.5f), BitConverter.SingleToUInt32Bits(-1f), 0x7F800000, 0x00000001];
        ulong[] doubles = [BitConverter.DoubleToUInt64Bits(Math.PI), BitConverter.DoubleToUInt64Bits(-2.0)];
        byte[] bytes = [0, 1, 127, 128, 200, 255, 0x42, 0x80];
        ushort[] halves = [0x0001, 0x7FFF, 0x8000, 0xFFFF];
        var check = new Mismatches();
        void Expect(int v, string name, Func<int, uint> model)
            => check.Each(name, d[v], model, (x, y) => x == y, i => $"i={i}", Show.U32);
        Expect(0, "ld.const.u32 const_words[i & 7]", i => words[i & 7]);
        Expect(1, "ld.const.u32 [const_words+12]", _ => words[3]);
        Expect(2, "ld.const.f32 const_floats[i & 3]", i => floats[i & 3]);
        Expect(3, "ld.const.f64 const_doubles[i & 1] (low word)", i => (uint)doubles[i & 1]);
        Expect(4, "ld.const.f64 const_doubles[i & 1] (high word)", i => (uint)(doubles[i & 1] >> 32));
        Expect(5, "ld.const.u8 const_bytes[i & 7]", i => bytes[i & 7]);
        Expect(6, "ld.const.s8 const_bytes[i & 7]", i => (uint)(sbyte)bytes[i & 7]);
        Expect(7, "ld.const.s16 const_halves[i & 3]", i => (uint)(short)halves[i & 3]);
        check.AssertNone();
    }

    [Fact]
    public void GlobalModuleVariables_InitialisedTablesAndWritableScratch()
    {
        var random = new Random(805);
        const int n = 200;
        uint[] a = Inputs.Many(n, () => Inputs.Word(random));
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "global_variables", 4, a, a, a);

        uint[] table = [10, 20, 30, 0xFFFFFFFF];
        var check = new Mismatches();
        void Expect(int v, string name, Func<int, uint> model)
            => check.Each(name, d[v], model, (x, y) => x == y, i => $"i={i} a={Show.U32(a[i])}", Show.U32);
        Expect(0, "ld.global.u32 global_table[i & 3]", i => table[i & 3]);
        Expect(1, "ld.global.u32 [global_table+8]", _ => table[2]);
        Expect(2, "ld.global.f32 [global_pi]", _ => 0x40490FDB);
        Expect(3, "st/ld.global global_scratch[i]", i => unchecked(a[i] * 3));
        check.AssertNone();
    }
}
