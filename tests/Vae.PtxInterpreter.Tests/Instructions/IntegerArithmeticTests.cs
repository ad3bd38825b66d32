// Integer arithmetic instructions (Kernels/instructions/int_arith.ptx) against C# models of the PTX ISA rules
// (9.7.1): add/sub/mul.lo/mul.hi/mul.wide, mad.lo/mad.hi/mad.hi.sat/mad.wide, add.sat/sub.sat, div/rem, min/max,
// abs/neg, and the 64-bit forms.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class IntegerArithmeticTests
{
    private const string File = "int_arith.ptx";

    private static (uint[] A, uint[] B, uint[] C) Words(int seed, int randomCount)
    {
        var random = new Random(seed);
        (uint[] a, uint[] b) = Inputs.Pairs(Inputs.EdgeWords, randomCount, () => Inputs.Word(random));
        uint[] c = Inputs.Many(a.Length, () => Inputs.Word(random));
        return (a, b, c);
    }

    private static string Abc(uint[] a, uint[] b, uint[] c, int i) => $"a={Show.U32(a[i])} b={Show.U32(b[i])} c={Show.U32(c[i])}";

    [Fact]
    public void AddSubAndMultiply32_WrapAndKeepTheRequestedHalf()
    {
        (uint[] a, uint[] b, uint[] c) = Words(seed: 101, randomCount: 300);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "int32_add_sub_mul", 6, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<uint, uint, uint> model)
            => check.Each(name, d[v], i => model(a[i], b[i]), (x, y) => x == y, i => Abc(a, b, c, i), Show.U32);
        Expect(0, "add.u32", (x, y) => unchecked(x + y));
        Expect(1, "sub.u32", (x, y) => unchecked(x - y));
        Expect(2, "mul.lo.u32", (x, y) => unchecked(x * y));
        Expect(3, "mul.lo.s32", (x, y) => unchecked((uint)((int)x * (int)y)));
        Expect(4, "mul.hi.u32", (x, y) => (uint)(((ulong)x * y) >> 32));
        Expect(5, "mul.hi.s32", (x, y) => (uint)(((long)(int)x * (int)y) >> 32));
        check.AssertNone();
    }

    [Fact]
    public void Mad32_AddsThirdOperandToLowOrHighHalf_HiSatClamps()
    {
        (uint[] a, uint[] b, uint[] c) = Words(seed: 102, randomCount: 300);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "int32_mad", 5, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<uint, uint, uint, uint> model)
            => check.Each(name, d[v], i => model(a[i], b[i], c[i]), (x, y) => x == y, i => Abc(a, b, c, i), Show.U32);
        Expect(0, "mad.lo.u32", (x, y, z) => unchecked((x * y) + z));
        Expect(1, "mad.lo.s32", (x, y, z) => unchecked((uint)(((int)x * (int)y) + (int)z)));
        Expect(2, "mad.hi.u32", (x, y, z) => unchecked((uint)(((ulong)x * y) >> 32) + z));
        Expect(3, "mad.hi.s32", (x, y, z) => unchecked((uint)((int)(((long)(int)x * (int)y) >> 32) + (int)z)));
        Expect(4, "mad.hi.sat.s32", (x, y, z) => (uint)ClampToInt32((((long)(int)x * (int)y) >> 32) + (int)z));
        check.AssertNone();
    }

    [Fact]
    public void WideMultiply_ProducesTheFull64BitProduct_MadWideAdds64BitOperand()
    {
        var random = new Random(103);
        (uint[] a, uint[] b) = Inputs.Pairs(Inputs.EdgeWords, 300, () => Inputs.Word(random));
        ulong[] c = Inputs.Many(a.Length, () => Inputs.Long(random));
        ulong[][] d = InstructionRunner.RunVariants<uint, uint, ulong, ulong>(File, "int32_wide", 4, a, b, c);

        var check = new Mismatches();
        string Args(int i) => $"a={Show.U32(a[i])} b={Show.U32(b[i])} c={Show.U64(c[i])}";
        void Expect(int v, string name, Func<uint, uint, ulong, ulong> model)
            => check.Each(name, d[v], i => model(a[i], b[i], c[i]), (x, y) => x == y, Args, Show.U64);
        Expect(0, "mul.wide.u32", (x, y, _) => (ulong)x * y);
        Expect(1, "mul.wide.s32", (x, y, _) => (ulong)((long)(int)x * (int)y));
        Expect(2, "mad.wide.u32", (x, y, z) => unchecked(((ulong)x * y) + z));
        Expect(3, "mad.wide.s32", (x, y, z) => unchecked((ulong)(((long)(int)x * (int)y) + (long)z)));
        check.AssertNone();
    }

    [Fact]
    public void SaturatingAddSub_ClampToInt32Range_WhilePlainFormsWrap()
    {
        var random = new Random(104);
        int[] edges = [0, 1, -1, 2, -2, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1, 1 << 30, -(1 << 30)];
        (int[] a, int[] b) = Inputs.Pairs(edges, 300, () => (int)Inputs.Word(random));
        int[][] d = InstructionRunner.RunVariants<int, int, int, int>(File, "int32_sat", 4, a, b, a);

        var check = new Mismatches();
        string Args(int i) => $"a={a[i]} b={b[i]}";
        void Expect(int v, string name, Func<int, int, int> model)
            => check.Each(name, d[v], i => model(a[i], b[i]), (x, y) => x == y, Args, x => Show.U32((uint)x));
        Expect(0, "add.sat.s32", (x, y) => ClampToInt32((long)x + y));
        Expect(1, "sub.sat.s32", (x, y) => ClampToInt32((long)x - y));
        Expect(2, "add.s32", (x, y) => unchecked(x + y));
        Expect(3, "sub.s32", (x, y) => unchecked(x - y));
        check.AssertNone();

        // The edge pairs must include both overflow directions, or the clamp is not exercised.
        Assert.Contains(Enumerable.Range(0, a.Length), i => (long)a[i] + b[i] > int.MaxValue);
        Assert.Contains(Enumerable.Range(0, a.Length), i => (long)a[i] - b[i] < int.MinValue);
    }

    [Fact]
    public void DivRem32_TruncateTowardZero_IntMinByMinusOneWraps()
    {
        var random = new Random(105);
        uint[] edges = [1, 2, 3, 7, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFF9, 0x10000, 0xDEADBEEF];
        (uint[] a, uint[] b) = Inputs.Pairs(edges, 400, () => Inputs.Word(random));
        for (int i = 0; i < b.Length; i++)
        {
            if (b[i] == 0)
                b[i] = 13; // division by zero is machine-specific in PTX; it has its own test below
        }
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "int32_divrem", 4, a, b, a);

        // rem of negative operands is "machine-dependent" in the ISA text; NVIDIA GPUs (and CUDA C) truncate toward
        // zero, so the remainder takes the sign of the dividend. INT_MIN / -1 overflows: the two's-complement
        // result INT_MIN (remainder 0) is what the hardware produces, and the interpreter must not throw.
        var check = new Mismatches();
        string Args(int i) => $"a={Show.U32(a[i])} b={Show.U32(b[i])}";
        void Expect(int v, string name, Func<uint, uint, uint> model)
            => check.Each(name, d[v], i => model(a[i], b[i]), (x, y) => x == y, Args, Show.U32);
        Expect(0, "div.u32", (x, y) => x / y);
        Expect(1, "rem.u32", (x, y) => x % y);
        Expect(2, "div.s32", (x, y) => (int)x == int.MinValue && (int)y == -1 ? x : (uint)((int)x / (int)y));
        Expect(3, "rem.s32", (x, y) => (int)y == -1 ? 0u : (uint)((int)x % (int)y));
        check.AssertNone();
    }

    [Fact]
    public void DivisionByZero_IsReportedAsIntegerDivideByZeroFault()
    {
        PtxFaultException fault = Assert.Throws<PtxFaultException>(
            () => InstructionRunner.Run<uint, uint, uint, uint>(File, "int32_div_single", 1, 1, [42u], [0u], [0u]));
        Assert.Equal(PtxFaultKind.IntegerDivideByZero, fault.Kind);
        Assert.Equal("int32_div_single", fault.Kernel);
    }

    [Fact]
    public void MinMaxAbsNeg32_SignedAndUnsignedDiffer_AbsAndNegOfIntMinWrap()
    {
        (uint[] a, uint[] b, uint[] c) = Words(seed: 106, randomCount: 200);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "int32_minmax_abs_neg", 6, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<uint, uint, uint> model)
            => check.Each(name, d[v], i => model(a[i], b[i]), (x, y) => x == y, i => Abc(a, b, c, i), Show.U32);
        Expect(0, "min.u32", Math.Min);
        Expect(1, "max.u32", Math.Max);
        Expect(2, "min.s32", (x, y) => (uint)Math.Min((int)x, (int)y));
        Expect(3, "max.s32", (x, y) => (uint)Math.Max((int)x, (int)y));
        Expect(4, "abs.s32", (x, _) => (int)x == int.MinValue ? x : (uint)Math.Abs((int)x));
        Expect(5, "neg.s32", (x, _) => unchecked((uint)-(int)x));
        check.AssertNone();
    }

    [Fact]
    public void Arithmetic64_AddMulHiMadMinMaxDivRem()
    {
        var random = new Random(107);
        (ulong[] a, ulong[] b) = Inputs.Pairs(Inputs.EdgeLongs, 300, () => Inputs.Long(random));
        ulong[] c = Inputs.Many(a.Length, () => Inputs.Long(random));
        for (int i = 0; i < b.Length; i++)
        {
            if (b[i] == 0)
                b[i] = 0x1_0000_0007; // keep division defined
        }
        ulong[][] d = InstructionRunner.RunVariants<ulong, ulong, ulong, ulong>(File, "int64_arith", 12, a, b, c);

        var check = new Mismatches();
        string Args(int i) => $"a={Show.U64(a[i])} b={Show.U64(b[i])} c={Show.U64(c[i])}";
        void Expect(int v, string name, Func<ulong, ulong, ulong, ulong> model)
            => check.Each(name, d[v], i => model(a[i], b[i], c[i]), (x, y) => x == y, Args, Show.U64);
        Expect(0, "add.s64", (x, y, _) => unchecked(x + y));
        Expect(1, "sub.u64", (x, y, _) => unchecked(x - y));
        Expect(2, "mul.lo.s64", (x, y, _) => unchecked(x * y));
        Expect(3, "mul.hi.u64", (x, y, _) => Math.BigMul(x, y, out ulong _));
        Expect(4, "mul.hi.s64", (x, y, _) => (ulong)Math.BigMul((long)x, (long)y, out long _));
        Expect(5, "mad.lo.u64", (x, y, z) => unchecked((x * y) + z));
        Expect(6, "min.s64", (x, y, _) => (ulong)Math.Min((long)x, (long)y));
        Expect(7, "max.u64", (x, y, _) => Math.Max(x, y));
        Expect(8, "div.u64", (x, y, _) => x / y);
        Expect(9, "rem.u64", (x, y, _) => x % y);
        Expect(10, "div.s64", (x, y, _) => (long)x == long.MinValue && (long)y == -1 ? x : (ulong)((long)x / (long)y));
        Expect(11, "rem.s64", (x, y, _) => (long)y == -1 ? 0ul : (ulong)((long)x % (long)y));
        check.AssertNone();
    }

    private static int ClampToInt32(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);
}
