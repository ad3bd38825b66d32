// Bit-manipulation, logic and shift instructions (Kernels/instructions/int_bits.ptx) against C# models written from
// the PTX ISA pseudo-code: popc, clz, brev, bfe (u32/s32/u64/s64), bfi, and/or/xor/not/cnot, shl/shr with shift
// amounts that clamp at the register width, and lop3.
using System.Numerics;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class IntegerBitTests
{
    private const string File = "int_bits.ptx";

    /// <summary>Field positions and lengths: mostly 0..40, sometimes values whose low 8 bits matter (0x100 -> 0, 0x1FF -> 255).</summary>
    private static uint FieldOperand(Random random) => random.Next(5) switch
    {
        0 => (uint)random.Next(0, 256),
        1 => (uint)random.Next(0x100, 0x10000),
        _ => (uint)random.Next(0, 41),
    };

    [Fact]
    public void PopcClzBrev32_CountAndReverseBits()
    {
        var random = new Random(201);
        uint[] a = [.. Inputs.EdgeWords, .. Inputs.Many(300, () => Inputs.Word(random)), .. Enumerable.Range(0, 32).Select(k => 1u << k)];
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "bits32", 6, a, a, a);

        var check = new Mismatches();
        check.Each("popc.b32", d[0], i => (uint)BitOperations.PopCount(a[i]), (x, y) => x == y, i => $"a={Show.U32(a[i])}", Show.U32);
        check.Each("clz.b32", d[1], i => (uint)BitOperations.LeadingZeroCount(a[i]), (x, y) => x == y, i => $"a={Show.U32(a[i])}", Show.U32);
        check.Each("brev.b32", d[2], i => Reverse32(a[i]), (x, y) => x == y, i => $"a={Show.U32(a[i])}", Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void BitFieldExtract32_ZeroOrSignExtends_AndMasksPositionAndLengthTo8Bits()
    {
        var random = new Random(202);
        uint[] a = Inputs.Many(600, () => Inputs.Word(random));
        uint[] b = Inputs.Many(600, () => FieldOperand(random));
        uint[] c = Inputs.Many(600, () => FieldOperand(random));
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "bits32", 6, a, b, c);

        var check = new Mismatches();
        string Args(int i) => $"a={Show.U32(a[i])} pos={b[i]} len={c[i]}";
        check.Each("bfe.u32", d[3], i => (uint)Bfe(a[i], b[i], c[i], 32, signed: false), (x, y) => x == y, Args, Show.U32);
        check.Each("bfe.s32", d[4], i => (uint)Bfe(a[i], b[i], c[i], 32, signed: true), (x, y) => x == y, Args, Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void BitFieldInsert32_CopiesLowBitsOfAIntoB_ClippedAtBit31()
    {
        var random = new Random(203);
        uint[] a = Inputs.Many(600, () => Inputs.Word(random));
        uint[] b = Inputs.Many(600, () => Inputs.Word(random));
        uint[] c = Inputs.Many(600, () => (FieldOperand(random) & 0xFFFF) | (FieldOperand(random) << 16));
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "bits32", 6, a, b, c);

        var check = new Mismatches();
        check.Each("bfi.b32", d[5], i => (uint)Bfi(a[i], b[i], c[i] & 0xFFFF, c[i] >> 16, 32), (x, y) => x == y,
            i => $"a={Show.U32(a[i])} b={Show.U32(b[i])} pos={c[i] & 0xFFFF} len={c[i] >> 16}", Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void Logic32_AndOrXorNotCnot()
    {
        var random = new Random(204);
        (uint[] a, uint[] b) = Inputs.Pairs(Inputs.EdgeWords, 300, () => Inputs.Word(random));
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "logic32", 5, a, b, a);

        var check = new Mismatches();
        string Args(int i) => $"a={Show.U32(a[i])} b={Show.U32(b[i])}";
        check.Each("and.b32", d[0], i => a[i] & b[i], (x, y) => x == y, Args, Show.U32);
        check.Each("or.b32", d[1], i => a[i] | b[i], (x, y) => x == y, Args, Show.U32);
        check.Each("xor.b32", d[2], i => a[i] ^ b[i], (x, y) => x == y, Args, Show.U32);
        check.Each("not.b32", d[3], i => ~a[i], (x, y) => x == y, Args, Show.U32);
        check.Each("cnot.b32", d[4], i => a[i] == 0 ? 1u : 0u, (x, y) => x == y, Args, Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void Shifts32_AmountsOf32OrMoreClampInsteadOfWrapping()
    {
        var random = new Random(205);
        uint[] amounts = [0, 1, 5, 16, 31, 32, 33, 63, 64, 255, 256, 0x80000000, 0xFFFFFFFF];
        var values = new List<uint>();
        var shifts = new List<uint>();
        foreach (uint x in Inputs.EdgeWords)
        {
            foreach (uint s in amounts)
            {
                values.Add(x);
                shifts.Add(s);
            }
        }
        for (int i = 0; i < 300; i++)
        {
            values.Add(Inputs.Word(random));
            shifts.Add(random.Next(3) == 0 ? Inputs.Word(random) : (uint)random.Next(0, 70));
        }
        uint[] a = [.. values];
        uint[] b = [.. shifts];
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "shift32", 4, a, b, a);

        // PTX: "Shift amounts greater than the register width N are clamped to N" (the amount is a full .u32).
        var check = new Mismatches();
        string Args(int i) => $"a={Show.U32(a[i])} shift={b[i]}";
        check.Each("shl.b32", d[0], i => b[i] >= 32 ? 0 : a[i] << (int)b[i], (x, y) => x == y, Args, Show.U32);
        check.Each("shr.u32", d[1], i => b[i] >= 32 ? 0 : a[i] >> (int)b[i], (x, y) => x == y, Args, Show.U32);
        check.Each("shr.s32", d[2], i => (uint)((int)a[i] >> (int)Math.Min(b[i], 31)), (x, y) => x == y, Args, Show.U32);
        check.Each("shr.b32", d[3], i => b[i] >= 32 ? 0 : a[i] >> (int)b[i], (x, y) => x == y, Args, Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void Lop3_AppliesTheImmediateLookupTableBitwise()
    {
        var random = new Random(206);
        uint[] a = [0xF0F0F0F0, .. Inputs.Many(300, () => Inputs.Word(random))];
        uint[] b = [0xCCCCCCCC, .. Inputs.Many(300, () => Inputs.Word(random))];
        uint[] c = [0xAAAAAAAA, .. Inputs.Many(300, () => Inputs.Word(random))];
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "lop3_32", 9, a, b, c);

        byte[] tables = [0x96, 0xE8, 0xCA, 0x01, 0x5A, 0x80, 0xFE, 0x00, 0xFF];
        var check = new Mismatches();
        for (int v = 0; v < tables.Length; v++)
        {
            byte lut = tables[v];
            check.Each($"lop3.b32 0x{lut:X2}", d[v], i => Lop3(a[i], b[i], c[i], lut), (x, y) => x == y,
                i => $"a={Show.U32(a[i])} b={Show.U32(b[i])} c={Show.U32(c[i])}", Show.U32);
        }
        // With a = 0xF0.., b = 0xCC.., c = 0xAA.. every byte of the result is the table itself.
        for (int v = 0; v < tables.Length; v++)
            Assert.Equal(tables[v] * 0x01010101u, Lop3(a[0], b[0], c[0], tables[v]));
        check.AssertNone();
    }

    [Fact]
    public void Bits64_PopcClzBrevBfeBfiAndShiftsClampAt64()
    {
        var random = new Random(207);
        ulong[] a = [.. Inputs.EdgeLongs, .. Inputs.Many(400, () => Inputs.Long(random))];
        ulong[] b = Inputs.Many(a.Length, () => random.Next(4) == 0 ? Inputs.Long(random) : (ulong)(uint)random.Next(0, 80) | ((ulong)Inputs.Word(random) << 32));
        ulong[] c = Inputs.Many(a.Length, () => ((ulong)Inputs.Word(random) << 32) | (FieldOperand(random) & 0xFFFF) | ((ulong)(uint)random.Next(0, 80) << 16));
        ulong[][] d = InstructionRunner.RunVariants<ulong, ulong, ulong, ulong>(File, "bits64", 9, a, b, c);

        var check = new Mismatches();
        string Args(int i) => $"a={Show.U64(a[i])} b={Show.U64(b[i])} c={Show.U64(c[i])}";
        void Expect(int v, string name, Func<ulong, uint, uint, ulong> model)
            => check.Each(name, d[v], i => model(a[i], (uint)b[i], (uint)c[i]), (x, y) => x == y, Args, Show.U64);
        Expect(0, "popc.b64", (x, _, _) => (ulong)BitOperations.PopCount(x));
        Expect(1, "clz.b64", (x, _, _) => (ulong)BitOperations.LeadingZeroCount(x));
        Expect(2, "brev.b64", (x, _, _) => Reverse64(x));
        Expect(3, "bfe.u64", (x, pos, len) => Bfe(x, pos, len, 64, signed: false));
        Expect(4, "bfe.s64", (x, pos, len) => Bfe(x, pos, len, 64, signed: true));
        Expect(5, "shl.b64", (x, s, _) => s >= 64 ? 0 : x << (int)s);
        Expect(6, "shr.u64", (x, s, _) => s >= 64 ? 0 : x >> (int)s);
        Expect(7, "shr.s64", (x, s, _) => (ulong)((long)x >> (int)Math.Min(s, 63u)));
        check.Each("bfi.b64", d[8], i => Bfi(a[i], b[i], (uint)c[i] & 0xFFFF, (uint)c[i] >> 16, 64), (x, y) => x == y, Args, Show.U64);
        check.AssertNone();
    }

    private static uint Reverse32(uint x)
    {
        uint r = 0;
        for (int i = 0; i < 32; i++)
            r |= ((x >> i) & 1) << (31 - i);
        return r;
    }

    private static ulong Reverse64(ulong x)
    {
        ulong r = 0;
        for (int i = 0; i < 64; i++)
            r |= ((x >> i) & 1) << (63 - i);
        return r;
    }

    /// <summary>bfe, transcribed from the ISA pseudo-code (msb = width - 1, pos and len masked to 8 bits).</summary>
    private static ulong Bfe(ulong a, uint b, uint c, int width, bool signed)
    {
        int msb = width - 1;
        int pos = (int)(b & 0xFF);
        int len = (int)(c & 0xFF);
        ulong sbit = !signed || len == 0 ? 0 : (a >> Math.Min(pos + len - 1, msb)) & 1;
        ulong d = 0;
        for (int i = 0; i <= msb; i++)
        {
            ulong bit = i < len && pos + i <= msb ? (a >> (pos + i)) & 1 : sbit;
            d |= bit << i;
        }
        return d;
    }

    /// <summary>bfi, transcribed from the ISA pseudo-code: f = b, then f[pos + i] = a[i] for i &lt; len while pos + i &lt;= msb.</summary>
    private static ulong Bfi(ulong a, ulong b, uint c, uint d, int width)
    {
        int msb = width - 1;
        int pos = (int)(c & 0xFF);
        int len = (int)(d & 0xFF);
        ulong f = b;
        for (int i = 0; i < len && pos + i <= msb; i++)
            f = (f & ~(1ul << (pos + i))) | (((a >> i) & 1) << (pos + i));
        return f;
    }

    /// <summary>lop3: result bit = lut[(a_bit &lt;&lt; 2) | (b_bit &lt;&lt; 1) | c_bit] (ta = 0xF0, tb = 0xCC, tc = 0xAA).</summary>
    private static uint Lop3(uint a, uint b, uint c, byte lut)
    {
        uint r = 0;
        for (int i = 0; i < 32; i++)
        {
            int index = (int)((((a >> i) & 1) << 2) | (((b >> i) & 1) << 1) | ((c >> i) & 1));
            r |= (uint)((lut >> index) & 1) << i;
        }
        return r;
    }
}
