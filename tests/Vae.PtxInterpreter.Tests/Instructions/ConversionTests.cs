// cvt (Kernels/instructions/cvt.ptx) against the PTX ISA conversion rules (6.5, 9.7.9.21): float -> integer with
// .rni/.rzi/.rmi/.rpi saturating to the destination range (NaN -> 0), float -> float integer rounding, .sat and .ftz,
// integer -> float in each rounding mode, integer narrowing (chop, then sign/zero-extend to the register width by
// the destination type) and widening, .sat on integer narrowing, and f16 <-> f32.
using System.Numerics;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class ConversionTests
{
    private const string File = "cvt.ptx";
    private static readonly Rounding[] Modes = [Rounding.Nearest, Rounding.TowardZero, Rounding.Down, Rounding.Up];
    private static readonly string[] ModeNames = ["rn", "rz", "rm", "rp"];

    private static readonly float[] FloatToIntEdges =
    [
        0f, -0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 0.50000006f, -0.7f, 1e10f, -1e10f, 2147483520f, 2147483648f,
        -2147483648f, -2147483904f, 4294967040f, 4294967296f, 127.5f, 128.5f, -128.5f, -129f, 65535.5f, 65536f, -1f,
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue, -float.MaxValue,
    ];

    /// <summary>Rounds to an integer value with the given integer rounding modifier (in double, exact for every float/double).</summary>
    private static double RoundToInteger(double x, Rounding mode) => mode switch
    {
        Rounding.Nearest => Math.Round(x, MidpointRounding.ToEven),
        Rounding.TowardZero => Math.Truncate(x),
        Rounding.Down => Math.Floor(x),
        Rounding.Up => Math.Ceiling(x),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>float -> integer: round, then clamp to [min, max]; NaN converts to 0.</summary>
    private static BigInteger ToInteger(double x, Rounding mode, BigInteger min, BigInteger max)
    {
        if (double.IsNaN(x))
            return BigInteger.Zero;
        if (double.IsPositiveInfinity(x))
            return max;
        if (double.IsNegativeInfinity(x))
            return min;
        var r = new BigInteger(RoundToInteger(x, mode));
        return BigInteger.Max(min, BigInteger.Min(max, r));
    }

    [Fact]
    public void FloatToInt_IntegerRoundingModes_SaturateToTheDestinationRange_NaNIsZero()
    {
        var random = new Random(701);
        float[] a =
        [
            .. FloatToIntEdges,
            .. Inputs.Many(300, () => (float)((random.NextDouble() * 2 - 1) * 1000)),
            .. Inputs.Many(100, () => (float)Math.Round((random.NextDouble() * 2 - 1) * 300) + 0.5f),
            .. Inputs.Many(100, () => Inputs.Float(random, 20, 40)),
        ];
        uint[][] d = InstructionRunner.RunVariants<float, float, float, uint>(File, "cvt_f32_to_int", 10, a, a, a);

        var check = new Mismatches();
        string A(int i) => $"a={Show.F32(a[i])}";
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            string r = ModeNames[m] + "i";
            check.Each($"cvt.{r}.s32.f32", d[m], i => (uint)(int)ToInteger(a[i], mode, int.MinValue, int.MaxValue), (x, y) => x == y, A, Show.U32);
            check.Each($"cvt.{r}.u32.f32", d[4 + m], i => (uint)ToInteger(a[i], mode, uint.MinValue, uint.MaxValue), (x, y) => x == y, A, Show.U32);
        }
        // Narrow destinations in a 32-bit register: saturate to the s8/u16 range, then sign/zero-extend.
        check.Each("cvt.rzi.s8.f32", d[8], i => (uint)(int)ToInteger(a[i], Rounding.TowardZero, sbyte.MinValue, sbyte.MaxValue), (x, y) => x == y, A, Show.U32);
        check.Each("cvt.rni.u16.f32", d[9], i => (uint)ToInteger(a[i], Rounding.Nearest, ushort.MinValue, ushort.MaxValue), (x, y) => x == y, A, Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void DoubleToInt_IntegerRoundingModes_SaturateTo32And64BitRanges()
    {
        var random = new Random(702);
        double[] a =
        [
            0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 2147483647.5, 2147483648.0, -2147483648.5, -2147483649.0, 4294967295.5, 4294967296.0,
            9.2233720368547758E18, -9.2233720368547758E18, 1.8446744073709552E19, 1e30, -1e30, double.PositiveInfinity, double.NegativeInfinity,
            double.Epsilon, -4503599627370497.5, 4503599627370496.5,
            .. Inputs.Many(300, () => (random.NextDouble() * 2 - 1) * 1e6),
            .. Inputs.Many(100, () => Inputs.Double(random, 30, 66)),
        ];
        ulong[][] d = InstructionRunner.RunVariants<double, double, double, ulong>(File, "cvt_f64_to_int", 5, a, a, a);

        var check = new Mismatches();
        string A(int i) => $"a={Show.F64(a[i])}";
        check.Each("cvt.rzi.s32.f64", d[0], i => (ulong)(long)(int)ToInteger(a[i], Rounding.TowardZero, int.MinValue, int.MaxValue), (x, y) => x == y, A, Show.U64);
        check.Each("cvt.rni.s64.f64", d[1], i => (ulong)(long)ToInteger(a[i], Rounding.Nearest, long.MinValue, long.MaxValue), (x, y) => x == y, A, Show.U64);
        check.Each("cvt.rmi.u64.f64", d[2], i => (ulong)ToInteger(a[i], Rounding.Down, ulong.MinValue, ulong.MaxValue), (x, y) => x == y, A, Show.U64);
        check.Each("cvt.rpi.u32.f64", d[3], i => (ulong)(uint)ToInteger(a[i], Rounding.Up, uint.MinValue, uint.MaxValue), (x, y) => x == y, A, Show.U64);
        check.Each("cvt.rzi.s64.f64", d[4], i => (ulong)(long)ToInteger(a[i], Rounding.TowardZero, long.MinValue, long.MaxValue), (x, y) => x == y, A, Show.U64);
        check.AssertNone();
    }

    [Fact]
    public void FloatToFloat_IntegerRoundingKeepsTheSign_SatClamps_FtzFlushes()
    {
        var random = new Random(703);
        float[] a =
        [
            .. FloatToIntEdges, -0.4f, 0.4f, -0.2f, 8388607.5f, -8388608.5f, 1e30f, 0.99999994f, 1.0000001f, -1e-30f,
            .. Inputs.Many(300, () => (float)((random.NextDouble() * 2 - 1) * 100)),
            .. Inputs.Many(50, () => Inputs.Subnormal(random)),
        ];
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "cvt_f32_to_f32", 7, a, a, a);

        var check = new Mismatches();
        string A(int i) => $"a={Show.F32(a[i])}";
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"cvt.{ModeNames[m]}i.f32.f32", d[m], i => RoundToIntegralF32(a[i], mode), Show.SameF32, A, Show.F32);
        }
        // .sat on a float destination clamps to [0.0, 1.0] and turns NaN into +0.0 (a -0.0 input may stay -0.0).
        check.Each("cvt.sat.f32.f32", d[4], i => a[i], (x, got) => SaturatedF32(x, got), A, Show.F32);
        check.Each("cvt.ftz.f32.f32", d[5], i => float.IsSubnormal(a[i]) ? (float.IsNegative(a[i]) ? -0f : 0f) : a[i], Show.SameF32, A, Show.F32);
        check.Each("cvt.rzi.sat.f32.f32", d[6], i => RoundToIntegralF32(a[i], Rounding.TowardZero), (x, got) => SaturatedF32(x, got), A, Show.F32);
        check.AssertNone();
    }

    private static float RoundToIntegralF32(float x, Rounding mode)
    {
        if (!float.IsFinite(x))
            return x;
        float r = (float)RoundToInteger(x, mode);
        return r == 0 ? (float.IsNegative(x) ? -0f : 0f) : r; // IEEE roundToIntegral keeps the sign of zero results
    }

    private static bool SaturatedF32(float unsaturated, float actual)
    {
        if (unsaturated == 0 && float.IsNegative(unsaturated))
            return actual == 0;
        float expected = float.IsNaN(unsaturated) ? 0f : Math.Clamp(unsaturated, 0f, 1f);
        if (expected == 0)
            expected = 0f;
        return BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual);
    }

    [Fact]
    public void IntToFloat_EachRoundingModeIsCorrectlyRounded_OnValuesWiderThanTheSignificand()
    {
        var random = new Random(704);
        var a = new List<uint>();
        var b = new List<ulong>();
        uint[] edges32 = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x80000001, 16777217, 16777219, 0xFFFFFF80, 0x7FFFFFC0, 0x1000001, 33554435];
        ulong[] edges64 = [0, 1, ulong.MaxValue, long.MaxValue, 0x8000000000000000, 0x8000000000000001, 9007199254740993, 0xFFFFFFFFFFFFFC00, 0x20000010000001];
        for (int i = 0; i < Math.Max(edges32.Length, edges64.Length); i++)
        {
            a.Add(edges32[i % edges32.Length]);
            b.Add(edges64[i % edges64.Length]);
        }
        for (int i = 0; i < 400; i++)
        {
            a.Add(Inputs.Word(random));
            b.Add(random.Next(2) == 0 ? Inputs.Long(random) : (ulong)random.NextInt64() >> random.Next(0, 40));
        }
        uint[] wa = [.. a];
        ulong[] wb = [.. b];
        float[][] d = InstructionRunner.RunVariants<uint, ulong, uint, float>(File, "cvt_int_to_f32", 16, wa, wb, wa);
        double[][] d64 = InstructionRunner.RunVariants<uint, ulong, uint, double>(File, "cvt_int_to_f64", 7, wa, wb, wa);

        var check = new Mismatches();
        string A(int i) => $"a={Show.U32(wa[i])} b={Show.U64(wb[i])}";
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            string r = ModeNames[m];
            check.Each($"cvt.{r}.f32.s32", d[m], i => (float)Ieee.Convert(new BigInteger((int)wa[i]), BinaryFormat.Single, mode), Show.SameF32, A, Show.F32);
            check.Each($"cvt.{r}.f32.u32", d[4 + m], i => (float)Ieee.Convert(new BigInteger(wa[i]), BinaryFormat.Single, mode), Show.SameF32, A, Show.F32);
            check.Each($"cvt.{r}.f32.s64", d[8 + m], i => (float)Ieee.Convert(new BigInteger((long)wb[i]), BinaryFormat.Single, mode), Show.SameF32, A, Show.F32);
            check.Each($"cvt.{r}.f32.u64", d[12 + m], i => (float)Ieee.Convert(new BigInteger(wb[i]), BinaryFormat.Single, mode), Show.SameF32, A, Show.F32);
            check.Each($"cvt.{r}.f64.s64", d64[2 + m], i => Ieee.Convert(new BigInteger((long)wb[i]), BinaryFormat.Double, mode), Show.SameF64, A, Show.F64);
        }
        check.Each("cvt.rn.f64.s32", d64[0], i => (int)wa[i], Show.SameF64, A, Show.F64);
        check.Each("cvt.rn.f64.u32", d64[1], i => wa[i], Show.SameF64, A, Show.F64);
        check.Each("cvt.rn.f64.u64", d64[6], i => Ieee.Convert(new BigInteger(wb[i]), BinaryFormat.Double, Rounding.Nearest), Show.SameF64, A, Show.F64);
        check.AssertNone();

        int differing = Enumerable.Range(0, wa.Length).Count(i => Ieee.Convert(new BigInteger(wa[i]), BinaryFormat.Single, Rounding.Down)
            != Ieee.Convert(new BigInteger(wa[i]), BinaryFormat.Single, Rounding.Up));
        Assert.True(differing > wa.Length / 4, $"only {differing} of {wa.Length} u32 values round differently down and up");
    }

    [Fact]
    public void Integer32_NarrowingChopsThenExtendsByDestinationType_SatClamps()
    {
        var random = new Random(705);
        uint[] a =
        [
            .. Inputs.EdgeWords, 0x7F, 0x80, 0x81, 0xFF, 0x17F, 0x180, 0x7FFF, 0x8000, 0xFFFF8000, 0xFFFFFF80, 0xFFFFFF7F, 0xFFFF7FFF,
            .. Inputs.Many(300, () => Inputs.Word(random)),
        ];
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "cvt_int32", 14, a, a, a);

        var check = new Mismatches();
        void Expect(int v, string name, Func<uint, uint> model)
            => check.Each(name, d[v], i => model(a[i]), (x, y) => x == y, i => $"a={Show.U32(a[i])}", Show.U32);
        Expect(0, "cvt.u32.u8", x => x & 0xFF);
        Expect(1, "cvt.s32.s8", x => (uint)(sbyte)(byte)x);
        Expect(2, "cvt.u32.u16", x => x & 0xFFFF);
        Expect(3, "cvt.s32.s16", x => (uint)(short)(ushort)x);
        Expect(4, "cvt.u8.u32", x => x & 0xFF);
        Expect(5, "cvt.s8.u32", x => (uint)(sbyte)(byte)x);
        Expect(6, "cvt.s16.s32", x => (uint)(short)(ushort)x);
        Expect(7, "cvt.u16.s32", x => x & 0xFFFF);
        Expect(8, "cvt.sat.s8.s32", x => (uint)Math.Clamp((int)x, sbyte.MinValue, sbyte.MaxValue));
        Expect(9, "cvt.sat.u8.s32", x => (uint)Math.Clamp((int)x, byte.MinValue, byte.MaxValue));
        Expect(10, "cvt.sat.s16.s32", x => (uint)Math.Clamp((int)x, short.MinValue, short.MaxValue));
        Expect(11, "cvt.sat.u16.u32", x => Math.Min(x, ushort.MaxValue));
        Expect(12, "cvt.sat.u32.s32", x => (uint)Math.Max((int)x, 0));
        Expect(13, "cvt.sat.s32.u32", x => Math.Min(x, int.MaxValue));
        check.AssertNone();
    }

    [Fact]
    public void Integer64_WideningSignOrZeroExtends_NarrowingChopsOrSaturates()
    {
        var random = new Random(706);
        ulong[] a =
        [
            .. Inputs.EdgeLongs, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF80000000, 0xFFFFFFFF7FFFFFFF, 0x1_0000_8000, 0xFFFFFFFFFFFF8000, 255, 256, 0xFFFFFFFFFFFFFF00,
            .. Inputs.Many(300, () => Inputs.Long(random)),
        ];
        ulong[][] d = InstructionRunner.RunVariants<ulong, ulong, ulong, ulong>(File, "cvt_int64", 12, a, a, a);

        var check = new Mismatches();
        void Expect(int v, string name, Func<ulong, ulong> model)
            => check.Each(name, d[v], i => model(a[i]), (x, y) => x == y, i => $"a={Show.U64(a[i])}", Show.U64);
        Expect(0, "cvt.s64.s32", x => (ulong)(long)(int)(uint)x);
        Expect(1, "cvt.u64.u32", x => (uint)x);
        Expect(2, "cvt.s64.s16", x => (ulong)(long)(short)(ushort)x);
        Expect(3, "cvt.u64.u8", x => x & 0xFF);
        Expect(4, "cvt.u32.u64", x => (uint)x);
        Expect(5, "cvt.s32.s64", x => (uint)x);
        Expect(6, "cvt.sat.s32.s64", x => (uint)(int)Math.Clamp((long)x, int.MinValue, int.MaxValue));
        Expect(7, "cvt.sat.u32.s64", x => (ulong)Math.Clamp((long)x, 0, uint.MaxValue));
        Expect(8, "cvt.sat.u32.u64", x => Math.Min(x, uint.MaxValue));
        Expect(9, "cvt.sat.s32.u64", x => Math.Min(x, int.MaxValue));
        Expect(10, "cvt.s16.s64 (64-bit register)", x => (ulong)(long)(short)(ushort)x);
        Expect(11, "cvt.sat.u8.s64 (64-bit register)", x => (ulong)Math.Clamp((long)x, 0, 255));
        check.AssertNone();
    }

    [Fact]
    public void F16_RoundToNearest_KeepsSubnormals_ConvertsBackExactly()
    {
        var random = new Random(717);
        float[] a = F16Inputs(707);
        uint[] b =
        [
            0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFFFF, 0x12340000,
            .. Inputs.Many(a.Length - 14, () => (uint)random.Next()),
        ];
        uint[][] d = InstructionRunner.RunVariants<float, uint, uint, uint>(File, "cvt_f16", 3, a, b, b);

        var check = new Mismatches();
        string A(int i) => $"a={Show.F32(a[i])} b={Show.U32(b[i])}";
        check.Each("cvt.rn.f16.f32", d[0], i => HalfBits(a[i], Rounding.Nearest), SameHalf, A, Show.U32);
        check.Each("cvt.f32.f16(cvt.rn.f16.f32)", d[1], i => BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)HalfBits(a[i], Rounding.Nearest))),
            (x, y) => Show.SameF32(BitConverter.UInt32BitsToSingle(x), BitConverter.UInt32BitsToSingle(y)), A, Show.U32);
        check.Each("cvt.f32.f16", d[2], i => BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)b[i])),
            (x, y) => Show.SameF32(BitConverter.UInt32BitsToSingle(x), BitConverter.UInt32BitsToSingle(y)), A, Show.U32);
        check.AssertNone();
    }

    [Fact]
    public void F16_DirectedRoundingModes_RoundTowardZeroDownAndUp()
    {
        float[] a = F16Inputs(708);
        uint[][] d = InstructionRunner.RunVariants<float, float, float, uint>("cvt_f16_directed.ptx", "cvt_f16_directed", 3, a, a, a);

        var check = new Mismatches();
        for (int m = 1; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"cvt.{ModeNames[m]}.f16.f32", d[m - 1], i => HalfBits(a[i], mode), SameHalf, i => $"a={Show.F32(a[i])}", Show.U32);
        }
        check.AssertNone();
    }

    /// <summary>f32 values for f16 conversion: ties, f16 subnormals, values below the f16 overflow threshold, specials.</summary>
    private static float[] F16Inputs(int seed)
    {
        var random = new Random(seed);
        float Pow2(int e) => (float)Math.ScaleB(1.0, e);
        return
        [
            0f, -0f, 1f, -1f, 65504f, -65504f, 65503.9f, 40000.5f, -60000.3f, Pow2(-14), Pow2(-24), Pow2(-25), 3 * Pow2(-26), Pow2(-30),
            1f + Pow2(-11), 1f + 3 * Pow2(-11), -(1f + Pow2(-11)), 0.1f, 3.14159265f, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            .. Inputs.Many(400, () => Inputs.Float(random, -27, 14)),
        ];
    }

    /// <summary>The f16 encoding of x rounded with <paramref name="mode"/> (inputs stay below the f16 overflow threshold).</summary>
    private static uint HalfBits(float x, Rounding mode)
    {
        if (float.IsNaN(x))
            return 0x7E00;
        double rounded = Ieee.Convert(x, BinaryFormat.Half, mode);
        return BitConverter.HalfToUInt16Bits((Half)rounded); // exact: rounded is representable in f16
    }

    /// <summary>Bit equality of f16 encodings (in the low 16 bits, upper bits zero), with any NaN matching any NaN.</summary>
    private static bool SameHalf(uint expected, uint actual)
    {
        static bool IsNaN(uint h) => (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
        return IsNaN(expected) ? actual <= 0xFFFF && IsNaN(actual) : expected == actual;
    }
}
